//! What the store tests share: the marriage procedure, a fixed clock and calendar, and filing
//! a dossier straight through a store (no runtime).

use chrono::NaiveDate;
use lienthong_engine::calendar::Calendar;
use lienthong_engine::definition::{Catalog, Procedure, validate_source};
use lienthong_engine::machine::{self, DossierId, Env, Event, Options, ProcedureRef, Transition};
use lienthong_engine::store::{Created, Error, NewDossier, Store};
use serde_json::{Value, json};
use std::sync::LazyLock;

pub static CALENDAR: LazyLock<Calendar> = LazyLock::new(Calendar::vietnam);
pub static OPTIONS: LazyLock<Options> = LazyLock::new(Options::default);
pub static MARRIAGE: LazyLock<Procedure> = LazyLock::new(|| {
    let text = include_str!("../../../workflows/marital-status-marriage.yaml");
    validate_source("marriage", text.as_bytes(), &Catalog::builtin())
        .procedure
        .expect("valid")
});

/// Monday 23 November 2026, 09:00 in Hà Nội.
pub const T0: i64 = 1_795_399_200_000;
pub const LEASE: i64 = 30_000;

pub fn form() -> Value {
    json!({
        "partner_a": {"full_name": "Lê Văn Cường", "personal_id": "079095012345", "birth_date": "1995-03-02", "sex": "male"},
        "partner_b": {"full_name": "Phạm Thị Dung", "personal_id": "079197012345", "birth_date": "1997-07-09", "sex": "female"},
        "consent": {"partner_a": true, "partner_b": true}
    })
}

pub fn env(now: i64) -> Env<'static> {
    Env {
        procedure: &MARRIAGE,
        calendar: &CALENDAR,
        options: &OPTIONS,
        now,
    }
}

/// The machine's answer to the marriage dossier `id`, submitted at `T0` as version `hash`
/// with number `code`.
pub fn submitted(id: &DossierId, code: String, hash: &str) -> Result<Transition, machine::Error> {
    machine::apply(
        env(T0),
        None,
        &Event::Submitted {
            channel: None,
            id: id.clone(),
            code,
            procedure: ProcedureRef {
                id: MARRIAGE.id.clone(),
                version: MARRIAGE.version,
                hash: hash.to_string(),
            },
            bundle: None,
            form: form(),
            journal: machine::JOURNAL_FORMAT,
        },
    )
}

pub async fn submit<S: Store>(store: &S, id: &str, key: Option<&str>) -> Result<Created, Error> {
    let published = store.publish(&MARRIAGE, T0).await?;
    let dossier = DossierId(id.to_string());
    let new = NewDossier {
        id: &dossier,
        submission_key: key,
        agency_code: "G22.99.08",
        day: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        procedure_hash: &published.hash,
        node: "node-a",
        origin: &Default::default(),
        dispatch: None,
    };
    let created = store
        .create(new, |code| submitted(&dossier, code, &published.hash))
        .await?;
    Ok(created.expect("the machine accepts the submission"))
}
