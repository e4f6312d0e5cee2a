//! The step protocol in one table: for every step status and every move, where the move
//! leads, or `None` when it is not allowed there.
//!
//! Invariant: [`set`] is the only code that changes a step's status (the test below scans
//! the workspace for any other assignment). Both matches in [`next`] are exhaustive with no
//! catch-all arm, so a new status or a new move must be placed in every row by hand.

use super::state::{StepState, StepStatus};
use super::{Error, Result};
use crate::definition::Mode;

/// What moves one step: the step's reading of an event, or the machine's own decision
/// while it applies one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Move {
    /// Its prerequisites ended and it applies: it goes to its agency.
    Start,
    /// The agency's system took the request and will answer later.
    Accept,
    /// An officer claims the human task (again, once an earlier lease ran out).
    Claim,
    /// The agency finished it.
    Complete,
    /// The agency refused it.
    Reject,
    /// The agency asked the citizen for a supplement.
    AskSupplement,
    /// The agency started a verification (its limit extends).
    Verify,
    /// The agency reported a delay (the citizen may get an apology slip).
    ReportDelay,
    /// The citizen's supplement arrived: back to the agency.
    Supplied,
    /// The citizen's supplement arrived, and a lookup it depends on runs again first.
    AwaitRerun,
    /// A finished lookup runs again because a supplement changed what it read.
    Rerun,
    /// An adapter call failed and will be retried.
    FailRetryable,
    /// An adapter call failed for good, or out of retries: an incident.
    FailFinal,
    /// The retry timer fired.
    RetryDue,
    /// The claim lease ran out: back to the queue.
    LeaseOver,
    /// The officer holding the claim gave the task back: to the queue.
    Release,
    /// An operator retries an incident.
    OperatorRetry,
    /// An operator skips an incident.
    OperatorSkip,
    /// Outside the bundle, its condition false, or every prerequisite skipped.
    NotApplicable,
    /// The supplement window closed and the rule refuses the procedure.
    ExpireRefuse,
    /// The supplement window closed and the rule drops the step.
    ExpireDrop,
    /// The citizen did not appear within the step's window: the step is refused.
    WindowClose,
    /// Its procedure was refused or the dossier closed before it ended.
    Cancel,
    /// A deadline warning or breach timer: the agency is told, the status stays.
    Warn,
}

impl Move {
    /// The event name an error about this move reports.
    pub(crate) fn event(self) -> &'static str {
        match self {
            Move::Start => "start",
            Move::Accept => "step_accepted",
            Move::Claim => "step_claimed",
            Move::Release => "claim_released",
            Move::Complete => "step_completed",
            Move::Reject => "step_rejected",
            Move::AskSupplement => "supplement_requested",
            Move::Verify => "verification_started",
            Move::ReportDelay => "delay_reported",
            Move::Supplied | Move::AwaitRerun => "supplement_provided",
            Move::Rerun => "rerun",
            Move::FailRetryable | Move::FailFinal => "adapter_failed",
            Move::OperatorRetry | Move::OperatorSkip => "incident_resolved",
            Move::RetryDue
            | Move::LeaseOver
            | Move::ExpireRefuse
            | Move::ExpireDrop
            | Move::WindowClose => "timer_fired",
            Move::Warn => "timer_fired",
            Move::NotApplicable => "skip",
            Move::Cancel => "cancel",
        }
    }
}

/// Where a move leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum To {
    /// This status.
    Status(StepStatus),
    /// To its agency: `Dispatched` for an automated step, `Queued` for a human one.
    Agency,
    /// The status stays (the move changes other things, or nothing).
    Same,
}

