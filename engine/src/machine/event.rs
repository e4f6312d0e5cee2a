//! What can happen to a dossier. Events are facts: the journal stores them, and replaying
//! them through [`super::apply`] rebuilds the dossier exactly.

use super::state::{Channel, DossierId, ProcedureRef};
use crate::clock::Millis;
use crate::definition::{RoleId, StepId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Which timer fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// A step's deadline is near (the warning fraction of its limit has passed).
    Warning,
    /// A step's deadline passed.
    Breach,
    /// The citizen's supplement window closed.
    SupplementExpiry,
    /// Time to retry an adapter call.
    Retry,
    /// A claimed human task's lease ran out.
    ClaimExpiry,
    /// The whole group's deadline passed.
    GroupBreach,
    /// One working day before the appointment: is a breach predicted? (apology slip)
    ApologyCheck,
    /// A step's window for the citizen to appear in person closed.
    WindowExpiry,
}

/// An operator's decision on an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Call the agency again (after it was fixed).
    Retry,
    /// Skip the step; the dossier goes on without it.
    Skip,
}

/// Who gave an answer on a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// An officer of the step's agency, by account name: the one answer a human task takes.
    Officer(String),
    /// The agency's own system, by agency role (an automated step, answering synchronously
    /// or through a callback).
    System(RoleId),
}

/// The journal format new dossiers are filed under. 0: written before answers carried their
/// actor (such journals replay with the answers they have); 1: a human task's answer names
/// its officer, and the machine refuses one that does not.
pub const JOURNAL_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A citizen filed the dossier (nộp hồ sơ).
    Submitted {
        id: DossierId,
        code: String,
        procedure: ProcedureRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bundle: Option<String>,
        form: Value,
        /// How it was filed; absent in older journals.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
        /// [`JOURNAL_FORMAT`] when filed; absent (0) in older journals.
        #[serde(default, skip_serializing_if = "is_zero")]
        journal: u32,
    },
    /// An agency system accepted the request and will answer later (callback).
    StepAccepted { step: StepId },
    /// An officer claimed a human task, under a lease.
    StepClaimed {
        step: StepId,
        by: String,
        until: Millis,
    },
    /// The officer holding a live claim gives the task back to the queue.
    ClaimReleased { step: StepId, by: String },
    /// The agency finished the step.
    StepCompleted {
        step: StepId,
        outputs: Map<String, Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
    },
    /// The agency refused: its procedure ends, and what depends on it.
    StepRejected {
        step: StepId,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
    },
    /// The agency asks the citizen for missing papers; clocks pause.
    SupplementRequested {
        step: StepId,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
    },
    /// The citizen supplied them: fields merged into the form; clocks resume.
    SupplementProvided {
        step: StepId,
        data: Map<String, Value>,
    },
    /// The agency needs verification; the step's limit extends as the definition says.
    VerificationStarted {
        step: StepId,
        basis: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
    },
    /// The agency reports that the step will be late, why, and how many more working days
    /// it needs: the citizen gets an apology slip with a new appointment.
    DelayReported {
        step: StepId,
        reason: String,
        working_days: u32,
    },
    /// A timer came due.
    TimerFired {
        kind: TimerKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<StepId>,
    },
    /// An adapter call failed.
    AdapterFailed {
        step: StepId,
        retryable: bool,
        message: String,
    },
    /// An operator resolved an incident.
    IncidentResolved {
        step: StepId,
        resolution: Resolution,
        by: String,
        reason: String,
    },
    /// The citizen withdrew the dossier.
    Withdrawn { reason: String },
    /// An authorised officer cancelled the dossier.
    Cancelled { by: String, reason: String },
    /// The results reached the citizen.
    Delivered { channel: String },
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Event {
    /// The actor an answer names, if the event is an answer that names one.
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            Event::StepCompleted { by, .. }
            | Event::StepRejected { by, .. }
            | Event::SupplementRequested { by, .. }
            | Event::VerificationStarted { by, .. } => by.as_ref(),
            _ => None,
        }
    }

    /// The step the event is about, if any.
    pub fn step(&self) -> Option<&str> {
        match self {
            Event::StepAccepted { step }
            | Event::StepClaimed { step, .. }
            | Event::ClaimReleased { step, .. }
            | Event::StepCompleted { step, .. }
            | Event::StepRejected { step, .. }
            | Event::SupplementRequested { step, .. }
            | Event::SupplementProvided { step, .. }
            | Event::VerificationStarted { step, .. }
            | Event::DelayReported { step, .. }
            | Event::AdapterFailed { step, .. }
            | Event::IncidentResolved { step, .. } => Some(step),
            Event::TimerFired { step, .. } => step.as_deref(),
            Event::Submitted { .. }
            | Event::Withdrawn { .. }
            | Event::Cancelled { .. }
            | Event::Delivered { .. } => None,
        }
    }

    /// A short name for logs and the journal.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Submitted { .. } => "submitted",
            Event::StepAccepted { .. } => "step_accepted",
            Event::StepClaimed { .. } => "step_claimed",
            Event::ClaimReleased { .. } => "claim_released",
            Event::StepCompleted { .. } => "step_completed",
            Event::StepRejected { .. } => "step_rejected",
            Event::SupplementRequested { .. } => "supplement_requested",
            Event::SupplementProvided { .. } => "supplement_provided",
            Event::VerificationStarted { .. } => "verification_started",
            Event::DelayReported { .. } => "delay_reported",
            Event::TimerFired { .. } => "timer_fired",
            Event::AdapterFailed { .. } => "adapter_failed",
            Event::IncidentResolved { .. } => "incident_resolved",
            Event::Withdrawn { .. } => "withdrawn",
            Event::Cancelled { .. } => "cancelled",
            Event::Delivered { .. } => "delivered",
        }
    }
}
