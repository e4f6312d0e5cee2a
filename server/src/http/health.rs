//! Health (`/healthz`: the process answers), readiness (`/readyz`: the store answers), and
//! Prometheus metrics (`/metrics`), with gauges read from the store at each scrape:
//! dossiers by status and open tasks per agency.

use super::{AppState, problem};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienthong_engine::runtime::Store;
use std::sync::Arc;

/// `GET /healthz`
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "ready"), (status = 503, description = "the store does not answer")))]
pub async fn readyz<S: Store>(State(state): State<Arc<AppState<S>>>) -> Response {
    match state.runtime.count_by_status().await {
        Ok(_) => "ready".into_response(),
        Err(_) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not ready",
            "the store does not answer",
        ),
    }
}

/// `GET /metrics`
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"), (status = 503, description = "unavailable")))]
pub async fn metrics<S: Store>(State(state): State<Arc<AppState<S>>>) -> Response {
    let Some(handle) = &state.metrics else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Metrics off",
            "this process records no metrics",
        );
    };
    let store = &state.runtime;
    if let Ok(counts) = store.count_by_status().await {
        for (status, n) in counts {
            metrics::gauge!("lienthong_dossiers", "status" => status).set(n as f64);
        }
    }
    if let Ok(depths) = store.queue_depths().await {
        // Agencies with an empty queue have no row: they read 0.
        for agency in lienthong_adapters::agency::ROLES {
            metrics::gauge!("lienthong_queue_depth", "agency" => *agency).set(0.0);
        }
        for (agency, n) in depths {
            metrics::gauge!("lienthong_queue_depth", "agency" => agency).set(n as f64);
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}
