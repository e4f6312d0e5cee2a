//! Recurring jobs: the `schedules` table (each schedule's next tick, claimed by one node),
//! `job_runs` (every claimed tick and how it ended, so none runs twice) and
//! `daily_figures` (what the daily job computed).

use super::Result;
use super::dialect::{Dialect, SqlBackend};
use crate::clock::Millis;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};
use std::future::Future;

/// How a recorded schedule tick ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Claimed, the job under way (left so if the node stopped during it).
    Running,
    /// The job ran to its end.
    Ran,
    /// Claimed but not run: the tick fell on a non-working day.
    Skipped,
    /// The job stopped on an error (in the summary).
    Failed,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Running => "running",
            RunOutcome::Ran => "ran",
            RunOutcome::Skipped => "skipped",
            RunOutcome::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(serde_json::from_value(Value::String(s.to_string()))?)
    }
}

/// One claimed tick of a schedule (a row of `job_runs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRun {
    /// The schedule's name (`<procedure>/<schedule id>`, or `engine:<id>` for built-ins).
    pub name: String,
    /// The job, as named in definitions (`overdue_sweep`, …).
    pub job: String,
    /// The tick this run is for.
    pub due_at: Millis,
    /// The node that claimed it, and when.
    pub node: String,
    pub ran_at: Millis,
    pub outcome: RunOutcome,
    /// What the job did (counts), why it was skipped, or the error.
    pub summary: Value,
    pub finished_at: Option<Millis>,
}

type JobRunRow = (
    String,
    String,
    i64,
    String,
    i64,
    String,
    String,
    Option<i64>,
);

fn job_run_from(r: JobRunRow) -> Result<JobRun> {
    let (name, job, due_at, node, ran_at, outcome, summary, finished_at) = r;
    Ok(JobRun {
        name,
        job,
        due_at,
        node,
        ran_at,
        outcome: RunOutcome::parse(&outcome)?,
        summary: serde_json::from_str(&summary)?,
        finished_at,
    })
}

/// Schedules, their runs and the figures the daily job stores.
pub trait Schedules {
    /// The next due instant of a schedule, creating it at `first` if unknown.
    fn schedule_next(
        &self,
        name: &str,
        first: Millis,
    ) -> impl Future<Output = Result<Millis>> + Send;
    /// Claims the tick `run.due_at` of schedule `run.name` (moving `next_at` to `next` if it
    /// is still `run.due_at`) and records `run` in `job_runs`, in one transaction. False when
    /// another node claimed it first or the tick was already recorded.
    fn claim_job_tick(
        &self,
        run: &JobRun,
        next: Millis,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Records how a `running` job run ended.
    fn finish_job_run(
        &self,
        name: &str,
        due_at: Millis,
        outcome: RunOutcome,
        summary: &Value,
        at: Millis,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Recorded job runs (of one schedule, or all), oldest tick first.
    fn job_runs(
        &self,
        name: Option<&str>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<JobRun>>> + Send;
    /// Stores (or replaces) a procedure's figures for a local day.
    fn put_daily_figures(
        &self,
        procedure: &str,
        day: NaiveDate,
        figures: &Value,
        at: Millis,
    ) -> impl Future<Output = Result<()>> + Send;
    fn daily_figures(
        &self,
        procedure: &str,
        day: NaiveDate,
    ) -> impl Future<Output = Result<Option<Value>>> + Send;
}

impl<B: SqlBackend> Schedules for B
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
    async fn schedule_next(&self, name: &str, first: Millis) -> Result<Millis> {
        sqlx::query(
            "INSERT INTO schedules (name, next_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(first)
        .execute(self.sql_pool())
        .await?;
        let (next,): (i64,) = sqlx::query_as("SELECT next_at FROM schedules WHERE name = $1")
            .bind(name)
            .fetch_one(self.sql_pool())
            .await?;
        Ok(next)
    }

    async fn claim_job_tick(&self, run: &JobRun, next: Millis) -> Result<bool> {
        let mut tx = self.sql_pool().begin_with(B::Db::BEGIN).await?;
        let moved = sqlx::query(
            "UPDATE schedules SET next_at = $1, epoch = epoch + 1 WHERE name = $2 AND next_at = $3",
        )
        .bind(next)
        .bind(run.name.as_str())
        .bind(run.due_at)
        .execute(&mut *tx)
        .await?;
        if <B::Db as Dialect>::affected(&moved) != 1 {
            return Ok(false);
        }
        let recorded = sqlx::query(
            "INSERT INTO job_runs (name, job, due_at, node, ran_at, outcome, summary, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name, due_at) DO NOTHING",
        )
        .bind(run.name.as_str())
        .bind(run.job.as_str())
        .bind(run.due_at)
        .bind(run.node.as_str())
        .bind(run.ran_at)
        .bind(run.outcome.as_str())
        .bind(serde_json::to_string(&run.summary)?)
        .bind(run.finished_at)
        .execute(&mut *tx)
        .await?;
        if <B::Db as Dialect>::affected(&recorded) != 1 {
            // This tick already ran once (the schedule was moved back): never twice.
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn finish_job_run(
        &self,
        name: &str,
        due_at: Millis,
        outcome: RunOutcome,
        summary: &Value,
        at: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE job_runs SET outcome = $1, summary = $2, finished_at = $3 \
             WHERE name = $4 AND due_at = $5 AND outcome = 'running'",
        )
        .bind(outcome.as_str())
        .bind(serde_json::to_string(summary)?)
        .bind(at)
        .bind(name)
        .bind(due_at)
        .execute(self.sql_pool())
        .await?;
        Ok(<B::Db as Dialect>::affected(&done) == 1)
    }

    async fn job_runs(&self, name: Option<&str>, limit: i64) -> Result<Vec<JobRun>> {
        let rows: Vec<JobRunRow> = sqlx::query_as(
            "SELECT name, job, due_at, node, ran_at, outcome, summary, finished_at FROM job_runs \
             WHERE ($1 IS NULL OR name = $1) ORDER BY due_at, name LIMIT $2",
        )
        .bind(name.map(str::to_string))
        .bind(limit)
        .fetch_all(self.sql_pool())
        .await?;
        rows.into_iter().map(job_run_from).collect()
    }

    async fn put_daily_figures(
        &self,
        procedure: &str,
        day: NaiveDate,
        figures: &Value,
        at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO daily_figures (procedure_id, day, figures, computed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (procedure_id, day) \
             DO UPDATE SET figures = excluded.figures, computed_at = excluded.computed_at",
        )
        .bind(procedure)
        .bind(day.to_string())
        .bind(serde_json::to_string(figures)?)
        .bind(at)
        .execute(self.sql_pool())
        .await?;
        Ok(())
    }

    async fn daily_figures(&self, procedure: &str, day: NaiveDate) -> Result<Option<Value>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT figures FROM daily_figures WHERE procedure_id = $1 AND day = $2",
        )
        .bind(procedure)
        .bind(day.to_string())
        .fetch_optional(self.sql_pool())
        .await?;
        Ok(row.map(|(f,)| serde_json::from_str(&f)).transpose()?)
    }
}
