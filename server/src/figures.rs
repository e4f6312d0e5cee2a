//! Figures per procedure group, computed from dossiers: counts by status, processing time
//! in working days against the legal limit and the pre-reform baseline, the on-time rate,
//! and how long each agency held the files. The demo's report and the API's `/figures`
//! both use them.

use lienthong_engine::calendar::{Calendar, OfficeHours, VIETNAM_OFFSET, working_hours_between};
use lienthong_engine::clock::Millis;
use lienthong_engine::definition::Procedure;
use lienthong_engine::machine::{Dossier, DossierStatus};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Working hours in a working day (07:30-11:30, 13:00-17:00).
const HOURS_PER_DAY: f64 = 8.0;

/// The value at percentile `p` (0-100) of sorted values (nearest rank); 0 when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    pub procedure: String,
    pub title_vi: String,
    pub dossiers: usize,
    pub by_status: BTreeMap<String, usize>,
    /// Of decided dossiers, in working days (citizen's supplement time excluded).
    pub median_working_days: f64,
    pub p90_working_days: f64,
    /// The group's legal limit (declared, or the longest chain of step limits).
    pub legal_limit_days: u32,
    pub baseline_days: Option<u32>,
    /// Decided dossiers the engine judged on time: no step and no group deadline breached.
    pub on_time_rate: f64,
    /// Breached steps, by step.
    pub breaches: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgencyHeld {
    pub agency: String,
    pub steps: usize,
    pub working_days: f64,
    pub mean_per_step: f64,
}

/// `key value, key value, …` for a map of counts.
pub fn pairs<K: std::fmt::Display, V: std::fmt::Display>(m: &BTreeMap<K, V>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Working days between two instants.
pub fn working_days(a: Millis, b: Millis, calendar: &Calendar) -> f64 {
    working_hours(a, b, calendar) / HOURS_PER_DAY
}

/// Working hours between two instants (office hours, working days only).
pub fn working_hours(a: Millis, b: Millis, calendar: &Calendar) -> f64 {
    let (Some(a), Some(b)) = (
        chrono::DateTime::from_timestamp_millis(a),
        chrono::DateTime::from_timestamp_millis(b),
    ) else {
        return 0.0;
    };
    let office = OfficeHours::default();
    let (a, b) = (
        a.with_timezone(&VIETNAM_OFFSET),
        b.with_timezone(&VIETNAM_OFFSET),
    );
    working_hours_between(a, b, calendar, &office).num_minutes() as f64 / 60.0
}

/// The legal limit of a group: declared, or the longest chain of its steps' limits.
pub fn legal_limit(p: &Procedure) -> u32 {
    if let Some(d) = &p.deadline {
        return d.legal;
    }
    fn finish(p: &Procedure, i: usize, memo: &mut HashMap<usize, u32>, depth: usize) -> u32 {
        if let Some(v) = memo.get(&i) {
            return *v;
        }
        let s = &p.steps[i];
        let own = s.deadline.as_ref().map_or(0, |d| d.legal);
        let before = if depth > p.steps.len() {
            0
        } else {
            s.after
                .iter()
                .filter_map(|a| p.steps.iter().position(|x| &x.id == a))
                .map(|j| finish(p, j, memo, depth + 1))
                .max()
                .unwrap_or(0)
        };
        memo.insert(i, before + own);
        before + own
    }
    let mut memo = HashMap::new();
    (0..p.steps.len())
        .map(|i| finish(p, i, &mut memo, 0))
        .max()
        .unwrap_or(0)
}

/// Working days a dossier spent with the administration (supplement pauses excluded).
fn processing_days(d: &Dossier, calendar: &Calendar) -> Option<f64> {
    let closed = d.closed_at?;
    let total = working_days(d.received_at, closed, calendar);
    let paused: f64 = d
        .clock
        .as_ref()
        .map(|c| {
            c.pauses()
                .iter()
                .map(|p| {
                    let until = p.until.map_or(closed, |u| u.timestamp_millis());
                    working_days(p.from.timestamp_millis(), until, calendar)
                })
                .sum()
        })
        .unwrap_or(0.0);
    Some((total - paused).max(0.0))
}

/// Builds the report from every dossier of the run.
pub fn build(
    dossiers: &[Dossier],
    procedures: &BTreeMap<String, Procedure>,
    calendar: &Calendar,
) -> (Vec<GroupReport>, Vec<AgencyHeld>) {
    let mut groups = Vec::new();
    for (id, p) in procedures {
        let mine: Vec<&Dossier> = dossiers.iter().filter(|d| &d.procedure.id == id).collect();
        let mut by_status = BTreeMap::new();
        for d in &mine {
            *by_status.entry(status_name(&d.status)).or_default() += 1;
        }
        let limit = legal_limit(p);
        let decided: Vec<&&Dossier> = mine
            .iter()
            .filter(|d| matches!(d.status, DossierStatus::Decided | DossierStatus::Delivered))
            .collect();
        let mut times: Vec<f64> = decided
            .iter()
            .filter_map(|d| processing_days(d, calendar))
            .collect();
        times.sort_by(f64::total_cmp);
        let on_time = decided.iter().filter(|d| on_time(d)).count();
        let mut breaches = BTreeMap::new();
        for d in &mine {
            for (step, s) in &d.steps {
                if s.breached {
                    *breaches.entry(step.to_string()).or_default() += 1;
                }
            }
        }
        groups.push(GroupReport {
            procedure: id.clone(),
            title_vi: p.title.vi.clone(),
            dossiers: mine.len(),
            by_status,
            median_working_days: round1(percentile(&times, 50.0)),
            p90_working_days: round1(percentile(&times, 90.0)),
            legal_limit_days: limit,
            baseline_days: p.baseline.as_ref().map(|b| b.working_days),
            on_time_rate: if decided.is_empty() {
                0.0
            } else {
                round1(100.0 * on_time as f64 / decided.len() as f64) / 100.0
            },
            breaches,
        });
    }
    let mut held: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for d in dossiers {
        for s in d.steps.values() {
            let (Some(a), Some(b)) = (s.started_at, s.finished_at) else {
                continue;
            };
            let e = held.entry(s.agency.to_string()).or_default();
            e.0 += 1;
            e.1 += working_days(a, b, calendar);
        }
    }
    let agencies = held
        .into_iter()
        .map(|(agency, (steps, days))| AgencyHeld {
            agency,
            steps,
            working_days: round1(days),
            mean_per_step: if steps == 0 {
                0.0
            } else {
                (days / steps as f64 * 100.0).round() / 100.0
            },
        })
        .collect();
    (groups, agencies)
}

/// The engine's own judgement: no step breached its limit and the group's deadline held.
fn on_time(d: &Dossier) -> bool {
    let group_ok = match (d.clock.as_ref().and_then(|c| c.deadline()), d.closed_at) {
        (Some(deadline), Some(closed)) => closed <= deadline.timestamp_millis(),
        _ => true,
    };
    group_ok && !d.steps.values().any(|s| s.breached)
}

/// The snake_case name of a status (dossier or step), as stored and shown.
pub fn status_name<T: Serialize>(s: &T) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
