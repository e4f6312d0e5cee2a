//! Agency simulators: one HTTP server per agency role on 127.0.0.1, speaking the agency's
//! API as [`crate::agency::table`] describes it. Each keeps state (sequences, the answer
//! given per idempotency key, a ledger of effects), refuses requests without an
//! idempotency key or with missing fields, and misbehaves as its [`Behaviour`] says — 500s,
//! 429 with `Retry-After`, hangs, "filed but the answer was lost", rejections, supplement
//! requests — with every die thrown from the seed.
//!
//! `GET /_ledger` on any simulator returns its figures; `POST /_control` with
//! `{"down": true|false}` takes it down (every call answers 503) or brings it back.

pub mod behaviour;
pub mod generic;
pub mod issue;
pub mod ledger;

use crate::agency::{status, table};
use crate::allow::Allowlist;
use crate::auth::{self, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
pub use behaviour::{Behaviour, Fault};
use chrono::DateTime;
pub use ledger::{ActionFigures, Filed, Ledger};
use lienthong_engine::calendar::VIETNAM_OFFSET;
use lienthong_engine::clock::Clock;
use lienthong_engine::clock::SystemClock;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the simulators behave.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// Behaviour of agencies not listed in `agencies`.
    pub default: Behaviour,
    pub agencies: BTreeMap<String, Behaviour>,
    /// The clock whose date goes on issued documents (the demo's simulated clock).
    pub clock: Arc<dyn Clock>,
    /// First port; agency `i` listens on `base_port + i` (0: any free port).
    pub base_port: u16,
    /// What each agency demands of callers (none when absent).
    pub auth: BTreeMap<String, Auth>,
    /// Where accepted requests are answered later (none: agencies always answer at once).
    pub callback: Option<CallbackTarget>,
}

/// The engine's callback endpoint, as the agencies know it.
#[derive(Debug, Clone)]
pub struct CallbackTarget {
    /// `{url}/{role}` receives each agency's callbacks (e.g. `http://127.0.0.1:8080/api/v1/callbacks`).
    pub url: String,
    /// Per agency role: the secret its callbacks are signed with (unsigned when absent).
    pub secrets: BTreeMap<String, auth::Secret>,
}

/// One simulated agency.
#[derive(Debug)]
pub struct Agency {
    pub role: String,
    behaviour: Behaviour,
    seed: u64,
    clock: Arc<dyn Clock>,
    down: AtomicBool,
    seq: AtomicU64,
    auth: Auth,
    callback: Option<CallbackTarget>,
    /// Signatures already accepted: a second use is a replay.
    seen: Mutex<HashSet<String>>,
    pub ledger: Mutex<Ledger>,
}

impl Agency {
    /// Takes the agency down (every call answers 503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn figures(&self) -> Vec<ActionFigures> {
        self.ledger
            .lock()
            .map(|l| l.figures(&self.role))
            .unwrap_or_default()
    }

    fn count_fault(&self, kind: &str) {
        if let Ok(mut l) = self.ledger.lock() {
            *l.faults.entry(kind.to_string()).or_default() += 1;
        }
    }
}

