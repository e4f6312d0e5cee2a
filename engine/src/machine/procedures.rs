//! The procedures of a group dossier, each with its own outcome: the dossier's status and
//! its result follow from them.

use super::state::{Dossier, DossierStatus, StepStatus};
use crate::definition::model::Text;
use crate::definition::{Procedure, StepId};
use serde::{Deserialize, Serialize};

/// Where one procedure of a dossier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcedureStatus {
    /// Not requested: outside the chosen bundle.
    NotRequested,
    /// Requested, but the case is not eligible: the conditions of its steps are false
    /// (e.g. funeral support for someone who was not a social-assistance beneficiary).
    NotApplicable,
    /// Being processed.
    Processing,
    /// Waiting for the citizen's supplement.
    SupplementRequested,
    /// Waiting for the citizen to pay a fee (a fee step is open).
    AwaitingPayment,
    /// Decided: its result is ready.
    Decided,
    /// Refused by its agency, or ended because a procedure it depends on was refused.
    Refused,
    /// Ended because the dossier was withdrawn or cancelled before it finished.
    Stopped,
}

impl ProcedureStatus {
    /// The national portal's status code, where one applies.
    pub fn portal_code(self, dossier: DossierStatus) -> Option<u8> {
        match self {
            ProcedureStatus::NotRequested | ProcedureStatus::NotApplicable => None,
            ProcedureStatus::Processing => Some(4),
            ProcedureStatus::SupplementRequested => Some(5),
            ProcedureStatus::AwaitingPayment => Some(6),
            ProcedureStatus::Decided if dossier == DossierStatus::Delivered => Some(10),
            ProcedureStatus::Decided => Some(9),
            ProcedureStatus::Refused => Some(8),
            ProcedureStatus::Stopped if dossier == DossierStatus::Withdrawn => Some(7),
            ProcedureStatus::Stopped => Some(8),
        }
    }

    /// Vietnamese label, as the citizen reads it.
    pub fn label_vi(self) -> &'static str {
        match self {
            ProcedureStatus::NotRequested => "Không yêu cầu",
            ProcedureStatus::NotApplicable => "Không thuộc diện giải quyết",
            ProcedureStatus::Processing => "Đang xử lý",
            ProcedureStatus::SupplementRequested => "Yêu cầu bổ sung, hoàn thiện hồ sơ",
            ProcedureStatus::AwaitingPayment => "Yêu cầu thực hiện nghĩa vụ tài chính",
            ProcedureStatus::Decided => "Đã có kết quả",
            ProcedureStatus::Refused => "Bị từ chối giải quyết",
            ProcedureStatus::Stopped => "Dừng xử lý",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            ProcedureStatus::NotRequested => "Not requested",
            ProcedureStatus::NotApplicable => "Not eligible",
            ProcedureStatus::Processing => "Being processed",
            ProcedureStatus::SupplementRequested => "Supplement requested",
            ProcedureStatus::AwaitingPayment => "Fee payment requested",
            ProcedureStatus::Decided => "Decided",
            ProcedureStatus::Refused => "Refused",
            ProcedureStatus::Stopped => "Stopped",
        }
    }
}

/// One procedure's outcome in a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureResult {
    pub id: String,
    pub title_vi: String,
    pub title_en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub status: ProcedureStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_code: Option<u8>,
    /// Why it was refused or stopped (the agency's reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One procedure of a group as the machine sees it: the declared ones, or the whole group
/// as one procedure when none are declared.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub id: &'a str,
    pub title: &'a Text,
    pub code: Option<&'a str>,
    pub steps: &'a [StepId],
}

/// The procedures of the group, in declaration order.
pub fn members(p: &Procedure) -> Vec<Part<'_>> {
    if p.procedures.is_empty() {
        return vec![Part {
            id: &p.id,
            title: &p.title,
            code: p.procedure_codes.first().map(|c| c.0.as_str()),
            steps: &[],
        }];
    }
    p.procedures
        .iter()
        .map(|m| Part {
            id: &m.id,
            title: &m.title,
            code: m.code.as_ref().map(|c| c.0.as_str()),
            steps: &m.steps,
        })
        .collect()
}

