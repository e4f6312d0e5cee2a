//! The HTTP server: the REST API under `/api/v1`, agency callbacks, health, metrics and the
//! API document. Every route is declared once in `policy.rs` with who may call it; errors
//! are `application/problem+json` (RFC 9457) with personal data masked.

// Handlers return early with the answer itself (`Result<_, Response>`): the refusal is the
// response, and it is built once per request, so its size does not matter.
#![allow(clippy::result_large_err)]

pub mod access;
pub mod admin;
pub mod auth;
pub mod callbacks;
pub mod dossiers;
pub mod error;
pub mod health;
pub mod limit;
pub mod names;
pub mod openapi;
pub mod ops;
pub mod policy;
pub mod routes;
pub mod scope;
pub mod session;
pub mod tasks;
pub mod view;

pub use error::ApiError;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienthong_adapters::auth::Secret;
use lienthong_engine::runtime::Runtime;
use lienthong_engine::runtime::Store;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body (default 256 KiB): larger is 413.
    pub body_bytes: usize,
    /// Longest time a request may take (default 30 s): longer is 408.
    pub request_timeout: Duration,
    /// Requests per second per client (key, user or address), with bursts of `burst`.
    pub rate_per_s: f64,
    pub burst: f64,
    /// Largest page a list returns (default 200).
    pub max_page: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(30),
            rate_per_s: 50.0,
            burst: 100.0,
            max_page: 200,
        }
    }
}

/// Status lookups: one every 6 s per address, ten at once.
pub const LOOKUPS_PER_S: f64 = 1.0 / 6.0;
pub const LOOKUP_BURST: f64 = 10.0;

/// What every route shares.
#[derive(Debug)]
pub struct AppState<S: Store> {
    pub runtime: Arc<Runtime<S>>,
    /// Per agency role: the secret its callbacks are signed with.
    pub callback_secrets: BTreeMap<String, Secret>,
    /// Signs and checks staff session tokens.
    pub sessions: auth::Sessions,
    pub limits: Limits,
    pub limiter: limit::RateLimiter,
    /// The citizen's status lookups per address: a few a minute (each guesses a code and
    /// an ID number together).
    pub lookups: limit::RateLimiter,
    /// Renders `/metrics` (none: the route answers 503).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Session cookies marked `Secure` (default true; off only for plain-HTTP local runs).
    pub secure_cookies: bool,
    /// Where uploaded calendar notices are kept besides the store (none: store only).
    pub notices_dir: Option<PathBuf>,
    /// The clock session tokens are issued and checked on (none: the runtime's). The demo
    /// runs the engine on a fast simulated clock but its sessions on the wall clock.
    pub session_clock: Option<Arc<dyn lienthong_engine::clock::Clock>>,
}

impl<S: Store> AppState<S> {
    /// A state with default limits and no metrics.
    pub fn new(runtime: Arc<Runtime<S>>, sessions: auth::Sessions) -> Self {
        let limits = Limits::default();
        AppState {
            runtime,
            callback_secrets: BTreeMap::new(),
            sessions,
            limiter: limit::RateLimiter::new(limits.rate_per_s, limits.burst),
            lookups: limit::RateLimiter::new(LOOKUPS_PER_S, LOOKUP_BURST),
            limits,
            metrics: None,
            secure_cookies: true,
            notices_dir: None,
            session_clock: None,
        }
    }

    /// Now, for session tokens (see [`AppState::session_clock`]).
    pub fn session_now(&self) -> lienthong_engine::clock::Millis {
        self.session_clock
            .as_ref()
            .map_or_else(|| self.runtime.now(), |c| c.now())
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limiter = limit::RateLimiter::new(limits.rate_per_s, limits.burst);
        self.limits = limits;
        self
    }
}

/// The server's routes, with authentication, authorisation, limits and audit around them.
pub fn router<S: Store>(state: Arc<AppState<S>>) -> axum::Router {
    routes::build(state)
}

/// The answer to a refused or failed use case (see [`ApiError`]).
pub fn api_error(e: impl Into<ApiError>) -> Response {
    e.into().into_response()
}

/// An RFC 9457 problem; the detail is masked (no personal ID number or name leaves).
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    problem_with(status, title, detail, json!({}))
}

/// A problem with extension members (`extra`'s fields), masked like the detail.
pub fn problem_with(
    status: StatusCode,
    title: &str,
    detail: &str,
    extra: serde_json::Value,
) -> Response {
    let mut body = json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(b), serde_json::Value::Object(more)) = (body.as_object_mut(), extra) {
        b.extend(more);
    }
    let masked = crate::mask::text(&body.to_string());
    let mut r = (status, masked).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// The one answer for an object the caller may not see and for one that does not exist.
pub fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not found",
        "no such object / không tìm thấy",
    )
}

/// Serves `router` on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = shutdown.wait_for(|s| *s).await;
    })
    .await
}
