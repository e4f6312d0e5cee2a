//! Deterministic crash simulation: two engine nodes share one store; on a seeded schedule a
//! node dies in the middle of its work — before calling the agency, or after the agency
//! applied the effect but before the answer was committed. The claim it held stays leased
//! until the lease runs out; the other node then takes it over and calls again with the same
//! idempotency key. Over many seeds: no dossier is lost, every one is decided, and every
//! completed step has exactly one effect at its agency.

use lienthong_engine::adapter::{self, Adapter, CallFuture, Request, Response};
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::{Clock, ManualClock};
use lienthong_engine::definition::{Catalog, validate_source};
use lienthong_engine::machine::{DossierStatus, StepStatus};
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime, Submission};
use lienthong_engine::store::Dossiers;
use lienthong_engine::store::{SqliteStore, Store};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const T0: i64 = 1_795_399_200_000;
const LEASE: i64 = 5_000;

/// An agency that dedupes by key and, when told, makes the calling node die before or after
/// applying the effect.
#[derive(Debug)]
struct Agency {
    role: &'static str,
    ledger: Arc<Mutex<HashMap<String, Map<String, Value>>>>,
    rng: Mutex<u64>,
}

impl Agency {
    fn roll(&self) -> u64 {
        let Ok(mut r) = self.rng.lock() else { return 9 };
        *r = r
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*r >> 33) % 8
    }
}

impl Adapter for Agency {
    fn agency(&self) -> &str {
        self.role
    }

    fn call<'a>(&'a self, r: &'a Request) -> CallFuture<'a> {
        Box::pin(async move {
            let roll = self.roll();
            assert!(roll != 0, "simulated crash before the agency was reached");
            let out = {
                let mut ledger = self.ledger.lock().map_err(|e| adapter::Error::Permanent {
                    message: e.to_string(),
                })?;
                let v = match r.action.as_str() {
                    "check_marital_status" => {
                        json!({"marital_status": "single", "source": "database"})
                    }
                    "register_death" => json!({"death_registration_number": "KT-1"}),
                    "register_birth" => json!({"birth_registration_number": "KS-1"}),
                    "issue_personal_id" => json!({"personal_id": "001326012345"}),
                    "issue_bhyt_card" => json!({"social_insurance_number": "0123456789"}),
                    _ => json!({}),
                };
                ledger
                    .entry(r.idempotency_key.clone())
                    .or_insert_with(|| v.as_object().cloned().unwrap_or_default())
                    .clone()
            };
            assert!(
                roll != 1,
                "simulated crash after the agency applied the effect"
            );
            Ok(Response::Completed { outputs: out })
        })
    }
}

fn birth_form() -> Value {
    json!({
        "child": {"family_name": "Nguyễn", "given_name": "An", "birth_date": "2026-11-20", "sex": "female",
                  "place_of_birth": "Hà Nội", "home_town": "Nam Định", "ethnicity": "Kinh", "nationality": "Việt Nam"},
        "parents": {"mother": {"full_name": "Trần Thị Bình", "nationality": "Việt Nam"}},
        "declarant": {"full_name": "Trần Thị Bình", "personal_id": "001190012345", "relationship": "mẹ"},
        "birth_certificate": {"kind": "giay_chung_sinh", "uri": "doc://1", "sha256": "a".repeat(64)}
    })
}

async fn one_seed(seed: u64) -> usize {
    let store = SqliteStore::in_memory().await.expect("sqlite");
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(T0);
    let ledger = Arc::new(Mutex::new(HashMap::new()));
    let roles = [
        "civil_status",
        "population_db",
        "residence",
        "social_insurance",
    ];
    let node = |name: &str, salt: u64| {
        let adapters: Vec<Arc<dyn Adapter>> = roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Arc::new(Agency {
                    role: r,
                    ledger: ledger.clone(),
                    rng: Mutex::new(seed * 31 + salt * 7 + i as u64),
                }) as Arc<dyn Adapter>
            })
            .collect();
        let config = Config {
            node: name.into(),
            lease_ms: LEASE,
            ..Config::default()
        };
        Arc::new(Runtime::new(
            store.clone(),
            Arc::new(Calendar::vietnam()),
            Arc::new(clock.clone()),
            adapters,
            Arc::new(RecordingNotifier::default()),
            config,
        ))
    };
    let nodes = [node("a", 1), node("b", 2)];
    let text = include_str!("../../workflows/birth-residence-bhyt.yaml");
    let p = validate_source("birth", text.as_bytes(), &Catalog::builtin())
        .procedure
        .expect("valid");
    nodes[0].publish(&p).await.expect("publish");
    let mut ids = Vec::new();
    for i in 0..6 {
        let sub = Submission {
            channel: Default::default(),
            procedure: p.id.clone(),
            bundle: None,
            form: birth_form(),
            key: Some(format!("{seed}-{i}")),
            origin: Default::default(),
        };
        ids.push(nodes[i % 2].submit(sub).await.expect("submit").0);
    }
    let mut crashes = 0;
    for round in 0..3000 {
        let n = nodes[(round + usize::try_from(seed).unwrap_or(0)) % 2].clone();
        // A node's pass runs as its own task: a simulated crash ends the task, not the test.
        match tokio::spawn(async move { n.tick().await }).await {
            Ok(stats) => {
                if stats.expect("tick").total() == 0 {
                    clock.advance(LEASE / 2);
                }
            }
            Err(_) => crashes += 1,
        }
        let mut open = 0;
        for id in &ids {
            if nodes[0]
                .load(id)
                .await
                .expect("load")
                .expect("no dossier is lost")
                .status
                != DossierStatus::Decided
            {
                open += 1;
            }
        }
        if open == 0 {
            break;
        }
    }
    let mut done_steps = 0;
    for id in &ids {
        let d = nodes[0].load(id).await.expect("load").expect("exists");
        assert_eq!(
            d.status,
            DossierStatus::Decided,
            "seed {seed}: {id} {:?}",
            d.steps
        );
        done_steps += d
            .steps
            .values()
            .filter(|s| s.status == StepStatus::Done)
            .count();
        let journal = nodes[0].store().journal(id).await.expect("journal");
        let replayed = lienthong_engine::machine::replay(
            &p,
            &Calendar::vietnam(),
            &Default::default(),
            &journal,
        )
        .expect("replay");
        assert_eq!(
            replayed.as_ref(),
            Some(&d),
            "seed {seed}: the journal rebuilds {id}"
        );
    }
    let effects = ledger.lock().expect("ledger").len();
    assert_eq!(
        effects, done_steps,
        "seed {seed}: one effect per completed step ({crashes} crashes)"
    );
    let _ = clock.now();
    crashes
}

#[tokio::test]
async fn crashes_at_any_point_lose_nothing_and_duplicate_nothing() {
    let mut crashes = 0;
    for seed in 0..30 {
        crashes += one_seed(seed).await;
    }
    assert!(
        crashes >= 30,
        "the schedule must actually crash nodes ({crashes} crashes)"
    );
    println!("{crashes} simulated crashes over 30 seeds");
}
