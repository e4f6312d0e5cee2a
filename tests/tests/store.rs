//! The store's behaviours, one test each on every store: SQLite always, PostgreSQL when
//! `LIENTHONG_TEST_DATABASE_URL` is set (`.ci/run` sets it; in CI it is required).

use crate::store_support;
use crate::support::on_both_stores;

use chrono::NaiveDate;
use lienthong_engine::machine::{self, Dossier, DossierId, Effect, Event, TimerKind, Transition};
use lienthong_engine::store::{
    ClaimedTimer, Commit, Consumed, Created, Error, JobRun, RunOutcome, SqliteStore, Store,
    TaskFilter,
};
use serde_json::json;
use std::sync::LazyLock;
use store_support::{CALENDAR, LEASE, MARRIAGE, OPTIONS, T0, env, submit};

fn next(d: &Dossier, event: Event, now: i64) -> Transition {
    machine::apply(env(now), Some(d), &event).expect("event applies")
}

/// A migrated store with the marriage dossier `d-1` filed in it, and that filing.
async fn filed<S: Store>(store: &S) -> Transition {
    store.migrate().await.expect("migrate");
    let Created::New(first, _) = submit(store, "d-1", Some("portal-key-1"))
        .await
        .expect("create")
    else {
        panic!("new")
    };
    *first
}

/// Stores the answer of one of `d-1`'s partner lookups (the first still dispatched).
async fn answer_lookup<S: Store>(store: &S, now: i64) -> Transition {
    answer_lookup_of(store, &ID, now, None).await
}

