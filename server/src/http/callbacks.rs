//! `POST /api/v1/callbacks/{agency}`: an agency's late answer to a request it accepted.
//!
//! Refused, in this order, before anything changes: an agency with no callback secret
//! (404), a missing, stale (over five minutes) or forged signature (401), a signature seen
//! before on any node — a replay (409), a body that names no request or carries no answer
//! (400/422), a request this agency never received (404), a step that no longer waits for
//! this answer — late (409). An accepted answer becomes the same event a synchronous answer
//! would have been, committed like any other.

use super::{ApiError, AppState, problem};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use lienthong_adapters::{auth, callback};
use lienthong_engine::clock::{Clock, SystemClock};
use lienthong_engine::runtime::Store;
use serde_json::{Value, json};
use std::sync::Arc;

/// `POST /api/v1/callbacks/{agency}` (signed by the agency: no API key).
#[utoipa::path(post, path = "/api/v1/callbacks/{agency}", tag = "callbacks",
    params(("agency" = String, Path, description = "the agency role"),
        ("x-lienthong-timestamp" = String, Header), ("x-lienthong-signature" = String, Header)),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "done"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 404, description = "no such object, or not yours"), (status = 409, description = "not allowed in the current state"), (status = 413, description = "body too large"), (status = 422, description = "invalid content (the problem names the field)")))]
pub async fn receive<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(agency): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let Some(secret) = state.callback_secrets.get(&agency) else {
        return problem(
            StatusCode::NOT_FOUND,
            "Unknown agency",
            "no callbacks are accepted from this agency",
        );
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = SystemClock.now();
    let signature = header(auth::SIGNATURE);
    if let Err(e) = auth::verify(
        secret,
        header(auth::TIMESTAMP),
        signature,
        ("POST", uri.path(), &raw),
        now / 1_000,
    ) {
        return problem(StatusCode::UNAUTHORIZED, "Callback refused", &e.to_string());
    }
    let rt = &state.runtime;
    match rt
        .record_callback(signature.unwrap_or_default(), &agency, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return problem(
                StatusCode::CONFLICT,
                "Callback replayed",
                "this signature was already used",
            );
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Malformed callback",
            "the body is not JSON",
        );
    };
    let (code, key) = match callback::ids(&body) {
        Ok(ids) => ids,
        Err(e) => return problem(StatusCode::UNPROCESSABLE_ENTITY, "Malformed callback", &e),
    };
    let awaited = match rt.awaited(&agency, &code, &key).await {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let answer = match callback::answer(&agency, &awaited.action, &body) {
        Ok(a) => a,
        Err(e) => return problem(StatusCode::UNPROCESSABLE_ENTITY, "Malformed answer", &e),
    };
    match rt.callback(&agency, &awaited, &key, answer).await {
        Ok(t) => (
            StatusCode::OK,
            axum::Json(json!({"dossier": code, "step": awaited.step, "status": t.state.status})),
        )
            .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
