//! Staff sign-in: a name and password (argon2id) give a short-lived session token, set as an
//! `HttpOnly`, `SameSite=Strict` cookie and returned for use as a bearer token. Signing out
//! clears the cookie. A wrong name and a wrong password answer alike.

use super::auth::{COOKIE, Principal, Role, password_matches};
use super::dossiers::bad_body;
use super::scope::unavailable;
use super::{AppState, problem};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienthong_engine::runtime::{Scope, Store};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

/// Credentials of a staff account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub name: String,
    pub password: String,
}

/// A hash checked when the name is unknown, so that both refusals take the same time.
static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    super::auth::hash_password("decoy: no account has this password").unwrap_or_default()
});

fn refused() -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        "Sign-in refused",
        "Sai tên đăng nhập hoặc mật khẩu / wrong user name or password",
    )
}

/// Why a sign-in failed.
#[derive(Debug)]
pub enum Refusal {
    /// Wrong name or password, or a disabled account (one answer for all).
    Refused,
    /// The store could not be read.
    Unavailable(String),
}

/// Checks a name and password; the account's principal. Used by the API and the sign-in
/// page alike.
pub async fn verify<S: Store>(
    state: &AppState<S>,
    name: &str,
    password: String,
) -> Result<(Principal, Option<String>), Refusal> {
    if name.len() > 200 || password.len() > 1_024 {
        return Err(Refusal::Refused);
    }
    let Ok(name) = super::names::normalise(name) else {
        return Err(Refusal::Refused);
    };
    let name = name.as_str();
    let user = state
        .runtime
        .user(name)
        .await
        .map_err(|e| Refusal::Unavailable(e.to_string()))?;
    let phc = user
        .as_ref()
        .map_or_else(|| DECOY.clone(), |u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || password_matches(&password, &phc))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| matches && u.disabled_at.is_none()) else {
        return Err(Refusal::Refused);
    };
    let role = Role::parse(&user.role).ok_or(Refusal::Refused)?;
    let p = Principal {
        subject: format!("user:{}", user.name),
        role,
        agency: user.agency.clone(),
        scope: Scope {
            province: user.province.clone(),
            commune: user.commune.clone(),
        },
    };
    Ok((p, user.agency))
}

/// The `Set-Cookie` value carrying a session token.
pub fn session_cookie<S: Store>(state: &AppState<S>, token: &str) -> Option<HeaderValue> {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        state.sessions.ttl_s
    ))
    .ok()
}

/// The `Set-Cookie` value that clears the session cookie.
pub const CLEARED: &str = "lienthong_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";

/// `POST /api/v1/session`
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignIn,
    responses((status = 200, description = "signed in: the token (also set as a cookie)"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 422, description = "invalid content (the problem names the field)"), (status = 429, description = "too many requests (see Retry-After)")))]
pub async fn sign_in<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_body(e),
    };
    let (p, agency) = match verify(&state, &body.name, body.password).await {
        Ok(v) => v,
        Err(Refusal::Refused) => return refused(),
        Err(Refusal::Unavailable(e)) => return unavailable(e),
    };
    let now = state.session_now();
    let token = match state.sessions.issue(&p, now) {
        Ok(t) => t,
        Err(e) => return unavailable(e),
    };
    let mut r = Json(json!({
        "token": token,
        "expires_in": state.sessions.ttl_s,
        "role": p.role,
        "agency": agency,
    }))
    .into_response();
    if let Some(v) = session_cookie(&state, &token) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `DELETE /api/v1/session`
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "signed out"), (status = 401, description = "no valid credentials")),
    security(("bearer" = [])))]
pub async fn sign_out<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Err(e) = end(&state, &headers).await {
        return unavailable(e);
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_static(CLEARED));
    r
}

/// Ends the session whose token the request carries (cookie or bearer), on the server: the
/// token is refused from now on, on every node. A request without a session token (an API
/// key) ends nothing.
pub async fn end<S: Store>(
    state: &AppState<S>,
    headers: &axum::http::HeaderMap,
) -> Result<(), String> {
    let Some(token) = super::access::credentials(headers) else {
        return Ok(());
    };
    let now = state.session_now();
    let Some(session) = state.sessions.session(&token, now) else {
        return Ok(());
    };
    state
        .runtime
        .end_session(&session.id, session.until_ms, now)
        .await
        .map_err(|e| e.to_string())
}
