//! The runtime end to end on a real store: dossiers of the three groups flow through agencies
//! that fail a third of the time (errors, and effects applied but answers lost); every
//! dossier is decided, and each step has exactly one effect at its agency.

use lienthong_engine::adapter::{self, Adapter, CallFuture, Request, Response};
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::ManualClock;
use lienthong_engine::definition::{Catalog, Procedure, validate_source};
use lienthong_engine::machine::{self, DossierStatus, Event, StepStatus};
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime, Submission};
use lienthong_engine::store::{SqliteStore, Store};
use lienthong_tests::fixtures;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Monday 23 November 2026, 09:00 in Hà Nội.
const T0: i64 = 1_795_399_200_000;

/// An agency that dedupes on the idempotency key, keeps a ledger of effects, and fails on a
/// seeded schedule: a third of calls fail, half of those after applying the effect.
#[derive(Debug)]
struct Agency {
    role: &'static str,
    state: Mutex<AgencyState>,
}

#[derive(Debug, Default)]
struct AgencyState {
    rng: u64,
    effects: HashMap<String, Map<String, Value>>,
    calls: usize,
}

impl Adapter for Agency {
    fn agency(&self) -> &str {
        self.role
    }

    fn call<'a>(&'a self, r: &'a Request) -> CallFuture<'a> {
        Box::pin(async move {
            let mut s = self.state.lock().map_err(|e| adapter::Error::Permanent {
                message: e.to_string(),
            })?;
            s.calls += 1;
            s.rng = s
                .rng
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let roll = (s.rng >> 33) % 6;
            if roll == 0 {
                return Err(adapter::Error::Retryable {
                    message: "HTTP 500".into(),
                    retry_after: None,
                });
            }
            let out = s
                .effects
                .entry(r.idempotency_key.clone())
                .or_insert_with(|| fixtures::outputs(&r.action))
                .clone();
            if roll == 1 {
                return Err(adapter::Error::Retryable {
                    message: "the answer was lost".into(),
                    retry_after: None,
                });
            }
            Ok(Response::Completed { outputs: out })
        })
    }
}

fn load(text: &str) -> Procedure {
    validate_source("wf", text.as_bytes(), &Catalog::builtin())
        .procedure
        .expect("valid")
}

async fn flow<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(T0);
    let roles = fixtures::ROLES;
    let agencies: Vec<Arc<Agency>> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Arc::new(Agency {
                role: r,
                state: Mutex::new(AgencyState {
                    rng: 7 + i as u64,
                    ..Default::default()
                }),
            })
        })
        .collect();
    let adapters: Vec<Arc<dyn Adapter>> = agencies
        .iter()
        .map(|a| a.clone() as Arc<dyn Adapter>)
        .collect();
    let notifier = Arc::new(RecordingNotifier::default());
    let rt = Runtime::new(
        store,
        Arc::new(Calendar::vietnam()),
        Arc::new(clock.clone()),
        adapters,
        notifier.clone(),
        Config::default(),
    );
    for text in [
        include_str!("../../workflows/birth-residence-bhyt.yaml"),
        include_str!("../../workflows/death-residence-funeral-survivor.yaml"),
        include_str!("../../workflows/marital-status-marriage.yaml"),
    ] {
        rt.publish(&load(text)).await.expect("publish");
    }
    let mut ids = Vec::new();
    for i in 0..30 {
        let (procedure, bundle, form) = fixtures::forms()[i % 3].clone();
        let sub = Submission {
            channel: Default::default(),
            procedure: procedure.into(),
            bundle: bundle.map(str::to_string),
            form,
            key: Some(format!("key-{i}")),
            origin: Default::default(),
        };
        let (id, new) = rt.submit(sub.clone()).await.expect("submit");
        assert!(new);
        assert_eq!(
            rt.submit(sub).await.expect("resubmit"),
            (id.clone(), false),
            "the same key is the same dossier"
        );
        ids.push(id);
    }
    // Drive the node: passes, time moving a minute when idle; the registrar handles marriages.
    for _ in 0..2_000 {
        let stats = rt.tick().await.expect("tick");
        for id in &ids {
            let d = rt.load(id).await.expect("load").expect("exists");
            if d.steps
                .get("register_marriage")
                .is_some_and(|s| s.status == StepStatus::Queued)
            {
                let until = clock.now_ms() + 3_600_000;
                rt.handle(
                    id,
                    &Event::StepClaimed {
                        step: "register_marriage".into(),
                        by: "officer-1".into(),
                        until,
                    },
                    None,
                )
                .await
                .expect("claim");
                let outputs = json!({"marriage_certificate_number": "KH-1", "registered_on": "2026-11-23", "handover_deferred": false});
                let event = Event::StepCompleted {
                    step: "register_marriage".into(),
                    outputs: outputs.as_object().cloned().unwrap_or_default(),
                    by: Some(machine::Actor::Officer("officer-1".into())),
                };
                rt.handle(id, &event, None).await.expect("register");
            }
        }
        let mut open = 0;
        for id in &ids {
            if rt.load(id).await.expect("load").expect("exists").status != DossierStatus::Decided {
                open += 1;
            }
        }
        if open == 0 {
            break;
        }
        if stats.total() == 0 {
            clock.advance(60_000);
        }
    }
    // Drain what is left (the last notifications).
    while rt.tick().await.expect("tick").total() > 0 {}
    let mut effects_expected = 0;
    for id in &ids {
        let d = rt.load(id).await.expect("load").expect("exists");
        assert_eq!(d.status, DossierStatus::Decided, "{id}: {:?}", d.steps);
        effects_expected += d
            .steps
            .iter()
            .filter(|(k, s)| s.status == StepStatus::Done && k.as_str() != "register_marriage")
            .count();
    }
    let (mut effects, mut calls) = (0, 0);
    for a in &agencies {
        let s = a.state.lock().expect("agency");
        effects += s.effects.len();
        calls += s.calls;
    }
    assert_eq!(
        effects, effects_expected,
        "exactly one effect per completed automated step"
    );
    assert!(
        calls > effects,
        "the failures forced retries ({calls} calls for {effects} effects)"
    );
    let receipts = notifier.0.lock().expect("notifier").len();
    assert!(
        receipts >= ids.len() * 2,
        "receipt and result notifications for every dossier ({receipts})"
    );
}

trait NowMs {
    fn now_ms(&self) -> i64;
}

impl NowMs for ManualClock {
    fn now_ms(&self) -> i64 {
        use lienthong_engine::clock::Clock;
        self.now()
    }
}

#[tokio::test]
async fn dossiers_complete_with_one_effect_per_step_on_sqlite() {
    flow(SqliteStore::in_memory().await.expect("sqlite")).await;
}

#[tokio::test]
async fn dossiers_complete_with_one_effect_per_step_on_postgres() {
    let Some(db) = lienthong_tests::fresh_postgres().await else {
        return;
    };
    flow(db.store.clone()).await;
    db.drop_now().await;
}