/// The running simulators.
#[derive(Debug)]
pub struct Simulators {
    pub agencies: BTreeMap<String, Arc<Agency>>,
    pub addrs: BTreeMap<String, SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Simulators {
    /// Starts one server per agency role.
    pub async fn start(config: SimConfig) -> Result<Self, String> {
        let mut agencies = BTreeMap::new();
        let mut addrs = BTreeMap::new();
        let mut tasks = Vec::new();
        for (i, role) in table::ROLES.iter().enumerate() {
            let behaviour = config
                .agencies
                .get(*role)
                .cloned()
                .unwrap_or_else(|| config.default.clone());
            behaviour.validate(role)?;
            let agency = Arc::new(Agency {
                role: (*role).to_string(),
                behaviour,
                seed: config.seed,
                clock: config.clock.clone(),
                down: AtomicBool::new(false),
                seq: AtomicU64::new(0),
                auth: config.auth.get(*role).cloned().unwrap_or_default(),
                callback: config.callback.clone(),
                seen: Mutex::new(HashSet::new()),
                ledger: Mutex::new(Ledger::default()),
            });
            let port = if config.base_port == 0 {
                0
            } else {
                config
                    .base_port
                    .saturating_add(u16::try_from(i).unwrap_or(0))
            };
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|e| format!("simulator `{role}` cannot listen on port {port}: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let app = axum::Router::new()
                .route("/_ledger", get(ledger_route))
                .route("/_control", post(control))
                .route("/{*path}", post(call))
                .with_state(agency.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::warn!(error = %e, "simulator stopped");
                }
            }));
            agencies.insert((*role).to_string(), agency);
            addrs.insert((*role).to_string(), addr);
        }
        Ok(Simulators {
            agencies,
            addrs,
            tasks,
        })
    }

    /// The base URL of one agency's simulator.
    pub fn base_url(&self, role: &str) -> Option<String> {
        self.addrs.get(role).map(|a| format!("http://{a}"))
    }

    /// One adapter per agency role, each reaching its simulator (on an allow-list naming
    /// exactly the simulators).
    pub fn adapters(
        &self,
        settings: &crate::agency::AgencySettings,
    ) -> Result<Vec<Arc<dyn lienthong_engine::adapter::Adapter>>, String> {
        let allow = self.allowlist();
        self.addrs
            .iter()
            .map(|(role, addr)| {
                crate::agency::AgencyAdapter::new(role, &format!("http://{addr}"), &allow, settings)
                    .map(|a| Arc::new(a) as Arc<dyn lienthong_engine::adapter::Adapter>)
            })
            .collect()
    }

    /// An allow-list naming exactly the simulators.
    pub fn allowlist(&self) -> Allowlist {
        Allowlist::new(self.addrs.values().map(ToString::to_string)).unwrap_or_default()
    }

    pub fn agency(&self, role: &str) -> Option<&Arc<Agency>> {
        self.agencies.get(role)
    }

    /// Every agency's figures, per action.
    pub fn figures(&self) -> Vec<ActionFigures> {
        self.agencies.values().flat_map(|a| a.figures()).collect()
    }

    /// Stops every server.
    pub fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for Simulators {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn ledger_route(State(a): State<Arc<Agency>>) -> Json<Value> {
    let (faults, outcomes) = a
        .ledger
        .lock()
        .map(|l| (l.faults.clone(), l.outcomes.clone()))
        .unwrap_or_default();
    Json(json!({"agency": a.role, "actions": a.figures(), "faults": faults, "outcomes": outcomes}))
}

async fn control(State(a): State<Arc<Agency>>, Json(body): Json<Value>) -> Response {
    match body.get("down").and_then(Value::as_bool) {
        Some(down) => {
            a.set_down(down);
            (StatusCode::OK, Json(json!({"down": down}))).into_response()
        }
        None => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "expected {\"down\": true|false}",
        ),
    }
}

fn problem(code: StatusCode, detail: &str) -> Response {
    (code, Json(json!({"trang_thai": "loi", "ly_do": detail}))).into_response()
}

/// Checks the caller's credentials as the agency demands.
fn authenticate(a: &Agency, headers: &HeaderMap, path: &str, raw: &[u8]) -> Result<(), String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match &a.auth {
        Auth::None => Ok(()),
        Auth::ApiKey { header: name, key } => match header(name) {
            Some(k) if k == key.expose() => Ok(()),
            _ => Err(format!("khóa API sai hoặc thiếu (bad or missing {name})")),
        },
        Auth::Hmac { secret, .. } => {
            let sig = header(auth::SIGNATURE);
            let now_s = SystemClock.now() / 1_000;
            auth::verify(
                secret,
                header(auth::TIMESTAMP),
                sig,
                ("POST", &format!("/{path}"), raw),
                now_s,
            )
            .map_err(|e| e.to_string())?;
            let Ok(mut seen) = a.seen.lock() else {
                return Err("replay set poisoned".into());
            };
            if !seen.insert(sig.unwrap_or_default().to_string()) {
                return Err(auth::Refused::Replayed.to_string());
            }
            Ok(())
        }
    }
}

