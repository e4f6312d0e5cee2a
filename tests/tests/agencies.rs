//! The agency adapters against their simulators over real HTTP: every automated step of the
//! three groups maps onto its agency's API and back into outputs its definition accepts;
//! with 30% of calls failing every dossier still completes with one effect per step; a
//! permanently failing agency yields an incident that, retried after recovery, files once;
//! and adapter configuration cannot reach anything off the allow-list.

use axum::http::StatusCode;
use lienthong_adapters::agency::table;
use lienthong_adapters::notify::GatewayNotifier;
use lienthong_adapters::{
    AgencyAdapter, AgencySettings, Allowlist, Behaviour, SimConfig, Simulators,
};
use lienthong_engine::adapter::{Adapter, Request, Response};
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::{ManualClock, SystemClock};
use lienthong_engine::definition::Mode;
use lienthong_engine::machine::{DossierId, DossierStatus, Event, Options, Resolution, StepStatus};
use lienthong_engine::runtime::{Config, Runtime, Submission, TaskQuery};
use lienthong_engine::store::{SqliteStore, Store};
use lienthong_tests::fixtures;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

async fn simulators(default: Behaviour, agencies: BTreeMap<String, Behaviour>) -> Simulators {
    Simulators::start(SimConfig {
        seed: 11,
        default,
        agencies,
        clock: Arc::new(ManualClock::new(1_796_000_000_000)),
        auth: BTreeMap::new(),
        callback: None,
        base_port: 0,
    })
    .await
    .expect("simulators")
}

fn adapters(sims: &Simulators, timeout: Duration) -> Vec<Arc<dyn Adapter>> {
    let settings = AgencySettings {
        timeout,
        ..AgencySettings::default()
    };
    sims.adapters(&settings).expect("adapters")
}

/// Everything any step reads, so each action finds its fields.
fn payload() -> Value {
    let forms = fixtures::forms();
    let mut form = serde_json::Map::new();
    for (_, _, f) in &forms {
        for (k, v) in f.as_object().expect("form") {
            form.insert(k.clone(), v.clone());
        }
    }
    form.insert("benefit".into(), json!({"kind": "monthly"}));
    form.insert("survivors".into(), json!([{"full_name": "Hoàng Thị Gấm", "personal_id": "036175012345", "relationship": "con"}]));
    form.insert("ceremony_date".into(), json!("2026-12-20"));
    json!({
        "form": form,
        "steps": {
            "register_birth": {"birth_registration_number": "1/2026/KS"},
            "register_death": {"death_registration_number": "1/2026/KT", "death_extract": {"uri": "urn:x"}},
            "issue_personal_id": {"personal_id": "001326012345"},
        }
    })
}

