//! Signing in and out on the pages: the same accounts, password check and session tokens as
//! `POST /api/v1/session`, carried in the `HttpOnly` cookie.

use super::{Chrome, Ctx, home_of, render};
use crate::http::AppState;
use crate::http::session::{CLEARED, Refusal, session_cookie, verify};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, extract::rejection::FormRejection};
use lienthong_engine::runtime::Store;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    c: Chrome,
    next: String,
    name: String,
    refused: bool,
}

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    name: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Only a path of this site: never another host (`//host`, `/\host`) or a scheme.
fn local(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains(['\r', '\n'])
        && next.len() <= 512;
    ok.then_some(next)
}

/// `GET /sign-in`
pub async fn form(Extension(ctx): Extension<Ctx>, Query(next): Query<Next>) -> Response {
    let next = next.next.filter(|n| local(n).is_some()).unwrap_or_default();
    render(
        StatusCode::OK,
        &SignInPage {
            c: ctx.chrome("/sign-in"),
            next,
            name: String::new(),
            refused: false,
        },
    )
}

/// `POST /sign-in`: on success a session cookie and the page asked for (or the role's
/// first page); on failure the form again, with one message for every refusal.
pub async fn submit<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    form: Result<Form<Credentials>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return super::message(
            &ctx,
            StatusCode::BAD_REQUEST,
            ctx.t().refused_title,
            ctx.t().sign_in_refused,
        );
    };
    let name = f.name.trim().to_string();
    let (p, _) = match verify(&state, &name, f.password).await {
        Ok(v) => v,
        Err(Refusal::Refused) => {
            return render(
                StatusCode::UNAUTHORIZED,
                &SignInPage {
                    c: ctx.chrome("/sign-in"),
                    next: local(&f.next).unwrap_or_default().to_string(),
                    name,
                    refused: true,
                },
            );
        }
        Err(Refusal::Unavailable(e)) => return super::unavailable(&ctx, e),
    };
    let token = match state.sessions.issue(&p, state.session_now()) {
        Ok(t) => t,
        Err(e) => return super::unavailable(&ctx, e),
    };
    let to = local(&f.next).unwrap_or(home_of(p.role));
    let mut r = Redirect::to(to).into_response();
    if let Some(v) = session_cookie(&state, &token) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /sign-out`: the session ends on the server (its token is refused from now on,
/// as cookie and as bearer) and the cookie is cleared.
pub async fn sign_out<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Err(e) = crate::http::session::end(&state, &headers).await {
        tracing::error!(error = %e, "session not ended");
    }
    let mut r = Redirect::to("/sign-in").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_static(CLEARED));
    r
}
