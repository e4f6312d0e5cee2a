//! Group commit writes a group of transitions with one multi-row statement per table. These
//! tests hold it to the one-by-one path: the same transitions stored both ways leave the same
//! rows in every table, and a stale transition inside a group is refused alone.
//! SQLite always; PostgreSQL when `LIENTHONG_TEST_DATABASE_URL` is set (required in CI).

use crate::store_support;

use lienthong_engine::machine::{self, Dossier, DossierId, Effect, Event, Transition};
use lienthong_engine::store::{ClaimedTimer, Commit, Consumed, Created, Error, SqliteStore, Store};
use serde_json::{Map, Value, json};
use store_support::{LEASE, T0, env, submit};

const DOSSIERS: usize = 12;

fn outputs(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

async fn file<S: Store>(store: &S, i: usize) {
    let created = submit(store, &format!("g-{i:02}"), None)
        .await
        .expect("create");
    assert!(matches!(created, Created::New(..)));
}

/// One round of events for every dossier, decided from its state; the claims it consumes
/// are looked up in `store` (each store hands out the same ids and epochs).
async fn round<S: Store>(
    store: &S,
    n: usize,
    now: i64,
) -> Vec<(u64, Transition, Option<Consumed>)> {
    let calls = store
        .claim_outbox("node-a", now, LEASE, 1_000)
        .await
        .expect("claim outbox");
    let timers = store
        .claim_timers("node-a", now, LEASE, 1_000)
        .await
        .expect("claim timers");
    let mut out = Vec::new();
    for i in 0..n {
        let id = DossierId(format!("g-{i:02}"));
        let d: Dossier = store.load(&id).await.expect("load").expect("exists");
        let call = calls
            .iter()
            .find(|c| c.dossier == id && matches!(c.effect, Effect::CallAdapter { .. }));
        // Several timers of one dossier may be due together: take the same one on both
        // stores, whatever order each store claimed them in.
        let timer: Option<&ClaimedTimer> = timers
            .iter()
            .filter(|t| t.dossier == id)
            .min_by_key(|t| (t.due_at, t.kind, t.step.clone()));
        let (event, consumed) = if let Some(c) = call {
            let Effect::CallAdapter { step, .. } = &c.effect else {
                unreachable!()
            };
            // Every third partner is being verified by a commune; the others are found.
            let event = if i % 3 == 0 && step == "check_status_a" {
                Event::VerificationStarted {
                    // An automated lookup: its agency's system answers.
                    by: None,
                    step: step.clone(),
                    basis: "commune asked".into(),
                }
            } else {
                Event::StepCompleted {
                    // An automated lookup: its agency's system answers.
                    by: None,
                    step: step.clone(),
                    outputs: outputs(json!({"marital_status": "single", "source": "database"})),
                }
            };
            let consumed = Consumed::Outbox {
                id: c.id,
                epoch: c.epoch,
            };
            (event, Some(consumed))
        } else if d.steps.get("register_marriage").map(|s| s.status)
            == Some(machine::StepStatus::Queued)
        {
            let event = Event::StepClaimed {
                step: "register_marriage".into(),
                by: format!("officer-{}", i % 2),
                until: now + 1_800_000,
            };
            (event, None)
        } else if let Some(t) = timer {
            let event = Event::TimerFired {
                kind: t.kind,
                step: t.step.clone().map(Into::into),
            };
            let consumed = Consumed::Timer {
                kind: t.kind,
                step: t.step.clone(),
                epoch: t.epoch,
            };
            (event, Some(consumed))
        } else {
            continue;
        };
        if let Ok(t) = machine::apply(env(now), Some(&d), &event) {
            out.push((d.version, t, consumed));
        }
    }
    out
}

macro_rules! dump {
    ($pool:expr) => {{
        let pool = $pool;
        let mut rows: Vec<String> = Vec::new();
        macro_rules! table {
            ($label:literal, $row:ty, $sql:literal) => {
                for r in sqlx::query_as::<_, $row>($sql).fetch_all(pool).await.expect($label) {
                    rows.push(format!("{} {r:?}", $label));
                }
            };
        }
        table!(
            "dossier",
            (String, String, String, i64, String, Option<i64>),
            "SELECT id, code, status, version, state, closed_at FROM dossiers ORDER BY id"
        );
        table!(
            "journal",
            (String, i64, i64, String, String, String, Option<String>),
            "SELECT dossier_id, version, at, node, event, status, hash FROM journal ORDER BY dossier_id, version"
        );
        table!(
            "timer",
            (String, String, String, i64, i64),
            "SELECT dossier_id, kind, step, due_at, epoch FROM timers ORDER BY dossier_id, kind, step"
        );
        table!(
            "outbox",
            (String, String, String, i64, i64),
            "SELECT dossier_id, kind, effect, created_at, available_at FROM outbox ORDER BY id"
        );
        table!(
            "task",
            (String, String, String, String, String, String, Option<String>, Option<i64>, i64),
            "SELECT dossier_id, step, agency, action, request, status, claimed_by, claim_until, opened_at \
             FROM tasks ORDER BY dossier_id, step"
        );
        rows
    }};
}

/// The commits of a round's transitions, from node A.
fn commits_of(round: &[(u64, Transition, Option<Consumed>)]) -> Vec<Commit<'_>> {
    round
        .iter()
        .map(|(v, t, c)| Commit {
            expected_version: *v,
            transition: t,
            consumed: c.as_ref(),
            node: "node-a",
            dispatch: None,
            head: None,
        })
        .collect()
}

