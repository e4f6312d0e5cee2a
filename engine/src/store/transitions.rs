//! Writing dossiers: a new dossier with its code (`create.rs` files several at once), and
//! transitions, one or a group in one transaction (`group.rs` writes a group table by table;
//! the dialect's `write_commit` writes one).

use super::bulk::write_bulk;
use super::create::{BY_KEY, Filing, dossier_code, file_all};
use super::dialect::{Dialect, SqlBackend, turn};
use super::group::plan;
use super::notices::{is_notice, write_notice};
use super::{Commit, Created, Dispatched, Error, NewDossier, Result};
use crate::machine::{self, DossierId, Transition};
use sqlx::{Acquire, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};
use std::future::Future;

/// Writes of dossiers: creation and transitions.
pub trait Transitions {
    /// Creates a dossier: allocates its code, then stores what `build(code)` returns.
    fn create(
        &self,
        new: NewDossier<'_>,
        build: impl FnOnce(String) -> Result<Transition, machine::Error> + Send,
    ) -> impl Future<Output = Result<Result<Created, machine::Error>>> + Send;
    /// Creates several dossiers in one transaction (one fsync for all), each as
    /// [`Transitions::create`] would; `build` may be called more than once per item (see
    /// `create.rs`: numbers are compacted when some are refused).
    fn create_many(
        &self,
        items: &[Filing<'_>],
    ) -> impl Future<Output = Result<Vec<Result<Created, machine::Error>>>> + Send;
    /// Stores a transition if the dossier is still at `expected_version` and the consumed
    /// claim is still held; otherwise [`Error::Conflict`] and nothing is written.
    fn commit(&self, c: Commit<'_>) -> impl Future<Output = Result<Dispatched>> + Send;
    /// Stores several transitions in one transaction (group commit: one fsync for all), each
    /// under the rules of [`Transitions::commit`]: a stale one gets its own
    /// [`Error::Conflict`] or [`Error::LeaseLost`] and writes nothing, the others are stored.
    fn commit_many(
        &self,
        commits: &[Commit<'_>],
    ) -> impl Future<Output = Result<Vec<Result<Dispatched>>>> + Send;
}

/// The dossier a submission key filed, read outside any transaction.
async fn filed_with<DB: Dialect>(pool: &Pool<DB>, key: &str) -> Result<Option<DossierId>>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    DB::Arguments: IntoArguments<DB>,
{
    let mut conn = pool.acquire().await?;
    let row: Option<(String,)> = sqlx::query_as(BY_KEY)
        .bind(key.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|(id,)| DossierId(id)))
}

fn is_unique_violation(e: &Error) -> bool {
    matches!(e, Error::Database(sqlx::Error::Database(d)) if d.is_unique_violation())
}

impl<B: SqlBackend> Transitions for B
where
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'e> String: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> &'e str: Encode<'e, B::Db> + Type<B::Db>,
    for<'e> i64: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> Option<String>: Encode<'e, B::Db> + Decode<'e, B::Db>,
    for<'e> Option<i64>: Encode<'e, B::Db> + Decode<'e, B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
{
    async fn create(
        &self,
        new: NewDossier<'_>,
        build: impl FnOnce(String) -> Result<Transition, machine::Error> + Send,
    ) -> Result<Result<Created, machine::Error>> {
        let _turn = turn(self, "create").await;
        let mut tx = self.sql_pool().begin_with(B::Db::BEGIN).await?;
        if let Some(key) = new.submission_key {
            let existing: Option<(String,)> = sqlx::query_as(BY_KEY)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some((id,)) = existing {
                return Ok(Ok(Created::Existing(DossierId(id))));
            }
        }
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO code_sequences (agency_code, day, last) VALUES ($1, $2, 1) \
             ON CONFLICT (agency_code, day) DO UPDATE SET last = code_sequences.last + 1 \
             RETURNING last",
        )
        .bind(new.agency_code)
        .bind(new.day.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let t = match build(dossier_code(new.agency_code, new.day, seq)) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        let inserted = B::Db::insert_all(&mut tx, &[(&new, &t)])
            .await
            .map(|mut one| one.pop().unwrap_or_default());
        if let (Err(e), Some(key)) = (&inserted, new.submission_key)
            && is_unique_violation(e)
        {
            // The same key filed meanwhile by another transaction: the dossier it filed.
            drop(tx);
            let id = filed_with(self.sql_pool(), key).await?.ok_or_else(|| {
                Error::Conflict(format!("submission key {key} was used and then vanished"))
            })?;
            return Ok(Ok(Created::Existing(id)));
        }
        let dispatched = inserted?;
        tx.commit().await?;
        Ok(Ok(Created::New(Box::new(t), dispatched)))
    }

    async fn create_many(
        &self,
        items: &[Filing<'_>],
    ) -> Result<Vec<Result<Created, machine::Error>>> {
        let written = {
            let _turn = turn(self, "create_many").await;
            let mut tx = self.sql_pool().begin_with(B::Db::BEGIN).await?;
            match file_all::<B::Db>(&mut tx, items).await {
                Ok(out) => {
                    tx.commit().await?;
                    Some(out)
                }
                // A key filed meanwhile by another transaction: each alone below, where a
                // used key answers the dossier it filed.
                Err(e) if is_unique_violation(&e) => None,
                Err(e) => return Err(e),
            }
        };
        if let Some(out) = written {
            return Ok(out);
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(
                self.create(item.new.clone(), |code| (item.build)(code))
                    .await?,
            );
        }
        Ok(out)
    }

    async fn commit(&self, c: Commit<'_>) -> Result<Dispatched> {
        let _turn = turn(self, "commit").await;
        let mut tx = self.sql_pool().begin_with(B::Db::BEGIN).await?;
        let dispatched = if is_notice(&c) {
            write_notice::<B::Db>(&mut tx, &c).await?
        } else {
            B::Db::write_commit(&mut tx, &c).await?
        };
        tx.commit().await?;
        Ok(dispatched)
    }

    async fn commit_many(&self, commits: &[Commit<'_>]) -> Result<Vec<Result<Dispatched>>> {
        // A lone transition needs no savepoint.
        if let [c] = commits {
            return match self.commit(*c).await {
                Ok(dispatched) => Ok(vec![Ok(dispatched)]),
                Err(e @ (Error::Conflict(_) | Error::LeaseLost(_))) => Ok(vec![Err(e)]),
                Err(e) => Err(e),
            };
        }
        // The whole group in a dozen statements when it can be (see `group.rs`, `bulk.rs`;
        // notices too, `notices.rs`); a stale member sends it down the one-by-one path below.
        if commits.len() > 1
            && let Some(plan) = plan(commits)?
        {
            // The write runs as a task of its own: each of its statements is sent the moment
            // the previous one returns, instead of waiting for the caller's task to finish
            // whatever it does beside the write (reading and applying the next timer batch,
            // parsing JSON); see BENCHMARKS.md, the 50,000-timer section.
            let store = self.clone();
            let write = tokio::spawn(async move {
                let _turn = turn(&store, "group").await;
                let mut tx = store.sql_pool().begin_with(B::Db::BEGIN).await?;
                let written = write_bulk::<B::Db>(&mut tx, &plan).await?;
                if written.is_ok() {
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                Ok::<_, Error>(written.ok())
            });
            let written = match write.await {
                Ok(written) => written?,
                // A panic in the write is the caller's panic, as without the task.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => return Err(Error::Io(std::io::Error::other(e))),
            };
            if let Some(mut by_dossier) = written {
                return Ok(commits
                    .iter()
                    .map(|c| {
                        Ok(by_dossier
                            .remove(&c.transition.state.id.0)
                            .unwrap_or_default())
                    })
                    .collect());
            }
        }
        let _turn = turn(self, "commit_each").await;
        let mut tx = self.sql_pool().begin_with(B::Db::BEGIN).await?;
        let mut out = Vec::with_capacity(commits.len());
        for c in commits {
            // Each commit in a savepoint: a stale one is undone alone.
            let mut one = tx.begin().await?;
            let written = if is_notice(c) {
                write_notice::<B::Db>(&mut one, c).await
            } else {
                B::Db::write_commit(&mut one, c).await
            };
            match written {
                Ok(dispatched) => {
                    one.commit().await?;
                    out.push(Ok(dispatched));
                }
                Err(e @ (Error::Conflict(_) | Error::LeaseLost(_))) => {
                    one.rollback().await?;
                    out.push(Err(e));
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}
