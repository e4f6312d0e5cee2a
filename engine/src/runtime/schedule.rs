//! Periodic jobs: every published procedure's `schedules:` (the version in force today of
//! each procedure id, its jobs covering that procedure's dossiers) and the engine's built-ins
//! (covering every procedure): [`BUILTINS`].
//!
//! How a tick runs exactly once across nodes, and survives restarts:
//! - each schedule has a row in `schedules` with its next due instant (`next_at`), created at
//!   the first cron tick after the instant a node first saw it;
//! - [`Runtime::run_schedules`] looks at every schedule; one whose `next_at` has come is
//!   claimed by a compare-and-set that moves `next_at` to the first tick *after now*, and the
//!   claim records the run in `job_runs` in the same transaction. Only one node's
//!   compare-and-set succeeds, and `job_runs` is unique on (schedule, tick);
//! - after a downtime spanning several ticks the stored `next_at` is in the past: the missed
//!   tick is claimed once (recorded at its own instant) and `next_at` jumps past now, so the
//!   job runs once on start-up, not once per missed tick;
//! - a `working_days_only` schedule whose tick falls on a non-working day of the calendar
//!   (weekend, holiday, compensatory day; a working Saturday counts as working) claims the
//!   tick and records it as `skipped`;
//! - a claimed tick runs at most once: the row stays `running` if the node stops during the
//!   job (the next tick runs as usual), and ends as `ran` or `failed` (with the error).
//!
//! Cron expressions have seconds first and are read in the schedule's IANA time zone; the
//! validator already refuses numeric days of the week (the cron crate reads 1 as Sunday).

mod figures;
mod jobs;

use super::{Result, Runtime};
use crate::clock::Millis;
use crate::definition::model::{Job, Schedule};
use crate::store::{JobRun, RunOutcome, Store, status_name};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde_json::json;
use std::str::FromStr;

/// The engine's own schedules, `(id, cron, job)`, in Asia/Ho_Chi_Minh, on every day: the
/// overdue sweep each morning at 07:00 and the figures each night at 23:00. Their names are
/// `engine:<id>` (a procedure id cannot contain `:`).
pub const BUILTINS: [(&str, &str, Job); 2] = [
    ("overdue_sweep", "0 0 7 * * *", Job::OverdueSweep),
    ("daily_figures", "0 0 23 * * *", Job::DailyFigures),
];

/// The zone of the built-in schedules.
pub const BUILTIN_ZONE: Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// A schedule as the node runs it.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    /// Unique across the deployment: `<procedure id>/<schedule id>` or `engine:<id>`.
    pub name: String,
    pub cron: cron::Schedule,
    pub zone: Tz,
    pub job: Job,
    pub working_days_only: bool,
    /// The procedure id whose dossiers the job covers; `None`: every procedure.
    pub scope: Option<String>,
}

impl ScheduleSpec {
    /// A procedure's schedule, with the cron and zone parsed when the definition was read;
    /// an error naming the schedule and the field when one does not parse (the validator
    /// refuses such definitions, so only one stored by other means can have it).
    pub fn of_procedure(procedure: &str, s: &Schedule) -> Result<Self, String> {
        let bad =
            |field: &str, why: &str| format!("schedule `{procedure}/{}`: {field}: {why}", s.id);
        Ok(ScheduleSpec {
            name: format!("{procedure}/{}", s.id),
            cron: s.cron.value().map_err(|e| bad("cron", e))?.clone(),
            zone: *s.timezone.value().map_err(|e| bad("timezone", e))?,
            job: s.job,
            working_days_only: s.working_days_only,
            scope: Some(procedure.to_string()),
        })
    }

    /// The engine's built-in schedules.
    pub fn builtins() -> Vec<Self> {
        BUILTINS
            .iter()
            .filter_map(|(id, cron, job)| {
                Some(ScheduleSpec {
                    name: format!("engine:{id}"),
                    cron: cron::Schedule::from_str(cron).ok()?,
                    zone: BUILTIN_ZONE,
                    job: *job,
                    working_days_only: false,
                    scope: None,
                })
            })
            .collect()
    }

    /// The first tick strictly after `at`.
    pub fn next_after(&self, at: Millis) -> Option<Millis> {
        let t = self.zone.timestamp_millis_opt(at).single()?;
        self.cron.after(&t).next().map(|n| n.timestamp_millis())
    }

