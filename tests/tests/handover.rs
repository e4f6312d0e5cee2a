//! The deferred hand-over of a marriage certificate on SQLite and PostgreSQL, through the
//! runtime: the window step waits in the civil-status queue; a couple who come are handed
//! their certificate and the dossier is decided; for a couple who do not come within 60
//! days the stored timer fires, the step is refused with the window's reason, the task
//! leaves the queue and the dossier is stopped.

use crate::support;

use lienthong_engine::clock::ManualClock;
use lienthong_engine::machine::{DossierId, DossierStatus, StepStatus, Template};
use lienthong_engine::runtime::{Runtime, TaskQuery};
use lienthong_engine::store::Store;
use serde_json::{Map, Value, json};
use support::{MARRIAGE, at, file_until_queued, load, marriage_form, node};

const CIVIL: &str = "civil_status";
const REGISTER: &str = "register_marriage";
const HAND_OVER: &str = "hand_over_certificate";
const DAY: i64 = 86_400_000;

fn outputs(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

/// Files a marriage, registers it with the hand-over deferred, and waits for the hand-over
/// task to reach the queue.
async fn registered_deferred<S: Store>(rt: &Runtime<S>, key: &str) -> DossierId {
    let id = file_until_queued(
        rt,
        "marital-status-marriage",
        None,
        marriage_form(),
        key,
        REGISTER,
    )
    .await;
    rt.claim_task(CIVIL, &id, REGISTER, "officer-a")
        .await
        .expect("claim");
    let certificate = json!({
        "marriage_certificate_number": format!("KH-{key}"),
        "registered_on": "2026-11-23",
        "handover_deferred": true,
    });
    rt.complete_task(CIVIL, &id, REGISTER, "officer-a", &outputs(certificate))
        .await
        .expect("register");
    for _ in 0..50 {
        let d = rt.load(&id).await.expect("load").expect("dossier");
        if d.steps[HAND_OVER].status == StepStatus::Queued {
            return id;
        }
        rt.tick().await.expect("tick");
    }
    panic!("the hand-over of {id} never reached the queue");
}

async fn the_window_waits_for_the_couple_and_closes_after_60_days<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    // Monday 23 November 2026, 09:00.
    let clock = ManualClock::new(at(2026, 11, 23, 9, 0));
    let (rt, _) = node(store, &clock, "node-1");
    rt.publish(&load(MARRIAGE)).await.expect("publish");
    let came = registered_deferred(&rt, "came").await;
    let away = registered_deferred(&rt, "away").await;
    let queue = rt
        .open_tasks(CIVIL, &TaskQuery::default())
        .await
        .expect("queue");
    assert_eq!(
        queue.iter().filter(|t| t.step == HAND_OVER).count(),
        2,
        "both hand-overs wait in the civil-status queue"
    );
    // The first couple come ten days later.
    clock.advance(10 * DAY);
    while rt.tick().await.expect("tick").total() > 0 {}
    rt.claim_task(CIVIL, &came, HAND_OVER, "officer-b")
        .await
        .expect("claim the hand-over");
    let handed = outputs(json!({"handed_over_on": "2026-12-03"}));
    rt.complete_task(CIVIL, &came, HAND_OVER, "officer-b", &handed)
        .await
        .expect("hand over");
    let d = rt.load(&came).await.expect("load").expect("dossier");
    assert_eq!(d.status, DossierStatus::Decided);
    // The second couple never come: 23 November + 60 days is Friday 22 January 2027.
    let before = at(2027, 1, 22, 16, 59) - at(2026, 12, 3, 9, 0);
    clock.advance(before);
    while rt.tick().await.expect("tick").total() > 0 {}
    let d = rt.load(&away).await.expect("load").expect("dossier");
    assert_eq!(
        d.steps[HAND_OVER].status,
        StepStatus::Queued,
        "still open on the window's last day"
    );
    clock.advance(2 * 60_000);
    while rt.tick().await.expect("tick").total() > 0 {}
    let d = rt.load(&away).await.expect("load").expect("dossier");
    assert_eq!(d.steps[HAND_OVER].status, StepStatus::Rejected);
    assert_eq!(d.steps[REGISTER].status, StepStatus::Done);
    assert_eq!(d.status, DossierStatus::Stopped);
    let reason = d.steps[HAND_OVER].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("không đến nhận trong thời hạn 60 ngày"),
        "{reason}"
    );
    assert!(
        d.documents
            .iter()
            .any(|doc| doc.kind == Template::ProcedureRefused),
        "the citizen is told the registration was refused"
    );
    let queue = rt
        .open_tasks(CIVIL, &TaskQuery::default())
        .await
        .expect("queue");
    assert!(
        queue.iter().all(|t| t.dossier != away),
        "the closed window leaves nothing in the queue"
    );
}

support::on_both_stores!(the_window_waits_for_the_couple_and_closes_after_60_days);
