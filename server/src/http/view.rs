//! How a dossier is shown to a caller: its status and portal code, each procedure's outcome,
//! the documents issued to the citizen, its steps with deadlines and the time each agency
//! held the file.

use super::auth::{Principal, Role};
use crate::figures::status_name;
use chrono::DateTime;
use lienthong_engine::calendar::{Calendar, VIETNAM_OFFSET};
use lienthong_engine::clock::Millis;
use lienthong_engine::definition::{Catalog, Procedure, StepId};
use lienthong_engine::machine::Dossier;
use lienthong_engine::report::Facts;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One step as shown to a caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepView {
    pub step: String,
    pub agency: String,
    pub status: String,
    pub attempts: u32,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub deadline: Option<String>,
    pub breached: bool,
    /// Form fields a citizen's supplement changed after this step was done: the agency is
    /// asked to re-examine its result.
    pub inputs_changed: Vec<String>,
    /// Working days the agency has held (or held) the file, the citizen's supplement time
    /// left out (the reporting model's count).
    pub held_working_days: Option<f64>,
}

/// One procedure of a group dossier and its own outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureView {
    pub id: String,
    pub title_vi: String,
    pub title_en: String,
    /// The national procedure code, where known.
    pub code: Option<String>,
    /// not_requested, processing, supplement_requested, decided, refused or stopped.
    pub status: String,
    /// The portal status code of this procedure (none when not requested).
    pub portal_code: Option<u8>,
    pub reason: Option<String>,
}

/// A one-stop-shop document issued to the citizen.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    /// receipt, supplement_requested, refused, procedure_refused, apology_slip, decided, …
    pub kind: String,
    pub at: Option<String>,
    pub step: Option<String>,
    pub vi: String,
    pub en: String,
}

/// One hand-off on the control sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffView {
    pub at: Option<String>,
    /// received, sent, claimed, released, supplement_asked, supplied, decided, refused,
    /// recalled or delivered.
    pub what: String,
    pub step: Option<String>,
    /// Who gave the file: `{"kind": "citizen" | "desk" | "agency", "role", "officer"}`.
    #[schema(value_type = Object)]
    pub from: Value,
    /// Who received it (same shape).
    #[schema(value_type = Object)]
    pub to: Value,
    /// For a returned result: early, on_time or late against the step's due instant.
    pub timeliness: Option<String>,
}

/// The control sheet (phiếu kiểm soát quá trình giải quyết hồ sơ): its rows and its text.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlSheetView {
    pub rows: Vec<HandoffView>,
    pub vi: String,
    pub en: String,
}

/// A dossier as shown to a caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierView {
    pub code: String,
    pub procedure: String,
    pub procedure_version: u32,
    pub status: String,
    /// The national portal's status code (3 refused … 10 delivered).
    pub portal_code: u8,
    pub status_vi: String,
    pub received_at: String,
    pub closed_at: Option<String>,
    pub deadline: Option<String>,
    pub reason: Option<String>,
    /// The appointment for results promised to the citizen (moved by an apology slip).
    pub appointment: Option<String>,
    /// Each procedure of the group with its own outcome.
    pub procedures: Vec<ProcedureView>,
    /// The documents issued to the citizen, in order, rendered in Vietnamese and English.
    pub documents: Vec<DocumentView>,
    pub steps: Vec<StepView>,
    /// Which agency held the file, for how long, in order.
    pub timeline: Vec<StepView>,
    /// Every hand-off of the file, with its instant (an agency sees the rows of its own
    /// steps and those of no step).
    pub control_sheet: ControlSheetView,
    #[schema(value_type = Option<Object>)]
    pub form: Option<Value>,
}

/// The snake_case name a value serialises to.
fn json_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn procedure_views(def: &Procedure, d: &Dossier) -> Vec<ProcedureView> {
    lienthong_engine::machine::results(def, d)
        .into_iter()
        .map(|r| ProcedureView {
            status: json_name(&r.status),
            id: r.id,
            title_vi: r.title_vi,
            title_en: r.title_en,
            code: r.code,
            portal_code: r.portal_code,
            reason: r.reason,
        })
        .collect()
}

pub fn iso(ms: Millis) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&VIETNAM_OFFSET).to_rfc3339())
}

