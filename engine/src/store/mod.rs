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
pub(crate) mod accounts_sql;
pub(crate) mod create;
pub(crate) mod group;
mod imp;
mod pg_write;
mod postgres;
pub(crate) mod queries;
mod reports;
mod sqlite;
mod sqlite_write;

pub use accounts::{
    Accounts, ApiKey, AuditEntry, AuditRow, GENESIS, JournalLink, NoticeRow, Origin, Scope, User,
    VersionRow, journal_hash, link,
};
pub use create::{Build, Filing};
pub use postgres::PgStore;
pub use queries::{InForce, JobRun, RunOutcome, SupplementWindow};
pub use reports::{LiveRow, ReportQuery, ReportRead, Reports};
pub use sqlite::SqliteStore;

use crate::clock::Millis;
use crate::definition::Procedure;
use crate::machine::{Dossier, DossierId, Effect, JournalEntry, TimerKind, Transition};
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

/// A human task in an agency's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub dossier: DossierId,
    pub step: String,
    pub agency: String,
    pub action: String,
    pub request: serde_json::Value,
    pub status: String,
    pub claimed_by: Option<String>,
    pub claim_until: Option<Millis>,
    pub opened_at: Millis,
}

/// Which of an agency's open tasks to read.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter<'a> {
    pub procedure: Option<&'a str>,
    pub status: Option<&'a str>,
    /// Only dossiers filed inside this area.
    pub scope: Scope,
    /// Newest first (default: oldest first).
    pub newest_first: bool,
    pub offset: i64,
    pub limit: i64,
}

