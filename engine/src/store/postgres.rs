//! PostgreSQL, for several engine nodes: claims skip rows another node has locked.

use super::dialect::{Dialect, SqlBackend};
use super::{Commit, Dispatched, NewDossier, Result};
use crate::machine::Transition;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use tokio::sync::Notify;

/// The channel on which commits that create work notify idle nodes.
const CHANNEL: &str = "lienthong_work";

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "jobs",
        include_str!("../../migrations/postgres/0002_jobs.sql"),
    ),
    (
        3,
        "callbacks",
        include_str!("../../migrations/postgres/0003_callbacks.sql"),
    ),
    (
        4,
        "server",
        include_str!("../../migrations/postgres/0004_server.sql"),
    ),
    (
        5,
        "sessions",
        include_str!("../../migrations/postgres/0005_sessions.sql"),
    ),
    (
        6,
        "reports",
        include_str!("../../migrations/postgres/0006_reports.sql"),
    ),
    (
        7,
        "write fences",
        include_str!("../../migrations/postgres/0007_write_fences.sql"),
    ),
    (
        8,
        "notifications",
        include_str!("../../migrations/postgres/0008_notifications.sql"),
    ),
];

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> crate::store::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(url)
            .await?;
        Ok(PgStore { pool })
    }

    /// The pool, for LISTEN/NOTIFY and tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Dialect for sqlx::Postgres {
    const BEGIN: &'static str = "BEGIN";
    const SNAPSHOT: Option<&'static str> =
        Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const WAKE: Option<&'static str> = Some(super::pg_write::WAKE);
    // Claims skip the rows another node is claiming instead of waiting for it.
    const CLAIM_TIMERS: &'static str = "UPDATE timers \
         SET lease_owner = $1, lease_until = $2, epoch = epoch + 1 \
         WHERE (dossier_id, kind, step) IN (SELECT dossier_id, kind, step FROM timers \
         WHERE due_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
         ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING dossier_id, kind, step, due_at, epoch";
    const CLAIM_OUTBOX: &'static str = "UPDATE outbox \
         SET lease_owner = $1, lease_until = $2, epoch = epoch + 1 \
         WHERE id IN (SELECT id FROM outbox \
         WHERE available_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
         ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING id, dossier_id, effect, epoch, created_at";

    fn affected(done: &sqlx::postgres::PgQueryResult) -> u64 {
        done.rows_affected()
    }

    /// One transition's writes, statement by statement (`pg_write.rs`).
    async fn write_commit(conn: &mut PgConnection, c: &Commit<'_>) -> Result<Dispatched> {
        super::pg_write::write_commit(conn, c).await
    }

    /// New dossiers' rows, statement by statement (`pg_write.rs`).
    async fn insert_all(
        conn: &mut PgConnection,
        rows: &[(&NewDossier<'_>, &Transition)],
    ) -> Result<Vec<Dispatched>> {
        let mut out = Vec::with_capacity(rows.len());
        for (new, t) in rows {
            out.push(super::pg_write::write_created(conn, new, t).await?);
        }
        Ok(out)
    }
}

impl SqlBackend for PgStore {
    type Db = sqlx::Postgres;

    fn sql_pool(&self) -> &PgPool {
        &self.pool
    }

    /// PostgreSQL takes concurrent writers itself: no in-process queue.
    fn write_queue(&self) -> Option<&tokio::sync::Mutex<()>> {
        None
    }

    /// Listens on `lienthong_work` in a background task and wakes `wake` on every
    /// notification. The listener reconnects by itself; while it is down, the runtime's
    /// polling is the fallback.
    async fn watch_work(&self, wake: Arc<Notify>) -> Result<()> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        // Holds the waker weakly: the task ends once the runtime that listens is gone.
        let wake = Arc::downgrade(&wake);
        tokio::spawn(async move {
            loop {
                let received = listener.try_recv().await;
                let Some(wake) = wake.upgrade() else { return };
                match received {
                    // A notification, or a dropped connection that will be re-established
                    // (work may have arrived meanwhile): wake either way.
                    Ok(_) => wake.notify_one(),
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
                }
            }
        });
        Ok(())
    }

    fn migrations(&self) -> &'static [(i64, &'static str, &'static str)] {
        MIGRATIONS
    }
}