/// Every row of the tables a commit writes, for comparing two stores.
trait Dump: Store {
    fn dump(&self) -> impl Future<Output = Vec<String>>;
}

impl Dump for SqliteStore {
    async fn dump(&self) -> Vec<String> {
        dump!(self.pool())
    }
}

impl Dump for lienthong_engine::store::PgStore {
    async fn dump(&self) -> Vec<String> {
        dump!(self.pool())
    }
}

/// Drives `grouped` through `commit_many` and `single` through `commit`, round after
/// round, and compares every table after each round; returns how many transitions each
/// round stored.
async fn drive<S: Dump>(grouped: &S, single: &S) -> Vec<usize> {
    for s in [grouped, single] {
        s.migrate().await.expect("migrate");
        for i in 0..DOSSIERS {
            file(s, i).await;
        }
    }
    let mut stored = Vec::new();
    // Submission, lookups, verification, the human task, then its timers as they fall due.
    let days = [0, 0, 0, 0, 1, 3, 6, 9, 14];
    for (k, day) in days.iter().enumerate() {
        let now = T0 + 60_000 * (k as i64 + 1) + day * 86_400_000;
        let mine = round(grouped, DOSSIERS, now).await;
        let theirs = round(single, DOSSIERS, now).await;
        assert_eq!(mine.len(), theirs.len(), "both stores decide alike");
        let commits = commits_of(&mine);
        let results = grouped.commit_many(&commits).await.expect("group");
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        for c in commits_of(&theirs) {
            single.commit(c).await.expect("one by one");
        }
        stored.push(mine.len());
        assert_eq!(grouped.dump().await, single.dump().await, "after round {k}");
    }
    stored
}

/// A stale transition in a group is refused alone; the rest are stored. `store` is fresh.
async fn stale_members<S: Store>(store: &S) {
    store.migrate().await.expect("migrate");
    for i in 0..DOSSIERS {
        file(store, i).await;
    }
    let mut batch = round(store, DOSSIERS, T0 + 60_000).await;
    assert_eq!(
        batch.len(),
        DOSSIERS,
        "every dossier has a lookup to complete"
    );
    // Held back, to be committed twice in one group below.
    let extra = batch.pop().expect("a member");
    // Member 1 is from an old version; member 2 consumes its claim with a wrong epoch.
    batch[1].0 -= 1;
    let Some(Consumed::Outbox { epoch, .. }) = &mut batch[2].2 else {
        panic!("a lookup consumes its outbox row")
    };
    *epoch += 7;
    let commits = commits_of(&batch);
    let results = store.commit_many(&commits).await.expect("group");
    assert!(
        matches!(results[1], Err(Error::Conflict(_))),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(results[2], Err(Error::LeaseLost(_))),
        "{:?}",
        results[2]
    );
    for (i, r) in results.iter().enumerate() {
        let t = &batch[i].1;
        let now = store
            .load(&t.state.id)
            .await
            .expect("load")
            .expect("exists");
        let journal = store.journal(&t.state.id).await.expect("journal");
        assert_eq!(
            journal.len() as u64,
            now.version,
            "member {i}: one journal row per version"
        );
        if i == 1 || i == 2 {
            assert!(r.is_err());
            assert_ne!(
                now.version, t.state.version,
                "nothing of a stale member is stored"
            );
        } else {
            assert!(r.is_ok(), "member {i}: {r:?}");
            assert_eq!(now, t.state, "member {i} is stored");
        }
    }
    // Two transitions of one dossier from one version in one group: the second is stale.
    let twice: Vec<Commit<'_>> = ["node-a", "node-b"]
        .into_iter()
        .map(|node| Commit {
            expected_version: extra.0,
            transition: &extra.1,
            consumed: None,
            node,
            dispatch: None,
            head: None,
        })
        .collect();
    let results = store.commit_many(&twice).await.expect("group");
    assert!(results[0].is_ok(), "{results:?}");
    assert!(matches!(results[1], Err(Error::Conflict(_))), "{results:?}");
}

#[tokio::test]
async fn sqlite_group_commit_writes_what_one_by_one_writes() {
    let grouped = SqliteStore::in_memory().await.expect("sqlite");
    let single = SqliteStore::in_memory().await.expect("sqlite");
    let stored = drive(&grouped, &single).await;
    assert!(stored.iter().sum::<usize>() >= DOSSIERS * 4, "{stored:?}");
    let (a, b) = (grouped.dump().await, single.dump().await);
    assert!(
        a.iter().any(|r| r.starts_with("task ")),
        "tasks were opened"
    );
    assert!(
        a.iter().any(|r| r.contains("officer-1")),
        "tasks were claimed"
    );
    assert_eq!(a, b);
    stale_members(&SqliteStore::in_memory().await.expect("sqlite")).await;
}

#[tokio::test]
async fn postgres_group_commit_writes_what_one_by_one_writes() {
    let Some(grouped) = lienthong_tests::fresh_postgres().await else {
        return;
    };
    let Some(single) = lienthong_tests::fresh_postgres().await else {
        return;
    };
    let stored = drive(&grouped.store, &single.store).await;
    assert!(stored.iter().sum::<usize>() >= DOSSIERS * 4, "{stored:?}");
    let (a, b) = (grouped.store.dump().await, single.store.dump().await);
    assert!(
        a.iter().any(|r| r.starts_with("task ")),
        "tasks were opened"
    );
    assert_eq!(a, b);
    grouped.drop_now().await;
    single.drop_now().await;
    let Some(fresh) = lienthong_tests::fresh_postgres().await else {
        return;
    };
    stale_members(&fresh.store).await;
    fresh.drop_now().await;
}
