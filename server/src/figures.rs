//! Figures for the API's `/figures` and the demo's report: the engine's reporting model
//! (`lienthong_engine::report`) over a set of dossiers. Nothing is computed here: this file
//! only pairs each dossier with the definition it runs on.

use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::Millis;
use lienthong_engine::definition::Procedure;
use lienthong_engine::machine::Dossier;
use lienthong_engine::machine::Timeliness;
use lienthong_engine::report::{self, Facts};
pub use lienthong_engine::report::{AgencyHeld, GroupReport, Summary};
use lienthong_engine::runtime::Runtime;
pub use lienthong_engine::store::status_name;
use lienthong_engine::store::{Scope, Store};
use std::collections::BTreeMap;

/// `key value, key value, …` for a map of counts.
pub fn pairs<K: std::fmt::Display, V: std::fmt::Display>(m: &BTreeMap<K, V>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The figures of `dossiers` at `now`. `definitions` holds every definition they run on, by
/// content hash (a dossier whose definition is missing is left out); each group's row uses
/// the newest version among them.
pub fn build(
    dossiers: &[Dossier],
    definitions: &BTreeMap<String, Procedure>,
    calendar: &Calendar,
    now: Millis,
) -> Summary {
    let facts: Vec<Facts> = dossiers
        .iter()
        .filter_map(|d| {
            let p = definitions.get(&d.procedure.hash)?;
            Some(Facts::of(d, p, calendar, now))
        })
        .collect();
    let mut newest: BTreeMap<String, Procedure> = BTreeMap::new();
    for p in definitions.values() {
        if newest.get(&p.id).is_none_or(|q| q.version < p.version) {
            newest.insert(p.id.clone(), p.clone());
        }
    }
    report::summarize(&facts, &newest)
}

/// Dossiers read for figures, at most (the newest figures need no more on one node).
pub const FIGURES_MAX: usize = 200_000;

/// A dossier decided late or still open past its deadline (the dashboard's drill-down).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Late {
    pub code: String,
    pub procedure: String,
    pub working_days: f64,
    /// Still open (overdue) rather than decided late.
    pub open: bool,
}

/// One week of the trend: dossiers received that week, and those decided that week with
/// their median working days and on-time rate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Week {
    /// The Monday that starts the week (in Vietnam).
    pub monday: chrono::NaiveDate,
    pub received: usize,
    pub decided: usize,
    pub median_working_days: Option<f64>,
    pub on_time_rate: Option<f64>,
}

/// The Monday of the week of `at`, in Vietnam.
fn monday(at: Millis) -> Option<chrono::NaiveDate> {
    use chrono::Datelike as _;
    let day = chrono::DateTime::from_timestamp_millis(at)?
        .with_timezone(&lienthong_engine::calendar::VIETNAM_OFFSET)
        .date_naive();
    day.checked_sub_days(chrono::Days::new(u64::from(
        day.weekday().num_days_from_monday(),
    )))
}

/// The weekly trend of `facts`, oldest week first.
pub fn weeks(facts: &[Facts]) -> Vec<Week> {
    let mut by: BTreeMap<chrono::NaiveDate, (usize, Vec<f64>, usize)> = BTreeMap::new();
    for f in facts {
        if let Some(m) = monday(f.received_at) {
            by.entry(m).or_default().0 += 1;
        }
        if let (true, Some(closed)) = (f.decided, f.closed_at)
            && let Some(m) = monday(closed)
        {
            let e = by.entry(m).or_default();
            e.1.push(f.working_days);
            if matches!(f.timeliness, Some(Timeliness::Early | Timeliness::OnTime)) {
                e.2 += 1;
            }
        }
    }
    by.into_iter()
        .map(|(monday, (received, mut days, on_time))| {
            days.sort_by(f64::total_cmp);
            Week {
                monday,
                received,
                decided: days.len(),
                median_working_days: report::percentile(&days, 50.0).map(report::round1),
                on_time_rate: (!days.is_empty()).then(|| on_time as f64 / days.len() as f64),
            }
        })
        .collect()
}

/// The figures of the dossiers inside `scope` (of one procedure, if given; received in
/// `[from, to)`, if given) — what `/api/v1/figures`, the dashboard and its exports show.
#[derive(Debug, Clone)]
pub struct Figures {
    pub summary: Summary,
    pub dossiers: usize,
    pub truncated: bool,
    pub late: Vec<Late>,
    pub weeks: Vec<Week>,
}

/// Reads the dossiers and their definitions and builds [`Figures`].
pub async fn scoped<S: Store>(
    rt: &Runtime<S>,
    scope: &Scope,
    procedure: Option<&str>,
    period: Option<(Millis, Millis)>,
) -> Result<Figures, lienthong_engine::store::Error> {
    let store = rt.store();
    let mut dossiers = Vec::new();
    let mut after = String::new();
    let mut read = 0;
    loop {
        let page = store
            .scoped_dossiers(scope, procedure, &after, 1_000)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id.0.clone();
        let full = page.len() == 1_000;
        read += page.len();
        dossiers.extend(
            page.into_iter()
                .filter(|d| period.is_none_or(|(a, b)| (a..b).contains(&d.received_at))),
        );
        if !full || read >= FIGURES_MAX {
            break;
        }
    }
    let mut definitions = BTreeMap::new();
    for d in &dossiers {
        if definitions.contains_key(&d.procedure.hash) {
            continue;
        }
        if let Some(def) = store.procedure_by_hash(&d.procedure.hash).await? {
            definitions.insert(d.procedure.hash.clone(), def);
        }
    }
    let calendar = rt.calendar();
    let now = rt.now();
    let mut late = Vec::new();
    let mut all = Vec::new();
    for d in &dossiers {
        let Some(p) = definitions.get(&d.procedure.hash) else {
            continue;
        };
        let f = Facts::of(d, p, &calendar, now);
        if f.timeliness == Some(Timeliness::Late) || f.overdue {
            late.push(Late {
                code: d.code.clone(),
                procedure: d.procedure.id.clone(),
                working_days: report::round1(f.working_days),
                open: f.overdue,
            });
        }
        all.push(f);
    }
    late.sort_by(|a, b| b.working_days.total_cmp(&a.working_days));
    Ok(Figures {
        summary: build(&dossiers, &definitions, &calendar, now),
        dossiers: dossiers.len(),
        truncated: read >= FIGURES_MAX,
        late,
        weeks: weeks(&all),
    })
}
