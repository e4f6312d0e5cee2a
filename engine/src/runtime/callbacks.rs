//! Asynchronous agency answers. An agency that accepted a request (`StepAccepted`) answers
//! later through a callback naming the dossier code and the idempotency key it was called
//! with; the answer becomes the same event a synchronous answer would have produced. The
//! key ties the answer to one round of one step: an answer for an earlier round, for a step
//! that no longer waits, or from another agency is refused — and the HTTP layer refuses
//! unsigned, stale and replayed callbacks before they get here.

use super::{Error, Result, Runtime};
use crate::adapter::Response;
use crate::definition::{ActionId, StepId};
use crate::machine::{self, Actor, DossierId, Event, StepStatus, Transition};
use crate::store::Store;

/// Why a callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// No request of this agency was made with this dossier code and key.
    #[error("no request of agency `{agency}` has the key `{key}` on dossier {code}")]
    Unknown {
        agency: String,
        code: String,
        key: String,
    },
    /// The step no longer waits for this answer (answered, cancelled, or a newer round).
    #[error("step `{step}` of dossier {code} no longer waits for an answer to this request")]
    Late { code: String, step: StepId },
    /// A callback must carry an answer, not another acknowledgement.
    #[error("a callback must carry an answer (completed, rejected or supplement requested)")]
    NoAnswer,
}

/// The request a callback answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Awaited {
    pub dossier: DossierId,
    pub step: StepId,
    /// The step's action, for mapping the agency's answer onto outputs.
    pub action: ActionId,
}

/// Steps that may still take an answer from an agency's system.
const WAITING: [StepStatus; 3] = [
    StepStatus::Dispatched,
    StepStatus::Accepted,
    StepStatus::RetryWait,
];

impl<S: Store> Runtime<S> {
    /// Finds the step of `agency` that was called with `key` on the dossier `code`.
    pub async fn awaited(&self, agency: &str, code: &str, key: &str) -> Result<Awaited> {
        let unknown = || {
            Error::Callback(CallbackError::Unknown {
                agency: agency.to_string(),
                code: code.to_string(),
                key: key.to_string(),
            })
        };
        let id = self
            .store
            .dossier_by_code(code)
            .await?
            .ok_or_else(unknown)?;
        let d = self.store.load(&id).await?.ok_or_else(unknown)?;
        let p = self.procedure(&d.procedure.hash).await?;
        let (step, _) = find(&d, agency, key).ok_or_else(unknown)?;
        let action = p
            .steps
            .iter()
            .find(|s| s.id == step)
            .map(|s| s.action.clone())
            .ok_or_else(unknown)?;
        Ok(Awaited {
            dossier: id,
            step,
            action,
        })
    }

    /// Applies an agency's late answer to the step it was called for.
    pub async fn callback(
        &self,
        agency: &str,
        awaited: &Awaited,
        key: &str,
        answer: Response,
    ) -> Result<Transition> {
        let step = awaited.step.clone();
        let by = Some(Actor::System(agency.into()));
        let event = match answer {
            Response::Completed { outputs } => Event::StepCompleted { step, outputs, by },
            Response::Rejected { reason } => Event::StepRejected { step, reason, by },
            Response::SupplementRequested { reason } => {
                Event::SupplementRequested { step, reason, by }
            }
            Response::Accepted => return Err(Error::Callback(CallbackError::NoAnswer)),
        };
        let t = self
            .apply_with(&awaited.dossier, None, |d, _, _| {
                let Some((step, status)) = find(d, agency, key) else {
                    return Err(Error::Callback(CallbackError::Unknown {
                        agency: agency.to_string(),
                        code: d.code.clone(),
                        key: key.to_string(),
                    }));
                };
                if !WAITING.contains(&status) || d.status.is_closed() {
                    return Err(Error::Callback(CallbackError::Late {
                        code: d.code.clone(),
                        step,
                    }));
                }
                Ok(Some(event.clone()))
            })
            .await?;
        t.ok_or(Error::Busy)
    }
}

/// The step of `agency` whose current or an earlier round was called with `key`, and its
/// status (an earlier round's key makes the answer late).
fn find(d: &machine::Dossier, agency: &str, key: &str) -> Option<(StepId, StepStatus)> {
    d.steps.iter().find_map(|(name, s)| {
        if s.agency != agency {
            return None;
        }
        if machine::idempotency_key(&d.id, name, s.round) == key {
            return Some((name.clone(), s.status));
        }
        // An answer for an earlier round: known, but late.
        (0..s.round)
            .any(|r| machine::idempotency_key(&d.id, name, r) == key)
            .then(|| (name.clone(), StepStatus::Cancelled))
    })
}
