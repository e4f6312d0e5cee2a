//! The `daily_figures` job: per procedure id and local day, one row of `daily_figures`:
//!
//! - `by_status`: dossiers of the procedure by status when the job ran (a snapshot);
//! - `closed`: dossiers closed that day, by status; `decided`: those with results (decided,
//!   or decided then delivered);
//! - `resolved` (early, on time, late), `on_time` (early or on time) and `on_time_rate`;
//!   the rate is `null` when nothing was decided;
//! - `median_working_days` and `p90_working_days` of the decided dossiers; `null` when none.
//!
//! Every figure but the counts comes from the reporting model (`crate::report`): the same
//! dossiers give the same numbers here, in the API's figures and in the demo's report.
//!
//! The day is the schedule tick's local day in the schedule's zone. Each run also finishes
//! the day before: its closings are counted again, so a dossier decided after that day's run
//! (after 23:00 by default) is counted in its own day; that row keeps its status snapshot
//! (`by_status` is `null` in a row written only this way, after a day without a run).

use super::jobs::{PAGE, local_time};
use crate::clock::Millis;
use crate::definition::Procedure;
use crate::report::{self, Facts};
use crate::runtime::{Result, Runtime};
use crate::store::{Store, status_name};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Default)]
struct Figures {
    by_status: Option<BTreeMap<String, i64>>,
    closed: BTreeMap<String, i64>,
    /// The definition the day's dossiers ran on (the latest seen), and their facts.
    procedure: Option<Arc<Procedure>>,
    facts: Vec<Facts>,
}

impl Figures {
    fn to_json(&self, procedure: &str, day: NaiveDate, now: Millis) -> Value {
        let mine: Vec<&Facts> = self.facts.iter().collect();
        let group = self.procedure.as_deref().map(|p| report::group(p, &mine));
        let resolved = group.as_ref().map(|g| &g.resolved);
        json!({
            "procedure": procedure,
            "day": day.to_string(),
            "by_status": self.by_status,
            "closed": self.closed,
            "decided": group.as_ref().map_or(0, |g| g.decided),
            "on_time": resolved.map_or(0, |r| r.early + r.on_time),
            "resolved": resolved,
            "on_time_rate": group.as_ref().and_then(|g| g.on_time_rate),
            "median_working_days": group.as_ref().and_then(|g| g.median_working_days),
            "p90_working_days": group.as_ref().and_then(|g| g.p90_working_days),
            "computed_at": local_time(now),
        })
    }
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
            let calendar = self.calendar();
            for d in &page {
                let p = self.procedure(&d.procedure.hash).await?;
                let f = figures.entry(d.procedure.id.clone()).or_default();
                *f.closed.entry(status_name(&d.status)).or_default() += 1;
                f.facts.push(Facts::of(d, &p, &calendar, to));
                f.procedure = Some(p);
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
        // The stored tallies first: the dossiers closed before today.
        let rolled = self.roll_up().await?;
        let mut figures = self.closings(scope, zone, day).await?;
        for p in self.store.procedures_in_force(day).await? {
            if scope.is_none_or(|s| s == p.id) {
                let def = self.procedure(&p.hash).await?;
                let f = figures.entry(p.id).or_default();
                f.procedure.get_or_insert(def);
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
            decided += f.facts.iter().filter(|x| x.decided).count();
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
            "rolled_up": rolled.dossiers,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn a_day_in_ho_chi_minh_starts_at_17_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
        let (from, to) = day_bounds(chrono_tz::Asia::Ho_Chi_Minh, day);
        assert_eq!(to - from, 86_400_000);
        let start = DateTime::from_timestamp_millis(from).map(|t| t.to_rfc3339());
        assert_eq!(start.as_deref(), Some("2026-11-22T17:00:00+00:00"));
    }
}
