//! The agency task API: human steps (`mode: human`) wait as tasks in their agency's queue,
//! where an officer claims one under a lease and answers it.
//!
//! Rules:
//! - every call acts for one agency role and sees only that agency's tasks: a task of another
//!   agency gives exactly the error of a task that does not exist ([`TaskError::NotFound`]);
//! - a task must be claimed before it is answered, and only the officer holding a live claim
//!   may complete it, reject it, ask for a supplement or start verification; a claim lasts
//!   [`super::Config::claim_lease_ms`] and lapses by itself (the machine's claim-expiry timer
//!   puts the task back in the queue); claiming again one's own live claim changes nothing
//!   (the lease is not extended); a lapsed claim may be taken by anyone;
//! - completing needs exactly the outputs the step declares in `writes:` (none missing, none
//!   extra); the machine then checks each value against its schema;
//! - the checks and the event are applied to the same version of the dossier: a commit that
//!   meets a newer version starts again from a fresh load (like [`Runtime::handle`]), so a
//!   claim taken over between the check and the commit is never overruled.
//!
//! Who the officer is, and that they belong to the agency, is the caller's to establish (the
//! HTTP layer authenticates them).

use super::{Error, Result, Runtime};
use crate::calendar::VIETNAM_OFFSET;
use crate::clock::Millis;
use crate::definition::{Mode, Procedure, Step, StepId};
use crate::machine::{self, Actor, Dossier, DossierId, Event, StepState, StepStatus};
use crate::store::{Store, Task, status_name};
use chrono::DateTime;
use serde_json::{Map, Value};

/// What starting verification would change (see [`Runtime::preview_verification`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationPreview {
    /// The step's deadline once extended.
    pub step_deadline: Option<Millis>,
    /// The appointment promised to the citizen afterwards.
    pub appointment: Option<Millis>,
}

/// Why a task operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// No such task for this agency — also the answer for another agency's task.
    #[error("task `{step}` of dossier {dossier} does not exist")]
    NotFound { dossier: DossierId, step: StepId },
    /// The agency's task exists but is not waiting for an officer now.
    #[error("task `{step}` of dossier {dossier} is not open: the step is {status}")]
    NotOpen {
        dossier: DossierId,
        step: StepId,
        status: String,
    },
    /// Another officer holds a live claim.
    #[error("task `{step}` of dossier {dossier} is claimed by `{by}` until {until}")]
    ClaimedByOther {
        dossier: DossierId,
        step: StepId,
        by: String,
        until: String,
    },
    /// The officer answering does not hold a live claim.
    #[error(
        "officer `{officer}` holds no live claim on task `{step}` of dossier {dossier}: claim it first"
    )]
    NotClaimant {
        dossier: DossierId,
        step: StepId,
        officer: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// The statuses of an open task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Queued,
    Claimed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Claimed => "claimed",
        }
    }
}

/// Which of an agency's open tasks to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    /// Only the tasks of this procedure id.
    pub procedure: Option<String>,
    /// Only queued, or only claimed, tasks (a claimed task whose lease has lapsed stays
    /// `claimed` until its expiry timer fires; its `claim_until` tells).
    pub status: Option<TaskStatus>,
    /// At most this many (clamped to 1..=500; default 50), skipping `offset` (at least 0).
    pub limit: i64,
    pub offset: i64,
    /// Newest first (default: oldest first).
    pub newest_first: bool,
    /// Only dossiers filed inside this area (an agency scoped to a province or commune).
    pub scope: crate::store::Scope,
}

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery {
            procedure: None,
            status: None,
            limit: 50,
            offset: 0,
            newest_first: false,
            scope: crate::store::Scope::default(),
        }
    }
}

const MAX_LIST: i64 = 500;
const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 4_000;

/// An officer's answer to a claimed task.
enum Answer<'a> {
    Complete(&'a Map<String, Value>),
    Reject(String),
    Supplement(String),
    Verify(String),
}

fn not_found(dossier: &DossierId, step: &str) -> Error {
    TaskError::NotFound {
        dossier: dossier.clone(),
        step: step.into(),
    }
    .into()
}

fn local_time(ms: Millis) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&VIETNAM_OFFSET).to_rfc3339())
        .unwrap_or_else(|| ms.to_string())
}

/// Trimmed, non-empty and bounded free text.
fn text(what: &str, value: &str, max: usize) -> Result<String> {
    let t = value.trim();
    if t.is_empty() {
        return Err(TaskError::Invalid(format!("{what} must not be empty")).into());
    }
    if t.chars().count() > max {
        return Err(TaskError::Invalid(format!("{what} is longer than {max} characters")).into());
    }
    Ok(t.to_string())
}

