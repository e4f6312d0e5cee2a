//! The adapter contract: how the engine asks an agency's system to perform a step.
//!
//! The engine calls an adapter after the transition that decided the call has committed
//! (never inside a transaction). Calls are at-least-once: the idempotency key is derived from
//! (dossier, step, round) and is the same on every retry, so an agency — or the adapter in
//! front of it — files the step once however often it is asked.

use crate::definition::{ActionId, RoleId, StepId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One call to an agency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The dossier code, for the agency's records.
    pub dossier_code: String,
    pub step: StepId,
    /// The agency role and action named by the step.
    pub agency: RoleId,
    pub action: ActionId,
    /// The same on every retry of this step's round.
    pub idempotency_key: String,
    /// Only the fields the step declares in `reads:`.
    pub payload: Value,
    /// 1 for the first call of a round, then 2, 3, …
    pub attempt: u32,
}

/// What the agency answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Response {
    /// Done, with the step's outputs.
    Completed { outputs: Map<String, Value> },
    /// Accepted; the answer comes later through a signed callback.
    Accepted,
    /// Refused, with the agency's reason.
    Rejected { reason: String },
    /// The agency needs more papers from the citizen.
    SupplementRequested { reason: String },
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Worth trying again: time-outs, 5xx, 429 (with the delay the agency asked for).
    #[error("retryable: {message}")]
    Retryable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Trying again will not help: 4xx, a malformed answer, a configuration error.
    #[error("permanent: {message}")]
    Permanent { message: String },
}

impl Error {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Retryable { .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed future, so adapters can be stored as trait objects.
pub type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<Response>> + Send + 'a>>;

/// One agency's system, as the engine sees it.
pub trait Adapter: Send + Sync + std::fmt::Debug {
    /// The agency role this adapter serves (e.g. `civil_status`).
    fn agency(&self) -> &str;

    /// Performs one call. Must pass `request.idempotency_key` to the agency.
    fn call<'a>(&'a self, request: &'a Request) -> CallFuture<'a>;
}
