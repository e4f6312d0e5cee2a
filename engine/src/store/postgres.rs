//! PostgreSQL, for several engine nodes: claims skip rows another node has locked.

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "init",
    include_str!("../../migrations/postgres/0001_init.sql"),
)];

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

    fn migrator(&self) -> sqlx::migrate::Migrator {
        super::migrator(MIGRATIONS)
    }
}

super::imp::sql_store!(
    PgStore,
    sqlx::Postgres,
    begin: "BEGIN",
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
