//! Helpers shared by the task and schedule tests: agencies that always answer, the
//! procedures, forms, local instants, and runtimes on a shared manual clock.
#![allow(dead_code)] // each test file uses its own part

use chrono::{FixedOffset, TimeZone};
use lienthong_engine::adapter::{Adapter, CallFuture, Request, Response};
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::{Clock, ManualClock};
use lienthong_engine::definition::{Catalog, Procedure, validate_source};
use lienthong_engine::machine::{DossierId, Effect, StepStatus};
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime, Submission};
use lienthong_engine::store::Store;
use serde_json::{Map, Value, json};
use std::sync::{Arc, LazyLock};

pub static CALENDAR: LazyLock<Arc<Calendar>> = LazyLock::new(|| Arc::new(Calendar::vietnam()));

pub const MARRIAGE: &str = include_str!("../../../workflows/marital-status-marriage.yaml");
pub const DEATH: &str = include_str!("../../../workflows/death-residence-funeral-survivor.yaml");

/// A validated definition from YAML text.
pub fn load(text: &str) -> Procedure {
    let v = validate_source("wf", text.as_bytes(), &Catalog::builtin());
    v.procedure
        .unwrap_or_else(|| panic!("invalid: {:?}", v.diagnostics))
}

/// An instant given in Hà Nội local time.
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    FixedOffset::east_opt(7 * 3600)
        .expect("offset")
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("instant")
        .timestamp_millis()
}

/// An agency whose system answers every call at once with plausible outputs.
#[derive(Debug)]
pub struct Agency(pub &'static str);

fn outputs(action: &str) -> Map<String, Value> {
    let v = match action {
        "register_death" => {
            json!({"death_registration_number": "KT-1", "death_extract": {"uri": "doc://x"}})
        }
        "check_marital_status" => json!({"marital_status": "single", "source": "database"}),
        _ => json!({}),
    };
    v.as_object().cloned().unwrap_or_default()
}

impl Adapter for Agency {
    fn agency(&self) -> &str {
        self.0
    }

    fn call<'a>(&'a self, r: &'a Request) -> CallFuture<'a> {
        Box::pin(async move {
            Ok(Response::Completed {
                outputs: outputs(&r.action),
            })
        })
    }
}

/// A node named `name` on `store`, reading `clock`.
pub fn node<S: Store>(
    store: S,
    clock: &ManualClock,
    name: &str,
) -> (Runtime<S>, Arc<RecordingNotifier>) {
    let adapters: Vec<Arc<dyn Adapter>> = ["civil_status", "population_db", "residence"]
        .into_iter()
        .map(|r| Arc::new(Agency(r)) as Arc<dyn Adapter>)
        .collect();
    let notifier = Arc::new(RecordingNotifier::default());
    let config = Config {
        node: name.to_string(),
        ..Config::default()
    };
    let rt = Runtime::new(
        store,
        CALENDAR.clone(),
        Arc::new(clock.clone()),
        adapters,
        notifier.clone(),
        config,
    );
    (rt, notifier)
}

pub fn marriage_form() -> Value {
    json!({
        "partner_a": {"full_name": "Lê Văn Cường", "personal_id": "079095012345", "birth_date": "1995-03-02", "sex": "male"},
        "partner_b": {"full_name": "Phạm Thị Dung", "personal_id": "079197012345", "birth_date": "1997-07-09", "sex": "female"},
        "consent": {"partner_a": true, "partner_b": true}
    })
}

pub fn death_form() -> Value {
    json!({
        "deceased": {"full_name": "Hoàng Văn Em", "personal_id": "036048012345", "birth_date": "1948-05-01", "sex": "male",
                     "date_of_death": "2026-11-20", "place_of_death": "Nam Định", "insured": false,
                     "social_assistance_beneficiary": true},
        "declarant": {"full_name": "Hoàng Thị Gấm", "personal_id": "036175012345", "relationship": "con"},
        "death_notice": {"kind": "giay_bao_tu", "uri": "doc://2", "sha256": "b".repeat(64)}
    })
}

/// Files a dossier and runs the node until `step` waits in its agency's queue.
pub async fn file_until_queued<S: Store>(
    rt: &Runtime<S>,
    procedure: &str,
    bundle: Option<&str>,
    form: Value,
    key: &str,
    step: &str,
) -> DossierId {
    let sub = Submission {
        channel: Default::default(),
        procedure: procedure.into(),
        bundle: bundle.map(str::to_string),
        form,
        key: Some(key.into()),
        origin: Default::default(),
    };
    let (id, _) = rt.submit(sub).await.expect("submit");
    for _ in 0..50 {
        let d = rt.load(&id).await.expect("load").expect("dossier");
        if d.steps
            .get(step)
            .is_some_and(|s| s.status == StepStatus::Queued)
        {
            return id;
        }
        rt.tick().await.expect("tick");
    }
    panic!("{step} of {id} never reached the queue");
}

/// The notifications a notifier received, as (dossier, effect).
pub fn sent(n: &RecordingNotifier) -> Vec<(DossierId, Effect)> {
    n.0.lock().expect("notifier").clone()
}

/// The current instant of a manual clock.
pub fn now(clock: &ManualClock) -> i64 {
    clock.now()
}

/// Generates, for each scenario `async fn name<S: Store>(store: S)` of the test file, one
/// test on an in-memory SQLite store and one on a fresh PostgreSQL database (skipped when
/// `LIENTHONG_TEST_DATABASE_URL` is not set; required in CI).
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = lienthong_engine::store::SqliteStore::in_memory()
                        .await
                        .expect("sqlite");
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = lienthong_tests::fresh_postgres().await else {
                        return;
                    };
                    super::$name(db.store.clone()).await;
                    db.drop_now().await;
                }
            )*
        }
    };
}

pub(crate) use on_both_stores;
