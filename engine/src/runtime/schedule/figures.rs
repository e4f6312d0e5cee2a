//! The `daily_figures` job: per procedure id and local day, one row of `daily_figures`:
//!
//! - `by_status`: dossiers of the procedure by status when the job ran (a snapshot);
//! - `closed`: dossiers closed that day, by status; `decided`: those with results (decided,
//!   or decided then delivered);
//! - `on_time` and `on_time_rate`: decided dossiers that met the group deadline — or, for a
//!   procedure without one, whose every step met its own (no breach, finished by its
//!   deadline); the rate is `null` when nothing was decided;
//! - `median_working_days`: median processing time of the decided dossiers, in working days
//!   from the start day (the 15:00 cut-off rule) to the day of decision; `null` when none.
//!
//! The day is the schedule tick's local day in the schedule's zone. Each run also finishes
//! the day before: its closings are counted again, so a dossier decided after that day's run
//! (after 23:00 by default) is counted in its own day; that row keeps its status snapshot
//! (`by_status` is `null` in a row written only this way, after a day without a run).

use super::jobs::{PAGE, local_time};
use crate::calendar::{VIETNAM_OFFSET, start_day};
use crate::clock::Millis;
use crate::machine::{Dossier, DossierStatus, office_hours};
use crate::runtime::{Result, Runtime};
use crate::store::{Store, status_name};
use chrono::{DateTime, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
struct Figures {
    by_status: Option<BTreeMap<String, i64>>,
    closed: BTreeMap<String, i64>,
    decided: usize,
    on_time: usize,
    /// Processing times of the decided dossiers, in working days.
    days: Vec<i64>,
}

impl Figures {
    fn to_json(&self, procedure: &str, day: NaiveDate, now: Millis) -> Value {
        let rate = (self.decided > 0).then(|| self.on_time as f64 / self.decided as f64);
        json!({
            "procedure": procedure,
            "day": day.to_string(),
            "by_status": self.by_status,
            "closed": self.closed,
            "decided": self.decided,
            "on_time": self.on_time,
            "on_time_rate": rate,
            "median_working_days": median(&self.days),
            "computed_at": local_time(now),
        })
    }
}

fn median(values: &[i64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2] as f64),
        _ => Some((v[n / 2 - 1] + v[n / 2]) as f64 / 2.0),
    }
}

/// Whether a decided dossier met its deadlines: the group's if it has one, else each step's.
fn on_time(d: &Dossier) -> bool {
    let decided = d.closed_at.unwrap_or(Millis::MAX);
    if let Some(c) = &d.clock {
        return decided <= c.computed().deadline.timestamp_millis();
    }
    d.steps.values().all(|s| {
        let met = match (&s.clock, s.finished_at) {
            (Some(c), Some(end)) => end <= c.computed().deadline.timestamp_millis(),
            _ => true,
        };
        met && !s.breached
    })
}

/// `[start, end)` of a local day in `zone`, as instants.
fn day_bounds(zone: Tz, day: NaiveDate) -> (Millis, Millis) {
    let at = |d: NaiveDate| {
        let midnight = d.and_time(chrono::NaiveTime::MIN);
        zone.from_local_datetime(&midnight)
            .earliest()
            .unwrap_or_else(|| zone.from_utc_datetime(&midnight))
            .timestamp_millis()
    };
    (at(day), at(day.succ_opt().unwrap_or(day)))
}

impl<S: Store> Runtime<S> {
    /// Working days from a dossier's start day to the day it was decided.
    async fn processing_days(&self, d: &Dossier) -> Result<i64> {
        let p = self.procedure(&d.procedure.hash).await?;
        let office = office_hours(&p);
        let local = |ms: Millis| {
            DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&VIETNAM_OFFSET))
        };
        let (Some(received), Some(decided)) = (local(d.received_at), d.closed_at.and_then(local))
        else {
            return Ok(0);
        };
        let calendar = self.calendar();
        let start = start_day(received, &calendar, &office);
        let days = calendar.working_days_between(start, decided.date_naive());
        Ok(days.max(0))
    }

    /// Closings of a local day, per procedure id.
    async fn closings(
        &self,
        scope: Option<&str>,
        zone: Tz,
        day: NaiveDate,
    ) -> Result<BTreeMap<String, Figures>> {
        let mut figures: BTreeMap<String, Figures> = BTreeMap::new();
        let (from, to) = day_bounds(zone, day);
        let mut after = String::new();
        loop {
            let page = self
                .store
                .closed_dossiers(scope, from, to, &after, PAGE)
                .await?;
            for d in &page {
                let days = match d.status {
                    DossierStatus::Decided | DossierStatus::Delivered => {
                        Some(self.processing_days(d).await?)
                    }
                    _ => None,
                };
                let f = figures.entry(d.procedure.id.clone()).or_default();
                *f.closed.entry(status_name(&d.status)).or_default() += 1;
                if let Some(days) = days {
                    f.decided += 1;
                    f.on_time += usize::from(on_time(d));
                    f.days.push(days);
                }
            }
            match page.last() {
                Some(last) if i64::try_from(page.len()).is_ok_and(|n| n == PAGE) => {
                    after = last.id.0.clone();
                }
                _ => return Ok(figures),
            }
        }
    }

    /// Computes and stores the figures of `day` for each procedure id in scope, and finishes
    /// the day before.
    pub(super) async fn daily_figures(
        &self,
        scope: Option<&str>,
        zone: Tz,
        day: NaiveDate,
        now: Millis,
    ) -> Result<Value> {
        let mut figures = self.closings(scope, zone, day).await?;
        for p in self.store.procedures_in_force(day).await? {
            if scope.is_none_or(|s| s == p.id) {
                figures.entry(p.id).or_default();
            }
        }
        for f in figures.values_mut() {
            f.by_status = Some(BTreeMap::new());
        }
        for (procedure, status, n) in self.store.status_counts(scope).await? {
            let f = figures.entry(procedure).or_default();
            f.by_status.get_or_insert_default().insert(status, n);
        }
        let mut decided = 0;
        for (procedure, f) in &figures {
            decided += f.decided;
            self.store
                .put_daily_figures(procedure, day, &f.to_json(procedure, day, now), now)
                .await?;
        }
        let mut finished = 0;
        if let Some(before) = day.pred_opt() {
            for (procedure, mut f) in self.closings(scope, zone, before).await? {
                let stored = self.store.daily_figures(&procedure, before).await?;
                f.by_status =
                    stored.and_then(|v| serde_json::from_value(v["by_status"].clone()).ok());
                self.store
                    .put_daily_figures(&procedure, before, &f.to_json(&procedure, before, now), now)
                    .await?;
                finished += 1;
            }
        }
        Ok(json!({
            "day": day.to_string(),
            "procedures": figures.len(),
            "decided": decided,
            "day_before_rows": finished,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3, 1, 2]), Some(2.0));
        assert_eq!(median(&[4, 1, 2, 3]), Some(2.5));
    }

    #[test]
    fn a_day_in_ho_chi_minh_starts_at_17_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
        let (from, to) = day_bounds(chrono_tz::Asia::Ho_Chi_Minh, day);
        assert_eq!(to - from, 86_400_000);
        let start = DateTime::from_timestamp_millis(from).map(|t| t.to_rfc3339());
        assert_eq!(start.as_deref(), Some("2026-11-22T17:00:00+00:00"));
    }
}
