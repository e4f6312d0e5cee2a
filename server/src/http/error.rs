//! The API's one error type: every refusal a handler returns is an [`ApiError`], and its
//! [`IntoResponse`] writes the RFC 9457 problem.
//!
//! One masking policy: what the caller did wrong (an invalid field, a step that does not
//! allow this now, a late callback) is said in the body, masked of personal data like every
//! problem; what went wrong inside (the store, an unexpected engine error) is logged, masked,
//! and the body says only to try again.

use super::problem;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lienthong_engine::machine::Error as MachineError;
use lienthong_engine::runtime::{CallbackError, Error, TaskError};

/// A refused or failed request.
#[derive(Debug)]
pub enum ApiError {
    /// An object that does not exist, or that the caller may not see (one answer for both).
    NotFound,
    /// The request names something wrong (422), with the field or step in `detail`.
    Invalid { title: &'static str, detail: String },
    /// Not allowed in the object's current state (409).
    Conflict { title: &'static str, detail: String },
    /// The dossier kept changing; the caller may retry (503).
    Busy,
    /// Something inside failed; logged, never shown (503).
    Internal(String),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NoProcedure(id, day) => ApiError::Invalid {
                title: "Unknown procedure",
                detail: format!("procedure: no published procedure `{id}` is in force on {day}"),
            },
            Error::NoDossier(_) | Error::NoIncident { .. } => ApiError::NotFound,
            Error::Machine(
                m @ (MachineError::InvalidOutputs { .. }
                | MachineError::InvalidSupplement { .. }
                | MachineError::UnknownStep(_)),
            ) => ApiError::Invalid {
                title: "Invalid request",
                detail: m.to_string(),
            },
            Error::Machine(m) => ApiError::Conflict {
                title: "Not allowed now",
                detail: m.to_string(),
            },
            Error::Busy => ApiError::Busy,
            Error::Task(t) => t.into(),
            Error::Callback(c) => c.into(),
            Error::Store(s) => ApiError::Internal(s.to_string()),
        }
    }
}

impl From<TaskError> for ApiError {
    fn from(e: TaskError) -> Self {
        match e {
            TaskError::NotFound { .. } => ApiError::NotFound,
            TaskError::Invalid(m) => ApiError::Invalid {
                title: "Invalid request",
                detail: m,
            },
            other => ApiError::Conflict {
                title: "Not allowed now",
                detail: other.to_string(),
            },
        }
    }
}

impl From<CallbackError> for ApiError {
    fn from(c: CallbackError) -> Self {
        match c {
            CallbackError::Unknown { .. } => ApiError::NotFound,
            CallbackError::Late { .. } => ApiError::Conflict {
                title: "Late callback",
                detail: c.to_string(),
            },
            other => ApiError::Invalid {
                title: "Malformed answer",
                detail: other.to_string(),
            },
        }
    }
}

impl ApiError {
    /// A store error: internal.
    pub fn store(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound => super::not_found(),
            ApiError::Invalid { title, detail } => {
                problem(StatusCode::UNPROCESSABLE_ENTITY, title, &detail)
            }
            ApiError::Conflict { title, detail } => problem(StatusCode::CONFLICT, title, &detail),
            ApiError::Busy => problem(StatusCode::SERVICE_UNAVAILABLE, "Busy", "try again"),
            ApiError::Internal(e) => {
                tracing::error!(error = %crate::mask::text(&e), "request failed inside");
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Store unavailable",
                    "try again later / thử lại sau",
                )
            }
        }
    }
}
