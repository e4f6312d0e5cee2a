//! Group filing (`Store::create_many`), on both stores: one transaction for many
//! submissions keeps the day's dossier codes gapless when the machine refuses some, answers
//! a used idempotency key with the dossier it filed, and hands over the claimed rows.

#[allow(dead_code)] // the store tests' helpers, of which this file uses a part
use crate::store_support;
use crate::support;

use chrono::NaiveDate;
use lienthong_engine::machine::{self, DossierId, Transition};
use lienthong_engine::store::{Created, Filing, NewDossier, Store};
use store_support::{MARRIAGE, T0};
use support::on_both_stores;

const DAY: (i32, u32, u32) = (2026, 11, 23);

/// A submission as dossier `id`; a `refused` one fails to build, as a submission the
/// machine refuses does.
fn builder(
    id: &str,
    hash: &str,
    refused: bool,
) -> impl Fn(String) -> Result<Transition, machine::Error> + Send + Sync + use<> {
    let (dossier, hash) = (DossierId(id.to_string()), hash.to_string());
    move |code| {
        if refused {
            return Err(machine::Error::Missing);
        }
        store_support::submitted(&dossier, code, &hash)
    }
}

/// Files dossier `id` alone (a group of one) and returns the store's answer.
async fn file_one<S: Store>(
    store: &S,
    id: &DossierId,
    key: Option<&str>,
    hash: &str,
    dispatch: Option<i64>,
) -> Result<Created, machine::Error> {
    let build = builder(&id.0, hash, false);
    let one = new(id, key, hash, dispatch);
    let mut answers = store
        .create_many(&[Filing {
            new: &one,
            build: &build,
        }])
        .await
        .expect("file");
    answers.remove(0)
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).expect("date")
}

fn new<'a>(
    id: &'a DossierId,
    key: Option<&'a str>,
    hash: &'a str,
    dispatch: Option<i64>,
) -> NewDossier<'a> {
    NewDossier {
        id,
        submission_key: key,
        agency_code: "G22.99.08",
        day: day(),
        procedure_hash: hash,
        node: "node-a",
        origin: &ORIGIN,
        dispatch,
    }
}

static ORIGIN: std::sync::LazyLock<lienthong_engine::store::Origin> =
    std::sync::LazyLock::new(Default::default);

/// Five submissions in one group, the second and fourth with a form the machine refuses:
/// the three accepted take numbers 1, 2 and 3 — no hole — and the next group goes on at 4.
async fn refused_submissions_leave_no_gap_in_the_codes<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    let hash = store.publish(&MARRIAGE, T0).await.expect("publish").hash;
    let ids: Vec<DossierId> = (1..=5).map(|i| DossierId(format!("d-{i}"))).collect();
    let builds: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| builder(&id.0, &hash, i % 2 == 1))
        .collect();
    let news: Vec<NewDossier<'_>> = ids.iter().map(|id| new(id, None, &hash, None)).collect();
    let items: Vec<Filing<'_>> = news
        .iter()
        .zip(&builds)
        .map(|(new, b)| Filing { new, build: b })
        .collect();
    let answers = store.create_many(&items).await.expect("one transaction");
    let codes: Vec<Option<String>> = answers
        .iter()
        .map(|a| match a {
            Ok(Created::New(t, _)) => Some(t.state.code.clone()),
            Ok(Created::Existing(_)) => panic!("no key was given"),
            Err(_) => None,
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            Some("G22.99.08-261123-000001".to_string()),
            None,
            Some("G22.99.08-261123-000002".to_string()),
            None,
            Some("G22.99.08-261123-000003".to_string()),
        ]
    );
    for (id, code) in ids.iter().zip(&codes) {
        let stored = store.load(id).await.expect("load");
        assert_eq!(stored.map(|d| d.code), code.clone(), "{id} as stored");
    }
    // The sequence was set back: the next dossier of the day is number 4.
    let next = DossierId("d-6".into());
    match &file_one(&store, &next, None, &hash, None).await {
        Ok(Created::New(t, _)) => assert_eq!(t.state.code, "G22.99.08-261123-000004"),
        other => panic!("expected a new dossier, got {other:?}"),
    }
}

/// A key used by an earlier group answers the dossier it filed, and nothing new is stored;
/// rows handed over come back claimed by the node.
async fn a_used_key_answers_its_dossier_and_claimed_rows_come_back<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    let hash = store.publish(&MARRIAGE, T0).await.expect("publish").hash;
    let first = DossierId("k-1".into());
    let answer = file_one(&store, &first, Some("portal-1"), &hash, Some(T0 + 30_000)).await;
    let Ok(Created::New(t, handed)) = &answer else {
        panic!("expected a new dossier, got {answer:?}");
    };
    let outbox_effects = t
        .effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                machine::Effect::CallAdapter { .. } | machine::Effect::Notify { .. }
            )
        })
        .count();
    assert_eq!(
        handed.len(),
        outbox_effects,
        "every outbox row is handed over"
    );
    assert!(handed.iter().all(|c| c.epoch == 1 && c.dossier == first));
    // Claimed by this node: another node's claim finds nothing until the lease ends.
    let taken = store
        .claim_outbox("node-b", T0 + 1_000, 5_000, 100)
        .await
        .expect("claim");
    assert!(
        taken.is_empty(),
        "a handed-over row was claimed by another node: {taken:?}"
    );
    let again = DossierId("k-2".into());
    let answer = file_one(&store, &again, Some("portal-1"), &hash, None).await;
    assert!(
        matches!(&answer, Ok(Created::Existing(id)) if *id == first),
        "{answer:?}"
    );
    assert!(store.load(&again).await.expect("load").is_none());
    // After the lease, any node may take the rows over.
    let taken = store
        .claim_outbox("node-b", T0 + 31_000, 5_000, 100)
        .await
        .expect("claim");
    assert_eq!(taken.len(), outbox_effects);
}

on_both_stores!(
    refused_submissions_leave_no_gap_in_the_codes,
    a_used_key_answers_its_dossier_and_claimed_rows_come_back,
);
