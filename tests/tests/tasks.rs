//! The agency task API on SQLite and PostgreSQL: an agency sees and touches only its own
//! tasks (another agency's task is "not found", word for word), tasks are claimed under a
//! lease before they are answered, answers are checked, and lapsed claims can be taken over.

use crate::support;

use lienthong_engine::clock::ManualClock;
use lienthong_engine::machine::{
    DossierId, DossierStatus, Effect, Error as MachineError, Event, StepStatus, Template,
};
use lienthong_engine::runtime::{
    Error, RecordingNotifier, Runtime, TaskError, TaskQuery, TaskStatus,
};
use lienthong_engine::store::{Store, Task};
use serde_json::{Map, Value, json};
use std::fmt::Debug;
use std::sync::Arc;
use support::{
    DEATH, MARRIAGE, at, death_form, file_until_queued, load, marriage_form, node, sent,
};

const CIVIL: &str = "civil_status";
const FUNERAL: &str = "funeral_support";
const REGISTER: &str = "register_marriage";
const MARRIAGE_ID: &str = "marital-status-marriage";
const DEATH_ID: &str = "death-residence-funeral-survivor";
const MINUTE: i64 = 60_000;

async fn setup<S: Store>(store: S) -> (Runtime<S>, ManualClock, Arc<RecordingNotifier>) {
    store.migrate().await.expect("migrate");
    // Monday 23 November 2026, 09:00 in Hà Nội.
    let clock = ManualClock::new(at(2026, 11, 23, 9, 0));
    let (rt, notifier) = node(store, &clock, "node-1");
    for text in [MARRIAGE, DEATH] {
        rt.publish(&load(text)).await.expect("publish");
    }
    (rt, clock, notifier)
}

async fn marriage<S: Store>(rt: &Runtime<S>, key: &str) -> DossierId {
    file_until_queued(rt, MARRIAGE_ID, None, marriage_form(), key, REGISTER).await
}

async fn funeral<S: Store>(rt: &Runtime<S>, key: &str) -> DossierId {
    file_until_queued(rt, DEATH_ID, Some("three"), death_form(), key, FUNERAL).await
}