/// Stores the answer of one of a dossier's partner lookups (the first still dispatched but
/// `skip`).
async fn answer_lookup_of<S: Store>(
    store: &S,
    id: &DossierId,
    now: i64,
    skip: Option<&str>,
) -> Transition {
    let d = store.load(id).await.expect("load").expect("exists");
    let step = d
        .steps
        .iter()
        .find(|(k, s)| s.status == machine::StepStatus::Dispatched && Some(k.as_ref()) != skip)
        .map(|(k, _)| k.clone())
        .expect("a dispatched lookup");
    let t = next(
        &d,
        Event::StepCompleted {
            // An automated lookup: its agency's system answers.
            by: None,
            step,
            outputs: json!({"marital_status": "single"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        },
        now,
    );
    store
        .commit(Commit {
            expected_version: d.version,
            transition: &t,
            consumed: None,
            node: "node-a",
            dispatch: None,
            head: None,
        })
        .await
        .expect("lookup answered");
    t
}

/// A claimed timer fired on `d` at `now`, and the claim its commit consumes.
fn fire(d: &Dossier, timer: &ClaimedTimer, now: i64) -> (Transition, Consumed) {
    let t = next(
        d,
        Event::TimerFired {
            kind: timer.kind,
            step: timer.step.clone().map(Into::into),
        },
        now,
    );
    let consumed = Consumed::Timer {
        kind: timer.kind,
        step: timer.step.clone(),
        epoch: timer.epoch,
    };
    (t, consumed)
}

/// The warning timer a filing set, and when it is due.
fn warning_of(t: &Transition) -> (Option<String>, i64) {
    t.effects
        .iter()
        .find_map(|e| match e {
            Effect::SetTimer { id, at } if id.kind == TimerKind::Warning => {
                Some((id.step.as_ref().map(ToString::to_string), *at))
            }
            _ => None,
        })
        .expect("the filing sets a deadline warning")
}

async fn a_deadline_warning_is_a_notification_not_a_version<S: Store>(store: S) {
    let first = filed(&store).await;
    let (step, due) = warning_of(&first);
    let d = store.load(&ID).await.expect("load").expect("exists");
    let versions = store.journal(&ID).await.expect("journal").len();
    let claimed = store
        .claim_timers("node-a", due, LEASE, 1_000)
        .await
        .expect("claim");
    let timer = claimed
        .iter()
        .find(|t| t.dossier == *ID && t.kind == TimerKind::Warning && t.step == step)
        .expect("the warning is claimed when due");
    let (t, consumed) = fire(&d, timer, due);
    assert!(t.notice, "a warning changes nothing in the dossier");
    let commit = Commit {
        expected_version: d.version,
        transition: &t,
        consumed: Some(&consumed),
        node: "node-a",
        dispatch: Some(due + LEASE),
        head: None,
    };
    let sent = store.commit(commit).await.expect("the warning is stored");
    assert!(
        matches!(sent.as_slice(), [c] if matches!(c.effect, Effect::Notify { .. })),
        "its notification is handed back claimed: {sent:?}"
    );
    assert_eq!(
        store.load(&ID).await.expect("load").as_ref(),
        Some(&d),
        "no new version"
    );
    assert_eq!(
        store.journal(&ID).await.expect("journal").len(),
        versions,
        "no journal row"
    );
    assert!(
        matches!(store.commit(commit).await, Err(Error::LeaseLost(_))),
        "the timer was consumed: the same firing is not stored twice"
    );
    assert!(
        store
            .claim_outbox("node-b", due + LEASE + 1, LEASE, 100)
            .await
            .expect("claim")
            .iter()
            .any(|c| c.dossier == *ID && matches!(c.effect, Effect::Notify { .. })),
        "the notification is in the outbox, taken over when its lease ends"
    );
}

async fn warnings_of_a_group_are_stored_together_and_a_moved_dossier_is_refused<S: Store>(
    store: S,
) {
    let first = filed(&store).await;
    let mut filings = vec![first];
    for id in ["d-2", "d-3"] {
        let Created::New(t, _) = submit(&store, id, None).await.expect("create") else {
            panic!("new")
        };
        filings.push(*t);
    }
    let (step, due) = warning_of(&filings[0]);
    let claimed = store
        .claim_timers("node-a", due, LEASE, 1_000)
        .await
        .expect("claim");
    let mut fired = Vec::new();
    for filing in &filings {
        let id = &filing.state.id;
        let d = store.load(id).await.expect("load").expect("exists");
        let timer = claimed
            .iter()
            .find(|t| &t.dossier == id && t.kind == TimerKind::Warning && t.step == step)
            .expect("claimed");
        let (t, consumed) = fire(&d, timer, due);
        fired.push((d, t, consumed));
    }
    let commits: Vec<Commit<'_>> = fired
        .iter()
        .map(|(d, t, consumed)| Commit {
            expected_version: d.version,
            transition: t,
            consumed: Some(consumed),
            node: "node-a",
            dispatch: None,
            head: None,
        })
        .collect();
    // Two warnings in one group: both stored, neither a version.
    let results = store.commit_many(&commits[..2]).await.expect("group");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    for (d, ..) in &fired[..2] {
        assert_eq!(
            store.load(&d.id).await.expect("load").as_ref(),
            Some(d),
            "the warning stored no version"
        );
    }
    // The third dossier moves before its warning is stored: the warning is refused, to be
    // worked out again from the dossier as it now is; the rest of its group is stored.
    let moved = answer_lookup_of(&store, &filings[2].state.id, due, step.as_deref()).await;
    assert!(
        moved
            .state
            .steps
            .values()
            .any(|s| s.status == machine::StepStatus::Dispatched),
        "the warned step is still dispatched"
    );
    let again = store.commit_many(&commits).await.expect("group");
    assert!(
        matches!(again[0], Err(Error::LeaseLost(_)))
            && matches!(again[1], Err(Error::LeaseLost(_))),
        "stored once: {again:?}"
    );
    assert!(
        matches!(again[2], Err(Error::Conflict(_))),
        "the dossier moved: {:?}",
        again[2]
    );
}

static ID: LazyLock<DossierId> = LazyLock::new(|| DossierId("d-1".into()));

async fn migrations_are_idempotent<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrations are idempotent");
}

async fn versions_are_kept_by_hash_and_chosen_by_effective_date<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    // Versions: by content hash, chosen by effective date.
    let v1 = store.publish(&MARRIAGE, T0).await.expect("publish");
    assert_eq!(
        store.publish(&MARRIAGE, T0).await.expect("again").hash,
        v1.hash,
        "publishing twice is one version"
    );
    let mut v2 = MARRIAGE.clone();
    v2.version = MARRIAGE.version + 1;
    v2.effective_from = NaiveDate::from_ymd_opt(2027, 3, 1).expect("date");
    store.publish(&v2, T0).await.expect("v2");
    let mut clash = MARRIAGE.clone();
    clash.title.en.push('!');
    assert!(
        matches!(store.publish(&clash, T0).await, Err(Error::Conflict(_))),
        "v1 cannot be republished with other content"
    );
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
    assert_eq!(
        store
            .procedure_for(&MARRIAGE.id, day(2026, 11, 23))
            .await
            .expect("query")
            .map(|p| p.0.version),
        Some(MARRIAGE.version)
    );
    assert_eq!(
        store
            .procedure_for(&MARRIAGE.id, day(2027, 3, 1))
            .await
            .expect("query")
            .map(|p| p.0.version),
        Some(MARRIAGE.version + 1)
    );
    assert!(
        store
            .procedure_for(&MARRIAGE.id, day(2020, 1, 1))
            .await
            .expect("query")
            .is_none()
    );
    assert_eq!(
        store
            .procedure_by_hash(&v1.hash)
            .await
            .expect("by hash")
            .as_ref(),
        Some(&*MARRIAGE)
    );
}

