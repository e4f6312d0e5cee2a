//! Figures over many dossiers, from their [`Facts`]: per procedure group (counts, processing
//! time against the legal limit, the internal target and the pre-reform baseline, the
//! national one-stop-shop report's counts — received online or in person, resolved early,
//! on time or late, in progress within time or overdue — with the service index's on-time
//! and online rates, and breached steps) and per agency (time held). The API's `/figures`, the demo's report and the daily job all sum facts here.

use super::facts::Facts;
use super::tally::{Tally, agencies};
use crate::definition::Procedure;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The value at percentile `p` (0–100) of sorted values, interpolated between the two
/// nearest ranks (the median of an even count is the mean of the middle two); `None` when
/// empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = (p.clamp(0.0, 100.0) / 100.0) * last as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi.min(last))?);
    Some(a + (b - a) * (rank - lo as f64))
}

/// Rounds to one decimal, as reports print days.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Decided dossiers by how they came against the day they were due (the national
/// one-stop-shop report's "resolved: early, on time, late").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    pub early: usize,
    pub on_time: usize,
    pub late: usize,
}

/// Dossiers by how they were filed (the one-stop-shop report's "received: online / in
/// person").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Received {
    pub online: usize,
    pub in_person: usize,
    /// Filed before the channel was recorded.
    pub not_recorded: usize,
}

/// Open dossiers, within their time or past it (the report's "in progress").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InProgress {
    pub within_time: usize,
    pub overdue: usize,
}

/// One procedure group's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupReport {
    pub procedure: String,
    pub title_vi: String,
    pub title_en: String,
    pub dossiers: usize,
    pub by_status: BTreeMap<String, usize>,
    pub received: Received,
    /// Received before the report's period and still open when it began (the one-stop-shop
    /// report's "carried over"); `None` without a period.
    pub carried_over: Option<usize>,
    /// Dossiers with results (decided or delivered).
    pub decided: usize,
    pub resolved: Resolved,
    /// Open dossiers: within time, or past the instant they were due.
    pub in_progress: InProgress,
    /// Of decided dossiers, in working days, the citizen's supplement time excluded; `None`
    /// when none was decided.
    pub median_working_days: Option<f64>,
    pub p90_working_days: Option<f64>,
    /// The group's legal limit in days (declared, or the longest chain of step limits).
    pub legal_limit_days: u32,
    /// The group's internal target, if it declares one.
    pub target_days: Option<u32>,
    pub baseline_days: Option<u32>,
    /// Decided early or on time, of decided; `None` when none was decided.
    pub on_time_rate: Option<f64>,
    /// Decided within the internal target, of decided with a target.
    pub target_rate: Option<f64>,
    /// Filed online, of those whose channel is recorded (the service index's online rate).
    pub online_rate: Option<f64>,
    /// Steps that breached their legal limit, by step.
    pub breaches: BTreeMap<String, usize>,
}

/// How long one agency role held its steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgencyHeld {
    pub agency: String,
    pub steps: usize,
    pub working_days: f64,
    pub mean_per_step: f64,
}

/// Figures per group and per agency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub groups: Vec<GroupReport>,
    pub agencies: Vec<AgencyHeld>,
}

/// One group's figures from the facts of its dossiers.
pub fn group(p: &Procedure, facts: &[&Facts]) -> GroupReport {
    let mut t = Tally::default();
    for f in facts {
        t.add(f);
    }
    t.report(p)
}

/// Figures for every procedure in `procedures` (by id) over `facts`; a procedure with no
/// dossier has a row of zeros.
pub fn summarize(facts: &[Facts], procedures: &BTreeMap<String, Procedure>) -> Summary {
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    for f in facts {
        tallies.entry(f.procedure.as_str()).or_default().add(f);
    }
    let groups = procedures
        .iter()
        .map(|(id, p)| {
            tallies
                .get(id.as_str())
                .map_or_else(|| Tally::default().report(p), |t| t.report(p))
        })
        .collect();
    Summary {
        groups,
        agencies: agencies(tallies.values()),
    }
}
