//! Reading the `dossiers` table and their journals: one dossier, pages of them, counts.
//! What writes them is `transitions.rs`.

use super::dialect::SqlBackend;
use super::group::CHUNK;
use super::{Error, Result};
use crate::clock::Millis;
use crate::machine::{Dossier, DossierId, JournalEntry};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use std::future::Future;

/// Reads of dossiers and their journals.
pub trait Dossiers {
    fn load(&self, id: &DossierId) -> impl Future<Output = Result<Option<Dossier>>> + Send;
    /// The dossier with the hash of its newest journal row (see `Commit::head`).
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
    fn journal(&self, id: &DossierId) -> impl Future<Output = Result<Vec<JournalEntry>>> + Send;
    /// The dossier with this code (`<agency>-YYMMDD-<sequence>`).
    fn dossier_by_code(&self, code: &str)
    -> impl Future<Output = Result<Option<DossierId>>> + Send;
    /// Counts by status, for reports and the chaos checker.
    fn count_by_status(&self) -> impl Future<Output = Result<Vec<(String, i64)>>> + Send;
    /// Dossier counts by procedure id and status.
    fn status_counts(
        &self,
        procedure: Option<&str>,
    ) -> impl Future<Output = Result<Vec<(String, String, i64)>>> + Send;
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
}

/// Dossiers from their stored states.
pub(crate) fn dossiers_from(rows: Vec<(String,)>) -> Result<Vec<Dossier>> {
    rows.into_iter()
        .map(|(state,)| serde_json::from_str(&state).map_err(Error::from))
        .collect()
}

impl<B: SqlBackend> Dossiers for B
where
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'e> String: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> &'e str: Encode<'e, B::Db> + Type<B::Db>,
    for<'e> i64: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> Option<String>: Encode<'e, B::Db> + Decode<'e, B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
{
    async fn load(&self, id: &DossierId) -> Result<Option<Dossier>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT state FROM dossiers WHERE id = $1")
            .bind(id.0.as_str())
            .fetch_optional(self.sql_pool())
            .await?;
        match row {
            Some((state,)) => Ok(Some(serde_json::from_str(&state)?)),
            None => Ok(None),
        }
    }

    async fn load_head(&self, id: &DossierId) -> Result<Option<(Dossier, String)>> {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT d.state, j.hash FROM dossiers d \
             JOIN journal j ON j.dossier_id = d.id AND j.version = d.version WHERE d.id = $1",
        )
        .bind(id.0.as_str())
        .fetch_optional(self.sql_pool())
        .await?;
        match row {
            Some((state, hash)) => Ok(Some((
                serde_json::from_str(&state)?,
                hash.unwrap_or_default(),
            ))),
            None => Ok(None),
        }
    }

    async fn load_many(&self, ids: &[DossierId]) -> Result<Vec<Dossier>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut q = QueryBuilder::<B::Db>::new("SELECT state FROM dossiers WHERE id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.0.as_str());
            }
            q.push(")");
            let rows = q
                .build_query_as::<(String,)>()
                .fetch_all(self.sql_pool())
                .await?;
            out.extend(dossiers_from(rows)?);
        }
        Ok(out)
    }

    async fn dossiers(
        &self,
        after: Option<&DossierId>,
        limit: i64,
    ) -> Result<Vec<(Option<String>, Dossier)>> {
        let rows: Vec<(Option<String>, String)> = sqlx::query_as(
            "SELECT submission_key, state FROM dossiers WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after.map_or("", |a| a.0.as_str()))
        .bind(limit)
        .fetch_all(self.sql_pool())
        .await?;
        rows.into_iter()
            .map(|(key, state)| Ok((key, serde_json::from_str(&state)?)))
            .collect()
    }

    async fn journal(&self, id: &DossierId) -> Result<Vec<JournalEntry>> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT version, at, event, status FROM journal WHERE dossier_id = $1 ORDER BY version",
        )
        .bind(id.0.as_str())
        .fetch_all(self.sql_pool())
        .await?;
        rows.into_iter()
            .map(|(version, at, event, status)| {
                Ok(JournalEntry {
                    version: u64::try_from(version).unwrap_or(0),
                    at,
                    event: serde_json::from_str(&event)?,
                    status: serde_json::from_value(serde_json::Value::String(status))?,
                })
            })
            .collect()
    }

    async fn dossier_by_code(&self, code: &str) -> Result<Option<DossierId>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT id FROM dossiers WHERE code = $1")
            .bind(code)
            .fetch_optional(self.sql_pool())
            .await?;
        Ok(row.map(|(id,)| DossierId(id)))
    }

    async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) AS n FROM dossiers GROUP BY status ORDER BY status",
        )
        .fetch_all(self.sql_pool())
        .await?)
    }

    async fn status_counts(&self, procedure: Option<&str>) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT p.id, d.status, COUNT(*) FROM dossiers d \
             JOIN procedures p ON p.hash = d.procedure_hash \
             WHERE ($1 IS NULL OR p.id = $1) GROUP BY p.id, d.status ORDER BY p.id, d.status",
        )
        .bind(procedure.map(str::to_string))
        .fetch_all(self.sql_pool())
        .await?)
    }

    async fn open_dossiers(
        &self,
        procedure: Option<&str>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Dossier>> {
        let rows = sqlx::query_as(
            "SELECT d.state FROM dossiers d JOIN procedures p ON p.hash = d.procedure_hash \
             WHERE d.status IN ('processing', 'supplement_requested') \
             AND ($1 IS NULL OR p.id = $1) AND d.id > $2 ORDER BY d.id LIMIT $3",
        )
        .bind(procedure.map(str::to_string))
        .bind(after)
        .bind(limit)
        .fetch_all(self.sql_pool())
        .await?;
        dossiers_from(rows)
    }

    async fn closed_dossiers(
        &self,
        procedure: Option<&str>,
        from: Millis,
        to: Millis,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Dossier>> {
        let rows = sqlx::query_as(
            "SELECT d.state FROM dossiers d JOIN procedures p ON p.hash = d.procedure_hash \
             WHERE d.closed_at >= $1 AND d.closed_at < $2 \
             AND ($3 IS NULL OR p.id = $3) AND d.id > $4 ORDER BY d.id LIMIT $5",
        )
        .bind(from)
        .bind(to)
        .bind(procedure.map(str::to_string))
        .bind(after)
        .bind(limit)
        .fetch_all(self.sql_pool())
        .await?;
        dossiers_from(rows)
    }
}
