//! The `tasks` table (human steps in agencies' queues, written with their dossiers'
//! transitions) and `callback_receipts` (agency callbacks seen, against replays).

use super::dialect::{Dialect, SqlBackend};
use super::{Result, Scope};
use crate::clock::Millis;
use crate::machine::DossierId;
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};
use std::future::Future;

/// A human task in an agency's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub dossier: DossierId,
    pub step: String,
    pub agency: String,
    pub action: String,
    pub request: serde_json::Value,
    pub status: String,
    pub claimed_by: Option<String>,
    pub claim_until: Option<Millis>,
    pub opened_at: Millis,
}

/// Which of an agency's open tasks to read.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter<'a> {
    pub procedure: Option<&'a str>,
    pub status: Option<&'a str>,
    /// Only dossiers filed inside this area.
    pub scope: Scope,
    /// Newest first (default: oldest first).
    pub newest_first: bool,
    pub offset: i64,
    pub limit: i64,
}

/// Agencies' work: their tasks and the callbacks they sent.
pub trait Tasks {
    /// The task of one step of one dossier, whatever its status.
    fn task(
        &self,
        dossier: &DossierId,
        step: &str,
    ) -> impl Future<Output = Result<Option<Task>>> + Send;
    /// An agency's open tasks (queued or claimed) as `filter` says.
    fn agency_tasks(
        &self,
        agency: &str,
        filter: &TaskFilter<'_>,
    ) -> impl Future<Output = Result<Vec<Task>>> + Send;
    /// Records an agency callback's signature; false if it was seen before (a replay).
    fn record_callback(
        &self,
        signature: &str,
        agency: &str,
        at: Millis,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// `tasks` columns, as every task query reads them.
type TaskRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    i64,
);

fn task_from(r: TaskRow) -> Result<Task> {
    let (dossier, step, agency, action, request, status, claimed_by, claim_until, opened_at) = r;
    Ok(Task {
        dossier: DossierId(dossier),
        step,
        agency,
        action,
        request: serde_json::from_str(&request)?,
        status,
        claimed_by,
        claim_until,
        opened_at,
    })
}

// Two fixed statements, one per direction: nothing of the request enters SQL text.
const OLDEST: &str = "SELECT t.dossier_id, t.step, t.agency, t.action, t.request, t.status, \
     t.claimed_by, t.claim_until, t.opened_at FROM tasks t JOIN dossiers d ON d.id = t.dossier_id \
     JOIN procedures p ON p.hash = d.procedure_hash \
     WHERE t.agency = $1 AND t.status IN ('queued', 'claimed') \
     AND ($2 IS NULL OR p.id = $2) AND ($3 IS NULL OR t.status = $3) \
     AND ($4 IS NULL OR d.province = $4) AND ($5 IS NULL OR d.commune = $5) \
     ORDER BY t.opened_at, t.dossier_id, t.step LIMIT $6 OFFSET $7";
const NEWEST: &str = "SELECT t.dossier_id, t.step, t.agency, t.action, t.request, t.status, \
     t.claimed_by, t.claim_until, t.opened_at FROM tasks t JOIN dossiers d ON d.id = t.dossier_id \
     JOIN procedures p ON p.hash = d.procedure_hash \
     WHERE t.agency = $1 AND t.status IN ('queued', 'claimed') \
     AND ($2 IS NULL OR p.id = $2) AND ($3 IS NULL OR t.status = $3) \
     AND ($4 IS NULL OR d.province = $4) AND ($5 IS NULL OR d.commune = $5) \
     ORDER BY t.opened_at DESC, t.dossier_id DESC, t.step DESC LIMIT $6 OFFSET $7";

impl<B: SqlBackend> Tasks for B
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
    async fn task(&self, dossier: &DossierId, step: &str) -> Result<Option<Task>> {
        let row: Option<TaskRow> = sqlx::query_as(
            "SELECT dossier_id, step, agency, action, request, status, claimed_by, claim_until, \
             opened_at FROM tasks WHERE dossier_id = $1 AND step = $2",
        )
        .bind(dossier.0.as_str())
        .bind(step)
        .fetch_optional(self.sql_pool())
        .await?;
        row.map(task_from).transpose()
    }

    async fn agency_tasks(&self, agency: &str, f: &TaskFilter<'_>) -> Result<Vec<Task>> {
        let rows: Vec<TaskRow> = sqlx::query_as(if f.newest_first { NEWEST } else { OLDEST })
            .bind(agency)
            .bind(f.procedure.map(str::to_string))
            .bind(f.status.map(str::to_string))
            .bind(f.scope.province.clone())
            .bind(f.scope.commune.clone())
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(self.sql_pool())
            .await?;
        rows.into_iter().map(task_from).collect()
    }

    async fn record_callback(&self, signature: &str, agency: &str, at: Millis) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO callback_receipts (signature, agency, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (signature) DO NOTHING",
        )
        .bind(signature)
        .bind(agency)
        .bind(at)
        .execute(self.sql_pool())
        .await?;
        Ok(<B::Db as Dialect>::affected(&done) == 1)
    }
}
