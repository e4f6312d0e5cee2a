//! Shared helpers for the integration tests and the chaos harness.

pub mod agency;
pub mod fixtures;

use lienthong_engine::store::PgStore;
use std::sync::atomic::{AtomicU32, Ordering};

static DATABASES: AtomicU32 = AtomicU32::new(0);

/// A PostgreSQL database of its own for one test, dropped by [`TestDatabase::drop_now`].
#[derive(Debug)]
pub struct TestDatabase {
    pub store: PgStore,
    /// The database's URL, for processes of their own.
    pub url: String,
    admin: sqlx::PgPool,
    name: String,
}

/// A fresh database on the server `LIENTHONG_TEST_DATABASE_URL` names, or `None` when it is
/// not set — which CI (where `CI` is set) does not allow.
pub async fn fresh_postgres() -> Option<TestDatabase> {
    let Ok(url) = std::env::var("LIENTHONG_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set LIENTHONG_TEST_DATABASE_URL"
        );
        eprintln!("LIENTHONG_TEST_DATABASE_URL is not set: PostgreSQL tests not run");
        return None;
    };
    let name = format!(
        "lienthong_t_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    let admin = sqlx::PgPool::connect(&url).await.expect("admin connection");
    // The name is made here from the process id and a counter, never from input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let store = PgStore::connect(&url, 4).await.expect("connect");
    Some(TestDatabase {
        store,
        url,
        admin,
        name,
    })
}

impl TestDatabase {
    pub async fn drop_now(self) {
        self.store.pool().close().await;
        let sql = format!("DROP DATABASE {} WITH (FORCE)", self.name);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&self.admin)
            .await
            .expect("drop database");
    }
}
