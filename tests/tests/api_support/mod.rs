//! A server on a store, with callers of every role and dossiers of several portals,
//! agencies and provinces, for the API tests. Requests go through the whole router (access
//! layer, limits, handlers) in process.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use lienthong_engine::adapter::{Adapter, CallFuture, Request as Call, Response};
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::ManualClock;
use lienthong_engine::machine::{DossierId, StepStatus};
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime, SpanHook};
use lienthong_engine::store::{Store, User};
use lienthong_server::http::admin::{NewKey, make_key};
use lienthong_server::http::auth::{Sessions, hash_password};
use lienthong_server::http::{AppState, Limits, router};
use lienthong_tests::fixtures;
use serde_json::{Value, json};
use std::sync::{Arc, LazyLock};
use tower::ServiceExt as _;

pub const SECRET: &[u8] = b"api test session secret 32 bytes!";
/// 2026-11-23 09:00 in Vietnam (a Monday).
pub const T0: i64 = 1_795_399_200_000;

static CALENDAR: LazyLock<Arc<Calendar>> = LazyLock::new(|| Arc::new(Calendar::vietnam()));

/// An agency system that answers every call at once with the fixtures' outputs.
#[derive(Debug)]
pub struct Instant(pub &'static str);

impl Adapter for Instant {
    fn agency(&self) -> &str {
        self.0
    }

    fn call<'a>(&'a self, r: &'a Call) -> CallFuture<'a> {
        Box::pin(async move {
            Ok(Response::Completed {
                outputs: fixtures::outputs(&r.action),
            })
        })
    }
}

/// One caller: its role, and its credential (an API key, or a session token).
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: &'static str,
    pub role: &'static str,
    pub agency: Option<&'static str>,
    pub province: Option<&'static str>,
    pub credential: String,
}

/// The dossiers every test starts with.
#[derive(Debug, Clone)]
pub struct Objects {
    /// Marriage filed by portal A in province 79: a civil-status task.
    pub m: String,
    /// Marriage filed by portal B in province 01: a civil-status task.
    pub m2: String,
    /// Death (bundle three, not insured) filed by portal B in 01: a funeral-support task.
    pub d: String,
    /// Birth filed by portal B in 01: an incident on the BHYT card (no social-insurance
    /// system is connected).
    pub b: String,
}

#[derive(Debug)]
pub struct Api<S: Store> {
    pub app: axum::Router,
    pub rt: Arc<Runtime<S>>,
    pub clock: ManualClock,
    pub state: Arc<AppState<S>>,
    pub callers: Vec<Caller>,
    pub objects: Objects,
}

/// Answer of one request.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

/// Every caller of the tests (keys and two signed-in staff).
const CALLERS: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    ("portal_a", "portal", None, Some("79")),
    ("portal_b", "portal", None, Some("01")),
    // A portal of the whole country: only its own filings are its.
    ("portal_c", "portal", None, None),
    (
        "civil_079",
        "agency_system",
        Some("civil_status"),
        Some("79"),
    ),
    (
        "civil_officer_001",
        "agency_officer",
        Some("civil_status"),
        Some("01"),
    ),
    ("funeral", "agency_system", Some("funeral_support"), None),
    ("residence", "agency_system", Some("residence"), None),
    ("admin", "admin", None, None),
    ("manager_079", "manager", None, Some("79")),
    ("manager_officer", "manager", None, None),
];

/// Staff (signed in by password) among the callers.
const STAFF: &[&str] = &["civil_officer_001", "manager_officer"];

/// A server whose rate limit is out of the way (tests send hundreds of requests at once).
pub async fn start<S: Store>(store: S) -> Api<S> {
    let limits = Limits {
        rate_per_s: 1e9,
        burst: 1e9,
        ..Limits::default()
    };
    start_with(store, limits, SpanHook::default()).await
}