fn outputs(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

fn certificate() -> Map<String, Value> {
    outputs(
        json!({"marriage_certificate_number": "KH-2026-1", "registered_on": "2026-11-23", "handover_deferred": false}),
    )
}

fn task_error<T: Debug>(r: Result<T, Error>) -> TaskError {
    match r {
        Err(Error::Task(e)) => e,
        other => panic!("expected a task error, got {other:?}"),
    }
}

fn dossiers(tasks: &[Task]) -> Vec<DossierId> {
    tasks.iter().map(|t| t.dossier.clone()).collect()
}

async fn step_status<S: Store>(rt: &Runtime<S>, id: &DossierId, step: &str) -> StepStatus {
    let d = rt.load(id).await.expect("load").expect("dossier");
    d.steps[step].status
}

async fn lists_only_the_agencys_open_tasks<S: Store>(store: S) {
    let (rt, clock, _) = setup(store).await;
    let m1 = marriage(&rt, "m1").await;
    clock.advance(MINUTE);
    let m2 = marriage(&rt, "m2").await;
    let f1 = funeral(&rt, "f1").await;
    let all = TaskQuery::default();
    let civil = rt.open_tasks(CIVIL, &all).await.expect("list");
    assert_eq!(dossiers(&civil), [m1.clone(), m2.clone()], "oldest first");
    assert!(
        civil
            .iter()
            .all(|t| t.step == REGISTER && t.agency == CIVIL)
    );
    assert_eq!(civil[0].request["dossier"]["procedure"], MARRIAGE_ID);
    let funeral = rt.open_tasks(FUNERAL, &all).await.expect("list");
    assert_eq!(dossiers(&funeral), [f1]);
    assert!(
        rt.open_tasks("residence", &all)
            .await
            .expect("list")
            .is_empty()
    );
    let only = |procedure: &str| TaskQuery {
        procedure: Some(procedure.into()),
        ..TaskQuery::default()
    };
    assert!(
        rt.open_tasks(CIVIL, &only(DEATH_ID))
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        rt.open_tasks(CIVIL, &only(MARRIAGE_ID))
            .await
            .expect("list")
            .len(),
        2
    );
    rt.claim_task(CIVIL, &m1, REGISTER, "officer-a")
        .await
        .expect("claim");
    let with = |status| TaskQuery {
        status: Some(status),
        ..TaskQuery::default()
    };
    let claimed = rt
        .open_tasks(CIVIL, &with(TaskStatus::Claimed))
        .await
        .expect("list");
    assert_eq!(dossiers(&claimed), std::slice::from_ref(&m1));
    assert_eq!(claimed[0].claimed_by.as_deref(), Some("officer-a"));
    let queued = rt
        .open_tasks(CIVIL, &with(TaskStatus::Queued))
        .await
        .expect("list");
    assert_eq!(dossiers(&queued), [m2]);
    let one = TaskQuery {
        limit: 1,
        ..TaskQuery::default()
    };
    assert_eq!(
        dossiers(&rt.open_tasks(CIVIL, &one).await.expect("list")),
        [m1]
    );
}

async fn another_agencys_task_is_not_found<S: Store>(store: S) {
    let (rt, _, _) = setup(store).await;
    let m1 = marriage(&rt, "m1").await;
    let f1 = funeral(&rt, "f1").await;
    let missing = DossierId("no-such-dossier".into());
    let text_for =
        |d: &DossierId, step: &str| format!("task `{step}` of dossier {d} does not exist");
    // Another agency's task, a dossier that does not exist, a step that does not exist, and
    // the agency's own automated step: the same error, the same words.
    let foreign = task_error(rt.claim_task(CIVIL, &f1, FUNERAL, "officer-a").await);
    assert!(matches!(foreign, TaskError::NotFound { .. }), "{foreign:?}");
    assert_eq!(foreign.to_string(), text_for(&f1, FUNERAL));
    let nothing = task_error(rt.claim_task(CIVIL, &missing, FUNERAL, "officer-a").await);
    assert_eq!(nothing.to_string(), text_for(&missing, FUNERAL));
    let no_step = task_error(rt.claim_task(CIVIL, &m1, "no_such_step", "officer-a").await);
    assert_eq!(no_step.to_string(), text_for(&m1, "no_such_step"));
    let automated = task_error(
        rt.claim_task(CIVIL, &m1, "check_status_a", "officer-a")
            .await,
    );
    assert_eq!(automated.to_string(), text_for(&m1, "check_status_a"));
    let view = task_error(rt.agency_task(CIVIL, &f1, FUNERAL).await);
    assert_eq!(view.to_string(), text_for(&f1, FUNERAL));
    // Even when the owner has claimed it, the other agency learns nothing of the claim.
    rt.claim_task(FUNERAL, &f1, FUNERAL, "officer-f")
        .await
        .expect("owner claims");
    let answers = [
        rt.complete_task(CIVIL, &f1, FUNERAL, "officer-f", &Map::new())
            .await,
        rt.reject_task(CIVIL, &f1, FUNERAL, "officer-f", "no").await,
        rt.request_supplement(CIVIL, &f1, FUNERAL, "officer-f", "papers")
            .await,
        rt.start_verification(CIVIL, &f1, FUNERAL, "officer-f", "basis")
            .await,
        rt.claim_task(CIVIL, &f1, FUNERAL, "officer-a").await,
    ];
    for answer in answers {
        assert_eq!(task_error(answer).to_string(), text_for(&f1, FUNERAL));
    }
    let owner = rt
        .agency_task(FUNERAL, &f1, FUNERAL)
        .await
        .expect("owner sees it");
    assert_eq!(owner.claimed_by.as_deref(), Some("officer-f"));
    assert_eq!(step_status(&rt, &f1, FUNERAL).await, StepStatus::Claimed);
}

async fn claim_then_complete_decides_the_dossier<S: Store>(store: S) {
    let (rt, clock, notifier) = setup(store).await;
    let m1 = marriage(&rt, "m1").await;
    let t = rt
        .claim_task(CIVIL, &m1, REGISTER, " officer-a ")
        .await
        .expect("claim");
    assert_eq!(t.status, "claimed");
    assert_eq!(
        t.claimed_by.as_deref(),
        Some("officer-a"),
        "the name is trimmed"
    );
    assert_eq!(
        t.claim_until,
        Some(clock_now(&clock) + 30 * MINUTE),
        "the default lease"
    );
    // Claiming one's own live claim again changes nothing (the lease is not extended).
    clock.advance(MINUTE);
    let again = rt
        .claim_task(CIVIL, &m1, REGISTER, "officer-a")
        .await
        .expect("again");
    assert_eq!(again.claim_until, t.claim_until);
    let done = rt
        .complete_task(CIVIL, &m1, REGISTER, "officer-a", &certificate())
        .await
        .expect("complete");
    assert_eq!(done.status, "done");
    let d = rt.load(&m1).await.expect("load").expect("dossier");
    assert_eq!(
        d.status,
        DossierStatus::Decided,
        "the last step done decides the dossier"
    );
    assert_eq!(d.steps[REGISTER].outputs.as_ref(), Some(&certificate()));
    assert!(
        rt.open_tasks(CIVIL, &TaskQuery::default())
            .await
            .expect("list")
            .is_empty()
    );
    while rt.tick().await.expect("tick").total() > 0 {}
    let decided = sent(&notifier).into_iter().any(|(id, e)| {
        id == m1
            && matches!(
                e,
                Effect::Notify {
                    template: Template::Decided,
                    ..
                }
            )
    });
    assert!(decided, "the citizen is told");
    let closed = task_error(
        rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &certificate())
            .await,
    );
    assert!(matches!(closed, TaskError::NotOpen { .. }), "{closed:?}");
    assert!(closed.to_string().contains("the step is done"), "{closed}");
}

