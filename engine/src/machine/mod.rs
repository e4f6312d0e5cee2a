//! The pure state machine: `apply(env, state, event) → Transition { state, effects, journal }`.
//!
//! No I/O, no clock reads, no database: the runtime passes the current instant in [`Env`],
//! commits the new state, the journal entry and the effects in one transaction, and carries
//! the effects out afterwards. One file per event family.

mod apology;
mod control;
mod effect;
mod event;
mod failure;
mod flow;
mod lifecycle;
mod procedures;
mod request;
mod schemas;
pub use schemas::{COMMUNE as COMMUNE_FORMAT, PROVINCE as PROVINCE_FORMAT};

/// The options every JSON Schema of a definition is compiled with (the unit formats).
pub fn schema_options() -> jsonschema::ValidationOptions<'static> {
    schemas::options()
}
mod state;
mod step;
mod supplement;
mod timers;
mod transition;
mod window;

pub use control::{Handing, Handoff, Holder, Timeliness};
pub use effect::{Audience, Effect, Template, TimerId};
pub use event::{Actor, Event, JOURNAL_FORMAT, Resolution, TimerKind};
pub use procedures::{
    Part, ProcedureResult, ProcedureStatus, members, portal_code, portal_label_en, portal_label_vi,
    results,
};
pub use request::{idempotency_key, request_for};
pub use state::{
    Channel, Document, Dossier, DossierId, DossierStatus, Incident, ProcedureRef, StepState,
    StepStatus,
};

use crate::calendar::{Calendar, OfficeHours, VIETNAM_OFFSET};
use crate::clock::Millis;
use crate::definition::{Procedure, StepId};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Tunables of the machine, with their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Adapter calls per round before a retryable failure becomes an incident (default 6).
    pub retry_budget: u32,
    /// First retry delay in milliseconds, doubled each attempt (default 2,000).
    pub backoff_base_ms: Millis,
    /// Longest retry delay (default 10 minutes).
    pub backoff_max_ms: Millis,
    /// Fraction of a limit after which the agency is warned (default 0.75).
    pub warn_fraction: f64,
    /// Retry policies of particular agencies (configured with their adapters), overriding
    /// the three figures above for their steps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub agencies: BTreeMap<String, RetryPolicy>,
}

/// How an agency's failing calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Calls per round before a retryable failure becomes an incident.
    pub retry_budget: u32,
    /// First retry delay in milliseconds, doubled each attempt.
    pub backoff_base_ms: Millis,
    /// Longest retry delay.
    pub backoff_max_ms: Millis,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retry_budget: 6,
            backoff_base_ms: 2_000,
            backoff_max_ms: 600_000,
            warn_fraction: 0.75,
            agencies: BTreeMap::new(),
        }
    }
}

impl Options {
    /// The retry policy for `agency`'s steps.
    pub fn retry(&self, agency: &str) -> RetryPolicy {
        self.agencies.get(agency).copied().unwrap_or(RetryPolicy {
            retry_budget: self.retry_budget,
            backoff_base_ms: self.backoff_base_ms,
            backoff_max_ms: self.backoff_max_ms,
        })
    }
}

/// What a transition needs besides the state and the event.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub procedure: &'a Procedure,
    pub calendar: &'a Calendar,
    pub options: &'a Options,
    pub now: Millis,
}

/// One line of the append-only journal: the event, when it was applied, and the state's
/// version and status after it. Replaying the events in order rebuilds the state exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub version: u64,
    pub at: Millis,
    pub event: Event,
    pub status: DossierStatus,
}

/// The result of applying one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub state: Dossier,
    pub effects: Vec<Effect>,
    pub journal: JournalEntry,
    /// What moved besides the state itself, so that a store can leave untouched the
    /// columns and rows it keeps beside the state when they did not.
    pub moved: Moved,
    /// A timer fired that changed nothing in the dossier and only sends notifications (a
    /// deadline warning, or a timer its step outlived): the store keeps it as a notification,
    /// not as a new version (`Transitions::notify_many`). Replaying the journal without it
    /// gives the same state, since it changed none.
    pub notice: bool,
}

impl Transition {
    /// The step whose task row must follow the dossier after this transition, with its new
    /// state: the step the event names, when its status or claim moved or its task was
    /// opened or closed. Both store write paths (one by one, and in bulk) use this rule.
    pub fn task_to_sync(&self) -> Option<(&str, &StepState)> {
        let step = self.journal.event.step()?;
        let st = self.state.steps.get(step)?;
        let touched = self.effects.iter().any(|e| {
            matches!(e, Effect::OpenTask { step: s, .. } | Effect::CloseTask { step: s, .. } if s == step)
        });
        (self.moved.task || touched).then_some((step, st))
    }
}