impl Part<'_> {
    /// The ids of its steps (every step of the group when it is the whole group).
    pub fn step_ids<'p>(&'p self, p: &'p Procedure) -> Vec<&'p str> {
        if self.steps.is_empty() {
            p.steps.iter().map(|s| s.id.as_str()).collect()
        } else {
            self.steps.iter().map(StepId::as_str).collect()
        }
    }
}

/// Whether a fee step among `steps` is open.
fn awaits_payment<'a>(
    p: &Procedure,
    d: &Dossier,
    mut steps: impl Iterator<Item = &'a str>,
) -> bool {
    steps.any(|id| {
        p.step(id).is_some_and(|s| s.fee.is_some())
            && d.steps.get(id).is_some_and(|st| st.status.is_active())
    })
}

/// The dossier's code on the national portal: its status's, or 6 (financial obligation
/// requested) while it is processing and a fee step is open.
pub fn portal_code(p: &Procedure, d: &Dossier) -> u8 {
    portal_status(p, d)
        .and_then(|s| s.portal_code(d.status))
        .unwrap_or_else(|| d.status.portal_code())
}

/// The portal's label for [`portal_code`], in Vietnamese.
pub fn portal_label_vi(p: &Procedure, d: &Dossier) -> &'static str {
    portal_status(p, d).map_or(d.status.label_vi(), ProcedureStatus::label_vi)
}

/// The portal's label for [`portal_code`], in English.
pub fn portal_label_en(p: &Procedure, d: &Dossier) -> &'static str {
    portal_status(p, d).map_or(d.status.label_en(), ProcedureStatus::label_en)
}

/// [`ProcedureStatus::AwaitingPayment`] while the dossier is processing and a fee step is
/// open: the one state of the whole dossier its own status does not say.
fn portal_status(p: &Procedure, d: &Dossier) -> Option<ProcedureStatus> {
    let all = p.steps.iter().map(|s| s.id.as_str());
    (d.status == DossierStatus::Processing && awaits_payment(p, d, all))
        .then_some(ProcedureStatus::AwaitingPayment)
}

/// Each procedure's outcome, in the order the definition declares them.
pub fn results(p: &Procedure, d: &Dossier) -> Vec<ProcedureResult> {
    members(p)
        .into_iter()
        .map(|part| {
            let steps = part.step_ids(p);
            let states: Vec<_> = steps.iter().filter_map(|s| d.steps.get(*s)).collect();
            let reason_of = |status: StepStatus| {
                states
                    .iter()
                    .find(|s| s.status == status)
                    .and_then(|s| s.reason.clone())
            };
            let has = |status: StepStatus| states.iter().any(|s| s.status == status);
            let (status, reason) = if has(StepStatus::Rejected) {
                (ProcedureStatus::Refused, reason_of(StepStatus::Rejected))
            } else if has(StepStatus::Cancelled) {
                // Ended by a refusal upstream, or by the dossier closing early.
                let refused = states
                    .iter()
                    .any(|s| s.status == StepStatus::Cancelled && s.refused_by.is_some());
                let status = if refused {
                    ProcedureStatus::Refused
                } else {
                    ProcedureStatus::Stopped
                };
                (status, reason_of(StepStatus::Cancelled))
            } else if states.iter().all(|s| s.status == StepStatus::Skipped) {
                let requested = steps.iter().any(|s| p.in_bundle(d.bundle.as_deref(), s));
                if requested {
                    (
                        ProcedureStatus::NotApplicable,
                        reason_of(StepStatus::Skipped),
                    )
                } else {
                    (ProcedureStatus::NotRequested, None)
                }
            } else if has(StepStatus::Supplement) {
                (ProcedureStatus::SupplementRequested, None)
            } else if awaits_payment(p, d, steps.iter().copied()) {
                (ProcedureStatus::AwaitingPayment, None)
            } else if states.iter().all(|s| s.status.is_terminal()) {
                (ProcedureStatus::Decided, None)
            } else {
                (ProcedureStatus::Processing, None)
            };
            ProcedureResult {
                id: part.id.to_string(),
                title_vi: part.title.vi.clone(),
                title_en: part.title.en.clone(),
                code: part.code.map(str::to_string),
                portal_code: status.portal_code(d.status),
                status,
                reason,
            }
        })
        .collect()
}