/// The unit-of-work API the runtime uses. Every method is one transaction.
pub trait Store: Accounts + Reports + Clone + Send + Sync + 'static {
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
    /// Stores a definition by content hash (idempotent).
    fn publish(&self, p: &Procedure, now: Millis)
    -> impl Future<Output = Result<Published>> + Send;
    /// The version of `id` in force on `day` (latest `effective_from` on or before it).
    fn procedure_for(
        &self,
        id: &str,
        day: NaiveDate,
    ) -> impl Future<Output = Result<Option<(Published, Procedure)>>> + Send;
    /// The version of `id` in force on `day`, without its definition.
    fn published_for(
        &self,
        id: &str,
        day: NaiveDate,
    ) -> impl Future<Output = Result<Option<Published>>> + Send;
    fn procedure_by_hash(
        &self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<Procedure>>> + Send;
    /// Creates a dossier: allocates its code, then stores what `build(code)` returns.
    fn create(
        &self,
        new: NewDossier<'_>,
        build: impl FnOnce(String) -> Result<Transition, crate::machine::Error> + Send,
    ) -> impl Future<Output = Result<Result<Created, crate::machine::Error>>> + Send;
    /// Creates several dossiers in one transaction (one fsync for all), each as
    /// [`Store::create`] would; `build` may be called more than once per item (see
    /// `create.rs`: numbers are compacted when some are refused).
    fn create_many(
        &self,
        items: &[Filing<'_>],
    ) -> impl Future<Output = Result<Vec<Result<Created, crate::machine::Error>>>> + Send;
    fn load(&self, id: &DossierId) -> impl Future<Output = Result<Option<Dossier>>> + Send;
    /// The dossier with the hash of its newest journal row (see [`Commit::head`]).
    fn load_head(
        &self,
        id: &DossierId,
    ) -> impl Future<Output = Result<Option<(Dossier, String)>>> + Send;
    /// The dossiers with these ids (those that exist), in one round trip per thousand.
    fn load_many(&self, ids: &[DossierId]) -> impl Future<Output = Result<Vec<Dossier>>> + Send;
    /// Dossiers in id order after `after` (keyset pages), with their submission keys.
    fn dossiers(
        &self,
        after: Option<&DossierId>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<(Option<String>, Dossier)>>> + Send;
    /// Stores a transition if the dossier is still at `expected_version` and the consumed
    /// claim is still held; otherwise [`Error::Conflict`] and nothing is written.
    fn commit(&self, c: Commit<'_>) -> impl Future<Output = Result<Dispatched>> + Send;
    /// Stores several transitions in one transaction (group commit: one fsync for all), each
    /// under the rules of [`Store::commit`]: a stale one gets its own [`Error::Conflict`] or
    /// [`Error::LeaseLost`] and writes nothing, the others are stored.
    fn commit_many(
        &self,
        commits: &[Commit<'_>],
    ) -> impl Future<Output = Result<Vec<Result<Dispatched>>>> + Send;
    fn journal(&self, id: &DossierId) -> impl Future<Output = Result<Vec<JournalEntry>>> + Send;
    fn claim_timers(
        &self,
        node: &str,
        now: Millis,
        lease: Millis,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ClaimedTimer>>> + Send;
    fn claim_outbox(
        &self,
        node: &str,
        now: Millis,
        lease: Millis,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ClaimedEffect>>> + Send;
    /// Deletes a claimed timer that fired on a dossier which no longer wants it (closed).
    fn finish_timer(&self, timer: &ClaimedTimer) -> impl Future<Output = Result<bool>> + Send;
    /// Deletes an outbox row whose effect needs no transition (a notification sent).
    fn finish_outbox(&self, id: i64, epoch: i64) -> impl Future<Output = Result<bool>> + Send;
    /// Deletes several finished outbox rows `(id, epoch)` at once; the number deleted.
    fn finish_outbox_many(&self, rows: &[(i64, i64)]) -> impl Future<Output = Result<u64>> + Send;
    /// Puts an outbox row back for a later attempt (releases the lease).
    fn release_outbox(
        &self,
        id: i64,
        epoch: i64,
        available_at: Millis,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn tasks(&self, agency: &str, limit: i64) -> impl Future<Output = Result<Vec<Task>>> + Send;
    /// Claims one tick of a schedule: true if this node moved `next_at` from `due` to `next`.
    fn claim_tick(
        &self,
        name: &str,
        due: Millis,
        next: Millis,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// The next due instant of a schedule, creating it at `first` if unknown.
    fn schedule_next(
        &self,
        name: &str,
        first: Millis,
    ) -> impl Future<Output = Result<Millis>> + Send;
    /// Counts by status, for reports and the chaos checker.
    fn count_by_status(&self) -> impl Future<Output = Result<Vec<(String, i64)>>> + Send;
    /// Earliest due instant of pending timers and outbox rows (for sleeping until then).
    fn next_due(&self) -> impl Future<Output = Result<Option<Millis>>> + Send;

    // The agency task API (`runtime::tasks`) and the scheduler (`runtime::schedule`); the
    // SQL is in `queries.rs`.

    /// The task of one step of one dossier, whatever its status.
    fn task(
        &self,
        dossier: &DossierId,
        step: &str,
    ) -> impl Future<Output = Result<Option<Task>>> + Send;
    /// An agency's open tasks (queued or claimed), oldest first, optionally only those of
    /// one procedure id or with one status.
    fn agency_tasks(
        &self,
        agency: &str,
        filter: &TaskFilter<'_>,
    ) -> impl Future<Output = Result<Vec<Task>>> + Send;
    /// For each procedure id, the version in force on `day`.
    fn procedures_in_force(
        &self,
        day: NaiveDate,
    ) -> impl Future<Output = Result<Vec<InForce>>> + Send;
    /// Claims the tick `run.due_at` of schedule `run.name` (moving `next_at` to `next` if it
    /// is still `run.due_at`) and records `run` in `job_runs`, in one transaction. False when
    /// another node claimed it first or the tick was already recorded.
    fn claim_job_tick(
        &self,
        run: &JobRun,
        next: Millis,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Records how a `running` job run ended.
    fn finish_job_run(
        &self,
        name: &str,
        due_at: Millis,
        outcome: RunOutcome,
        summary: &serde_json::Value,
        at: Millis,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Recorded job runs (of one schedule, or all), oldest tick first.
    fn job_runs(
        &self,
        name: Option<&str>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<JobRun>>> + Send;
    /// A page of open dossiers (processing or waiting for a supplement) with ids after
    /// `after`, in id order; `procedure` limits them to one procedure id.
    fn open_dossiers(
        &self,
        procedure: Option<&str>,
        after: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Dossier>>> + Send;
    /// A page of the dossiers closed in `[from, to)` with ids after `after`, in id order.
    fn closed_dossiers(
        &self,
        procedure: Option<&str>,
        from: Millis,
        to: Millis,
        after: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Dossier>>> + Send;
    /// Supplement windows closing in `(from, to]` (their expiry timers).
    fn supplement_windows(
        &self,
        procedure: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> impl Future<Output = Result<Vec<SupplementWindow>>> + Send;
    /// Dossier counts by procedure id and status.
    fn status_counts(
        &self,
        procedure: Option<&str>,
    ) -> impl Future<Output = Result<Vec<(String, String, i64)>>> + Send;
    /// Stores (or replaces) a procedure's figures for a local day.
    fn put_daily_figures(
        &self,
        procedure: &str,
        day: NaiveDate,
        figures: &serde_json::Value,
        at: Millis,
    ) -> impl Future<Output = Result<()>> + Send;
    fn daily_figures(
        &self,
        procedure: &str,
        day: NaiveDate,
    ) -> impl Future<Output = Result<Option<serde_json::Value>>> + Send;
    /// The dossier with this code (`<agency>-YYMMDD-<sequence>`).
    fn dossier_by_code(&self, code: &str)
    -> impl Future<Output = Result<Option<DossierId>>> + Send;
    /// Records an agency callback's signature; false if it was seen before (a replay).
    fn record_callback(
        &self,
        signature: &str,
        agency: &str,
        at: Millis,
    ) -> impl Future<Output = Result<bool>> + Send;
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
