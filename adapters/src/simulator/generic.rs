//! A simulated agency on the engine's generic wire format (`crate::http`), for a role the
//! engine has no table for — one a definition declares under `agencies:`. It answers each
//! configured action with the outputs it was given, once per idempotency key (a repeated key
//! gets the first answer and files nothing); with a callback target it first answers
//! `accepted` and sends the result later, signed, as `{"dossier_code", "idempotency_key",
//! "answer"}`. `GET /_ledger` returns its figures.

use super::ledger::{Filed, Ledger};
use super::{CallbackTarget, deliver};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a generic simulated agency does.
#[derive(Debug, Clone)]
pub struct GenericSpec {
    pub role: String,
    /// Per action: the outputs of a completed answer.
    pub actions: BTreeMap<String, Value>,
    /// Delay before an accepted request's callback.
    pub callback_delay: Duration,
}

/// One running generic agency.
#[derive(Debug)]
pub struct GenericAgency {
    pub spec: GenericSpec,
    pub addr: SocketAddr,
    /// Where accepted requests are answered (none: every answer is immediate).
    callback: Mutex<Option<CallbackTarget>>,
    pub ledger: Mutex<Ledger>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl GenericAgency {
    /// Starts the agency on `127.0.0.1:port` (0: any free port).
    pub async fn start(spec: GenericSpec, port: u16) -> Result<Arc<Self>, String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("simulator `{}` cannot listen on {port}: {e}", spec.role))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let agency = Arc::new(GenericAgency {
            spec,
            addr,
            callback: Mutex::new(None),
            ledger: Mutex::new(Ledger::default()),
            task: Mutex::new(None),
        });
        let app = axum::Router::new()
            .route("/_ledger", get(ledger_route))
            .route("/{action}", post(call))
            .with_state(agency.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "simulator stopped");
            }
        });
        if let Ok(mut t) = agency.task.lock() {
            *t = Some(task);
        }
        Ok(agency)
    }

    /// From now on, requests are accepted and answered later through `target`.
    pub fn answer_later(&self, target: CallbackTarget) {
        if let Ok(mut c) = self.callback.lock() {
            *c = Some(target);
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The filings, in order.
    pub fn filed(&self) -> Vec<Filed> {
        self.ledger
            .lock()
            .map(|l| l.filed.clone())
            .unwrap_or_default()
    }

    /// Calls, effects and duplicate effects per action.
    pub fn figures(&self) -> Vec<super::ActionFigures> {
        self.ledger
            .lock()
            .map(|l| l.figures(&self.spec.role))
            .unwrap_or_default()
    }

    /// Counts by kind: `callback_delivered`, `callback_refused`, `callback_undelivered`.
    pub fn faults(&self) -> BTreeMap<String, u64> {
        self.ledger
            .lock()
            .map(|l| l.faults.clone())
            .unwrap_or_default()
    }

    fn count(&self, kind: &str) {
        if let Ok(mut l) = self.ledger.lock() {
            *l.faults.entry(kind.to_string()).or_default() += 1;
        }
    }

    pub fn stop(&self) {
        if let Ok(mut t) = self.task.lock()
            && let Some(t) = t.take()
        {
            t.abort();
        }
    }
}

fn refuse(code: StatusCode, reason: &str) -> Response {
    (code, Json(json!({"outcome": "rejected", "reason": reason}))).into_response()
}

async fn ledger_route(State(a): State<Arc<GenericAgency>>) -> Json<Value> {
    let l = a.ledger.lock();
    let (figures, faults, outcomes) = l
        .map(|l| {
            (
                l.figures(&a.spec.role),
                l.faults.clone(),
                l.outcomes.clone(),
            )
        })
        .unwrap_or_default();
    Json(json!({"agency": a.spec.role, "actions": figures, "faults": faults, "outcomes": outcomes}))
}

async fn call(
    State(a): State<Arc<GenericAgency>>,
    Path(action): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(outputs) = a.spec.actions.get(&action) else {
        return refuse(StatusCode::NOT_FOUND, &format!("no action `{action}`"));
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty());
    let Some(key) = key else {
        return refuse(StatusCode::BAD_REQUEST, "missing Idempotency-Key header");
    };
    let Some(code) = body["dossier_code"].as_str().filter(|c| !c.is_empty()) else {
        return refuse(StatusCode::BAD_REQUEST, "missing `dossier_code`");
    };
    let result = json!({"outcome": "completed", "outputs": outputs});
    let later = a.callback.lock().ok().and_then(|c| c.clone());
    let answer = {
        let Ok(mut l) = a.ledger.lock() else {
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "ledger poisoned");
        };
        *l.calls_by_action.entry(action.clone()).or_default() += 1;
        *l.calls.entry(key.to_string()).or_default() += 1;
        if let Some((_, answer)) = l.answers.get(key) {
            return (StatusCode::OK, Json(answer.clone())).into_response();
        }
        l.filed.push(Filed {
            key: key.to_string(),
            dossier_code: code.to_string(),
            action: action.clone(),
            subject: String::new(),
        });
        let answer = if later.is_some() {
            json!({"outcome": "accepted"})
        } else {
            result.clone()
        };
        let outcome = answer["outcome"].as_str().unwrap_or_default().to_string();
        *l.outcomes.entry(outcome).or_default() += 1;
        l.answers.insert(key.to_string(), (200, answer.clone()));
        answer
    };
    if let Some(target) = later {
        let body = json!({"dossier_code": code, "idempotency_key": key, "answer": result});
        let agency = a.clone();
        tokio::spawn(async move {
            tokio::time::sleep(agency.spec.callback_delay).await;
            let outcome = deliver(&target, &agency.spec.role, &body).await;
            agency.count(outcome);
        });
    }
    (StatusCode::OK, Json(answer)).into_response()
}
