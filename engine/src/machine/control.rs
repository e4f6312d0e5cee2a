//! The control sheet (phiếu kiểm soát quá trình giải quyết hồ sơ): every hand-off of the
//! file — from the citizen to the one-stop desk, from the desk or one agency to the next, to
//! an officer, back to the citizen for a supplement, back to the desk with a result — with
//! its instant, so that who held the file, from when to when, can be read off it.
//!
//! Invariant: the sheet is a function of the states before and after each event (the
//! difference of step statuses), appended by [`record`] inside `apply`; replaying a journal
//! rebuilds it exactly, like the rest of the state.

use super::event::{Actor, Event};
use super::state::{Dossier, StepState, StepStatus};
use crate::calendar::VIETNAM_OFFSET;
use crate::clock::Millis;
use crate::definition::{RoleId, StepId};
use chrono::DateTime;
use serde::{Deserialize, Serialize};

/// Who holds the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Holder {
    /// The citizen (or their representative).
    Citizen,
    /// The one-stop desk that received the dossier and returns its results.
    Desk,
    /// An agency, by role; with the officer who holds a claimed task.
    Agency {
        role: RoleId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        officer: Option<String>,
    },
}

impl Holder {
    fn agency(role: &str, officer: Option<&str>) -> Holder {
        Holder::Agency {
            role: RoleId::from(role),
            officer: officer.map(str::to_string),
        }
    }
}

/// What the hand-off was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handing {
    /// The desk received the dossier.
    Received,
    /// The file went to an agency for a step.
    Sent,
    /// An officer took the task.
    Claimed,
    /// The officer's claim ran out: the task is back in the agency's queue.
    Released,
    /// The agency asked the citizen for a supplement.
    SupplementAsked,
    /// The citizen's supplement reached the agency.
    Supplied,
    /// The agency returned its result.
    Decided,
    /// The agency refused the step.
    Refused,
    /// The file came back unfinished (the procedure was refused or the dossier closed).
    Recalled,
    /// The results reached the citizen.
    Delivered,
}

/// Whether a step's result came back before its due day, on it, or after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    Early,
    OnTime,
    Late,
}

/// One row of the control sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub at: Millis,
    pub what: Handing,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepId>,
    pub from: Holder,
    pub to: Holder,
    /// For a returned result: against the step's due instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeliness: Option<Timeliness>,
}

/// The local calendar day of an instant.
fn day(ms: Millis) -> Option<chrono::NaiveDate> {
    DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&VIETNAM_OFFSET).date_naive())
}

impl Timeliness {
    /// A result returned at `at` against the instant `due`: early on a day before the due
    /// day, on time until the due instant, late after it. The control sheet's rows and the
    /// reports' dossiers are judged by this one rule.
    pub fn of(at: Millis, due: Millis) -> Option<Timeliness> {
        Some(if day(at)? < day(due)? {
            Timeliness::Early
        } else if at <= due {
            Timeliness::OnTime
        } else {
            Timeliness::Late
        })
    }
}

fn timeliness(st: &StepState, at: Millis) -> Option<Timeliness> {
    let due = st.clock.as_ref()?.deadline()?;
    Timeliness::of(at, due.timestamp_millis())
}

/// The officer the event names, if it names one.
fn officer(event: &Event) -> Option<&str> {
    match event {
        Event::StepClaimed { by, .. } | Event::ClaimReleased { by, .. } => Some(by),
        Event::StepCompleted { by, .. }
        | Event::StepRejected { by, .. }
        | Event::SupplementRequested { by, .. }
        | Event::VerificationStarted { by, .. } => match by {
            Some(Actor::Officer(o)) => Some(o),
            Some(Actor::System(_)) | None => None,
        },
        _ => None,
    }
}