/// The table: one arm per move, each exhaustive over the statuses.
pub(crate) fn next(from: StepStatus, m: Move) -> Option<To> {
    use StepStatus::{
        Accepted, Cancelled, Claimed, Dispatched, Done, Incident, Pending, Queued, Rejected,
        RetryWait, Skipped, Supplement,
    };
    let to = |s| Some(To::Status(s));
    match m {
        Move::Start => match from {
            Pending => Some(To::Agency),
            Queued | Claimed | Dispatched | Accepted | RetryWait | Supplement | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        Move::NotApplicable => match from {
            Pending => to(Skipped),
            Queued | Claimed | Dispatched | Accepted | RetryWait | Supplement | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        Move::Accept => match from {
            Dispatched | RetryWait => to(Accepted),
            Pending | Queued | Claimed | Accepted | Supplement | Done | Rejected | Skipped
            | Cancelled | Incident => None,
        },
        // Claiming a claimed task needs its lease to have run out: the handler checks it.
        Move::Claim => match from {
            Queued | Claimed => to(Claimed),
            Pending | Dispatched | Accepted | RetryWait | Supplement | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        // The agency answers a call under way, an accepted one, a claimed task, or a call
        // waiting for its retry (the earlier attempt got through after all).
        Move::Complete => match from {
            Dispatched | Accepted | Claimed | RetryWait => to(Done),
            Pending | Queued | Supplement | Done | Rejected | Skipped | Cancelled | Incident => {
                None
            }
        },
        Move::Reject => match from {
            Dispatched | Accepted | Claimed | RetryWait => to(Rejected),
            Pending | Queued | Supplement | Done | Rejected | Skipped | Cancelled | Incident => {
                None
            }
        },
        Move::AskSupplement => match from {
            Dispatched | Accepted | Claimed | RetryWait => to(Supplement),
            Pending | Queued | Supplement | Done | Rejected | Skipped | Cancelled | Incident => {
                None
            }
        },
        Move::Verify => match from {
            Dispatched | Accepted | Claimed | RetryWait => Some(To::Same),
            Pending | Queued | Supplement | Done | Rejected | Skipped | Cancelled | Incident => {
                None
            }
        },
        Move::ReportDelay => match from {
            Queued | Claimed | Dispatched | Accepted | RetryWait | Supplement | Incident => {
                Some(To::Same)
            }
            Pending | Done | Rejected | Skipped | Cancelled => None,
        },
        // While the citizen supplements, the step's clock is paused: no warning then.
        Move::Warn => match from {
            Queued | Claimed | Dispatched | Accepted | RetryWait | Incident => Some(To::Same),
            Pending | Supplement | Done | Rejected | Skipped | Cancelled => None,
        },
        Move::Supplied => match from {
            Supplement => Some(To::Agency),
            Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        Move::AwaitRerun => match from {
            Supplement => to(Pending),
            Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        Move::ExpireRefuse => match from {
            Supplement => to(Rejected),
            Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        Move::ExpireDrop => match from {
            Supplement => to(Skipped),
            Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        // A window step is a human task waiting in its queue, or claimed by the officer
        // who will record the appearance.
        Move::WindowClose => match from {
            Queued | Claimed => to(Rejected),
            Pending | Dispatched | Accepted | RetryWait | Supplement | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        Move::Rerun => match from {
            Done => to(Pending),
            Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Supplement
            | Rejected | Skipped | Cancelled | Incident => None,
        },
        Move::FailRetryable => match from {
            Dispatched | Accepted => to(RetryWait),
            Pending | Queued | Claimed | RetryWait | Supplement | Done | Rejected | Skipped
            | Cancelled | Incident => None,
        },
        Move::FailFinal => match from {
            Dispatched | Accepted => to(Incident),
            Pending | Queued | Claimed | RetryWait | Supplement | Done | Rejected | Skipped
            | Cancelled | Incident => None,
        },
        Move::RetryDue => match from {
            RetryWait => Some(To::Agency),
            Pending | Queued | Claimed | Dispatched | Accepted | Supplement | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        Move::LeaseOver => match from {
            Claimed => Some(To::Agency),
            Pending | Queued | Dispatched | Accepted | RetryWait | Supplement | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        Move::Release => match from {
            Claimed => Some(To::Agency),
            Pending | Queued | Dispatched | Accepted | RetryWait | Supplement | Done | Rejected
            | Skipped | Cancelled | Incident => None,
        },
        Move::OperatorRetry => match from {
            Incident => Some(To::Agency),
            Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Supplement | Done
            | Rejected | Skipped | Cancelled => None,
        },
        Move::OperatorSkip => match from {
            Incident => to(Skipped),
            Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Supplement | Done
            | Rejected | Skipped | Cancelled => None,
        },
        Move::Cancel => match from {
            Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Supplement
            | Incident => to(Cancelled),
            Done | Rejected | Skipped | Cancelled => None,
        },
    }
}

/// Whether `m` is allowed on a step in `from`, as the error a handler returns.
pub(crate) fn check(step: &str, from: StepStatus, m: Move) -> Result<()> {
    match next(from, m) {
        Some(_) => Ok(()),
        None => Err(Error::NotAllowed {
            step: step.into(),
            status: from,
            event: m.event(),
        }),
    }
}

/// Moves the step: the only place a step's status changes.
pub(crate) fn set(st: &mut StepState, step: &str, m: Move, mode: Mode) -> Result<()> {
    let to = next(st.status, m).ok_or_else(|| Error::NotAllowed {
        step: step.into(),
        status: st.status,
        event: m.event(),
    })?;
    st.status = match to {
        To::Status(s) => s,
        To::Agency => match mode {
            Mode::Automated => StepStatus::Dispatched,
            Mode::Human => StepStatus::Queued,
        },
        To::Same => st.status,
    };
    Ok(())
}

#[cfg(test)]
mod tests;
