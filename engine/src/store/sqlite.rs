//! The embedded default: one SQLite file in WAL mode with `synchronous=FULL`, held by one
//! engine process at a time (an exclusive lock on `<file>.lock`, released by the kernel when
//! the process dies, so a crash never leaves it stuck).

use super::dialect::{Dialect, SqlBackend};
use super::{Commit, Dispatched, NewDossier, Result};
use crate::machine::Transition;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "jobs",
        include_str!("../../migrations/sqlite/0002_jobs.sql"),
    ),
    (
        3,
        "callbacks",
        include_str!("../../migrations/sqlite/0003_callbacks.sql"),
    ),
    (
        4,
        "server",
        include_str!("../../migrations/sqlite/0004_server.sql"),
    ),
    (
        5,
        "sessions",
        include_str!("../../migrations/sqlite/0005_sessions.sql"),
    ),
    (
        6,
        "reports",
        include_str!("../../migrations/sqlite/0006_reports.sql"),
    ),
    (
        7,
        "write fences",
        include_str!("../../migrations/sqlite/0007_write_fences.sql"),
    ),
    (
        8,
        "notifications",
        include_str!("../../migrations/sqlite/0008_notifications.sql"),
    ),
];

/// WAL pages past which a commit checkpoints by itself (SQLite's default is 1,000, which a
/// busy node reaches every few group commits, each then paying 10–15 ms for it).
const SAFETY_CHECKPOINT_PAGES: u32 = 4_000;

/// How often the background task copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Copies committed WAL pages back into the database file beside the writer
/// (`PRAGMA wal_checkpoint(PASSIVE)` waits for nobody and blocks nobody), so that commits do
/// not pay for it. Ends when the store is dropped (its gate is the liveness token: the task
/// holds the pool but not the single-process lock).
async fn checkpoints(pool: SqlitePool, alive: std::sync::Weak<tokio::sync::Mutex<()>>) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if alive.upgrade().is_none() || pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::debug!(error = %e, "background checkpoint failed; retrying");
        }
    }
}

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Held for the life of the store: the single-process guard (None in memory, where
    /// no node runs the background checkpoints either).
    lock: Option<Arc<std::fs::File>>,
    /// Queues this process's write transactions in order. SQLite admits one writer at a
    /// time and makes the others sleep and retry (1, 2, 5, 10 ms…), which leaves the writer
    /// idle between transactions; waiting here instead hands over at once.
    gate: Arc<tokio::sync::Mutex<()>>,
    /// Whether the background checkpoints run (started once, by the first node to run).
    checkpointing: Arc<std::sync::atomic::AtomicBool>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, refusing if another engine process
    /// holds it.
    pub async fn open(path: &Path) -> crate::store::Result<Self> {
        let lock_path = path.with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        if lock.try_lock().is_err() {
            return Err(crate::store::Error::Locked(format!(
                "{} is in use by another lienthong process (lock {}); stop it or use PostgreSQL to run several nodes",
                path.display(),
                lock_path.display()
            )));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Checkpoints run beside the writer (`checkpoints`); a commit checkpoints the WAL
            // itself only past this many pages, should that task not run.
            .pragma("wal_autocheckpoint", SAFETY_CHECKPOINT_PAGES.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(SqliteStore {
            pool,
            lock: Some(Arc::new(lock)),
            gate: Arc::default(),
            checkpointing: Arc::default(),
        })
    }

    /// A private in-memory database (tests).
    pub async fn in_memory() -> crate::store::Result<Self> {
        let options = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true);
        // One connection: every connection to ":memory:" would be its own database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(SqliteStore {
            pool,
            lock: None,
            gate: Arc::default(),
            checkpointing: Arc::default(),
        })
    }

    /// The pool, for tools and tests that read the tables directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl Dialect for sqlx::Sqlite {
    // Takes the write lock at once: a deferred transaction that reads first could fail to
    // upgrade it later.
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    // A SQLite read transaction sees one snapshot from its first read.
    const SNAPSHOT: Option<&'static str> = None;
    // One process owns the file: nobody else to wake.
    const WAKE: Option<&'static str> = None;
    const CLAIM_TIMERS: &'static str = "UPDATE timers \
         SET lease_owner = $1, lease_until = $2, epoch = epoch + 1 \
         WHERE (dossier_id, kind, step) IN (SELECT dossier_id, kind, step FROM timers \
         WHERE due_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
         ORDER BY due_at LIMIT $4) \
         RETURNING dossier_id, kind, step, due_at, epoch";
    const CLAIM_OUTBOX: &'static str = "UPDATE outbox \
         SET lease_owner = $1, lease_until = $2, epoch = epoch + 1 \
         WHERE id IN (SELECT id FROM outbox \
         WHERE available_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
         ORDER BY id LIMIT $4) \
         RETURNING id, dossier_id, effect, epoch, created_at";

    fn affected(done: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    /// One transition's writes in one round trip (`sqlite_write.rs`).
    async fn write_commit(conn: &mut SqliteConnection, c: &Commit<'_>) -> Result<Dispatched> {
        super::sqlite_write::write_commit(conn, c).await
    }

    /// New dossiers' rows in one round trip (`sqlite_write.rs`).
    async fn insert_all(
        conn: &mut SqliteConnection,
        rows: &[(&NewDossier<'_>, &Transition)],
    ) -> Result<Vec<Dispatched>> {
        super::sqlite_write::insert_all(conn, rows).await
    }
}

impl SqlBackend for SqliteStore {
    type Db = sqlx::Sqlite;

    fn sql_pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// SQLite admits one writer at a time and makes the others sleep and retry (1, 2, 5,
    /// 10 ms…), which leaves the writer idle between transactions; waiting in this queue
    /// instead hands over at once.
    fn write_queue(&self) -> Option<&tokio::sync::Mutex<()>> {
        Some(&self.gate)
    }

    /// One process owns the file and wakes itself: nothing to listen to. A running node
    /// starts the background checkpoints here instead.
    async fn watch_work(&self, _wake: Arc<tokio::sync::Notify>) -> Result<()> {
        if self.lock.is_some()
            && !self
                .checkpointing
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            tokio::spawn(checkpoints(self.pool.clone(), Arc::downgrade(&self.gate)));
        }
        Ok(())
    }

    fn migrations(&self) -> &'static [(i64, &'static str, &'static str)] {
        MIGRATIONS
    }
}