/// The agency's open task of `step`: its definition and state. Anything else — no dossier, no
/// such step, an automated step, another agency's step, a step not yet started — is "not
/// found", with the same text.
fn locate<'a>(
    d: &'a Dossier,
    p: &'a Procedure,
    agency: &str,
    step: &str,
) -> Result<(&'a Step, &'a StepState)> {
    let def = p
        .step(step)
        .filter(|s| s.mode == Mode::Human && s.agency == agency);
    let st = d
        .steps
        .get(step)
        .filter(|s| s.agency == agency && s.started_at.is_some());
    let (Some(def), Some(st)) = (def, st) else {
        return Err(not_found(&d.id, step));
    };
    if !matches!(st.status, StepStatus::Queued | StepStatus::Claimed) {
        return Err(TaskError::NotOpen {
            dossier: d.id.clone(),
            step: step.into(),
            status: status_name(&st.status),
        }
        .into());
    }
    Ok((def, st))
}

/// Outputs must be exactly the step's `writes:` (the machine checks their values).
fn check_declared(def: &Step, outputs: &Map<String, Value>) -> Result<()> {
    let invalid = |message: String| {
        Error::Machine(machine::Error::InvalidOutputs {
            step: def.id.clone(),
            message,
        })
    };
    if let Some(extra) = outputs.keys().find(|k| !def.writes.contains_key(*k)) {
        return Err(invalid(format!("`{extra}` is not declared in writes:")));
    }
    if let Some(missing) = def.writes.keys().find(|k| !outputs.contains_key(*k)) {
        return Err(invalid(format!(
            "`{missing}` is declared in writes: but missing"
        )));
    }
    Ok(())
}

impl<S: Store> Runtime<S> {
    /// The agency's open tasks (queued or claimed), oldest first.
    pub async fn open_tasks(&self, agency: &str, query: &TaskQuery) -> Result<Vec<Task>> {
        let filter = crate::store::TaskFilter {
            procedure: query.procedure.as_deref(),
            status: query.status.map(TaskStatus::as_str),
            scope: query.scope.clone(),
            newest_first: query.newest_first,
            offset: query.offset.max(0),
            limit: query.limit.clamp(1, MAX_LIST),
        };
        Ok(self.store.agency_tasks(agency, &filter).await?)
    }

    /// One of the agency's tasks, open or not.
    pub async fn agency_task(&self, agency: &str, dossier: &DossierId, step: &str) -> Result<Task> {
        match self.store.task(dossier, step).await? {
            Some(t) if t.agency == agency => Ok(t),
            _ => Err(not_found(dossier, step)),
        }
    }

    /// Claims a task for `officer` until now + the claim lease.
    pub async fn claim_task(
        &self,
        agency: &str,
        dossier: &DossierId,
        step: &str,
        officer: &str,
    ) -> Result<Task> {
        let officer = text("the officer's name", officer, MAX_NAME)?;
        let lease = self.config.claim_lease_ms;
        // Another officer's live claim is refused by the machine; taking one's own live
        // claim again is no event at all.
        self.act(agency, dossier, step, |_, _, st, now| {
            let mine = st
                .live_claim(now)
                .is_some_and(|(by, _)| by == officer.as_str());
            Ok((!mine).then(|| Event::StepClaimed {
                step: step.into(),
                by: officer.clone(),
                until: now + lease,
            }))
        })
        .await
    }

    /// Gives a claimed task back to its agency's queue; only the officer holding the live
    /// claim may.
    pub async fn release_task(
        &self,
        agency: &str,
        dossier: &DossierId,
        step: &str,
        officer: &str,
    ) -> Result<Task> {
        let officer = text("the officer's name", officer, MAX_NAME)?;
        self.act(agency, dossier, step, |_, _, _, _| {
            Ok(Some(Event::ClaimReleased {
                step: step.into(),
                by: officer.clone(),
            }))
        })
        .await
    }

    /// Completes a claimed task with its outputs (exactly the step's `writes:`).
    pub async fn complete_task(
        &self,
        agency: &str,
        dossier: &DossierId,
        step: &str,
        officer: &str,
        outputs: &Map<String, Value>,
    ) -> Result<Task> {
        self.answer(agency, dossier, step, officer, Answer::Complete(outputs))
            .await
    }

    /// Rejects a claimed task: the dossier stops, with the reason.
    pub async fn reject_task(
        &self,
        agency: &str,
        dossier: &DossierId,
        step: &str,
        officer: &str,
        reason: &str,
    ) -> Result<Task> {
        let reason = text("the reason", reason, MAX_TEXT)?;
        self.answer(agency, dossier, step, officer, Answer::Reject(reason))
            .await
    }

