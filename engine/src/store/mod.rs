//! Durable storage: a coarse unit-of-work API over SQLite (the embedded default) and
//! PostgreSQL (several nodes). Both run the same SQL where the dialects agree (numbered
//! `$n` parameters, `ON CONFLICT`, `RETURNING`, row values) and mirrored migrations with the
//! same numbers; only claims differ (PostgreSQL adds `FOR UPDATE SKIP LOCKED`).
//!
//! Transactions, locks and leases:
//! - every change to a dossier is one transaction: the new state (guarded by the expected
//!   version), its journal entry, its timers, its outbox rows and task rows;
//! - work is claimed under a lease (`lease_owner`, `lease_until`) and every claim bumps the
//!   row's `epoch`; consuming claimed work deletes the row *with that epoch* in the same
//!   transaction as the transition it caused, so a node whose lease was taken over (a stale
//!   node) cannot commit: its delete finds no row and the transaction rolls back;
//! - re-setting a timer bumps its epoch too, so a claim of the old timer cannot consume it.

mod accounts;
mod accounts_sql;
mod bulk;
mod create;
mod dialect;
mod dossiers;
mod group;
mod notices;
mod pg_write;
mod postgres;
mod procedures;
mod queue;
mod reports;
mod schedules;
mod sqlite;
mod sqlite_write;
mod tasks;
mod transitions;

pub use accounts::{
    Accounts, ApiKey, AuditEntry, AuditRow, GENESIS, JournalLink, NoticeRow, Origin, Scope, User,
    VersionRow, journal_hash, link,
};
pub use create::{Build, Filing};
pub use dialect::{Dialect, SqlBackend};
pub use dossiers::Dossiers;
pub use postgres::PgStore;
pub use procedures::{InForce, Procedures};
pub use queue::{Queue, SupplementWindow};
pub use reports::{LiveRow, ReportQuery, ReportRead, Reports};
pub use schedules::{JobRun, RunOutcome, Schedules};
pub use sqlite::SqliteStore;
pub use tasks::{Task, TaskFilter, Tasks};
pub use transitions::Transitions;

use crate::clock::Millis;
use crate::machine::{DossierId, Effect, TimerKind, Transition};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another node changed the dossier first (or published other content under a version).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The claim this node held was taken over by another node: it must not act on it.
    #[error("lease lost: {0}")]
    LeaseLost(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// Another engine process holds the embedded database.
    #[error("{0}")]
    Locked(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored document: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A published procedure version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub hash: String,
    pub id: String,
    pub version: u32,
    pub effective_from: NaiveDate,
}

/// What creating a dossier needs besides the machine's transition.
#[derive(Debug, Clone)]
pub struct NewDossier<'a> {
    pub id: &'a DossierId,
    /// The submitter's idempotency key: the same key twice gives one dossier.
    pub submission_key: Option<&'a str>,
    /// The receiving agency's code, first part of the dossier code.
    pub agency_code: &'a str,
    /// The day of receipt (local), middle part of the dossier code.
    pub day: NaiveDate,
    pub procedure_hash: &'a str,
    pub node: &'a str,
    /// Who filed it and where.
    pub origin: &'a Origin,
    /// See [`Commit::dispatch`].
    pub dispatch: Option<Millis>,
}

/// The result of a creation.
#[derive(Debug)]
pub enum Created {
    /// The stored transition, and the outbox rows it created already claimed by the node
    /// (see [`Commit::dispatch`]).
    New(Box<Transition>, Dispatched),
    /// The submission key was already used: the dossier it created.
    Existing(DossierId),
}

/// Claimed work that a commit consumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    Timer {
        kind: TimerKind,
        step: Option<String>,
        epoch: i64,
    },
    Outbox {
        id: i64,
        epoch: i64,
    },
}

