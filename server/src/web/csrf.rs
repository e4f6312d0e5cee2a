//! The pages' layer: the language, the form token, the CSRF check and the security headers.
//!
//! Every page response carries a random token in an `HttpOnly`, `SameSite=Strict` cookie,
//! and every form repeats it in a hidden `csrf` field. A page `POST` whose field does not
//! equal the cookie — or whose `Origin` names another site — is refused (403) before it
//! reaches the access layer or a handler, so no state-changing form can be forged from
//! another site.

use super::{Ctx, Lang};
use crate::http::AppState;
use crate::http::policy;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lienthong_engine::runtime::Store;
use std::sync::Arc;

pub const CSRF_COOKIE: &str = "lienthong_csrf";
pub const LANG_COOKIE: &str = "lienthong_lang";
/// The hidden field every page form carries.
pub const CSRF_FIELD: &str = "csrf";

/// The pages' Content-Security-Policy: only this origin's scripts, styles and images; no
/// inline script, no framing, forms post only here.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// A cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

fn fresh_token() -> Option<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).ok()?;
    Some(hex::encode(b))
}

fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Equal without an early exit on the first differing byte.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether the request's `Origin` (when present) is this server.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o == h)
}

/// The request's path and query without `lang=`, and the `lang=` value if any.
fn split_lang(req: &Request) -> (String, Option<Lang>) {
    let path = req.uri().path().to_string();
    let Some(q) = req.uri().query() else {
        return (path, None);
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
    let lang = pairs
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(v));
    let rest: Vec<_> = pairs.into_iter().filter(|(k, _)| k != "lang").collect();
    if rest.is_empty() {
        return (path, lang);
    }
    let q = serde_urlencoded::to_string(rest).unwrap_or_default();
    (format!("{path}?{q}"), lang)
}

fn refused(ctx: &Ctx) -> Response {
    let t = ctx.t();
    super::message(ctx, StatusCode::FORBIDDEN, t.refused_title, t.csrf_refused)
}

/// Adds the security headers every response gets, and the pages' own.
fn secure(headers: &mut HeaderMap, page: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if page {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

fn set_cookie(r: &mut Response, text: String) {
    if let Ok(v) = HeaderValue::from_str(&text) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The layer (see the module's documentation).
pub async fn layer<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let page = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| policy::find(method.as_str(), m.as_str()))
        .is_some_and(|r| r.page);
    if !page {
        let mut r = next.run(req).await;
        secure(r.headers_mut(), false);
        return r;
    }
    let (here, asked) = split_lang(&req);
    let lang = asked
        .or_else(|| cookie(req.headers(), LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_default();
    let known = cookie(req.headers(), CSRF_COOKIE)
        .filter(|t| well_formed(t))
        .map(str::to_string);
    let minted = if known.is_none() { fresh_token() } else { None };
    let Some(token) = known.clone().or(minted.clone()) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no randomness").into_response();
    };
    let ctx = Ctx {
        lang,
        csrf: token.clone(),
        here,
        principal: None,
    };
    let (mut parts, body) = req.into_parts();
    let body = if method == Method::POST {
        let bytes = match axum::body::to_bytes(body, state.limits.body_bytes).await {
            Ok(b) => b,
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        };
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = fields
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str());
        let valid = matches!((&known, sent), (Some(k), Some(s)) if same(k, s));
        if !valid || !same_origin(&parts.headers) {
            tracing::warn!(path = %parts.uri.path(), "form post refused: CSRF check failed");
            let mut r = refused(&ctx);
            secure(r.headers_mut(), true);
            return r;
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(ctx);
    let mut r = next.run(Request::from_parts(parts, body)).await;
    let secure_flag = if state.secure_cookies { "; Secure" } else { "" };
    if let Some(t) = minted {
        set_cookie(
            &mut r,
            format!("{CSRF_COOKIE}={t}; HttpOnly; SameSite=Strict; Path=/{secure_flag}"),
        );
    }
    if let Some(l) = asked {
        set_cookie(
            &mut r,
            format!(
                "{LANG_COOKIE}={}; SameSite=Strict; Path=/; Max-Age=31536000{secure_flag}",
                l.code()
            ),
        );
    }
    secure(r.headers_mut(), true);
    r
}
