//! Fake agencies for crash tests: one HTTP server on loopback, in the supervising process
//! (which is never killed), serving every agency role at `/{role}/{action}`. It files
//! each effect once per idempotency key, keeps a ledger of effects and calls, and fails on a
//! seeded schedule: HTTP 500 before applying, or "applied, then the answer was lost".

use crate::fixtures;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lienthong_engine::clock::{Clock, Millis, SystemClock};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One filed effect.
#[derive(Debug, Clone)]
pub struct Effect {
    pub dossier_code: String,
    pub step: String,
}

/// The calls made with one idempotency key.
#[derive(Debug, Clone, Default)]
pub struct KeyCalls {
    pub dossier_code: String,
    pub step: String,
    pub calls: Vec<(Millis, String)>,
}

/// Everything the agencies saw.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Effects by idempotency key: filed once each.
    pub effects: HashMap<String, Effect>,
    /// Every call, answered or not.
    pub calls: usize,
    /// Calls by key: for which dossier and step, when, and from which node.
    pub by_key: HashMap<String, KeyCalls>,
    rng: u64,
}

impl Ledger {
    fn roll(&mut self, modulo: u64) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.rng >> 33) % modulo
    }

    /// Effects per (dossier, step) beyond the first.
    pub fn duplicate_effects(&self) -> usize {
        let mut per_step: HashMap<(&str, &str), usize> = HashMap::new();
        for e in self.effects.values() {
            *per_step
                .entry((e.dossier_code.as_str(), e.step.as_str()))
                .or_default() += 1;
        }
        per_step.values().map(|n| n.saturating_sub(1)).sum()
    }
}

#[derive(Debug, Clone)]
pub struct Agencies {
    pub ledger: Arc<Mutex<Ledger>>,
    /// Out of 100 calls, how many fail (half before, half after applying).
    fail_percent: u64,
    /// Each answer takes up to this long (uniformly drawn), in milliseconds.
    max_delay_ms: u64,
}

impl Agencies {
    pub fn new(seed: u64, fail_percent: u64) -> Self {
        Agencies {
            ledger: Arc::new(Mutex::new(Ledger {
                rng: seed ^ 0x9e37_79b9_7f4a_7c15,
                ..Ledger::default()
            })),
            fail_percent,
            max_delay_ms: 20,
        }
    }

    /// Answers take between `max / 2` and `max` milliseconds (so that work is in flight).
    pub fn with_delay(mut self, max_ms: u64) -> Self {
        self.max_delay_ms = max_ms;
        self
    }
}

async fn call(
    State(agencies): State<Agencies>,
    Path((_role, action)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if key.is_empty() {
        return (StatusCode::BAD_REQUEST, "Idempotency-Key is required").into_response();
    }
    let (fault, delay) = {
        let Ok(mut ledger) = agencies.ledger.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        ledger.calls += 1;
        let node = headers
            .get("x-lienthong-node")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let calls = ledger
            .by_key
            .entry(key.clone())
            .or_insert_with(|| KeyCalls {
                dossier_code: body["dossier_code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                step: body["step"].as_str().unwrap_or_default().to_string(),
                calls: Vec::new(),
            });
        calls.calls.push((SystemClock.now(), node));
        let fault = ledger.roll(100) < agencies.fail_percent;
        let after = ledger.roll(2) == 1;
        let max = agencies.max_delay_ms.max(1);
        let delay = max / 2 + ledger.roll(max / 2 + 1);
        (fault.then_some(after), delay)
    };
    // A little latency, so that kills find calls in flight.
    tokio::time::sleep(Duration::from_millis(delay)).await;
    if fault == Some(false) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "simulated failure").into_response();
    }
    {
        let Ok(mut ledger) = agencies.ledger.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        ledger.effects.entry(key).or_insert_with(|| Effect {
            dossier_code: body["dossier_code"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            step: body["step"].as_str().unwrap_or_default().to_string(),
        });
    }
    if fault == Some(true) {
        return (StatusCode::BAD_GATEWAY, "applied, but the answer was lost").into_response();
    }
    Json(json!({"outcome": "completed", "outputs": fixtures::outputs(&action)})).into_response()
}

/// Serves the agencies on 127.0.0.1 (a free port); returns the base URL.
pub async fn serve(agencies: Agencies) -> std::io::Result<String> {
    let app = axum::Router::new()
        .route("/{role}/{action}", axum::routing::post(call))
        .with_state(agencies);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}
