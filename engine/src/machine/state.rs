//! The state of one dossier (hồ sơ) and of each of its steps.

use crate::calendar::SlaClock;
use crate::clock::Millis;
use crate::definition::{RoleId, StepId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The engine's identifier of a dossier (distinct from its human-readable dossier code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DossierId(pub String);

impl fmt::Display for DossierId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which published definition a dossier runs on; it never changes during the dossier's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureRef {
    pub id: String,
    pub version: u32,
    /// Content hash of the definition (see `Procedure::content_hash`).
    pub hash: String,
}

/// How the dossier reached the administration (the national one-stop-shop report counts
/// filings by channel, and the service index rates the online share).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Filed online, through the public-service portal or VNeID (trực tuyến).
    #[default]
    Online,
    /// Handed in at a one-stop desk (trực tiếp), or sent by post.
    InPerson,
}

/// Status of a dossier, mapped onto the national portal's `TrangThaiHoSo` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DossierStatus {
    /// Being processed (Đang xử lý).
    Processing,
    /// Waiting for the citizen's supplement; clocks paused (Yêu cầu bổ sung giấy tờ).
    SupplementRequested,
    /// Not accepted at intake: the form was invalid (Không được tiếp nhận).
    Refused,
    /// Withdrawn by the citizen (Công dân yêu cầu rút hồ sơ).
    Withdrawn,
    /// Processing stopped: every requested procedure was refused, or an officer cancelled
    /// (Dừng xử lý).
    Stopped,
    /// Every step finished and at least one procedure was decided; results ready (Đã xử lý
    /// xong). Each procedure's own outcome is in [`super::results`].
    Decided,
    /// Results delivered to the citizen (Đã trả kết quả).
    Delivered,
}

impl DossierStatus {
    /// The national portal's status code (1–10).
    pub fn portal_code(self) -> u8 {
        match self {
            DossierStatus::Refused => 3,
            DossierStatus::Processing => 4,
            DossierStatus::SupplementRequested => 5,
            DossierStatus::Withdrawn => 7,
            DossierStatus::Stopped => 8,
            DossierStatus::Decided => 9,
            DossierStatus::Delivered => 10,
        }
    }

    /// Vietnamese label, as the portal shows it.
    pub fn label_vi(self) -> &'static str {
        match self {
            DossierStatus::Refused => "Không được tiếp nhận",
            DossierStatus::Processing => "Đang xử lý",
            DossierStatus::SupplementRequested => "Yêu cầu bổ sung giấy tờ",
            DossierStatus::Withdrawn => "Công dân yêu cầu rút hồ sơ",
            DossierStatus::Stopped => "Dừng xử lý",
            DossierStatus::Decided => "Đã xử lý xong",
            DossierStatus::Delivered => "Đã trả kết quả",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            DossierStatus::Refused => "Not accepted",
            DossierStatus::Processing => "Being processed",
            DossierStatus::SupplementRequested => "Supplement requested",
            DossierStatus::Withdrawn => "Withdrawn by the citizen",
            DossierStatus::Stopped => "Stopped",
            DossierStatus::Decided => "Decided",
            DossierStatus::Delivered => "Result delivered",
        }
    }

    /// No event but delivery changes a closed dossier.
    pub fn is_closed(self) -> bool {
        !matches!(
            self,
            DossierStatus::Processing | DossierStatus::SupplementRequested
        )
    }
}

/// Status of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Waiting for its prerequisites.
    Pending,
    /// A human task open in the agency's queue, not yet claimed.
    Queued,
    /// A human task claimed by an officer (under a lease).
    Claimed,
    /// An adapter call is due or under way.
    Dispatched,
    /// The agency accepted the request and will answer through a callback.
    Accepted,
    /// Waiting for a retry after a retryable adapter failure.
    RetryWait,
    /// The agency asked the citizen for a supplement; the step's clock is paused.
    Supplement,
    /// Done, with outputs.
    Done,
    /// Rejected by the agency, with a reason.
    Rejected,
    /// Not run: outside the bundle, its condition false, or its prerequisites skipped.
    Skipped,
    /// Stopped because the dossier closed before the step finished.
    Cancelled,
    /// Failed permanently or out of retries: an incident waits for an operator.
    Incident,
}

