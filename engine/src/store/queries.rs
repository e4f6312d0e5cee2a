//! Store methods behind the agency task API and the scheduler's jobs: one task, an agency's
//! filtered queue, the procedures in force, schedule ticks recorded in `job_runs`, pages of
//! open dossiers, supplement windows, closed dossiers and the daily figures.
//!
//! The SQL is shared by both dialects: `store_queries!` expands inside `sql_store!`'s
//! `impl Store` block. Rows are read as tuples and turned into our types by the plain
//! functions below.

use super::{Error, Result, Task};
use crate::clock::Millis;
use crate::machine::{Dossier, DossierId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// A citizen's supplement window, from its expiry timer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementWindow {
    pub dossier: DossierId,
    pub code: String,
    pub step: String,
    /// When the window closes.
    pub until: Millis,
}

/// A procedure version as listed for the scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InForce {
    pub id: String,
    pub version: u32,
    pub hash: String,
}

/// `tasks` columns, in the order of [`TASK_COLUMNS`].
pub(crate) type TaskRow = (
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

pub(crate) fn task_from(r: TaskRow) -> Result<Task> {
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

pub(crate) type JobRunRow = (
    String,
    String,
    i64,
    String,
    i64,
    String,
    String,
    Option<i64>,
);

pub(crate) fn job_run_from(r: JobRunRow) -> Result<JobRun> {
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

pub(crate) fn dossiers_from(rows: Vec<(String,)>) -> Result<Vec<Dossier>> {
    rows.into_iter()
        .map(|(state,)| serde_json::from_str(&state).map_err(Error::from))
        .collect()
}

/// The latest version in force of each procedure id, from rows sorted by id, then
/// `effective_from` and version descending.
pub(crate) fn first_per_id(rows: Vec<(String, String, i64)>) -> Vec<InForce> {
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

/// Expands the methods of this module inside `impl Store for …` (see `sql_store!`).
macro_rules! store_queries {
    ($begin:expr) => {
        async fn task(
            &self,
            dossier: &$crate::machine::DossierId,
            step: &str,
        ) -> $crate::store::Result<Option<$crate::store::Task>> {
            let row = sqlx::query_as::<_, $crate::store::queries::TaskRow>(
                "SELECT dossier_id, step, agency, action, request, status, claimed_by, claim_until, opened_at \
                 FROM tasks WHERE dossier_id = $1 AND step = $2",
            )
            .bind(&dossier.0)
            .bind(step)
            .fetch_optional(&self.pool)
            .await?;
            row.map($crate::store::queries::task_from).transpose()
        }

        async fn agency_tasks(
            &self,
            agency: &str,
            f: &$crate::store::TaskFilter<'_>,
        ) -> $crate::store::Result<Vec<$crate::store::Task>> {
            // Two fixed statements, one per direction: nothing of the request enters SQL text.
            const OLDEST: &str = "SELECT t.dossier_id, t.step, t.agency, t.action, t.request, t.status, t.claimed_by, \
                 t.claim_until, t.opened_at FROM tasks t JOIN dossiers d ON d.id = t.dossier_id \
                 JOIN procedures p ON p.hash = d.procedure_hash \
                 WHERE t.agency = $1 AND t.status IN ('queued', 'claimed') \
                 AND ($2 IS NULL OR p.id = $2) AND ($3 IS NULL OR t.status = $3) \
                 AND ($4 IS NULL OR d.province = $4) AND ($5 IS NULL OR d.commune = $5) \
                 ORDER BY t.opened_at, t.dossier_id, t.step LIMIT $6 OFFSET $7";
            const NEWEST: &str = "SELECT t.dossier_id, t.step, t.agency, t.action, t.request, t.status, t.claimed_by, \
                 t.claim_until, t.opened_at FROM tasks t JOIN dossiers d ON d.id = t.dossier_id \
                 JOIN procedures p ON p.hash = d.procedure_hash \
                 WHERE t.agency = $1 AND t.status IN ('queued', 'claimed') \
                 AND ($2 IS NULL OR p.id = $2) AND ($3 IS NULL OR t.status = $3) \
                 AND ($4 IS NULL OR d.province = $4) AND ($5 IS NULL OR d.commune = $5) \
                 ORDER BY t.opened_at DESC, t.dossier_id DESC, t.step DESC LIMIT $6 OFFSET $7";
            let rows = sqlx::query_as::<_, $crate::store::queries::TaskRow>(if f.newest_first { NEWEST } else { OLDEST })
                .bind(agency)
                .bind(f.procedure)
                .bind(f.status)
                .bind(&f.scope.province)
                .bind(&f.scope.commune)
                .bind(f.limit)
                .bind(f.offset)
                .fetch_all(&self.pool)
                .await?;
            rows.into_iter().map($crate::store::queries::task_from).collect()
        }

        async fn procedures_in_force(
            &self,
            day: chrono::NaiveDate,
        ) -> $crate::store::Result<Vec<$crate::store::InForce>> {
            let rows = sqlx::query_as::<_, (String, String, i64)>(
                "SELECT hash, id, version FROM procedures WHERE effective_from <= $1 \
                 ORDER BY id, effective_from DESC, version DESC",
            )
            .bind(day.to_string())
            .fetch_all(&self.pool)
            .await?;
            Ok($crate::store::queries::first_per_id(rows))
        }

        async fn claim_job_tick(
            &self,
            run: &$crate::store::JobRun,
            next: $crate::clock::Millis,
        ) -> $crate::store::Result<bool> {
            let mut tx = self.pool.begin_with($begin).await?;
            let moved = sqlx::query(
                "UPDATE schedules SET next_at = $1, epoch = epoch + 1 WHERE name = $2 AND next_at = $3",
            )
            .bind(next)
            .bind(&run.name)
            .bind(run.due_at)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() != 1 {
                return Ok(false);
            }
            let recorded = sqlx::query(
                "INSERT INTO job_runs (name, job, due_at, node, ran_at, outcome, summary, finished_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name, due_at) DO NOTHING",
            )
            .bind(&run.name)
            .bind(&run.job)
            .bind(run.due_at)
            .bind(&run.node)
            .bind(run.ran_at)
            .bind(run.outcome.as_str())
            .bind(serde_json::to_string(&run.summary)?)
            .bind(run.finished_at)
            .execute(&mut *tx)
            .await?;
            if recorded.rows_affected() != 1 {
                // This tick already ran once (the schedule was moved back): never twice.
                return Ok(false);
            }
            tx.commit().await?;
            Ok(true)
        }

        async fn finish_job_run(
            &self,
            name: &str,
            due_at: $crate::clock::Millis,
            outcome: $crate::store::RunOutcome,
            summary: &serde_json::Value,
            at: $crate::clock::Millis,
        ) -> $crate::store::Result<bool> {
            let done = sqlx::query(
                "UPDATE job_runs SET outcome = $1, summary = $2, finished_at = $3 \
                 WHERE name = $4 AND due_at = $5 AND outcome = 'running'",
            )
            .bind(outcome.as_str())
            .bind(serde_json::to_string(summary)?)
            .bind(at)
            .bind(name)
            .bind(due_at)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        async fn job_runs(
            &self,
            name: Option<&str>,
            limit: i64,
        ) -> $crate::store::Result<Vec<$crate::store::JobRun>> {
            let rows = sqlx::query_as::<_, $crate::store::queries::JobRunRow>(
                "SELECT name, job, due_at, node, ran_at, outcome, summary, finished_at FROM job_runs \
                 WHERE ($1 IS NULL OR name = $1) ORDER BY due_at, name LIMIT $2",
            )
            .bind(name)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            rows.into_iter().map($crate::store::queries::job_run_from).collect()
        }

        async fn open_dossiers(
            &self,
            procedure: Option<&str>,
            after: &str,
            limit: i64,
        ) -> $crate::store::Result<Vec<$crate::machine::Dossier>> {
            let rows = sqlx::query_as::<_, (String,)>(
                "SELECT d.state FROM dossiers d JOIN procedures p ON p.hash = d.procedure_hash \
                 WHERE d.status IN ('processing', 'supplement_requested') \
                 AND ($1 IS NULL OR p.id = $1) AND d.id > $2 ORDER BY d.id LIMIT $3",
            )
            .bind(procedure)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            $crate::store::queries::dossiers_from(rows)
        }

        async fn closed_dossiers(
            &self,
            procedure: Option<&str>,
            from: $crate::clock::Millis,
            to: $crate::clock::Millis,
            after: &str,
            limit: i64,
        ) -> $crate::store::Result<Vec<$crate::machine::Dossier>> {
            let rows = sqlx::query_as::<_, (String,)>(
                "SELECT d.state FROM dossiers d JOIN procedures p ON p.hash = d.procedure_hash \
                 WHERE d.closed_at >= $1 AND d.closed_at < $2 \
                 AND ($3 IS NULL OR p.id = $3) AND d.id > $4 ORDER BY d.id LIMIT $5",
            )
            .bind(from)
            .bind(to)
            .bind(procedure)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            $crate::store::queries::dossiers_from(rows)
        }

        async fn supplement_windows(
            &self,
            procedure: Option<&str>,
            from: $crate::clock::Millis,
            to: $crate::clock::Millis,
        ) -> $crate::store::Result<Vec<$crate::store::SupplementWindow>> {
            let rows = sqlx::query_as::<_, (String, String, String, i64)>(
                "SELECT t.dossier_id, d.code, t.step, t.due_at FROM timers t \
                 JOIN dossiers d ON d.id = t.dossier_id JOIN procedures p ON p.hash = d.procedure_hash \
                 WHERE t.kind = 'supplement_expiry' AND t.due_at > $1 AND t.due_at <= $2 \
                 AND ($3 IS NULL OR p.id = $3) ORDER BY t.due_at, t.dossier_id",
            )
            .bind(from)
            .bind(to)
            .bind(procedure)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(dossier, code, step, until)| $crate::store::SupplementWindow {
                    dossier: $crate::machine::DossierId(dossier),
                    code,
                    step,
                    until,
                })
                .collect())
        }

        async fn status_counts(
            &self,
            procedure: Option<&str>,
        ) -> $crate::store::Result<Vec<(String, String, i64)>> {
            let rows = sqlx::query_as::<_, (String, String, i64)>(
                "SELECT p.id, d.status, COUNT(*) FROM dossiers d JOIN procedures p ON p.hash = d.procedure_hash \
                 WHERE ($1 IS NULL OR p.id = $1) GROUP BY p.id, d.status ORDER BY p.id, d.status",
            )
            .bind(procedure)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows)
        }

        async fn put_daily_figures(
            &self,
            procedure: &str,
            day: chrono::NaiveDate,
            figures: &serde_json::Value,
            at: $crate::clock::Millis,
        ) -> $crate::store::Result<()> {
            sqlx::query(
                "INSERT INTO daily_figures (procedure_id, day, figures, computed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (procedure_id, day) DO UPDATE SET figures = excluded.figures, \
                 computed_at = excluded.computed_at",
            )
            .bind(procedure)
            .bind(day.to_string())
            .bind(serde_json::to_string(figures)?)
            .bind(at)
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        async fn daily_figures(
            &self,
            procedure: &str,
            day: chrono::NaiveDate,
        ) -> $crate::store::Result<Option<serde_json::Value>> {
            let row = sqlx::query_as::<_, (String,)>(
                "SELECT figures FROM daily_figures WHERE procedure_id = $1 AND day = $2",
            )
            .bind(procedure)
            .bind(day.to_string())
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.map(|(f,)| serde_json::from_str(&f)).transpose()?)
        }

        async fn dossier_by_code(
            &self,
            code: &str,
        ) -> $crate::store::Result<Option<$crate::machine::DossierId>> {
            let row = sqlx::query_as::<_, (String,)>("SELECT id FROM dossiers WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.map(|(id,)| $crate::machine::DossierId(id)))
        }

        async fn record_callback(
            &self,
            signature: &str,
            agency: &str,
            at: $crate::clock::Millis,
        ) -> $crate::store::Result<bool> {
            let done = sqlx::query(
                "INSERT INTO callback_receipts (signature, agency, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (signature) DO NOTHING",
            )
            .bind(signature)
            .bind(agency)
            .bind(at)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() == 1)
        }
    };
}

pub(crate) use store_queries;