async fn call(
    State(a): State<Arc<Agency>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    let Some(spec) = table::by_path(&a.role, &path) else {
        return problem(StatusCode::NOT_FOUND, &format!("không có dịch vụ `{path}`"));
    };
    if let Err(e) = authenticate(&a, &headers, &path, &raw) {
        a.count_fault("unauthenticated");
        return problem(StatusCode::UNAUTHORIZED, &e);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "nội dung không phải JSON (body is not JSON)",
        );
    };
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
        .map(str::to_string)
    else {
        return problem(
            StatusCode::BAD_REQUEST,
            "thiếu Idempotency-Key (missing Idempotency-Key header)",
        );
    };
    let n = {
        let Ok(mut l) = a.ledger.lock() else {
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "ledger poisoned");
        };
        *l.calls_by_action
            .entry(spec.action.to_string())
            .or_default() += 1;
        let calls = l.calls.entry(key.clone()).or_default();
        *calls += 1;
        *calls
    };
    let b = &a.behaviour;
    let (lo, hi) = b.latency_ms;
    if hi > 0 {
        let ms = lo + behaviour::roll(a.seed, &[&a.role, &key, "latency"], n, hi - lo + 1);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if a.down.load(Ordering::SeqCst) {
        a.count_fault("down");
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "hệ thống đang bảo trì (down)",
        );
    }
    let die =
        u32::try_from(behaviour::roll(a.seed, &[&a.role, &key, "fault"], n, 100)).unwrap_or(0);
    let fault = b.fault(die);
    match fault {
        Fault::Fail => {
            a.count_fault("http_500");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "lỗi hệ thống");
        }
        Fault::Throttle => {
            a.count_fault("http_429");
            let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "quá nhiều yêu cầu");
            r.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            return r;
        }
        Fault::Hang => {
            a.count_fault("hang");
            tokio::time::sleep(Duration::from_millis(b.hang_ms)).await;
            return problem(StatusCode::GATEWAY_TIMEOUT, "hết thời gian chờ");
        }
        Fault::Lost | Fault::None => {}
    }
    let (code, answer, later) = file(&a, spec, &key, &body);
    if let Some(later) = later {
        tokio::spawn(send_callback(a.clone(), key.clone(), later));
    }
    if fault == Fault::Lost {
        a.count_fault("answer_lost");
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "mất kết nối khi trả lời");
    }
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
        Json(answer),
    )
        .into_response()
}

/// Decides and files a request once per idempotency key; a repeated key gets the same answer.
/// An accepted request also returns the answer its callback will carry.
fn file(
    a: &Agency,
    spec: &table::ActionSpec,
    key: &str,
    body: &Value,
) -> (u16, Value, Option<Value>) {
    let Ok(mut l) = a.ledger.lock() else {
        return (
            500,
            json!({"trang_thai": "loi", "ly_do": "ledger poisoned"}),
            None,
        );
    };
    if let Some((code, answer)) = l.answers.get(key) {
        return (*code, answer.clone(), None);
    }
    let (code, mut answer) = decide(a, spec, key, body, &mut l);
    let mut later = None;
    let die = behaviour::roll(a.seed, &[&a.role, key, "accept"], 0, 100);
    if a.callback.is_some()
        && answer["trang_thai"] == status::DONE
        && die < u64::from(a.behaviour.accept_percent)
    {
        if let Some(m) = answer.as_object_mut() {
            m.insert("ma_ho_so".into(), body["ma_ho_so"].clone());
            m.insert("ma_yeu_cau".into(), Value::String(key.to_string()));
        }
        later = Some(answer);
        answer = json!({"trang_thai": status::ACCEPTED});
    }
    let outcome = answer["trang_thai"].as_str().unwrap_or("loi").to_string();
    *l.outcomes.entry(outcome).or_default() += 1;
    l.answers.insert(key.to_string(), (code, answer.clone()));
    (code, answer, later)
}

