//! What the engine must do after a transition commits. Effects are data: the runtime stores
//! them in the outbox in the same transaction as the state, and carries them out afterwards.

use super::event::TimerKind;
use crate::clock::Millis;
use crate::definition::{ActionId, RoleId, StepId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A timer's identity within a dossier: setting it again replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimerId {
    pub kind: TimerKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepId>,
}

/// Who a notification is for, and how it travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The citizen (SMS, e-mail, VNeID, as the adapter is configured).
    Citizen,
    /// The agency holding the step (its queue and supervisors).
    Agency,
    /// Operators (incidents).
    Operators,
}

/// What a notification says; the notification adapter renders it in Vietnamese (and English).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// Receipt with the appointment date (phiếu hẹn).
    Receipt,
    SupplementRequested,
    /// Not accepted at intake (không được tiếp nhận): the form is invalid.
    Refused,
    /// One procedure of the group was refused after acceptance (từ chối giải quyết), with
    /// the reason; the others go on.
    ProcedureRefused,
    DeadlineWarning,
    /// Apology slip with a new appointment date (phiếu xin lỗi và hẹn lại ngày trả kết quả).
    ApologySlip,
    /// An agency needs verification: the legal limit is extended as the law allows, and the
    /// citizen is given the new appointment (no apology: the dossier is not late).
    VerificationExtended,
    IncidentOpened,
    /// A supplement changed form data a finished step read: its agency re-examines the result.
    InputsChanged,
    Stopped,
    Withdrawn,
    /// The results are ready.
    Decided,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Call the agency's adapter. The idempotency key is the same on every retry.
    CallAdapter {
        step: StepId,
        agency: RoleId,
        action: ActionId,
        idempotency_key: String,
        /// Only the fields the step reads.
        request: Value,
        attempt: u32,
    },
    /// Open a task in the agency's work queue.
    OpenTask {
        step: StepId,
        agency: RoleId,
        action: ActionId,
        request: Value,
    },
    /// Close a task that is no longer wanted (the dossier closed).
    CloseTask {
        step: StepId,
        agency: RoleId,
    },
    SetTimer {
        id: TimerId,
        at: Millis,
    },
    CancelTimer {
        id: TimerId,
    },
    Notify {
        audience: Audience,
        template: Template,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<StepId>,
        /// Values the template uses (dates, reasons, codes).
        data: Value,
    },
}