fn clock_now(clock: &ManualClock) -> i64 {
    support::now(clock)
}

async fn a_claim_held_by_another_officer_is_refused<S: Store>(store: S) {
    let (rt, _, _) = setup(store).await;
    let m1 = marriage(&rt, "m1").await;
    let unclaimed = task_error(
        rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &certificate())
            .await,
    );
    assert!(
        matches!(unclaimed, TaskError::NotClaimant { .. }),
        "{unclaimed:?}"
    );
    assert!(
        unclaimed.to_string().contains("claim it first"),
        "{unclaimed}"
    );
    rt.claim_task(CIVIL, &m1, REGISTER, "officer-a")
        .await
        .expect("claim");
    let taken = task_error(rt.claim_task(CIVIL, &m1, REGISTER, "officer-b").await);
    assert!(
        matches!(&taken, TaskError::ClaimedByOther { by, .. } if by == "officer-a"),
        "{taken:?}"
    );
    assert!(
        taken
            .to_string()
            .contains("claimed by `officer-a` until 2026-11-23T09:30:00+07:00"),
        "{taken}"
    );
    let answer = task_error(
        rt.complete_task(CIVIL, &m1, REGISTER, "officer-b", &certificate())
            .await,
    );
    assert!(
        matches!(answer, TaskError::ClaimedByOther { .. }),
        "{answer:?}"
    );
    let empty = task_error(rt.claim_task(CIVIL, &m1, REGISTER, "  ").await);
    assert!(matches!(empty, TaskError::Invalid(_)), "{empty:?}");
    rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &certificate())
        .await
        .expect("the holder completes");
}

async fn outputs_must_be_exactly_the_declared_writes<S: Store>(store: S) {
    let (rt, _, _) = setup(store).await;
    let m1 = marriage(&rt, "m1").await;
    rt.claim_task(CIVIL, &m1, REGISTER, "officer-a")
        .await
        .expect("claim");
    let invalid = |r: Result<Task, Error>| match r {
        Err(Error::Machine(MachineError::InvalidOutputs { step, message })) => {
            assert_eq!(step, REGISTER);
            message
        }
        other => panic!("expected invalid outputs, got {other:?}"),
    };
    let mut extra = certificate();
    extra.insert("spouse_photo".into(), json!("doc://p"));
    let message = invalid(
        rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &extra)
            .await,
    );
    assert!(
        message.contains("`spouse_photo` is not declared in writes:"),
        "{message}"
    );
    let mut missing = certificate();
    missing.remove("registered_on");
    let message = invalid(
        rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &missing)
            .await,
    );
    assert!(
        message.contains("`registered_on` is declared in writes: but missing"),
        "{message}"
    );
    let mut wrong = certificate();
    wrong.insert("registered_on".into(), json!("yesterday"));
    let message = invalid(
        rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &wrong)
            .await,
    );
    assert!(message.contains("registered_on"), "{message}");
    assert_eq!(
        step_status(&rt, &m1, REGISTER).await,
        StepStatus::Claimed,
        "nothing changed"
    );
    rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &certificate())
        .await
        .expect("the declared outputs pass");
}