async fn a_submission_key_files_once_and_codes_have_no_gaps<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    // Idempotent submission and dossier codes.
    let Created::New(first, _) = submit(&store, "d-1", Some("portal-key-1"))
        .await
        .expect("create")
    else {
        panic!("new")
    };
    assert_eq!(first.state.code, "G22.99.08-261123-000001");
    let again = submit(&store, "d-1-retry", Some("portal-key-1"))
        .await
        .expect("create again");
    assert!(
        matches!(again, Created::Existing(ref id) if id.0 == "d-1"),
        "{again:?}"
    );
    let Created::New(second, _) = submit(&store, "d-2", None).await.expect("create") else {
        panic!("new")
    };
    assert_eq!(second.state.code, "G22.99.08-261123-000002");
}

async fn the_journal_replays_to_the_stored_state<S: Store>(store: S) {
    let first = filed(&store).await;
    // The state and the journal are stored; replaying the journal rebuilds the state.
    let id = ID.clone();
    let d = store.load(&id).await.expect("load").expect("exists");
    assert_eq!(d, first.state);
    let journal = store.journal(&id).await.expect("journal");
    assert_eq!(
        machine::replay(&MARRIAGE, &CALENDAR, &OPTIONS, &journal)
            .expect("replay")
            .as_ref(),
        Some(&d)
    );
}