    /// Asks the citizen for missing papers: the clocks pause, the claim ends, and the task
    /// comes back to the queue when the supplement arrives.
    pub async fn request_supplement(
        &self,
        agency: &str,
        dossier: &DossierId,
        step: &str,
        officer: &str,
        reason: &str,
    ) -> Result<Task> {
        let reason = text("the reason", reason, MAX_TEXT)?;
        self.answer(agency, dossier, step, officer, Answer::Supplement(reason))
            .await
    }

    /// Starts verification: the step's limit extends as the definition says, on `basis`; the
    /// officer keeps the claim while it lasts.
    pub async fn start_verification(
        &self,
        agency: &str,
        dossier: &DossierId,
        step: &str,
        officer: &str,
        basis: &str,
    ) -> Result<Task> {
        let basis = text("the legal basis", basis, MAX_TEXT)?;
        self.answer(agency, dossier, step, officer, Answer::Verify(basis))
            .await
    }

    /// What starting verification would do, without doing it: the step's new deadline and
    /// the citizen's new appointment, computed by the machine on a copy of the dossier (the
    /// officer sees them before confirming). Refused like the real answer would be.
    pub async fn preview_verification(
        &self,
        agency: &str,
        dossier: &DossierId,
        step: &str,
        officer: &str,
        basis: &str,
    ) -> Result<VerificationPreview> {
        let d = self
            .store
            .load(dossier)
            .await?
            .ok_or_else(|| not_found(dossier, step))?;
        let p = self.procedure(&d.procedure.hash).await?;
        locate(&d, &p, agency, step)?;
        let event = Event::VerificationStarted {
            step: StepId::from(step),
            basis: basis.to_string(),
            by: Some(Actor::Officer(officer.to_string())),
        };
        let calendar = self.calendar();
        let now = self.now();
        let t = machine::apply(self.env(&p, &calendar, now), Some(&d), &event)?;
        Ok(VerificationPreview {
            step_deadline: t
                .state
                .steps
                .get(step)
                .and_then(|st| st.clock.as_ref())
                .and_then(|c| c.deadline())
                .map(|at| at.timestamp_millis()),
            appointment: t.state.appointment,
        })
    }

    async fn answer(
        &self,
        agency: &str,
        dossier: &DossierId,
        step: &str,
        officer: &str,
        answer: Answer<'_>,
    ) -> Result<Task> {
        let officer = text("the officer's name", officer, MAX_NAME)?;
        // Who may answer (the officer holding the live claim) is the machine's rule: the
        // event names the officer, and `act` turns the machine's refusal into a task error.
        self.act(agency, dossier, step, |_, def, _, _| {
            let by = Some(Actor::Officer(officer.clone()));
            let step = StepId::from(step);
            Ok(Some(match &answer {
                Answer::Complete(outputs) => {
                    check_declared(def, outputs)?;
                    Event::StepCompleted {
                        step,
                        outputs: (*outputs).clone(),
                        by,
                    }
                }
                Answer::Reject(reason) => Event::StepRejected {
                    step,
                    reason: reason.clone(),
                    by,
                },
                Answer::Supplement(reason) => Event::SupplementRequested {
                    step,
                    reason: reason.clone(),
                    by,
                },
                Answer::Verify(basis) => Event::VerificationStarted {
                    step,
                    basis: basis.clone(),
                    by,
                },
            }))
        })
        .await
    }

    /// Loads the dossier, locates the agency's open task, lets `decide` check it and choose
    /// the event (none: nothing to change), applies and commits it against the version
    /// checked; a conflicting commit starts again. Returns the task as stored afterwards.
    async fn act(
        &self,
        agency: &str,
        dossier: &DossierId,
        step: &str,
        decide: impl Fn(&Dossier, &Step, &StepState, Millis) -> Result<Option<Event>> + Send + Sync,
    ) -> Result<Task> {
        let applied = self
            .apply_with(dossier, None, |d, p, now| {
                let (def, st) = locate(d, p, agency, step)?;
                decide(d, def, st, now)
            })
            .await;
        match applied {
            Ok(_) => self.agency_task(agency, dossier, step).await,
            // A dossier that does not exist is a task that does not exist.
            Err(Error::NoDossier(_)) => Err(not_found(dossier, step)),
            Err(Error::Machine(machine::Error::NotClaimant { step, officer })) => {
                Err(TaskError::NotClaimant {
                    dossier: dossier.clone(),
                    step,
                    officer,
                }
                .into())
            }
            Err(Error::Machine(machine::Error::ClaimedByOther { step, by, until })) => {
                Err(TaskError::ClaimedByOther {
                    dossier: dossier.clone(),
                    step,
                    by,
                    until: local_time(until),
                }
                .into())
            }
            Err(e) => Err(e),
        }
    }
}