async fn rejecting_stops_the_dossier<S: Store>(store: S) {
    let (rt, _, notifier) = setup(store).await;
    let m1 = marriage(&rt, "m1").await;
    rt.claim_task(CIVIL, &m1, REGISTER, "officer-a")
        .await
        .expect("claim");
    let empty = task_error(rt.reject_task(CIVIL, &m1, REGISTER, "officer-a", " ").await);
    assert!(
        matches!(empty, TaskError::Invalid(_)),
        "a reason is required"
    );
    let reason = "Bên B đang có vợ/chồng";
    let t = rt
        .reject_task(CIVIL, &m1, REGISTER, "officer-a", reason)
        .await
        .expect("reject");
    assert_eq!(t.status, "rejected");
    let d = rt.load(&m1).await.expect("load").expect("dossier");
    assert_eq!(d.status, DossierStatus::Stopped);
    assert_eq!(d.steps[REGISTER].status, StepStatus::Rejected);
    assert_eq!(d.steps[REGISTER].reason.as_deref(), Some(reason));
    while rt.tick().await.expect("tick").total() > 0 {}
    let stopped = sent(&notifier).into_iter().any(|(id, e)| {
        id == m1
            && matches!(
                e,
                Effect::Notify {
                    template: Template::Stopped,
                    ..
                }
            )
    });
    assert!(stopped);
}

async fn a_supplement_request_pauses_and_requeues<S: Store>(store: S) {
    let (rt, _, notifier) = setup(store).await;
    let m1 = marriage(&rt, "m1").await;
    rt.claim_task(CIVIL, &m1, REGISTER, "officer-a")
        .await
        .expect("claim");
    let t = rt
        .request_supplement(
            CIVIL,
            &m1,
            REGISTER,
            "officer-a",
            "Thiếu ngày tổ chức lễ cưới",
        )
        .await
        .expect("supplement");
    assert_eq!(t.status, "supplement");
    let d = rt.load(&m1).await.expect("load").expect("dossier");
    assert_eq!(d.status, DossierStatus::SupplementRequested);
    assert_eq!(d.steps[REGISTER].claimed_by, None, "the claim ends");
    assert!(
        rt.open_tasks(CIVIL, &TaskQuery::default())
            .await
            .expect("list")
            .is_empty()
    );
    let waiting = task_error(rt.claim_task(CIVIL, &m1, REGISTER, "officer-b").await);
    assert!(
        waiting.to_string().contains("the step is supplement"),
        "{waiting}"
    );
    while rt.tick().await.expect("tick").total() > 0 {}
    let asked = sent(&notifier).into_iter().any(|(id, e)| {
        id == m1
            && matches!(
                e,
                Effect::Notify {
                    template: Template::SupplementRequested,
                    ..
                }
            )
    });
    assert!(asked, "the citizen is asked");
    let data = outputs(json!({"ceremony_date": "2026-12-12"}));
    let event = Event::SupplementProvided {
        step: REGISTER.into(),
        data,
    };
    rt.handle(&m1, &event, None).await.expect("supplied");
    let queued = rt
        .open_tasks(CIVIL, &TaskQuery::default())
        .await
        .expect("list");
    assert_eq!(dossiers(&queued), std::slice::from_ref(&m1));
    assert_eq!(queued[0].status, "queued");
    assert_eq!(
        queued[0].request["form"]["ceremony_date"], "2026-12-12",
        "the new request"
    );
    rt.claim_task(CIVIL, &m1, REGISTER, "officer-b")
        .await
        .expect("anyone may claim again");
}