/// One transition to store.
#[derive(Debug, Clone, Copy)]
pub struct Commit<'a> {
    pub expected_version: u64,
    pub transition: &'a Transition,
    pub consumed: Option<&'a Consumed>,
    pub node: &'a str,
    /// When set, the outbox rows this transition creates are stored already claimed by
    /// `node` until this instant (as [`Store::claim_outbox`] would claim them) and returned,
    /// so the node carries them out at once instead of claiming them in another
    /// transaction. Should the node die first, its lease ends and any node claims them.
    pub dispatch: Option<Millis>,
    /// The hash of the dossier's journal row at `expected_version`, when the caller read it
    /// with the state ([`Store::load_head`]); the store reads it otherwise. A wrong one
    /// cannot be stored: it belongs to another version, which the version check refuses.
    pub head: Option<&'a str>,
}

/// The outbox rows a commit stored already claimed by its node.
pub type Dispatched = Vec<ClaimedEffect>;

#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedTimer {
    pub dossier: DossierId,
    pub kind: TimerKind,
    pub step: Option<String>,
    pub due_at: Millis,
    pub epoch: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedEffect {
    pub id: i64,
    pub dossier: DossierId,
    pub effect: Effect,
    pub epoch: i64,
    pub created_at: Millis,
}

/// The unit-of-work API the runtime uses: every table's trait, and the store's life. Every
/// method is one transaction.
pub trait Store:
    Procedures
    + Dossiers
    + Transitions
    + Queue
    + Tasks
    + Schedules
    + Accounts
    + Reports
    + Clone
    + Send
    + Sync
    + 'static
{
    fn migrate(&self) -> impl Future<Output = Result<()>> + Send;
    /// Whether the database admits one write transaction at a time (SQLite): the runtime
    /// then orders its writes rather than overlapping them.
    fn one_writer(&self) -> bool;
    /// Wakes `wake` whenever another node commits new work (PostgreSQL LISTEN/NOTIFY, kept
    /// up in the background); a no-op where one process owns the store (SQLite).
    fn watch(
        &self,
        wake: std::sync::Arc<tokio::sync::Notify>,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// A write transaction's turn at the database's writer: the store's write gate (on SQLite, the
/// process's queue; none on PostgreSQL) held together with the time since it was taken,
/// recorded on drop, before the gate opens, as `lienthong_store_write_seconds{op}`. Every
/// transaction that queues at the gate takes its turn through this, so on SQLite, where turns
/// never overlap, their sum is a lower bound of the one writer's busy time (single-statement
/// writes outside the gate are not counted); `bench --timers` reports it.
pub(crate) struct Held<G> {
    op: &'static str,
    since: std::time::Instant,
    _gate: G,
}

impl<G> Held<G> {
    pub(crate) fn start(op: &'static str, gate: G) -> Self {
        Held {
            op,
            since: std::time::Instant::now(),
            _gate: gate,
        }
    }
}

impl<G> Drop for Held<G> {
    fn drop(&mut self) {
        metrics::histogram!("lienthong_store_write_seconds", "op" => self.op)
            .record(self.since.elapsed().as_secs_f64());
    }
}

/// A migrator over migrations embedded in the binary: `(number, description, SQL)`.
pub(crate) fn migrator(migrations: &[(i64, &str, &'static str)]) -> sqlx::migrate::Migrator {
    use sqlx::SqlSafeStr;
    use sqlx::migrate::{Migration, MigrationType};
    sqlx::migrate::Migrator::with_migrations(
        migrations
            .iter()
            .map(|(v, d, sql)| {
                Migration::new(
                    *v,
                    d.to_string().into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

pub(crate) fn kind_name(kind: TimerKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub(crate) fn kind_from(name: &str) -> Result<TimerKind> {
    Ok(serde_json::from_value(serde_json::Value::String(
        name.to_string(),
    ))?)
}

/// The snake_case name of a status (dossier or step), as the store keeps it and the API
/// shows it.
pub fn status_name<T: Serialize>(s: &T) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
