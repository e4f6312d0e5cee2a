//! What differs between the two databases, and what a store over an sqlx pool gives the
//! shared SQL. Every table's statements are written once, as plain functions generic over a
//! [`Dialect`], in the file of the table's trait (`dossiers.rs`, `queue.rs`, …); each trait
//! is implemented for every [`SqlBackend`] there. `SqliteStore` and `PgStore` say only what
//! is theirs: how a write transaction begins, how work is claimed, how one transition is
//! written, and the store's own resources (SQLite's writer queue, PostgreSQL's listener).

use super::{Commit, Dispatched, Held, NewDossier, Result};
use crate::machine::Transition;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard, Notify};

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::Sqlite {}
    impl Sealed for sqlx::Postgres {}
}

/// A database the stores run on: the statements that are not the same in both.
pub trait Dialect: Database + sealed::Sealed {
    /// Opens a write transaction (SQLite takes the write lock at once: `BEGIN IMMEDIATE`).
    const BEGIN: &'static str;
    /// Run first in a read transaction so that all its reads see one snapshot.
    const SNAPSHOT: Option<&'static str>;
    /// Run inside a transaction that stores work no node claimed, to wake the other nodes.
    const WAKE: Option<&'static str>;
    /// Claims due timers: binds node, lease end, now, limit; returns the claimed rows.
    const CLAIM_TIMERS: &'static str;
    /// Claims due outbox rows: binds node, lease end, now, limit; returns the claimed rows.
    const CLAIM_OUTBOX: &'static str;

    /// The rows a statement changed.
    fn affected(done: &Self::QueryResult) -> u64;

    /// One transition's writes inside the caller's transaction (`sqlite_write.rs`,
    /// `pg_write.rs`).
    fn write_commit(
        conn: &mut Self::Connection,
        c: &Commit<'_>,
    ) -> impl Future<Output = Result<Dispatched>> + Send;

    /// New dossiers' rows (the dossier, its journal row, its effects) inside the caller's
    /// transaction; a submission key used before fails with a unique violation.
    fn insert_all(
        conn: &mut Self::Connection,
        rows: &[(&NewDossier<'_>, &Transition)],
    ) -> impl Future<Output = Result<Vec<Dispatched>>> + Send;
}

/// A store over an sqlx pool: what the shared SQL needs of it.
pub trait SqlBackend: Clone + Send + Sync + 'static {
    type Db: Dialect;
    fn sql_pool(&self) -> &Pool<Self::Db>;
    /// The in-process queue of write transactions, where the database admits one writer at
    /// a time (SQLite); `None` where writers run side by side (PostgreSQL).
    fn write_queue(&self) -> Option<&Mutex<()>>;
    /// Starts what wakes `wake` when another node commits new work (see `Store::watch`).
    fn watch_work(&self, wake: Arc<Notify>) -> impl Future<Output = Result<()>> + Send;
    /// The migrations embedded in the binary: `(number, description, SQL)`.
    fn migrations(&self) -> &'static [(i64, &'static str, &'static str)];
}

/// A write transaction's turn at the writer (see [`Held`]): waits in the write queue when
/// the store has one.
pub(crate) async fn turn<'a, B: SqlBackend>(
    store: &'a B,
    op: &'static str,
) -> Held<Option<MutexGuard<'a, ()>>> {
    let gate = match store.write_queue() {
        Some(queue) => Some(queue.lock().await),
        None => None,
    };
    Held::start(op, gate)
}

impl<B: SqlBackend> super::Store for B
where
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'e> String: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> &'e str: Encode<'e, B::Db> + Type<B::Db>,
    for<'e> i64: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> Option<String>: Encode<'e, B::Db> + Decode<'e, B::Db>,
    for<'e> Option<i64>: Encode<'e, B::Db> + Decode<'e, B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    <B::Db as Database>::Connection: sqlx::migrate::Migrate,
{
    async fn migrate(&self) -> Result<()> {
        super::migrator(self.migrations())
            .run(self.sql_pool())
            .await?;
        Ok(())
    }

    fn one_writer(&self) -> bool {
        self.write_queue().is_some()
    }

    async fn watch(&self, wake: Arc<Notify>) -> Result<()> {
        self.watch_work(wake).await
    }
}