impl StepStatus {
    /// Terminal states never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            StepStatus::Done | StepStatus::Rejected | StepStatus::Skipped | StepStatus::Cancelled
        )
    }

    /// States in which the agency holds the file (its clock runs).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            StepStatus::Queued
                | StepStatus::Claimed
                | StepStatus::Dispatched
                | StepStatus::Accepted
                | StepStatus::RetryWait
                | StepStatus::Supplement
                | StepStatus::Incident
        )
    }
}

/// An operator's attention is needed: what failed and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub opened_at: Millis,
    pub message: String,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepState {
    pub status: StepStatus,
    /// The agency role holding the step.
    pub agency: RoleId,
    /// Adapter calls made in the current round (reset when an incident is retried).
    pub attempts: u32,
    /// Rounds of the step: a supplement starts a new round with a new request.
    #[serde(default)]
    pub round: u32,
    /// Outputs written back when done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Map<String, Value>>,
    /// The step's SLA clock, started when the step became active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<SlaClock>,
    /// When the agency received the file, and when the step ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Millis>,
    /// Why it was rejected, skipped, cancelled, or what supplement was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Which officer holds a claimed human task, and until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_until: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Incident>,
    /// Set once the breach consequences (escalation, apology slip) were issued.
    #[serde(default)]
    pub breached: bool,
    /// The refused step whose refusal ended this one (it depends on it, or is part of the
    /// same procedure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<StepId>,
    /// Form fields a supplement changed after this step was done with the old values: its
    /// agency was asked to re-examine the result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs_changed: Vec<String>,
}

impl StepState {
    /// The officer holding a live claim on the task at `now`, and until when.
    pub fn live_claim(&self, now: Millis) -> Option<(&str, Millis)> {
        match (&self.claimed_by, self.claim_until) {
            (Some(by), Some(until)) if self.status == StepStatus::Claimed && until > now => {
                Some((by, until))
            }
            _ => None,
        }
    }

    pub fn pending(agency: &str) -> Self {
        StepState {
            status: StepStatus::Pending,
            agency: agency.into(),
            attempts: 0,
            round: 0,
            outputs: None,
            clock: None,
            started_at: None,
            finished_at: None,
            reason: None,
            claimed_by: None,
            claim_until: None,
            incident: None,
            breached: false,
            refused_by: None,
            inputs_changed: Vec::new(),
        }
    }
}

/// Everything the engine knows about one dossier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dossier {
    pub id: DossierId,
    /// The dossier code, `<agency-code>-YYMMDD-<sequence>`.
    pub code: String,
    pub procedure: ProcedureRef,
    /// The bundle the citizen chose (None: the procedure's default, or no bundles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// The submitted form, with supplements merged in.
    pub form: Value,
    /// How it was filed; `None` in dossiers filed before the channel was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    pub status: DossierStatus,
    pub steps: BTreeMap<StepId, StepState>,
    /// The whole group's clock, when the procedure declares a group deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<SlaClock>,
    pub received_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The appointment for results promised to the citizen (moved by an apology slip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<Millis>,
    /// The documents issued to the citizen, in order: receipt and appointment slip,
    /// supplement requests, refusals, apology slips, the result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
    /// The control sheet: every hand-off of the file, in order (see `control`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control: Vec<super::Handoff>,
    /// The journal format the dossier was filed under (`event::JOURNAL_FORMAT`).
    #[serde(default)]
    pub journal: u32,
    /// Number of events applied; the store's optimistic-concurrency version.
    pub version: u64,
}

/// One document issued to the citizen: what it is, when, and what it says (the data its
/// template renders; see `crate::documents::render`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub kind: super::Template,
    pub at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepId>,
    pub data: Value,
}

impl Dossier {
    pub fn step(&self, id: &str) -> Option<&StepState> {
        self.steps.get(id)
    }
}
