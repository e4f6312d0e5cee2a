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
use lienthong_engine::store::{Scope, Store};
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
    if body.name.len() > 200 || body.password.len() > 1_024 {
        return refused();
    }
    let user = match state.runtime.store().user(&body.name).await {
        Ok(u) => u,
        Err(e) => return unavailable(e),
    };
    let password = body.password;
    let phc = user
        .as_ref()
        .map_or_else(|| DECOY.clone(), |u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || password_matches(&password, &phc))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| matches && u.disabled_at.is_none()) else {
        return refused();
    };
    let Some(role) = Role::parse(&user.role) else {
        return refused();
    };
    let p = Principal {
        subject: format!("user:{}", user.name),
        role,
        agency: user.agency.clone(),
        scope: Scope {
            province: user.province.clone(),
            commune: user.commune.clone(),
        },
    };
    let now = state.runtime.now();
    let token = match state.sessions.issue(&p, now) {
        Ok(t) => t,
        Err(e) => return unavailable(e),
    };
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        state.sessions.ttl_s
    );
    let mut r = Json(json!({
        "token": token,
        "expires_in": state.sessions.ttl_s,
        "role": role,
        "agency": user.agency,
    }))
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `DELETE /api/v1/session`
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "signed out"), (status = 401, description = "no valid credentials")),
    security(("bearer" = [])))]
pub async fn sign_out() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "lienthong_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        ),
    );
    r
}