    /// The local day (in the schedule's zone) of an instant.
    pub fn day_of(&self, at: Millis) -> Option<NaiveDate> {
        self.zone
            .timestamp_millis_opt(at)
            .single()
            .map(|t| t.date_naive())
    }
}

/// A job's name as definitions spell it (`overdue_sweep`, …).
pub fn job_name(job: Job) -> String {
    status_name(&job)
}

impl<S: Store> Runtime<S> {
    /// The schedules this node runs now: the built-ins, then each procedure's (the version
    /// in force today, per procedure id).
    pub async fn schedules(&self) -> Result<Vec<ScheduleSpec>> {
        let mut specs = ScheduleSpec::builtins();
        let today = jobs::vn_day(self.now());
        for p in self.store.procedures_in_force(today).await? {
            let procedure = self.procedure(&p.hash).await?;
            for s in &procedure.schedules {
                match ScheduleSpec::of_procedure(&procedure.id, s) {
                    Ok(spec) => specs.push(spec),
                    // Not dropped silently: the operator sees which schedule and why.
                    Err(e) => tracing::error!(error = %e, "schedule not run"),
                }
            }
        }
        Ok(specs)
    }

    /// Runs every schedule whose tick has come and that no other node claimed first.
    /// Returns how many jobs this node ran to their end (skipped and failed runs are recorded
    /// in `job_runs` but not counted; a failed job does not stop the others).
    pub async fn run_schedules(&self) -> Result<usize> {
        let now = self.now();
        let mut ran = 0;
        for spec in self.schedules().await? {
            if self.run_schedule(&spec, now).await? {
                ran += 1;
            }
        }
        Ok(ran)
    }

    /// Claims and runs one schedule's due tick, if it has one; true if its job ran.
    async fn run_schedule(&self, spec: &ScheduleSpec, now: Millis) -> Result<bool> {
        let Some(next) = spec.next_after(now) else {
            return Ok(false);
        };
        let due = self.store.schedule_next(&spec.name, next).await?;
        if due > now {
            return Ok(false);
        }
        let day = spec.day_of(due);
        let off_day = day.filter(|d| spec.working_days_only && !self.calendar().is_working_day(*d));
        let mut run = JobRun {
            name: spec.name.clone(),
            job: job_name(spec.job),
            due_at: due,
            node: self.config.node.clone(),
            ran_at: now,
            outcome: RunOutcome::Running,
            summary: json!({}),
            finished_at: None,
        };
        if let Some(d) = off_day {
            run.outcome = RunOutcome::Skipped;
            run.summary = json!({"reason": format!("{d} is not a working day")});
            run.finished_at = Some(now);
        }
        if !self.store.claim_job_tick(&run, next).await? || off_day.is_some() {
            return Ok(false);
        }
        let (outcome, summary) = match self.run_job(spec, due, now).await {
            Ok(summary) => (RunOutcome::Ran, summary),
            Err(e) => (RunOutcome::Failed, json!({"error": e.to_string()})),
        };
        self.store
            .finish_job_run(&spec.name, due, outcome, &summary, self.now())
            .await?;
        Ok(outcome == RunOutcome::Ran)
    }

    async fn run_job(
        &self,
        spec: &ScheduleSpec,
        due: Millis,
        now: Millis,
    ) -> Result<serde_json::Value> {
        let scope = spec.scope.as_deref();
        match spec.job {
            Job::OverdueSweep => self.overdue_sweep(scope, now).await,
            Job::DeadlineWarnings => self.deadline_warnings(scope, now).await,
            Job::SupplementReminders => self.supplement_reminders(scope, now).await,
            Job::DailyFigures => {
                let day = spec.day_of(due).unwrap_or_else(|| jobs::vn_day(due));
                self.daily_figures(scope, spec.zone, day, now).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_read_in_the_schedule_zone() {
        let specs = ScheduleSpec::builtins();
        let sweep = &specs[0];
        // Sunday 22 Nov 2026 12:00 UTC = 19:00 in Hà Nội; next 07:00 there is 00:00 UTC.
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .map(|t| t.timestamp_millis());
        let next = at.and_then(|a| sweep.next_after(a));
        let want = chrono::Utc
            .with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
            .single()
            .map(|t| t.timestamp_millis());
        assert_eq!(next, want);
        assert_eq!(
            next.and_then(|n| sweep.day_of(n)),
            NaiveDate::from_ymd_opt(2026, 11, 23)
        );
        // Strictly after: a tick at the very instant is not "next".
        assert!(want.and_then(|w| sweep.next_after(w)) > want);
    }
}
