//! Supplements on SQLite and PostgreSQL: what the citizen sends is checked against the form
//! schema and against what the step's agency may ask for; a refused supplement names the
//! field and leaves nothing behind (no new version, no journal row, the form unchanged).

use crate::support;

use lienthong_engine::clock::ManualClock;
use lienthong_engine::machine::{DossierId, DossierStatus, Error as MachineError, Event};
use lienthong_engine::runtime::{Error, RecordingNotifier, Runtime};
use lienthong_engine::store::Store;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use support::{MARRIAGE, at, file_until_queued, load, marriage_form, node};

const CIVIL: &str = "civil_status";
const REGISTER: &str = "register_marriage";

async fn asked<S: Store>(store: S) -> (Runtime<S>, ManualClock, Arc<RecordingNotifier>, DossierId) {
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(at(2026, 11, 23, 9, 0));
    let (rt, notifier) = node(store, &clock, "node-1");
    rt.publish(&load(MARRIAGE)).await.expect("publish");
    let m = file_until_queued(
        &rt,
        "marital-status-marriage",
        None,
        marriage_form(),
        "m1",
        REGISTER,
    )
    .await;
    rt.claim_task(CIVIL, &m, REGISTER, "officer-a")
        .await
        .expect("claim");
    rt.request_supplement(
        CIVIL,
        &m,
        REGISTER,
        "officer-a",
        "Thiếu ngày tổ chức lễ cưới",
    )
    .await
    .expect("supplement asked");
    (rt, clock, notifier, m)
}

fn data(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

async fn refused_supplements_name_the_field_and_store_nothing<S: Store>(store: S) {
    let (rt, _, _, m) = asked(store).await;
    let before = rt.load(&m).await.expect("load").expect("dossier");
    let journal = rt.store().journal(&m).await.expect("journal").len();
    for (supplement, field) in [
        (
            json!({"partner_a": {"personal_id": "NOT-AN-ID"}}),
            "/partner_a/personal_id",
        ),
        (json!({"partner_b": {"sex": "alien"}}), "/partner_b/sex"),
        (
            json!({"nickname": "<script>alert(1)</script>"}),
            "/nickname",
        ),
        // The registrar reads the partners, the consent and the ceremony date, nothing else.
        (
            json!({"registration_commune": "Xã Khác"}),
            "/registration_commune",
        ),
        (json!({}), "/"),
    ] {
        let event = Event::SupplementProvided {
            step: REGISTER.into(),
            data: data(supplement.clone()),
        };
        match rt.handle(&m, &event, None).await {
            Err(Error::Machine(MachineError::InvalidSupplement { field: f, step, .. })) => {
                assert_eq!(f, field, "{supplement}");
                assert_eq!(step, REGISTER);
            }
            other => panic!("{supplement}: expected a refusal, got {other:?}"),
        }
    }
    let after = rt.load(&m).await.expect("load").expect("dossier");
    assert_eq!(after, before, "nothing of a refused supplement is stored");
    assert_eq!(
        rt.store().journal(&m).await.expect("journal").len(),
        journal,
        "no journal row"
    );
    assert_eq!(after.status, DossierStatus::SupplementRequested);
}

async fn a_supplement_of_what_was_asked_is_merged<S: Store>(store: S) {
    let (rt, _, _, m) = asked(store).await;
    let event = Event::SupplementProvided {
        step: REGISTER.into(),
        data: data(
            json!({"ceremony_date": "2026-12-12", "partner_b": {"full_name": "Phạm Thị Dung"}}),
        ),
    };
    rt.handle(&m, &event, None).await.expect("supplied");
    let d = rt.load(&m).await.expect("load").expect("dossier");
    assert_eq!(d.status, DossierStatus::Processing);
    assert_eq!(d.form["ceremony_date"], "2026-12-12");
    assert_eq!(
        d.form["partner_b"]["personal_id"], "079197012345",
        "the merge keeps what was there"
    );
}

support::on_both_stores!(
    refused_supplements_name_the_field_and_store_nothing,
    a_supplement_of_what_was_asked_is_merged,
);
