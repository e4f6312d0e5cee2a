//! The HTTP server. Errors are `application/problem+json` (RFC 9457).

pub mod callbacks;

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienthong_adapters::auth::Secret;
use lienthong_engine::runtime::Runtime;
use lienthong_engine::store::Store;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What every route shares.
#[derive(Debug)]
pub struct AppState<S: Store> {
    pub runtime: Arc<Runtime<S>>,
    /// Per agency role: the secret its callbacks are signed with.
    pub callback_secrets: BTreeMap<String, Secret>,
}

/// The server's routes.
pub fn router<S: Store>(state: Arc<AppState<S>>) -> axum::Router {
    axum::Router::new()
        .route(
            "/api/v1/callbacks/{agency}",
            axum::routing::post(callbacks::receive::<S>),
        )
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .with_state(state)
}

/// An RFC 9457 problem.
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut r = (status, Json(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// Serves `router` on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
}
