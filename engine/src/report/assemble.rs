//! A whole report from what the store read ([`ReportRead`]): the stored tallies of the
//! period merged with the live facts, per group, per agency, per week and month of receipt,
//! per province and commune, and the late dossiers.

use super::facts::Facts;
use super::rollup::day_of;
use super::summary::{Summary, round1};
use super::tally::{AreaCounts, Late, Tally, agencies, rate};
use crate::calendar::Calendar;
use crate::clock::Millis;
use crate::definition::Procedure;
use crate::machine::Dossier;
use crate::store::{LiveRow, ReportRead};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Dossiers received in one week (from its Monday) or month (from its first day): how many,
/// how many of them are decided, their median working days and on-time rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub start: NaiveDate,
    pub received: usize,
    pub decided: usize,
    pub median_working_days: Option<f64>,
    pub on_time_rate: Option<f64>,
}

/// One province's or commune's counts, with its on-time rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaRow {
    pub province: String,
    /// `None` for a province's row; `Some("")` for its dossiers filed without a commune.
    pub commune: Option<String>,
    #[serde(flatten)]
    pub counts: AreaCounts,
    pub on_time_rate: Option<f64>,
}

/// A report over a scope and period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub summary: Summary,
    /// Dossiers received in the period (all of them, stored and live).
    pub dossiers: usize,
    /// Decided late or open past their deadline, most working days first: the first
    /// [`LATE_SHOWN`] of `late_total`.
    pub late: Vec<Late>,
    pub late_total: usize,
    pub weeks: Vec<Trend>,
    pub months: Vec<Trend>,
    pub provinces: Vec<AreaRow>,
    /// Worst first: most late or overdue, then the lowest on-time rate.
    pub communes: Vec<AreaRow>,
    /// Dossiers closed before this instant were read from the stored tallies.
    pub stored_until: Millis,
    /// Dossiers whose facts were worked out for this report (open, or closed since).
    pub live: usize,
}

/// Late dossiers a report lists (the worst first); `late_total` counts them all.
pub const LATE_SHOWN: usize = 1_000;

#[derive(Default)]
struct TrendSum {
    received: usize,
    tally: Tally,
}

fn week_of(d: NaiveDate) -> NaiveDate {
    d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()))
}

fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn add_trend(by: &mut BTreeMap<NaiveDate, TrendSum>, start: NaiveDate, t: &Tally) {
    let e = by.entry(start).or_default();
    e.received += t.dossiers;
    // Only what a trend prints: decided, on time, and the spread of working days.
    e.tally.decided += t.decided;
    e.tally.resolved.early += t.resolved.early;
    e.tally.resolved.on_time += t.resolved.on_time;
    for (h, n) in &t.spread {
        *e.tally.spread.entry(*h).or_default() += n;
    }
}

fn trends(by: BTreeMap<NaiveDate, TrendSum>) -> Vec<Trend> {
    by.into_iter()
        .map(|(start, s)| Trend {
            start,
            received: s.received,
            decided: s.tally.decided,
            median_working_days: s.tally.percentile(50.0).map(round1),
            on_time_rate: rate(
                s.tally.resolved.early + s.tally.resolved.on_time,
                s.tally.decided,
            ),
        })
        .collect()
}

fn area_row(province: &str, commune: Option<&str>, counts: AreaCounts) -> AreaRow {
    let on_time_rate = rate(counts.on_time as usize, counts.decided as usize);
    AreaRow {
        province: province.to_string(),
        commune: commune.map(str::to_string),
        counts,
        on_time_rate,
    }
}

/// The facts of the live rows at `now` (`by_hash`: the definitions they run on; a row
/// whose definition is missing or whose state does not parse is left out), worked out on
/// `threads` threads.
pub fn live_facts(
    rows: &[LiveRow],
    by_hash: &BTreeMap<String, Arc<Procedure>>,
    calendar: &Calendar,
    now: Millis,
    threads: usize,
) -> Vec<(Facts, Option<String>, Option<String>)> {
    let one = |r: &LiveRow| {
        let p = by_hash.get(&r.hash)?;
        let d: Dossier = serde_json::from_str(&r.state).ok()?;
        let f = if d.status.is_closed() {
            Facts::of(&d, p, calendar, now)
        } else {
            Facts::of_open(&d, p, calendar, now)
        };
        Some((f, r.province.clone(), r.commune.clone()))
    };
    let chunk = rows.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = rows
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().filter_map(one).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The report of `read` and the facts of its live rows: `procedures` holds the newest
/// definition of every group to show (by id).
pub fn assemble(
    read: ReportRead,
    live_facts: Vec<(Facts, Option<String>, Option<String>)>,
    procedures: &BTreeMap<String, Arc<Procedure>>,
) -> Report {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut weeks, mut months) = (BTreeMap::new(), BTreeMap::new());
    for row in &read.rows {
        tallies
            .entry(row.procedure.clone())
            .or_default()
            .merge(&row.tally);
        if let Ok(day) = NaiveDate::parse_from_str(&row.day, "%Y-%m-%d") {
            add_trend(&mut weeks, week_of(day), &row.tally);
            add_trend(&mut months, month_of(day), &row.tally);
        }
    }
    let mut areas = read.areas;
    let mut live = 0;
    for (f, province, commune) in live_facts {
        live += 1;
        let mut one = Tally::default();
        one.add(&f);
        if let Some(day) = day_of(f.received_at) {
            add_trend(&mut weeks, week_of(day), &one);
            add_trend(&mut months, month_of(day), &one);
        }
        tallies.entry(f.procedure.clone()).or_default().merge(&one);
        if let Some(province) = province {
            areas
                .entry(province)
                .or_default()
                .entry(commune.unwrap_or_default())
                .or_default()
                .add(&f);
        }
    }
    let groups = procedures
        .iter()
        .map(|(id, p)| {
            let mut g = tallies
                .get(id)
                .map_or_else(|| Tally::default().report(p), |t| t.report(p));
            if read.carried_over_known {
                g.carried_over = Some(read.carried_over.get(id).copied().unwrap_or(0));
            }
            g
        })
        .collect();
    let mut late: Vec<Late> = tallies
        .values()
        .flat_map(|t| t.late.iter().cloned())
        .collect();
    late.sort_by(|a, b| {
        b.working_days
            .total_cmp(&a.working_days)
            .then_with(|| a.code.cmp(&b.code))
    });
    let late_total = late.len();
    late.truncate(LATE_SHOWN);
    let mut provinces = Vec::new();
    let mut communes = Vec::new();
    for (province, cs) in areas {
        let mut total = AreaCounts::default();
        for (commune, counts) in cs {
            total.merge(&counts);
            communes.push(area_row(&province, Some(&commune), counts));
        }
        provinces.push(area_row(&province, None, total));
    }
    communes.sort_by(|a, b| {
        let bad = |r: &AreaRow| r.counts.late + r.counts.overdue;
        bad(b)
            .cmp(&bad(a))
            .then_with(|| {
                a.on_time_rate
                    .unwrap_or(1.0)
                    .total_cmp(&b.on_time_rate.unwrap_or(1.0))
            })
            .then_with(|| (&a.province, &a.commune).cmp(&(&b.province, &b.commune)))
    });
    Report {
        dossiers: tallies.values().map(|t| t.dossiers).sum(),
        summary: Summary {
            groups,
            agencies: agencies(tallies.values()),
        },
        late,
        late_total,
        weeks: trends(weeks),
        months: trends(months),
        provinces,
        communes,
        stored_until: read.watermark,
        live,
    }
}
