//! The `procedures` table: published definitions by content hash, and the version of each
//! procedure in force on a day.

use super::dialect::SqlBackend;
use super::{Error, Published, Result};
use crate::clock::Millis;
use crate::definition::Procedure;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};
use std::future::Future;

/// A procedure version as listed for the scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InForce {
    pub id: String,
    pub version: u32,
    pub hash: String,
}

/// Published definitions.
pub trait Procedures {
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
    /// For each procedure id, the version in force on `day`.
    fn procedures_in_force(
        &self,
        day: NaiveDate,
    ) -> impl Future<Output = Result<Vec<InForce>>> + Send;
}

const IN_FORCE: &str = "SELECT hash, definition FROM procedures \
     WHERE id = $1 AND effective_from <= $2 ORDER BY effective_from DESC, version DESC LIMIT 1";

fn published(hash: String, id: String, version: i64, from: &str) -> Result<Published> {
    Ok(Published {
        hash,
        id,
        version: u32::try_from(version).unwrap_or(u32::MAX),
        effective_from: from
            .parse()
            .map_err(|e| Error::Conflict(format!("stored effective_from `{from}`: {e}")))?,
    })
}

/// The latest version in force of each procedure id, from rows sorted by id, then
/// `effective_from` and version descending.
fn first_per_id(rows: Vec<(String, String, i64)>) -> Vec<InForce> {
    let mut out: Vec<InForce> = Vec::new();
    for (hash, id, version) in rows {
        if out.last().is_some_and(|p| p.id == id) {
            continue;
        }
        let version = u32::try_from(version).unwrap_or(0);
        out.push(InForce { id, version, hash });
    }
    out
}

impl<B: SqlBackend> Procedures for B
where
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'e> String: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> &'e str: Encode<'e, B::Db> + Type<B::Db>,
    for<'e> i64: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
{
    async fn publish(&self, p: &Procedure, now: Millis) -> Result<Published> {
        let hash = p.content_hash();
        sqlx::query(
            "INSERT INTO procedures (hash, id, version, effective_from, definition, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(hash.as_str())
        .bind(p.id.as_str())
        .bind(i64::from(p.version))
        .bind(p.effective_from.to_string())
        .bind(serde_json::to_string(p)?)
        .bind(now)
        .execute(self.sql_pool())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Error::Conflict(format!(
                "{} v{} is already published with other content; publish a new version",
                p.id, p.version
            )),
            _ => Error::Database(e),
        })?;
        Ok(Published {
            hash,
            id: p.id.clone(),
            version: p.version,
            effective_from: p.effective_from,
        })
    }

    async fn procedure_for(
        &self,
        id: &str,
        day: NaiveDate,
    ) -> Result<Option<(Published, Procedure)>> {
        let row: Option<(String, String)> = sqlx::query_as(IN_FORCE)
            .bind(id)
            .bind(day.to_string())
            .fetch_optional(self.sql_pool())
            .await?;
        let Some((hash, definition)) = row else {
            return Ok(None);
        };
        let p: Procedure = serde_json::from_str(&definition)?;
        let published = Published {
            hash,
            id: p.id.clone(),
            version: p.version,
            effective_from: p.effective_from,
        };
        Ok(Some((published, p)))
    }

    async fn published_for(&self, id: &str, day: NaiveDate) -> Result<Option<Published>> {
        let row: Option<(String, String, i64, String)> = sqlx::query_as(
            "SELECT hash, id, version, effective_from FROM procedures WHERE id = $1 \
             AND effective_from <= $2 ORDER BY effective_from DESC, version DESC LIMIT 1",
        )
        .bind(id)
        .bind(day.to_string())
        .fetch_optional(self.sql_pool())
        .await?;
        let Some((hash, id, version, from)) = row else {
            return Ok(None);
        };
        Ok(Some(published(hash, id, version, &from)?))
    }

    async fn procedure_by_hash(&self, hash: &str) -> Result<Option<Procedure>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT definition FROM procedures WHERE hash = $1")
                .bind(hash)
                .fetch_optional(self.sql_pool())
                .await?;
        match row {
            Some((definition,)) => Ok(Some(serde_json::from_str(&definition)?)),
            None => Ok(None),
        }
    }

    async fn procedures_in_force(&self, day: NaiveDate) -> Result<Vec<InForce>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT hash, id, version FROM procedures WHERE effective_from <= $1 \
             ORDER BY id, effective_from DESC, version DESC",
        )
        .bind(day.to_string())
        .fetch_all(self.sql_pool())
        .await?;
        Ok(first_per_id(rows))
    }
}