/// Appends the hand-offs `event` caused: the dossier's own (received, delivered), then
/// each step's, found by comparing it before and after the event.
pub(super) fn record(before: Option<&Dossier>, after: &mut Dossier, event: &Event, at: Millis) {
    let own = |what, from, to| Handoff {
        at,
        what,
        step: None,
        from,
        to,
        timeliness: None,
    };
    let mut rows = match (before, event) {
        (None, _) => vec![own(Handing::Received, Holder::Citizen, Holder::Desk)],
        (Some(_), Event::Delivered { .. }) => {
            vec![own(Handing::Delivered, Holder::Desk, Holder::Citizen)]
        }
        (Some(_), _) => Vec::new(),
    };
    rows.extend(moves(before, after, event, at));
    after.control.extend(rows);
}

/// Where a step sent on by `event` comes from: the agency of the step whose answer
/// released it, else the desk.
fn source(before: Option<&Dossier>, event: &Event, id: &str) -> Holder {
    match (before, event.step()) {
        (Some(b), Some(other)) if other != id => b
            .steps
            .get(other)
            .map_or(Holder::Desk, |s| Holder::agency(&s.agency, None)),
        _ => Holder::Desk,
    }
}

fn moves(before: Option<&Dossier>, after: &Dossier, event: &Event, at: Millis) -> Vec<Handoff> {
    use StepStatus::{
        Accepted, Cancelled, Claimed, Dispatched, Done, Incident, Pending, Queued, Rejected,
        RetryWait, Skipped, Supplement,
    };
    let mut rows = Vec::new();
    for (id, s) in &after.steps {
        let old = before.and_then(|b| b.steps.get(id));
        let from = old.map_or(Pending, |o| o.status);
        let holder = |o: Option<&StepState>| {
            Holder::agency(&s.agency, o.and_then(|o| o.claimed_by.as_deref()))
        };
        let row = |what, from, to| Handoff {
            at,
            what,
            step: Some(id.clone()),
            from,
            to,
            timeliness: None,
        };
        let handoff = match (from, s.status) {
            (a, b) if a == b => {
                // A lapsed claim taken by another officer: one officer hands to the next.
                let taken = a == Claimed
                    && old.and_then(|o| o.claimed_by.as_ref()) != s.claimed_by.as_ref();
                taken.then(|| row(Handing::Claimed, holder(old), holder(Some(s))))
            }
            (Pending, Dispatched | Queued) => {
                Some(row(Handing::Sent, source(before, event, id), holder(None)))
            }
            (Supplement, Dispatched | Queued) => {
                Some(row(Handing::Supplied, Holder::Citizen, holder(None)))
            }
            (Queued, Claimed) => Some(row(Handing::Claimed, holder(None), holder(Some(s)))),
            (Claimed, Queued) => Some(row(Handing::Released, holder(old), holder(None))),
            (_, Supplement) => Some(row(Handing::SupplementAsked, holder(old), Holder::Citizen)),
            (_, Done) => {
                let by = old
                    .and_then(|o| o.claimed_by.as_deref())
                    .or_else(|| officer(event));
                Some(Handoff {
                    timeliness: timeliness(s, at),
                    ..row(
                        Handing::Decided,
                        Holder::agency(&s.agency, by),
                        Holder::Desk,
                    )
                })
            }
            (_, Rejected) => Some(Handoff {
                timeliness: timeliness(s, at),
                ..row(Handing::Refused, holder(old), Holder::Desk)
            }),
            (Queued | Claimed | Dispatched | Accepted | RetryWait | Incident, Cancelled) => {
                Some(row(Handing::Recalled, holder(old), Holder::Desk))
            }
            // Within one agency (accepted, retries, incidents), a re-run, a skip.
            (
                Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Supplement | Done
                | Rejected | Skipped | Cancelled | Incident,
                Pending | Queued | Claimed | Dispatched | Accepted | RetryWait | Skipped
                | Cancelled | Incident,
            ) => None,
        };
        rows.extend(handoff);
    }
    rows.sort_by_key(|r| r.what == Handing::Sent);
    rows
}