async fn leased_claims_are_not_handed_out_twice_and_a_stale_one_cannot_commit<S: Store>(store: S) {
    filed(&store).await;
    let id = ID.clone();
    let d = store.load(&id).await.expect("load").expect("exists");
    // Outbox claims are leased; a stale claim cannot commit.
    let claimed = store
        .claim_outbox("node-a", T0, LEASE, 100)
        .await
        .expect("claim");
    let calls: Vec<_> = claimed
        .iter()
        .filter(|c| c.dossier == id && matches!(c.effect, Effect::CallAdapter { .. }))
        .collect();
    assert_eq!(calls.len(), 2, "both partners' lookups are in the outbox");
    assert!(
        store
            .claim_outbox("node-b", T0 + 1, LEASE, 100)
            .await
            .expect("claim")
            .is_empty(),
        "leased rows are not handed out twice"
    );
    let taken = store
        .claim_outbox("node-b", T0 + LEASE + 1, LEASE, 100)
        .await
        .expect("takeover");
    assert!(taken.len() >= 2, "expired leases are taken over");
    let stale = calls[0];
    let Effect::CallAdapter { step, .. } = &stale.effect else {
        unreachable!()
    };
    let t = next(
        &d,
        Event::StepCompleted {
            // An automated lookup: its agency's system answers.
            by: None,
            step: step.clone(),
            outputs: json!({"marital_status": "single"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        },
        T0 + LEASE + 2,
    );
    let consumed = Consumed::Outbox {
        id: stale.id,
        epoch: stale.epoch,
    };
    let stale_commit = store
        .commit(Commit {
            expected_version: d.version,
            transition: &t,
            consumed: Some(&consumed),
            node: "node-a",
            dispatch: None,
            head: None,
        })
        .await;
    assert!(
        matches!(stale_commit, Err(Error::LeaseLost(_))),
        "{stale_commit:?}"
    );
    assert_eq!(
        store
            .load(&id)
            .await
            .expect("load")
            .expect("exists")
            .version,
        d.version,
        "nothing of the stale commit is stored"
    );
    let current = taken.iter().find(|c| c.id == stale.id).expect("taken over");
    let consumed = Consumed::Outbox {
        id: current.id,
        epoch: current.epoch,
    };
    store
        .commit(Commit {
            expected_version: d.version,
            transition: &t,
            consumed: Some(&consumed),
            node: "node-b",
            dispatch: None,
            head: None,
        })
        .await
        .expect("current claim commits");
    let wrong_version = store
        .commit(Commit {
            expected_version: d.version,
            transition: &t,
            consumed: None,
            node: "node-b",
            dispatch: None,
            head: None,
        })
        .await;
    assert!(
        matches!(wrong_version, Err(Error::Conflict(_))),
        "a commit from an old version is refused"
    );
}

async fn a_due_timer_is_claimed_and_consumed_once<S: Store>(store: S) {
    filed(&store).await;
    let id = ID.clone();
    let t = answer_lookup(&store, T0 + 1_000).await;
    // Timers: set by commits, claimed when due, consumed once.
    let d = store.load(&id).await.expect("load").expect("exists");
    let breach = t.effects.iter().find_map(|e| match e {
        Effect::SetTimer { id, at } if id.kind == TimerKind::Breach => Some(*at),
        _ => None,
    });
    let due_at = breach.or_else(|| {
        d.steps
            .values()
            .filter_map(|s| s.clock.as_ref()?.deadline())
            .map(|t| t.timestamp_millis())
            .min()
    });
    let due_at = due_at.expect("a breach timer is pending");
    assert!(
        store
            .claim_timers("node-a", due_at - 1, LEASE, 100)
            .await
            .expect("early")
            .iter()
            .all(|t| t.due_at < due_at)
    );
    let fired = store
        .claim_timers("node-a", due_at + 5_000, LEASE, 1_000)
        .await
        .expect("due");
    let timer = fired
        .iter()
        .find(|t| t.dossier == id && t.kind == TimerKind::Breach)
        .expect("breach timer claimed");
    let (t2, consumed) = fire(&d, timer, due_at + 5_000);
    store
        .commit(Commit {
            expected_version: d.version,
            transition: &t2,
            consumed: Some(&consumed),
            node: "node-a",
            dispatch: None,
            head: None,
        })
        .await
        .expect("fire");
    let again = store
        .claim_timers("node-b", due_at + LEASE * 10, LEASE, 1_000)
        .await
        .expect("later");
    assert!(
        !again
            .iter()
            .any(|t| t.dossier == id && t.kind == TimerKind::Breach && t.step == timer.step),
        "a fired timer is gone"
    );
}

async fn human_tasks_appear_in_their_agency_queue_only<S: Store>(store: S) {
    filed(&store).await;
    let id = ID.clone();
    answer_lookup(&store, T0 + 1_000).await;
    // Human tasks appear in the agency's queue.
    let d = store.load(&id).await.expect("load").expect("exists");
    let other = d
        .steps
        .iter()
        .find(|(_, s)| s.status == machine::StepStatus::Dispatched)
        .map(|(k, _)| k.clone())
        .expect("the other lookup");
    let t3 = next(
        &d,
        Event::StepCompleted {
            // An automated lookup: its agency's system answers.
            by: None,
            step: other,
            outputs: json!({"marital_status": "divorced"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        },
        T0 + 2_000,
    );
    store
        .commit(Commit {
            expected_version: d.version,
            transition: &t3,
            consumed: None,
            node: "node-a",
            dispatch: None,
            head: None,
        })
        .await
        .expect("second lookup");
    let page = |limit| TaskFilter {
        limit,
        ..TaskFilter::default()
    };
    let tasks = store
        .agency_tasks("civil_status", &page(10))
        .await
        .expect("tasks");
    assert!(
        tasks
            .iter()
            .any(|t| t.dossier == id && t.step == "register_marriage" && t.status == "queued"),
        "{tasks:?}"
    );
    assert!(
        store
            .agency_tasks("residence", &page(10))
            .await
            .expect("tasks")
            .is_empty(),
        "another agency sees nothing"
    );
}

async fn a_schedule_tick_is_claimed_by_one_node<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    // A schedule tick is claimed once.
    let first_due = store
        .schedule_next("overdue_sweep", T0)
        .await
        .expect("schedule");
    assert_eq!(
        store
            .schedule_next("overdue_sweep", T0 + 99)
            .await
            .expect("schedule"),
        first_due
    );
    let run = |node: &str| JobRun {
        name: "overdue_sweep".into(),
        job: "overdue_sweep".into(),
        due_at: first_due,
        node: node.into(),
        ran_at: first_due,
        outcome: RunOutcome::Running,
        summary: serde_json::Value::Null,
        finished_at: None,
    };
    assert!(
        store
            .claim_job_tick(&run("node-a"), first_due + 86_400_000)
            .await
            .expect("tick")
    );
    assert!(
        !store
            .claim_job_tick(&run("node-b"), first_due + 86_400_000)
            .await
            .expect("tick"),
        "one node per tick"
    );
}

async fn counts_by_status_cover_every_dossier<S: Store>(store: S) {
    filed(&store).await;
    submit(&store, "d-2", None).await.expect("create");
    submit(&store, "d-3", None).await.expect("create");
    let counts = store.count_by_status().await.expect("counts");
    assert_eq!(counts, vec![("processing".to_string(), 3)]);
}

on_both_stores!(
    migrations_are_idempotent,
    versions_are_kept_by_hash_and_chosen_by_effective_date,
    a_submission_key_files_once_and_codes_have_no_gaps,
    the_journal_replays_to_the_stored_state,
    leased_claims_are_not_handed_out_twice_and_a_stale_one_cannot_commit,
    a_due_timer_is_claimed_and_consumed_once,
    human_tasks_appear_in_their_agency_queue_only,
    a_schedule_tick_is_claimed_by_one_node,
    counts_by_status_cover_every_dossier,
    a_deadline_warning_is_a_notification_not_a_version,
    warnings_of_a_group_are_stored_together_and_a_moved_dossier_is_refused,
);

#[tokio::test]
async fn sqlite_refuses_a_second_process_on_the_same_file() {
    let dir = std::env::temp_dir().join(format!("lienthong-lock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("engine.db");
    let first = SqliteStore::open(&path).await.expect("first opens");
    first.migrate().await.expect("migrate");
    let second = SqliteStore::open(&path).await;
    match second {
        Err(Error::Locked(msg)) => {
            assert!(msg.contains("in use by another lienthong process"), "{msg}")
        }
        other => panic!("expected a lock error, got {other:?}"),
    }
    drop(first);
    assert!(
        SqliteStore::open(&path).await.is_ok(),
        "the lock goes with its holder"
    );
    std::fs::remove_dir_all(&dir).ok();
}