/// Which of the things a store keeps beside a dossier's state a transition changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// The dossier's status or closing instant (indexed columns).
    pub status: bool,
    /// The status, claimant or claim expiry of the step the event names (its task row).
    pub task: bool,
}

impl Moved {
    /// Everything moved: a new dossier, or a transition whose predecessor is unknown.
    pub const ALL: Moved = Moved {
        status: true,
        task: true,
    };

    fn between(before: Option<&Dossier>, after: &Dossier, event: &Event) -> Moved {
        let Some(b) = before else {
            return Moved::ALL;
        };
        let task_view = |d: &Dossier, s: &str| {
            d.steps
                .get(s)
                .map(|x| (x.status, x.claimed_by.clone(), x.claim_until))
        };
        Moved {
            status: b.status != after.status || b.closed_at != after.closed_at,
            task: event
                .step()
                .is_some_and(|s| task_view(b, s) != task_view(after, s)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("a dossier with this id already exists")]
    AlreadyExists,
    #[error("no such dossier")]
    Missing,
    #[error("the dossier is closed ({0:?})")]
    Closed(DossierStatus),
    #[error("unknown step `{0}`")]
    UnknownStep(StepId),
    #[error("step `{step}` is {status:?}: `{event}` is not allowed now")]
    NotAllowed {
        step: StepId,
        status: StepStatus,
        event: &'static str,
    },
    /// A human task's answer from someone other than the officer holding its live claim.
    #[error("officer `{officer}` holds no live claim on task `{step}`: claim it first")]
    NotClaimant { step: StepId, officer: String },
    /// Another officer holds a live claim on the task.
    #[error("task `{step}` is claimed by `{by}` until {until} ms")]
    ClaimedByOther {
        step: StepId,
        by: String,
        until: Millis,
    },
    /// The answer's actor cannot answer this step: no officer named on a human task, an
    /// officer on an automated step, or another agency's system.
    #[error("step `{step}` cannot be answered by {actor}")]
    WrongActor { step: StepId, actor: String },
    #[error("step `{step}` does not allow the outcome `{outcome}`")]
    OutcomeNotAllowed { step: StepId, outcome: &'static str },
    #[error("outputs of step `{step}`: {message}")]
    InvalidOutputs { step: StepId, message: String },
    /// A supplement names a field the agency did not ask for, or makes the form invalid;
    /// nothing of it is applied.
    #[error("supplement for step `{step}`: {field}: {message}")]
    InvalidSupplement {
        step: StepId,
        field: String,
        message: String,
    },
    #[error("the dossier is {0:?}: only a decided dossier can be delivered")]
    NotDecided(DossierStatus),
    #[error("time {0} ms is out of range")]
    Time(Millis),
    #[error(transparent)]
    Calendar(#[from] crate::calendar::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The mutable context a handler works in.
pub(crate) struct Cx<'a> {
    pub env: Env<'a>,
    pub office: OfficeHours,
    pub effects: Vec<Effect>,
}

impl Cx<'_> {
    pub fn at(&self, ms: Millis) -> Result<DateTime<FixedOffset>> {
        DateTime::from_timestamp_millis(ms)
            .map(|t| t.with_timezone(&VIETNAM_OFFSET))
            .ok_or(Error::Time(ms))
    }

    pub fn now(&self) -> Result<DateTime<FixedOffset>> {
        self.at(self.env.now)
    }

    /// The local day the dossier was received: it picks the step rules in force for it.
    pub fn received_day(&self, d: &Dossier) -> chrono::NaiveDate {
        self.at(d.received_at)
            .map_or(chrono::NaiveDate::MIN, |t| self.office.local(t).date())
    }

    pub fn emit(&mut self, e: Effect) {
        self.effects.push(e);
    }

    /// Issues a document to the citizen: recorded on the dossier and sent as a notification.
    pub fn issue(&mut self, d: &mut Dossier, template: Template, step: Option<&str>, data: Value) {
        d.documents.push(Document {
            kind: template.clone(),
            at: self.env.now,
            step: step.map(Into::into),
            data: data.clone(),
        });
        self.emit(Effect::Notify {
            audience: Audience::Citizen,
            template,
            step: step.map(Into::into),
            data,
        });
    }
}

/// Office hours as the procedure's intake rules set them.
pub fn office_hours(p: &Procedure) -> OfficeHours {
    let mut office = OfficeHours::default();
    if let Ok(cutoff) = p.intake.cutoff.value() {
        office.intake_cutoff = *cutoff;
    }
    office.saturday_morning_intake = p.intake.saturday_morning;
    office
}

/// Applies one event. `state` is `None` only for [`Event::Submitted`].
pub fn apply(env: Env<'_>, state: Option<&Dossier>, event: &Event) -> Result<Transition> {
    let mut cx = Cx {
        env,
        office: office_hours(env.procedure),
        effects: Vec::new(),
    };
    let mut d = match (state, event) {
        (
            None,
            Event::Submitted {
                id,
                code,
                procedure,
                bundle,
                form,
                channel,
                journal,
            },
        ) => {
            let mut d =
                lifecycle::on_submitted(&mut cx, id, code, procedure, bundle.as_deref(), form)?;
            d.journal = *journal;
            d.channel = *channel;
            d
        }
        (None, _) => return Err(Error::Missing),
        (Some(current), event) => {
            let mut d = current.clone();
            let closed = d.status.is_closed();
            match event {
                Event::Submitted { .. } => return Err(Error::AlreadyExists),
                Event::Delivered { channel } => lifecycle::on_delivered(&mut d, channel)?,
                _ if closed => return Err(Error::Closed(d.status)),
                Event::Withdrawn { reason } => lifecycle::on_withdrawn(&mut cx, &mut d, reason)?,
                Event::Cancelled { by, reason } => {
                    lifecycle::on_cancelled(&mut cx, &mut d, by, reason)?
                }
                Event::StepAccepted { step } => step::on_accepted(&mut cx, &mut d, step)?,
                Event::StepClaimed { step, by, until } => {
                    step::on_claimed(&mut cx, &mut d, step, by, *until)?
                }
                Event::ClaimReleased { step, by } => {
                    step::authorize(&cx, &d, step, Some(&Actor::Officer(by.clone())))?;
                    step::on_released(&mut cx, &mut d, step)?
                }
                Event::StepCompleted { step, outputs, by } => {
                    step::authorize(&cx, &d, step, by.as_ref())?;
                    step::on_completed(&mut cx, &mut d, step, outputs)?
                }
                Event::StepRejected { step, reason, by } => {
                    step::authorize(&cx, &d, step, by.as_ref())?;
                    step::on_rejected(&mut cx, &mut d, step, reason)?
                }
                Event::SupplementRequested { step, reason, by } => {
                    step::authorize(&cx, &d, step, by.as_ref())?;
                    supplement::on_requested(&mut cx, &mut d, step, reason)?;
                }
                Event::SupplementProvided { step, data } => {
                    supplement::on_provided(&mut cx, &mut d, step, data)?
                }
                Event::VerificationStarted { step, basis, by } => {
                    step::authorize(&cx, &d, step, by.as_ref())?;
                    supplement::on_verification(&mut cx, &mut d, step, basis)?;
                }
                Event::DelayReported {
                    step,
                    reason,
                    working_days,
                } => apology::on_delay(&mut cx, &mut d, step, reason, *working_days)?,
                Event::TimerFired { kind, step } => {
                    timers::on_fired(&mut cx, &mut d, *kind, step.as_deref())?
                }
                Event::AdapterFailed {
                    step,
                    retryable,
                    message,
                } => {
                    failure::on_adapter_failed(&mut cx, &mut d, step, *retryable, message)?;
                }
                Event::IncidentResolved {
                    step,
                    resolution,
                    by,
                    reason,
                } => {
                    failure::on_resolved(&mut cx, &mut d, step, *resolution, by, reason)?;
                }
            }
            d
        }
    };
    control::record(state, &mut d, event, env.now);
    let moved = Moved::between(state, &d, event);
    let notice = matches!(event, Event::TimerFired { .. })
        && state == Some(&d)
        && cx
            .effects
            .iter()
            .all(|e| matches!(e, Effect::Notify { .. }));
    d.version += 1;
    let journal = JournalEntry {
        version: d.version,
        at: env.now,
        event: event.clone(),
        status: d.status,
    };
    Ok(Transition {
        state: d,
        effects: cx.effects,
        journal,
        moved,
        notice,
    })
}

/// Rebuilds a dossier from its journal (the events in order, each with its instant).
pub fn replay<'a>(
    procedure: &Procedure,
    calendar: &Calendar,
    options: &Options,
    journal: impl IntoIterator<Item = &'a JournalEntry>,
) -> Result<Option<Dossier>> {
    let mut state: Option<Dossier> = None;
    for entry in journal {
        let env = Env {
            procedure,
            calendar,
            options,
            now: entry.at,
        };
        state = Some(apply(env, state.as_ref(), &entry.event)?.state);
    }
    Ok(state)
}

#[cfg(test)]
mod tests;