async fn verification_extends_the_limit<S: Store>(store: S) {
    let (rt, _, _) = setup(store).await;
    let m1 = marriage(&rt, "m1").await;
    rt.claim_task(CIVIL, &m1, REGISTER, "officer-a")
        .await
        .expect("claim");
    let basis = "Nghị định 07/2025/NĐ-CP: xác minh tối đa 5 ngày làm việc";
    let other = task_error(
        rt.start_verification(CIVIL, &m1, REGISTER, "officer-b", basis)
            .await,
    );
    assert!(
        matches!(other, TaskError::ClaimedByOther { .. }),
        "{other:?}"
    );
    let t = rt
        .start_verification(CIVIL, &m1, REGISTER, "officer-a", basis)
        .await
        .expect("verification");
    assert_eq!(
        t.claimed_by.as_deref(),
        Some("officer-a"),
        "the officer keeps the task"
    );
    let d = rt.load(&m1).await.expect("load").expect("dossier");
    let clock = d.steps[REGISTER].clock.as_ref().expect("clock");
    assert_eq!(clock.limit(), 5);
    assert_eq!(
        clock.extension().map(|e| e.legal_basis.as_str()),
        Some(basis)
    );
    let deadline = clock.deadline().expect("deadline").to_rfc3339();
    assert_eq!(
        deadline, "2026-11-30T17:00:00+07:00",
        "five working days after Monday"
    );
    rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &certificate())
        .await
        .expect("complete after verification");
}

async fn a_lapsed_claim_can_be_taken_over<S: Store>(store: S) {
    let (rt, clock, _) = setup(store).await;
    let m1 = marriage(&rt, "m1").await;
    let m2 = marriage(&rt, "m2").await;
    rt.claim_task(CIVIL, &m1, REGISTER, "officer-a")
        .await
        .expect("claim m1");
    rt.claim_task(CIVIL, &m2, REGISTER, "officer-a")
        .await
        .expect("claim m2");
    clock.advance(31 * MINUTE);
    // The lease has lapsed: its holder may no longer answer.
    let lapsed = task_error(
        rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &certificate())
            .await,
    );
    assert!(
        matches!(lapsed, TaskError::NotClaimant { .. }),
        "{lapsed:?}"
    );
    // Before the expiry timer fired, another officer may take it over directly.
    let t = rt
        .claim_task(CIVIL, &m2, REGISTER, "officer-c")
        .await
        .expect("take over m2");
    assert_eq!(t.claimed_by.as_deref(), Some("officer-c"));
    // The expiry timer puts m1 back in the queue; m2's timer was re-set by the new claim.
    while rt.tick().await.expect("tick").total() > 0 {}
    assert_eq!(step_status(&rt, &m1, REGISTER).await, StepStatus::Queued);
    let m1_task = rt.agency_task(CIVIL, &m1, REGISTER).await.expect("task");
    assert_eq!(
        (m1_task.status.as_str(), m1_task.claimed_by),
        ("queued", None)
    );
    let m2_task = rt.agency_task(CIVIL, &m2, REGISTER).await.expect("task");
    assert_eq!(
        m2_task.claimed_by.as_deref(),
        Some("officer-c"),
        "the new claim holds"
    );
    rt.claim_task(CIVIL, &m1, REGISTER, "officer-b")
        .await
        .expect("officer-b claims m1");
    let old = task_error(
        rt.complete_task(CIVIL, &m1, REGISTER, "officer-a", &certificate())
            .await,
    );
    assert!(matches!(old, TaskError::ClaimedByOther { .. }), "{old:?}");
    rt.complete_task(CIVIL, &m1, REGISTER, "officer-b", &certificate())
        .await
        .expect("officer-b completes");
    rt.complete_task(CIVIL, &m2, REGISTER, "officer-c", &certificate())
        .await
        .expect("officer-c completes");
}

support::on_both_stores!(
    lists_only_the_agencys_open_tasks,
    another_agencys_task_is_not_found,
    claim_then_complete_decides_the_dossier,
    a_claim_held_by_another_officer_is_refused,
    outputs_must_be_exactly_the_declared_writes,
    rejecting_stops_the_dossier,
    a_supplement_request_pauses_and_requeues,
    verification_extends_the_limit,
    a_lapsed_claim_can_be_taken_over,
);
