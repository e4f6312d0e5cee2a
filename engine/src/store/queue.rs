//! The work queue: the `timers` and `outbox` tables, claimed under leases. Each claim bumps
//! the row's epoch; the transition that consumes claimed work deletes the row at that epoch
//! (`transitions.rs`), and the finishing calls here check it too.

use super::dialect::{Dialect, SqlBackend, turn};
use super::group::CHUNK;
use super::{ClaimedEffect, ClaimedTimer, Result, kind_from, kind_name};
use crate::clock::Millis;
use crate::machine::DossierId;
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use std::future::Future;

/// A citizen's supplement window, from its expiry timer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementWindow {
    pub dossier: DossierId,
    pub code: String,
    pub step: String,
    /// When the window closes.
    pub until: Millis,
}

/// Timers and outbox rows: claiming them and finishing them.
pub trait Queue {
    /// Claims up to `limit` due timers for `node` until `now + lease`.
    fn claim_timers(
        &self,
        node: &str,
        now: Millis,
        lease: Millis,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ClaimedTimer>>> + Send;
    /// Claims up to `limit` due outbox rows for `node` until `now + lease`.
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
    /// Earliest due instant of pending timers and outbox rows (for sleeping until then).
    fn next_due(&self) -> impl Future<Output = Result<Option<Millis>>> + Send;
    /// Supplement windows closing in `(from, to]` (their expiry timers).
    fn supplement_windows(
        &self,
        procedure: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> impl Future<Output = Result<Vec<SupplementWindow>>> + Send;
}

impl<B: SqlBackend> Queue for B
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
    async fn claim_timers(
        &self,
        node: &str,
        now: Millis,
        lease: Millis,
        limit: i64,
    ) -> Result<Vec<ClaimedTimer>> {
        let _turn = turn(self, "claim_timers").await;
        let mut tx = self.sql_pool().begin_with(B::Db::BEGIN).await?;
        let rows: Vec<(String, String, String, i64, i64)> =
            sqlx::query_as(<B::Db as Dialect>::CLAIM_TIMERS)
                .bind(node)
                .bind(now + lease)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|(dossier, kind, step, due_at, epoch)| {
                Ok(ClaimedTimer {
                    dossier: DossierId(dossier),
                    kind: kind_from(&kind)?,
                    step: (!step.is_empty()).then_some(step),
                    due_at,
                    epoch,
                })
            })
            .collect()
    }

    async fn claim_outbox(
        &self,
        node: &str,
        now: Millis,
        lease: Millis,
        limit: i64,
    ) -> Result<Vec<ClaimedEffect>> {
        let _turn = turn(self, "claim_outbox").await;
        let mut tx = self.sql_pool().begin_with(B::Db::BEGIN).await?;
        let rows: Vec<(i64, String, String, i64, i64)> =
            sqlx::query_as(<B::Db as Dialect>::CLAIM_OUTBOX)
                .bind(node)
                .bind(now + lease)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|(id, dossier, effect, epoch, created_at)| {
                Ok(ClaimedEffect {
                    id,
                    dossier: DossierId(dossier),
                    effect: serde_json::from_str(&effect)?,
                    epoch,
                    created_at,
                })
            })
            .collect()
    }

    async fn finish_timer(&self, timer: &ClaimedTimer) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM timers WHERE dossier_id = $1 AND kind = $2 AND step = $3 AND epoch = $4",
        )
        .bind(timer.dossier.0.as_str())
        .bind(kind_name(timer.kind))
        .bind(timer.step.clone().unwrap_or_default())
        .bind(timer.epoch)
        .execute(self.sql_pool())
        .await?;
        Ok(<B::Db as Dialect>::affected(&done) == 1)
    }

    async fn finish_outbox(&self, id: i64, epoch: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM outbox WHERE id = $1 AND epoch = $2")
            .bind(id)
            .bind(epoch)
            .execute(self.sql_pool())
            .await?;
        Ok(<B::Db as Dialect>::affected(&done) == 1)
    }

    async fn finish_outbox_many(&self, rows: &[(i64, i64)]) -> Result<u64> {
        let mut done = 0;
        let _turn = turn(self, "finish_outbox_many").await;
        for chunk in rows.chunks(CHUNK) {
            let mut q = QueryBuilder::<B::Db>::new("WITH v (i, e) AS (");
            q.push_values(chunk, |mut b, (id, epoch)| {
                b.push_bind(*id).push_bind(*epoch);
            });
            q.push(
                ") DELETE FROM outbox WHERE id IN (SELECT i FROM v) \
                 AND (id, epoch) IN (SELECT i, e FROM v)",
            );
            done += <B::Db as Dialect>::affected(&q.build().execute(self.sql_pool()).await?);
        }
        Ok(done)
    }

    async fn release_outbox(&self, id: i64, epoch: i64, available_at: Millis) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET lease_owner = NULL, lease_until = NULL, available_at = $1 \
             WHERE id = $2 AND epoch = $3",
        )
        .bind(available_at)
        .bind(id)
        .bind(epoch)
        .execute(self.sql_pool())
        .await?;
        Ok(<B::Db as Dialect>::affected(&done) == 1)
    }

    async fn next_due(&self) -> Result<Option<Millis>> {
        let (t,): (Option<i64>,) = sqlx::query_as(
            // Work leased by a node counts from its lease's end (when it may be taken over).
            "SELECT MIN(t) AS t FROM (\
             SELECT MIN(CASE WHEN lease_until > due_at THEN lease_until ELSE due_at END) AS t \
             FROM timers UNION ALL \
             SELECT MIN(CASE WHEN lease_until > available_at THEN lease_until ELSE available_at END) \
             AS t FROM outbox) AS due",
        )
        .fetch_one(self.sql_pool())
        .await?;
        Ok(t)
    }

    async fn supplement_windows(
        &self,
        procedure: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<SupplementWindow>> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT t.dossier_id, d.code, t.step, t.due_at FROM timers t \
             JOIN dossiers d ON d.id = t.dossier_id JOIN procedures p ON p.hash = d.procedure_hash \
             WHERE t.kind = 'supplement_expiry' AND t.due_at > $1 AND t.due_at <= $2 \
             AND ($3 IS NULL OR p.id = $3) ORDER BY t.due_at, t.dossier_id",
        )
        .bind(from)
        .bind(to)
        .bind(procedure.map(str::to_string))
        .fetch_all(self.sql_pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(dossier, code, step, until)| SupplementWindow {
                dossier: DossierId(dossier),
                code,
                step,
                until,
            })
            .collect())
    }
}