/// The view of `d` for `p`: an agency sees its own steps only, the portal the form too.
/// `def` is the definition the dossier runs on (for its procedures' outcomes).
pub fn view(
    d: &Dossier,
    p: &Principal,
    calendar: &Calendar,
    now: Millis,
    def: Option<&Procedure>,
) -> DossierView {
    let own = |agency: &str| match p.role {
        Role::AgencySystem | Role::AgencyOfficer => p.agency.as_deref() == Some(agency),
        _ => true,
    };
    // Time held per step, from the reporting model (the citizen's supplement time excluded).
    let facts = def.map(|p| Facts::of(d, p, calendar, now));
    let held = |id: &StepId| {
        let h = facts.as_ref()?.held.iter().find(|h| &h.step == id)?;
        Some((h.working_days * 100.0).round() / 100.0)
    };
    let mut steps: Vec<StepView> = d
        .steps
        .iter()
        .filter(|(_, s)| own(&s.agency))
        .map(|(id, s)| StepView {
            step: id.to_string(),
            agency: s.agency.to_string(),
            status: status_name(&s.status),
            attempts: s.attempts,
            started_at: s.started_at.and_then(iso),
            finished_at: s.finished_at.and_then(iso),
            deadline: s
                .clock
                .as_ref()
                .and_then(|c| c.deadline())
                .map(|t| t.to_rfc3339()),
            breached: s.breached,
            inputs_changed: s.inputs_changed.clone(),
            held_working_days: held(id),
        })
        .collect();
    steps.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.step.cmp(&b.step)));
    let timeline: Vec<StepView> = steps
        .iter()
        .filter(|s| s.started_at.is_some())
        .cloned()
        .collect();
    let rows: Vec<_> = d
        .control
        .iter()
        .filter(|r| {
            r.step
                .as_ref()
                .is_none_or(|s| d.steps.get(s).is_some_and(|st| own(&st.agency)))
        })
        .cloned()
        .collect();
    let names = |role: &str| match def.and_then(|p| Catalog::role_name(p, role)) {
        Some(t) => (t.vi, t.en),
        None => (role.to_string(), role.to_string()),
    };
    let step_names = |step: &str| {
        def.and_then(|p| p.step(step))
            .map(|s| (s.name.vi.clone(), s.name.en.clone()))
    };
    let (vi, en) = lienthong_engine::documents::control::render(
        &d.code,
        &rows,
        &lienthong_engine::documents::control::Names {
            role: &names,
            step: &step_names,
        },
    );
    let control_sheet = ControlSheetView {
        rows: rows
            .iter()
            .map(|r| HandoffView {
                at: iso(r.at),
                what: json_name(&r.what),
                step: r.step.as_ref().map(ToString::to_string),
                from: serde_json::to_value(&r.from).unwrap_or_default(),
                to: serde_json::to_value(&r.to).unwrap_or_default(),
                timeliness: r.timeliness.as_ref().map(json_name),
            })
            .collect(),
        vi,
        en,
    };
    DossierView {
        code: d.code.clone(),
        procedure: d.procedure.id.clone(),
        procedure_version: d.procedure.version,
        status: status_name(&d.status),
        portal_code: def.map_or(d.status.portal_code(), |def| {
            lienthong_engine::machine::portal_code(def, d)
        }),
        status_vi: def
            .map_or(d.status.label_vi(), |def| {
                lienthong_engine::machine::portal_label_vi(def, d)
            })
            .to_string(),
        received_at: iso(d.received_at).unwrap_or_default(),
        closed_at: d.closed_at.and_then(iso),
        deadline: d
            .clock
            .as_ref()
            .and_then(|c| c.deadline())
            .map(|t| t.to_rfc3339()),
        reason: d.reason.clone(),
        appointment: d.appointment.and_then(iso),
        procedures: def.map(|def| procedure_views(def, d)).unwrap_or_default(),
        documents: d
            .documents
            .iter()
            .map(|doc| {
                let (vi, en) = lienthong_engine::documents::render(&doc.kind, &doc.data);
                DocumentView {
                    kind: json_name(&doc.kind),
                    at: iso(doc.at),
                    step: doc.step.as_ref().map(ToString::to_string),
                    vi,
                    en,
                }
            })
            .collect(),
        steps,
        timeline,
        control_sheet,
        form: (p.role == Role::Portal).then(|| d.form.clone()),
    }
}