#[tokio::test]
async fn every_automated_step_maps_onto_its_agency_and_back() {
    let sims = simulators(Behaviour::default(), BTreeMap::new()).await;
    let by_role: BTreeMap<String, Arc<dyn Adapter>> = adapters(&sims, Duration::from_secs(5))
        .into_iter()
        .map(|a| (a.agency().to_string(), a))
        .collect();
    let mut checked = 0;
    for p in fixtures::procedures() {
        for step in p.steps.iter().filter(|s| s.mode == Mode::Automated) {
            let spec = table::find(&step.agency, &step.action)
                .unwrap_or_else(|| panic!("no adapter action for {}/{}", step.agency, step.action));
            let outputs: Vec<&str> = spec.response.iter().map(|(o, _)| *o).collect();
            let writes: Vec<&str> = step.writes.keys().map(String::as_str).collect();
            assert_eq!(
                outputs, writes,
                "{}: the table and the definition disagree",
                step.id
            );
            for read in &step.reads {
                let head = read
                    .source()
                    .split('.')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(".");
                assert!(
                    spec.request
                        .iter()
                        .any(|(_, path)| path.starts_with(&head) || head.starts_with(path)),
                    "{}: read `{read}` is never sent to the agency",
                    step.id
                );
            }
            let request = Request {
                dossier_code: format!("G22.99.08-261207-{checked:04}"),
                step: step.id.clone(),
                agency: step.agency.clone(),
                action: step.action.clone(),
                idempotency_key: format!("key-{}-{}", p.id, step.id),
                payload: payload(),
                attempt: 1,
            };
            let adapter = &by_role[step.agency.as_str()];
            let first = adapter.call(&request).await.expect("call");
            let Response::Completed { outputs } = &first else {
                panic!("{}: expected completed, got {first:?}", step.id);
            };
            for (name, schema) in &step.writes {
                let v = jsonschema::validator_for(schema).expect("schema");
                assert!(
                    v.is_valid(&outputs[name]),
                    "{}: {name} = {} breaks its schema",
                    step.id,
                    outputs[name]
                );
            }
            let again = adapter
                .call(&Request {
                    attempt: 2,
                    ..request.clone()
                })
                .await
                .expect("retry");
            assert_eq!(again, first, "{}: a retry gets the first answer", step.id);
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
    let figures = sims.figures();
    assert_eq!(
        figures.iter().map(|f| f.effects).sum::<u64>(),
        checked as u64
    );
    assert_eq!(figures.iter().map(|f| f.duplicate_effects).sum::<u64>(), 0);
}

#[tokio::test]
async fn requests_without_an_idempotency_key_are_refused() {
    let sims = simulators(Behaviour::default(), BTreeMap::new()).await;
    let url = format!(
        "{}/ho-tich/khai-sinh",
        sims.base_url("civil_status").expect("url")
    );
    let r = reqwest::Client::new()
        .post(url)
        .json(&json!({"ma_ho_so": "X"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
    assert!(sims.figures().iter().all(|f| f.effects == 0));
}

async fn runtime(
    sims: &Simulators,
    dir: &std::path::Path,
    options: Options,
) -> Arc<Runtime<SqliteStore>> {
    let store = SqliteStore::open(&dir.join("t.db")).await.expect("store");
    store.migrate().await.expect("migrate");
    let config = Config {
        poll: Duration::from_millis(20),
        adapter_timeout: Duration::from_secs(3),
        options,
        ..Config::default()
    };
    let rt = Arc::new(Runtime::new(
        store,
        Arc::new(Calendar::vietnam()),
        Arc::new(SystemClock),
        adapters(sims, Duration::from_millis(800)),
        Arc::new(GatewayNotifier::new(3, 20)),
        config,
    ));
    for p in fixtures::procedures() {
        rt.publish(&p).await.expect("publish");
    }
    rt
}

/// Works the human steps with the fixture outputs until every dossier is closed.
async fn settle(rt: &Runtime<SqliteStore>, ids: &[DossierId], limit: Duration) {
    let until = Instant::now() + limit;
    loop {
        for agency in ["civil_status", "funeral_support"] {
            for t in rt
                .open_tasks(agency, &TaskQuery::default())
                .await
                .expect("tasks")
            {
                if t.status == "queued" {
                    rt.claim_task(agency, &t.dossier, &t.step, "officer")
                        .await
                        .expect("claim");
                }
                rt.complete_task(
                    agency,
                    &t.dossier,
                    &t.step,
                    "officer",
                    &fixtures::outputs(&t.action),
                )
                .await
                .expect("complete");
            }
        }
        let mut open = 0;
        for id in ids {
            let d = rt.load(id).await.expect("load").expect("dossier");
            if !d.status.is_closed() {
                open += 1;
            }
        }
        if open == 0 {
            return;
        }
        assert!(Instant::now() < until, "{open} dossiers still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_percent_failing_calls_still_one_effect_per_step() {
    let sims = simulators(
        Behaviour {
            hang_ms: 1_500,
            ..Behaviour::failing(30)
        },
        BTreeMap::new(),
    )
    .await;
    let dir = tempdir("faults");
    let options = Options {
        retry_budget: 14,
        backoff_base_ms: 10,
        backoff_max_ms: 200,
        ..Options::default()
    };
    let rt = runtime(&sims, &dir, options).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = {
        let rt = rt.clone();
        tokio::spawn(async move { rt.run(stopped).await })
    };
    let mut ids = Vec::new();
    for round in 0..4 {
        for (procedure, bundle, form) in fixtures::forms() {
            let sub = Submission {
                channel: Default::default(),
                procedure: procedure.into(),
                bundle: bundle.map(str::to_string),
                form,
                key: Some(format!("faults-{round}-{procedure}")),
                origin: Default::default(),
            };
            ids.push(rt.submit(sub).await.expect("submit").0);
        }
    }
    settle(&rt, &ids, Duration::from_secs(240)).await;
    let _ = stop.send(true);
    worker.await.expect("join").expect("worker");
    let mut automated_done = 0;
    for id in &ids {
        let d = rt.load(id).await.expect("load").expect("dossier");
        assert_eq!(
            d.status,
            DossierStatus::Decided,
            "{}: {:?}",
            d.code,
            d.steps
        );
        automated_done += d
            .steps
            .values()
            .filter(|s| s.status == StepStatus::Done && s.agency != "funeral_support")
            .count();
    }
    // register_marriage is the registrar's own (human) step: no agency call.
    automated_done -= ids.len() / 3;
    let figures = sims.figures();
    let effects: u64 = figures.iter().map(|f| f.effects).sum();
    let duplicates: u64 = figures.iter().map(|f| f.duplicate_effects).sum();
    let faults: u64 = sims
        .agencies
        .values()
        .map(|a| {
            a.ledger
                .lock()
                .map(|l| l.faults.values().sum::<u64>())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(duplicates, 0, "{figures:?}");
    assert_eq!(
        effects, automated_done as u64,
        "one effect per automated step: {figures:?}"
    );
    // The dice are keyed on random dossier ids: some forty first calls at 30 % give about a
    // dozen faults, and fewer than three has a chance of about one in ten thousand.
    assert!(faults >= 3, "faults were injected: {faults}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_agency_becomes_an_incident_and_files_once_after_recovery() {
    let sims = simulators(Behaviour::default(), BTreeMap::new()).await;
    let population = sims.agency("population_db").expect("agency").clone();
    population.set_down(true);
    let dir = tempdir("incident");
    let options = Options {
        retry_budget: 3,
        backoff_base_ms: 10,
        backoff_max_ms: 50,
        ..Options::default()
    };
    let rt = runtime(&sims, &dir, options).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = {
        let rt = rt.clone();
        tokio::spawn(async move { rt.run(stopped).await })
    };
    let (procedure, bundle, form) = fixtures::forms().remove(0);
    let sub = Submission {
        channel: Default::default(),
        procedure: procedure.into(),
        bundle: bundle.map(str::to_string),
        form,
        key: Some("incident-1".into()),
        origin: Default::default(),
    };
    let (id, _) = rt.submit(sub).await.expect("submit");
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let d = rt.load(&id).await.expect("load").expect("dossier");
        if d.step("issue_personal_id")
            .is_some_and(|s| s.status == StepStatus::Incident)
        {
            break;
        }
        assert!(Instant::now() < until, "no incident: {:?}", d.steps);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    population.set_down(false);
    let retry = Event::IncidentResolved {
        step: "issue_personal_id".into(),
        resolution: Resolution::Retry,
        by: "operator".into(),
        reason: "population database back".into(),
    };
    rt.handle(&id, &retry, None).await.expect("resolve");
    settle(&rt, std::slice::from_ref(&id), Duration::from_secs(60)).await;
    let _ = stop.send(true);
    worker.await.expect("join").expect("worker");
    let d = rt.load(&id).await.expect("load").expect("dossier");
    assert_eq!(d.status, DossierStatus::Decided);
    let f: Vec<_> = population.figures();
    let issue = f
        .iter()
        .find(|f| f.action == "issue_personal_id")
        .expect("figures");
    assert_eq!((issue.effects, issue.duplicate_effects), (1, 0), "{f:?}");
    assert!(
        issue.calls >= 4,
        "3 failed calls and the retry: {}",
        issue.calls
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("lienthong-agencies-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// A server that counts every request it receives.
async fn counting_target() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::OK,
                axum::Json(json!({"trang_thai": "hoan_thanh", "ket_qua": {}})),
            )
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(l, app).await.ok() });
    (addr, hits)
}

#[tokio::test]
async fn ssrf_through_adapter_configuration_reaches_nothing() {
    let (target, hits) = counting_target().await;
    // An allowed agency that answers every call with a redirect to the target.
    let location = format!("http://{target}/steal");
    let app = axum::Router::new().fallback(move || {
        let location = location.clone();
        async move { (StatusCode::TEMPORARY_REDIRECT, [("location", location)], "") }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let redirector = l.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(l, app).await.ok() });

    let allow = Allowlist::new([redirector.to_string()]).expect("allow-list");
    let settings = AgencySettings::default();
    let adapter = AgencyAdapter::new("mark_deceased", "http://x", &allow, &settings);
    assert!(adapter.is_err(), "unknown roles are refused");
    let adapter = AgencyAdapter::new(
        "population_db",
        &format!("http://{redirector}"),
        &allow,
        &settings,
    )
    .expect("allowed");
    let r = Request {
        dossier_code: "C".into(),
        step: "mark_deceased".into(),
        agency: "population_db".into(),
        action: "mark_deceased".into(),
        idempotency_key: "k".into(),
        payload: json!({"form": {"deceased": {"personal_id": "036048012345"}}}),
        attempt: 1,
    };
    let e = adapter
        .call(&r)
        .await
        .expect_err("a redirect is not followed");
    assert!(
        !e.is_retryable() && e.to_string().contains("redirect"),
        "{e}"
    );

    let port = target.port();
    let aliases = [
        format!("http://{target}"),
        format!("http://localhost:{port}"),
        format!("http://127.1:{port}"),
        format!("http://127.0.0.2:{port}"),
        format!("http://2130706433:{port}"),
        format!("http://0x7f000001:{port}"),
        format!("http://0177.0.0.1:{port}"),
        format!("http://[::1]:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://0.0.0.0:{port}"),
        "http://169.254.169.254:80".to_string(),
        format!("http://{redirector}@127.0.0.1:{port}"),
    ];
    for url in &aliases {
        let e = AgencyAdapter::new("population_db", url, &allow, &settings)
            .expect_err("not on the allow-list");
        assert!(e.contains("population_db"), "{url}: {e}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the target was reached");
}

#[tokio::test]
async fn agencies_check_signatures_and_keys() {
    use lienthong_adapters::auth::{Auth, Secret};
    let mut auth = BTreeMap::new();
    auth.insert(
        "civil_status".to_string(),
        Auth::Hmac {
            key_id: "k1".into(),
            secret: Secret::new("right"),
        },
    );
    auth.insert(
        "residence".to_string(),
        Auth::ApiKey {
            header: "X-API-Key".into(),
            key: Secret::new("key-1"),
        },
    );
    let sims = Simulators::start(SimConfig {
        seed: 1,
        default: Behaviour::default(),
        agencies: BTreeMap::new(),
        clock: Arc::new(ManualClock::new(1_796_000_000_000)),
        auth,
        callback: None,
        base_port: 0,
    })
    .await
    .expect("simulators");
    let allow = sims.allowlist();
    let with = |role: &str, auth: Auth| {
        let settings = AgencySettings {
            auth,
            ..AgencySettings::default()
        };
        AgencyAdapter::new(role, &sims.base_url(role).expect("url"), &allow, &settings)
            .expect("adapter")
    };
    let request = |action: &str, key: &str| Request {
        dossier_code: "G22.99.08-261207-0009".into(),
        step: action.into(),
        agency: Default::default(),
        action: action.into(),
        idempotency_key: key.into(),
        payload: payload(),
        attempt: 1,
    };
    let good = with(
        "civil_status",
        Auth::Hmac {
            key_id: "k1".into(),
            secret: Secret::new("right"),
        },
    );
    assert!(matches!(
        good.call(&request("register_birth", "a")).await,
        Ok(Response::Completed { .. })
    ));
    for bad in [
        Auth::None,
        Auth::Hmac {
            key_id: "k1".into(),
            secret: Secret::new("wrong"),
        },
        Auth::ApiKey {
            header: "X-API-Key".into(),
            key: Secret::new("right"),
        },
    ] {
        let e = with("civil_status", bad)
            .call(&request("register_birth", "b"))
            .await
            .expect_err("refused");
        assert!(!e.is_retryable() && e.to_string().contains("401"), "{e}");
    }
    let keyed = with(
        "residence",
        Auth::ApiKey {
            header: "X-API-Key".into(),
            key: Secret::new("key-1"),
        },
    );
    let r = request("remove_permanent_residence", "c");
    assert!(matches!(
        keyed.call(&r).await,
        Ok(Response::Completed { .. })
    ));
    let e = with("residence", Auth::None)
        .call(&request("remove_permanent_residence", "d"))
        .await
        .expect_err("no key");
    assert!(e.to_string().contains("401"), "{e}");

    // A captured signed request sent again is refused as a replay, and files nothing.
    let url = format!(
        "{}/ho-tich/khai-sinh",
        sims.base_url("civil_status").expect("url")
    );
    let body = br#"{"ma_ho_so":"X","tre_em":{},"nguoi_yeu_cau":{},"giay_chung_sinh":{}}"#.to_vec();
    let ts = lienthong_engine::clock::Clock::now(&SystemClock) / 1_000;
    let sig = lienthong_adapters::auth::sign(
        &Secret::new("right"),
        ts,
        "POST",
        "/ho-tich/khai-sinh",
        &body,
    );
    let send = || {
        reqwest::Client::new()
            .post(&url)
            .header("Idempotency-Key", "replayed")
            .header("x-lienthong-timestamp", ts.to_string())
            .header("x-lienthong-signature", sig.clone())
            .body(body.clone())
            .send()
    };
    assert_eq!(send().await.expect("first").status().as_u16(), 200);
    assert_eq!(send().await.expect("replay").status().as_u16(), 401);
    let stale = lienthong_adapters::auth::sign(
        &Secret::new("right"),
        ts - 3_600,
        "POST",
        "/ho-tich/khai-sinh",
        &body,
    );
    let r = reqwest::Client::new()
        .post(&url)
        .header("Idempotency-Key", "stale")
        .header("x-lienthong-timestamp", (ts - 3_600).to_string())
        .header("x-lienthong-signature", stale)
        .body(body.clone())
        .send()
        .await
        .expect("stale");
    assert_eq!(r.status().as_u16(), 401);
    let effects: u64 = sims.figures().iter().map(|f| f.effects).sum();
    assert_eq!(effects, 3, "two adapter calls and the first raw request");
}
