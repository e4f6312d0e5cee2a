//! PostgreSQL, for several engine nodes: claims skip rows another node has locked.

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
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
];

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// PostgreSQL runs write transactions side by side.
    const ONE_WRITER: bool = false;

    pub async fn connect(url: &str, max_connections: u32) -> crate::store::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(url)
            .await?;
        Ok(PgStore { pool })
    }

    /// PostgreSQL takes concurrent writers itself: no in-process queue (see `SqliteStore`).
    async fn gate(&self) -> Option<()> {
        None
    }

    /// The pool, for LISTEN/NOTIFY and tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Listens on `lienthong_work` in a background task and wakes `wake` on every
    /// notification. The listener reconnects by itself; while it is down, the runtime's
    /// polling is the fallback.
    async fn watch_work(&self, wake: Arc<Notify>) -> crate::store::Result<()> {
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

    fn migrator(&self) -> sqlx::migrate::Migrator {
        super::migrator(MIGRATIONS)
    }

    /// One transition's writes, statement by statement (`pg_write.rs`).
    async fn write_one(
        tx: &mut sqlx::PgConnection,
        c: &crate::store::Commit<'_>,
    ) -> crate::store::Result<crate::store::Dispatched> {
        super::pg_write::write_commit(tx, c).await
    }
}

impl super::create::Filer for sqlx::Postgres {
    /// New dossiers' rows, statement by statement (`pg_write.rs`).
    async fn insert_all(
        conn: &mut sqlx::PgConnection,
        rows: &[(&crate::store::NewDossier<'_>, &crate::machine::Transition)],
    ) -> crate::store::Result<Vec<crate::store::Dispatched>> {
        let mut out = Vec::with_capacity(rows.len());
        for (new, t) in rows {
            out.push(super::pg_write::write_created(conn, new, t).await?);
        }
        Ok(out)
    }
}

super::imp::sql_store!(
    PgStore,
    sqlx::Postgres,
    begin: "BEGIN",
    wake: Some(super::pg_write::WAKE),
    claim_timers: "UPDATE timers SET lease_owner = $1, lease_until = $2, epoch = epoch + 1 \
                   WHERE (dossier_id, kind, step) IN (SELECT dossier_id, kind, step FROM timers \
                   WHERE due_at <= $3 AND (lease_until IS NULL OR lease_until < $3) ORDER BY due_at LIMIT $4 \
                   FOR UPDATE SKIP LOCKED) \
                   RETURNING dossier_id, kind, step, due_at, epoch",
    claim_outbox: "UPDATE outbox SET lease_owner = $1, lease_until = $2, epoch = epoch + 1 \
                   WHERE id IN (SELECT id FROM outbox \
                   WHERE available_at <= $3 AND (lease_until IS NULL OR lease_until < $3) ORDER BY id LIMIT $4 \
                   FOR UPDATE SKIP LOCKED) \
                   RETURNING id, dossier_id, effect, epoch, created_at"
);

impl super::Reports for PgStore {
    async fn rollup_watermark(&self) -> crate::store::Result<crate::clock::Millis> {
        super::reports::Db(&self.pool).watermark().await
    }

    async fn closed_between(
        &self,
        from: crate::clock::Millis,
        to: crate::clock::Millis,
        after: &str,
        limit: i64,
    ) -> crate::store::Result<Vec<crate::report::rollup::Located>> {
        super::reports::Db(&self.pool)
            .closed_between(from, to, after, limit)
            .await
    }

    async fn apply_rollup(
        &self,
        from: crate::clock::Millis,
        to: crate::clock::Millis,
        rows: &[crate::report::rollup::RollupRow],
    ) -> crate::store::Result<bool> {
        super::reports::Db(&self.pool)
            .apply_rollup(from, to, rows)
            .await
    }

    async fn report_read(
        &self,
        q: &super::ReportQuery<'_>,
    ) -> crate::store::Result<super::ReportRead> {
        super::reports::Db(&self.pool).report_read(q).await
    }
}
