//! Asynchronous agency answers over real HTTP: an agency simulator accepts a request and
//! answers later through a signed callback to the server, which becomes the step's answer;
//! unsigned, forged, stale, replayed, late, foreign and unknown callbacks are refused and
//! change nothing.

use lienthong_adapters::auth::{self, Secret};
use lienthong_adapters::notify::GatewayNotifier;
use lienthong_adapters::{AgencySettings, Behaviour, CallbackTarget, SimConfig, Simulators};
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::{Clock, SystemClock};
use lienthong_engine::machine::{DossierStatus, Event, idempotency_key};
use lienthong_engine::runtime::{Config, Runtime, Submission};
use lienthong_engine::store::Dossiers;
use lienthong_engine::store::{SqliteStore, Store};
use lienthong_server::http::{AppState, router, serve};
use lienthong_tests::fixtures;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn post(url: &str, body: &Value, secret: Option<(&str, i64)>) -> (u16, Value) {
    let raw = serde_json::to_vec(body).expect("json");
    let mut r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json");
    if let Some((s, ts)) = secret {
        let path = reqwest::Url::parse(url).expect("url").path().to_string();
        r = r.header(auth::TIMESTAMP, ts.to_string()).header(
            auth::SIGNATURE,
            auth::sign(&Secret::new(s), ts, "POST", &path, &raw),
        );
    }
    let resp = r.body(raw).send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_requests_are_answered_by_signed_callbacks() {
    let dir = std::env::temp_dir().join(format!("lienthong-callbacks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let store = SqliteStore::open(&dir.join("t.db")).await.expect("store");
    store.migrate().await.expect("migrate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = listener.local_addr().expect("addr");
    let secrets: BTreeMap<String, Secret> =
        [("population_db".to_string(), Secret::new("pop-secret"))].into();
    let mut agencies = BTreeMap::new();
    agencies.insert(
        "population_db".to_string(),
        Behaviour {
            accept_percent: 100,
            callback_delay_ms: (50, 150),
            ..Behaviour::default()
        },
    );
    let sims = Simulators::start(SimConfig {
        seed: 5,
        default: Behaviour::default(),
        agencies,
        clock: Arc::new(SystemClock),
        auth: BTreeMap::new(),
        callback: Some(CallbackTarget {
            url: format!("http://{server}/api/v1/callbacks"),
            secrets: secrets.clone(),
        }),
        base_port: 0,
    })
    .await
    .expect("simulators");
    let adapters = sims.adapters(&AgencySettings::default()).expect("adapters");
    let rt = Arc::new(Runtime::new(
        store,
        Arc::new(Calendar::vietnam()),
        Arc::new(SystemClock),
        adapters,
        Arc::new(GatewayNotifier::new(1, 0)),
        Config {
            poll: Duration::from_millis(20),
            ..Config::default()
        },
    ));
    for p in fixtures::procedures() {
        rt.publish(&p).await.expect("publish");
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let app = router(Arc::new(AppState {
        callback_secrets: secrets,
        ..AppState::new(
            rt.clone(),
            lienthong_server::http::auth::Sessions::random(900).expect("random"),
        )
    }));
    let http = tokio::spawn(serve(listener, app, stopped.clone()));
    let worker = {
        let rt = rt.clone();
        tokio::spawn(async move { rt.run(stopped).await })
    };
    let (procedure, bundle, form) = fixtures::forms().remove(0);
    let (id, _) = rt
        .submit(Submission {
            channel: Default::default(),
            procedure: procedure.into(),
            bundle: bundle.map(str::to_string),
            form,
            key: Some("cb-1".into()),
            origin: Default::default(),
        })
        .await
        .expect("submit");
    let until = Instant::now() + Duration::from_secs(60);
    let d = loop {
        let d = rt.load(&id).await.expect("load").expect("dossier");
        if d.status.is_closed() {
            break d;
        }
        assert!(Instant::now() < until, "not decided: {:?}", d.steps);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(d.status, DossierStatus::Decided, "{:?}", d.steps);
    let journal = rt.store().journal(&id).await.expect("journal");
    assert!(
        journal.iter().any(
            |e| matches!(&e.event, Event::StepAccepted { step } if step == "issue_personal_id")
        ),
        "the population database accepted first"
    );
    let pid = d
        .step("issue_personal_id")
        .and_then(|s| s.outputs.clone())
        .expect("outputs");
    assert_eq!(pid["personal_id"].as_str().map(str::len), Some(12));
    let pop = sims.agency("population_db").expect("agency");
    let (delivered, effects) = {
        let l = pop.ledger.lock().expect("ledger");
        (l.faults.get("callback_delivered").copied(), l.filed.len())
    };
    assert_eq!((delivered, effects), (Some(1), 1));

    // Refused callbacks change nothing.
    let url = format!("http://{server}/api/v1/callbacks/population_db");
    let key = idempotency_key(&id, "issue_personal_id", 0);
    let body = json!({"ma_ho_so": d.code, "ma_yeu_cau": key, "trang_thai": "hoan_thanh",
                      "ket_qua": {"so_dinh_danh": "001326099999"}});
    let now = SystemClock.now() / 1_000;
    let version = d.version;
    assert_eq!(post(&url, &body, None).await.0, 401, "unsigned");
    assert_eq!(
        post(&url, &body, Some(("wrong", now))).await.0,
        401,
        "forged"
    );
    assert_eq!(
        post(&url, &body, Some(("pop-secret", now - 3_600))).await.0,
        401,
        "stale"
    );
    let (code, problem) = post(&url, &body, Some(("pop-secret", now))).await;
    assert_eq!(code, 409, "late: {problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("no longer waits"),
        "{problem}"
    );
    assert_eq!(
        post(&url, &body, Some(("pop-secret", now))).await.0,
        409,
        "replayed"
    );
    let unknown = json!({"ma_ho_so": d.code, "ma_yeu_cau": "nope", "trang_thai": "hoan_thanh", "ket_qua": {}});
    assert_eq!(
        post(&url, &unknown, Some(("pop-secret", now + 1))).await.0,
        404,
        "unknown key"
    );
    let foreign = format!("http://{server}/api/v1/callbacks/residence");
    assert_eq!(
        post(&foreign, &body, Some(("pop-secret", now + 2))).await.0,
        404,
        "no secret for residence"
    );
    let after = rt.load(&id).await.expect("load").expect("dossier");
    assert_eq!(
        after.version, version,
        "refused callbacks changed the dossier"
    );
    assert_eq!(
        after
            .step("issue_personal_id")
            .and_then(|s| s.outputs.clone()),
        Some(pid)
    );

    let _ = stop.send(true);
    worker.await.expect("join").expect("worker");
    http.await.expect("join").expect("server");
    std::fs::remove_dir_all(&dir).ok();
}