pub async fn start_with<S: Store>(store: S, limits: Limits, spans: SpanHook) -> Api<S> {
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(T0);
    let adapters: Vec<Arc<dyn Adapter>> = ["civil_status", "population_db", "residence"]
        .into_iter()
        .map(|r| Arc::new(Instant(r)) as Arc<dyn Adapter>)
        .collect();
    let config = Config {
        node: "api".into(),
        spans,
        ..Config::default()
    };
    let rt = Arc::new(Runtime::new(
        store,
        CALENDAR.clone(),
        Arc::new(clock.clone()),
        adapters,
        Arc::new(RecordingNotifier::default()),
        config,
    ));
    for p in fixtures::procedures() {
        rt.publish(&p).await.expect("publish");
    }
    log_to_file();
    let state = Arc::new(
        AppState {
            secure_cookies: false,
            metrics: lienthong_server::telemetry::metrics().ok(),
            ..AppState::new(rt.clone(), Sessions::new(SECRET, 900))
        }
        .with_limits(limits),
    );
    let app = router(state.clone());
    let mut api = Api {
        app,
        rt: rt.clone(),
        clock,
        state,
        callers: Vec::new(),
        objects: Objects {
            m: String::new(),
            m2: String::new(),
            d: String::new(),
            b: String::new(),
        },
    };
    for (name, role, agency, province) in CALLERS {
        let credential = if STAFF.contains(name) {
            let u = User {
                name: name.to_string(),
                password_hash: hash_password("a long password for tests").expect("hash"),
                role: role.to_string(),
                agency: agency.map(str::to_string),
                province: province.map(str::to_string),
                commune: None,
                created_at: T0,
                disabled_at: None,
            };
            assert!(rt.store().insert_user(&u).await.expect("user"));
            let a = api
                .call(
                    Method::POST,
                    "/api/v1/session",
                    None,
                    Some(json!({"name": name, "password": "a long password for tests"})),
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text);
            a.json()["token"].as_str().expect("token").to_string()
        } else {
            let new = NewKey {
                role: role.to_string(),
                agency: agency.map(str::to_string),
                province: province.map(str::to_string),
                commune: None,
                label: name.to_string(),
            };
            let (key, record) = make_key(&new, T0).expect("key");
            rt.store()
                .insert_api_key(&record)
                .await
                .expect("insert key");
            key
        };
        api.callers.push(Caller {
            name,
            role,
            agency: *agency,
            province: *province,
            credential,
        });
    }
    let forms = fixtures::forms();
    let form = |id: &str| {
        forms
            .iter()
            .find(|(p, _, _)| *p == id)
            .map(|(_, _, f)| f.clone())
            .expect("form")
    };
    let m = api
        .file(
            "portal_a",
            "marital-status-marriage",
            None,
            form("marital-status-marriage"),
            "m",
        )
        .await;
    let m2 = api
        .file(
            "portal_b",
            "marital-status-marriage",
            None,
            form("marital-status-marriage"),
            "m2",
        )
        .await;
    let mut death = form("death-residence-funeral-survivor");
    death["deceased"]["insured"] = json!(false);
    death["deceased"]["social_assistance_beneficiary"] = json!(true);
    let d = api
        .file(
            "portal_b",
            "death-residence-funeral-survivor",
            Some("three"),
            death,
            "d",
        )
        .await;
    let b = api
        .file(
            "portal_b",
            "birth-residence-bhyt",
            None,
            form("birth-residence-bhyt"),
            "b",
        )
        .await;
    api.settle().await;
    api.objects = Objects { m, m2, d, b };
    api
}

/// Every API test process writes its logs (debug and up, JSON, masked as in production) to
/// `target/test-logs/`; CI then searches them all for an unmasked personal ID number.
fn log_to_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-logs");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("api-{}.log", std::process::id()));
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_writer(lienthong_server::telemetry::Masking::new(file))
        .try_init();
}

impl<S: Store> Api<S> {
    pub fn caller(&self, name: &str) -> &Caller {
        self.callers
            .iter()
            .find(|c| c.name == name)
            .expect("known caller")
    }

    pub fn cred(&self, name: &str) -> Option<&str> {
        Some(self.caller(name).credential.as_str())
    }

    /// Files a dossier through the API as `who`; its code.
    pub async fn file(
        &self,
        who: &str,
        procedure: &str,
        bundle: Option<&str>,
        form: Value,
        key: &str,
    ) -> String {
        let body = json!({"procedure": procedure, "bundle": bundle, "form": form});
        let a = self
            .request(
                Method::POST,
                "/api/v1/dossiers",
                self.cred(who),
                Some(body.to_string()),
                &[("idempotency-key", key)],
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.json()["code"].as_str().expect("code").to_string()
    }

    /// Runs the node until nothing is left to do now.
    pub async fn settle(&self) {
        for _ in 0..30 {
            let s = self.rt.tick().await.expect("tick");
            if s.total() == 0 {
                return;
            }
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        cred: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.request(method, path, cred, body.map(|b| b.to_string()), &[])
            .await
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        cred: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = cred {
            b = b.header("authorization", format!("Bearer {c}"));
        }
        if body.is_some()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            b = b.header("content-type", "application/json");
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("request");
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
            .await
            .expect("body");
        Answer {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    /// The dossier id of a code.
    pub async fn id(&self, code: &str) -> DossierId {
        self.rt
            .store()
            .dossier_by_code(code)
            .await
            .expect("read")
            .expect("known code")
    }

    pub async fn step_status(&self, code: &str, step: &str) -> StepStatus {
        let id = self.id(code).await;
        let d = self.rt.load(&id).await.expect("load").expect("dossier");
        d.steps[step].status
    }
}

/// True if `text` holds a run of exactly twelve digits (an unmasked personal ID number).
pub fn has_personal_id(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - s == 12 {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
}