/// Sends an accepted request's answer to the engine after the agency's delay.
async fn send_callback(a: Arc<Agency>, key: String, body: Value) {
    let Some(target) = a.callback.clone() else {
        return;
    };
    let (lo, hi) = a.behaviour.callback_delay_ms;
    let ms = lo + behaviour::roll(a.seed, &[&a.role, &key, "callback"], 0, hi - lo + 1);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    let outcome = deliver(&target, &a.role, &body).await;
    a.count_fault(outcome);
}

/// Posts a callback to `{target.url}/{role}`, signed with the role's secret, retried while
/// the engine cannot be reached or answers 5xx. Returns what became of it:
/// `callback_delivered`, `callback_refused` (a 4xx) or `callback_undelivered`.
pub(crate) async fn deliver(target: &CallbackTarget, role: &str, body: &Value) -> &'static str {
    let url = format!("{}/{}", target.url.trim_end_matches('/'), role);
    let path = reqwest::Url::parse(&url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let raw = serde_json::to_vec(body).unwrap_or_default();
    let client = reqwest::Client::new();
    for attempt in 0..30u64 {
        let mut r = client
            .post(&url)
            .header("content-type", "application/json")
            .body(raw.clone());
        if let Some(secret) = target.secrets.get(role) {
            let ts = SystemClock.now() / 1_000;
            r = r
                .header(auth::TIMESTAMP, ts.to_string())
                .header(auth::SIGNATURE, auth::sign(secret, ts, "POST", &path, &raw));
        }
        match r.send().await {
            Ok(resp) if resp.status().is_success() => return "callback_delivered",
            Ok(resp) if resp.status().is_client_error() => return "callback_refused",
            _ => tokio::time::sleep(Duration::from_millis(100 * (attempt + 1).min(10))).await,
        }
    }
    "callback_undelivered"
}

fn decide(
    a: &Agency,
    spec: &table::ActionSpec,
    key: &str,
    body: &Value,
    l: &mut Ledger,
) -> (u16, Value) {
    if let Err(e) = issue::check(spec.action, body) {
        return (422, json!({"trang_thai": "loi", "ly_do": e}));
    }
    let code = body["ma_ho_so"].as_str().unwrap_or("").to_string();
    let subject = body
        .get("ben_a")
        .or(body.get("ben_b"))
        .and_then(|p| p["personal_id"].as_str())
        .unwrap_or("")
        .to_string();
    let b = &a.behaviour;
    let die = behaviour::roll(
        a.seed,
        &[&a.role, &code, &subject, spec.action, "outcome"],
        0,
        100,
    );
    let die = u32::try_from(die).unwrap_or(0);
    if die < b.reject_percent {
        return (
            200,
            json!({"trang_thai": status::REJECTED, "ly_do": "thông tin không khớp với cơ sở dữ liệu"}),
        );
    }
    let asked = (code.clone(), spec.action.to_string(), subject.clone());
    // Automatic actions (Decree 58/2026 residence deletion, the population database) take
    // no papers from the citizen, so they never ask for a supplement.
    let takes_papers = !matches!(
        spec.action,
        "remove_permanent_residence" | "mark_deceased" | "issue_personal_id"
    );
    if takes_papers
        && die < b.reject_percent + b.supplement_percent
        && !l.supplements.contains(&asked)
    {
        l.supplements.insert(asked);
        return (
            200,
            json!({"trang_thai": status::SUPPLEMENT, "ly_do": "cần bổ sung bản sao giấy tờ tùy thân"}),
        );
    }
    let seq = a.seq.fetch_add(1, Ordering::SeqCst) + 1;
    let today = DateTime::from_timestamp_millis(a.clock.now())
        .map(|t| t.with_timezone(&VIETNAM_OFFSET).date_naive())
        .unwrap_or_default();
    let result = issue::result(spec.action, body, seq, today, a.seed);
    l.filed.push(Filed {
        key: key.to_string(),
        dossier_code: code,
        action: spec.action.to_string(),
        subject,
    });
    (200, json!({"trang_thai": status::DONE, "ket_qua": result}))
}
