//! Figures over many dossiers, from their [`Facts`]: per procedure group (counts, processing
//! time against the legal limit, the internal target and the pre-reform baseline, the
//! national one-stop-shop report's counts — received online or in person, resolved early,
//! on time or late, in progress within time or overdue — with the service index's on-time
//! and online rates, and breached steps) and per agency (time held). The API's `/figures`, the demo's report and the daily job all sum facts here.

use super::facts::Facts;
use crate::definition::Procedure;
use crate::machine::{Channel, Timeliness};
use crate::store::status_name;
use serde::Serialize;
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
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Resolved {
    pub early: usize,
    pub on_time: usize,
    pub late: usize,
}

/// Dossiers by how they were filed (the one-stop-shop report's "received: online / in
/// person").
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Received {
    pub online: usize,
    pub in_person: usize,
    /// Filed before the channel was recorded.
    pub not_recorded: usize,
}

/// Open dossiers, within their time or past it (the report's "in progress").
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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

fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

/// One group's figures from the facts of its dossiers.
pub fn group(p: &Procedure, facts: &[&Facts]) -> GroupReport {
    let mut by_status = BTreeMap::new();
    let mut resolved = Resolved::default();
    let mut received = Received::default();
    let mut in_progress = InProgress::default();
    let mut breaches = BTreeMap::new();
    let mut times = Vec::new();
    let (mut decided, mut targeted, mut met) = (0, 0, 0);
    for f in facts {
        *by_status.entry(status_name(&f.status)).or_default() += 1;
        match f.channel {
            Some(Channel::Online) => received.online += 1,
            Some(Channel::InPerson) => received.in_person += 1,
            None => received.not_recorded += 1,
        }
        if !f.status.is_closed() {
            if f.overdue {
                in_progress.overdue += 1;
            } else {
                in_progress.within_time += 1;
            }
        }
        for s in &f.breached {
            *breaches.entry(s.to_string()).or_default() += 1;
        }
        if !f.decided {
            continue;
        }
        decided += 1;
        times.push(f.working_days);
        match f.timeliness {
            Some(Timeliness::Early) => resolved.early += 1,
            Some(Timeliness::OnTime) => resolved.on_time += 1,
            Some(Timeliness::Late) => resolved.late += 1,
            None => {}
        }
        if let Some(ok) = f.target_met {
            targeted += 1;
            met += usize::from(ok);
        }
    }
    times.sort_by(f64::total_cmp);
    GroupReport {
        procedure: p.id.clone(),
        title_vi: p.title.vi.clone(),
        title_en: p.title.en.clone(),
        dossiers: facts.len(),
        by_status,
        decided,
        in_progress,
        median_working_days: percentile(&times, 50.0).map(round1),
        p90_working_days: percentile(&times, 90.0).map(round1),
        legal_limit_days: p.legal_limit(),
        target_days: p.deadline.as_ref().and_then(|d| d.target),
        baseline_days: p.baseline.as_ref().map(|b| b.working_days),
        on_time_rate: rate(resolved.early + resolved.on_time, decided),
        target_rate: rate(met, targeted),
        online_rate: rate(received.online, received.online + received.in_person),
        received,
        resolved,
        breaches,
    }
}

/// Time held per agency role over `facts`.
fn agencies<'a>(facts: impl IntoIterator<Item = &'a Facts>) -> Vec<AgencyHeld> {
    let mut held: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for h in facts.into_iter().flat_map(|f| &f.held) {
        let e = held.entry(h.agency.to_string()).or_default();
        e.0 += 1;
        e.1 += h.working_days;
    }
    held.into_iter()
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
        .collect()
}

/// Figures for every procedure in `procedures` (by id) over `facts`; a procedure with no
/// dossier has a row of zeros.
pub fn summarize(facts: &[Facts], procedures: &BTreeMap<String, Procedure>) -> Summary {
    let groups = procedures
        .iter()
        .map(|(id, p)| {
            let mine: Vec<&Facts> = facts.iter().filter(|f| &f.procedure == id).collect();
            group(p, &mine)
        })
        .collect();
    Summary {
        groups,
        agencies: agencies(facts),
    }
}
