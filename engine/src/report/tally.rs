//! [`Tally`]: what a set of dossiers adds up to, in a form that merges. Every report is a
//! tally: the live one sums [`Facts`]; the daily job stores tallies per receipt day and area
//! (`super::rollup`), and a report over a long period merges those with today's live facts.
//!
//! Invariant: merging tallies gives exactly the tally of the union. Counts are integers,
//! times are integer hundredths of a working day (facts are rounded to them), and a
//! percentile is read from the distribution, so a stored tally and a live one of the same
//! dossiers print the same figures.

use super::facts::Facts;
use super::summary::{AgencyHeld, GroupReport, InProgress, Received, Resolved, round1};
use crate::definition::Procedure;
use crate::machine::{Channel, Timeliness};
use crate::store::status_name;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Working days as integer hundredths (facts are already rounded to them).
pub(crate) fn hundredths(days: f64) -> u64 {
    (days.max(0.0) * 100.0).round() as u64
}

fn days(h: u64) -> f64 {
    h as f64 / 100.0
}

/// A dossier decided late or still open past its deadline (the dashboard's drill-down).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Late {
    pub code: String,
    pub procedure: String,
    pub working_days: f64,
    /// Still open (overdue) rather than decided late.
    pub open: bool,
}

/// One area's counts (a province or a commune): the breakdowns and the worst communes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AreaCounts {
    pub dossiers: u64,
    pub decided: u64,
    /// Decided early or on time.
    pub on_time: u64,
    /// Decided late.
    pub late: u64,
    /// Open past the instant they were due.
    pub overdue: u64,
}

impl AreaCounts {
    pub fn add(&mut self, f: &Facts) {
        self.dossiers += 1;
        self.decided += u64::from(f.decided);
        self.on_time += u64::from(f.decided && f.on_time());
        self.late += u64::from(f.timeliness == Some(Timeliness::Late));
        self.overdue += u64::from(f.overdue);
    }

    pub fn merge(&mut self, o: &AreaCounts) {
        self.dossiers += o.dossiers;
        self.decided += o.decided;
        self.on_time += o.on_time;
        self.late += o.late;
        self.overdue += o.overdue;
    }
}

/// The sum of many dossiers' facts, for one procedure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub dossiers: usize,
    pub by_status: BTreeMap<String, usize>,
    pub received: Received,
    pub decided: usize,
    pub resolved: Resolved,
    pub in_progress: InProgress,
    /// Decided with an internal target, and of those, within it.
    pub targeted: usize,
    pub target_met: usize,
    pub breaches: BTreeMap<String, usize>,
    /// Working days of the decided dossiers: hundredths → how many.
    pub spread: BTreeMap<u64, usize>,
    /// Per agency role: steps held, and hundredths of a working day held.
    pub held: BTreeMap<String, (usize, u64)>,
    /// Dossiers decided late or open past their deadline.
    pub late: Vec<Late>,
}

impl Tally {
    /// Adds one dossier.
    pub fn add(&mut self, f: &Facts) {
        self.dossiers += 1;
        *self.by_status.entry(status_name(&f.status)).or_default() += 1;
        match f.channel {
            Some(Channel::Online) => self.received.online += 1,
            Some(Channel::InPerson) => self.received.in_person += 1,
            None => self.received.not_recorded += 1,
        }
        if !f.status.is_closed() {
            if f.overdue {
                self.in_progress.overdue += 1;
            } else {
                self.in_progress.within_time += 1;
            }
        }
        for s in &f.breached {
            *self.breaches.entry(s.to_string()).or_default() += 1;
        }
        for h in &f.held {
            let e = self.held.entry(h.agency.to_string()).or_default();
            e.0 += 1;
            e.1 += hundredths(h.working_days);
        }
        if f.timeliness == Some(Timeliness::Late) || f.overdue {
            self.late.push(Late {
                code: f.code.clone(),
                procedure: f.procedure.clone(),
                working_days: round1(f.working_days),
                open: f.overdue,
            });
        }
        if !f.decided {
            return;
        }
        self.decided += 1;
        *self.spread.entry(hundredths(f.working_days)).or_default() += 1;
        match f.timeliness {
            Some(Timeliness::Early) => self.resolved.early += 1,
            Some(Timeliness::OnTime) => self.resolved.on_time += 1,
            Some(Timeliness::Late) => self.resolved.late += 1,
            None => {}
        }
        if let Some(ok) = f.target_met {
            self.targeted += 1;
            self.target_met += usize::from(ok);
        }
    }

    /// Adds every dossier of `other`.
    pub fn merge(&mut self, o: &Tally) {
        self.dossiers += o.dossiers;
        for (k, v) in &o.by_status {
            *self.by_status.entry(k.clone()).or_default() += v;
        }
        self.received.online += o.received.online;
        self.received.in_person += o.received.in_person;
        self.received.not_recorded += o.received.not_recorded;
        self.decided += o.decided;
        self.resolved.early += o.resolved.early;
        self.resolved.on_time += o.resolved.on_time;
        self.resolved.late += o.resolved.late;
        self.in_progress.within_time += o.in_progress.within_time;
        self.in_progress.overdue += o.in_progress.overdue;
        self.targeted += o.targeted;
        self.target_met += o.target_met;
        for (k, v) in &o.breaches {
            *self.breaches.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.spread {
            *self.spread.entry(*k).or_default() += v;
        }
        for (k, (n, h)) in &o.held {
            let e = self.held.entry(k.clone()).or_default();
            e.0 += n;
            e.1 += h;
        }
        self.late.extend(o.late.iter().cloned());
    }

    /// The value at percentile `p` of the decided dossiers' working days, as
    /// [`super::percentile`] gives it over the sorted values.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let last = self.decided.checked_sub(1)?;
        let rank = (p.clamp(0.0, 100.0) / 100.0) * last as f64;
        let (lo, hi) = (rank.floor() as usize, (rank.ceil() as usize).min(last));
        let (a, b) = (self.nth(lo)?, self.nth(hi)?);
        Some(a + (b - a) * (rank - lo as f64))
    }

    /// The `i`-th smallest decided working days.
    fn nth(&self, i: usize) -> Option<f64> {
        let mut seen = 0;
        for (h, n) in &self.spread {
            seen += n;
            if i < seen {
                return Some(days(*h));
            }
        }
        None
    }

    /// The group report of `p` from this tally.
    pub fn report(&self, p: &Procedure) -> GroupReport {
        let r = &self.resolved;
        GroupReport {
            procedure: p.id.clone(),
            title_vi: p.title.vi.clone(),
            title_en: p.title.en.clone(),
            dossiers: self.dossiers,
            by_status: self.by_status.clone(),
            received: self.received.clone(),
            carried_over: None,
            decided: self.decided,
            resolved: r.clone(),
            in_progress: self.in_progress.clone(),
            median_working_days: self.percentile(50.0).map(round1),
            p90_working_days: self.percentile(90.0).map(round1),
            legal_limit_days: p.legal_limit(),
            target_days: p.deadline.as_ref().and_then(|d| d.target),
            baseline_days: p.baseline.as_ref().map(|b| b.working_days),
            on_time_rate: rate(r.early + r.on_time, self.decided),
            target_rate: rate(self.target_met, self.targeted),
            online_rate: rate(
                self.received.online,
                self.received.online + self.received.in_person,
            ),
            breaches: self.breaches.clone(),
        }
    }
}

/// `part / whole` to three decimals; `None` when `whole` is 0.
pub(crate) fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

/// Time held per agency role over the tallies.
pub fn agencies<'a>(tallies: impl IntoIterator<Item = &'a Tally>) -> Vec<AgencyHeld> {
    let mut held: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for (k, (n, h)) in tallies.into_iter().flat_map(|t| &t.held) {
        let e = held.entry(k.clone()).or_default();
        e.0 += n;
        e.1 += h;
    }
    held.into_iter()
        .map(|(agency, (steps, h))| AgencyHeld {
            agency,
            steps,
            working_days: round1(days(h)),
            mean_per_step: if steps == 0 {
                0.0
            } else {
                (days(h) / steps as f64 * 100.0).round() / 100.0
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::DossierStatus;

    fn decided(code: &str, days: f64, timeliness: Timeliness) -> Facts {
        Facts {
            code: code.into(),
            procedure: "p".into(),
            status: DossierStatus::Decided,
            received_at: 0,
            closed_at: Some(1),
            channel: Some(Channel::Online),
            decided: true,
            working_days: days,
            timeliness: Some(timeliness),
            overdue: false,
            target_met: None,
            held: Vec::new(),
            breached: Vec::new(),
        }
    }

    #[test]
    fn percentiles_from_the_spread_equal_those_of_the_sorted_values() {
        let days = [0.13, 2.5, 0.13, 7.01, 1.0, 3.33, 0.5, 12.25, 0.99, 4.0, 2.5];
        let mut t = Tally::default();
        for (i, d) in days.iter().enumerate() {
            t.add(&decided(&i.to_string(), *d, Timeliness::OnTime));
        }
        let mut sorted = days.to_vec();
        sorted.sort_by(f64::total_cmp);
        for p in [0.0, 10.0, 25.0, 50.0, 90.0, 99.0, 100.0] {
            assert_eq!(
                t.percentile(p),
                super::super::percentile(&sorted, p),
                "p{p}"
            );
        }
        assert_eq!(Tally::default().percentile(50.0), None);
    }

    #[test]
    fn merged_tallies_equal_the_tally_of_the_union() {
        let all: Vec<Facts> = (0..9)
            .map(|i| {
                let t = if i % 3 == 0 {
                    Timeliness::Late
                } else {
                    Timeliness::Early
                };
                decided(&format!("d{i}"), f64::from(i) * 0.37, t)
            })
            .collect();
        let (mut a, mut b, mut whole) = (Tally::default(), Tally::default(), Tally::default());
        for (i, f) in all.iter().enumerate() {
            whole.add(f);
            if i < 4 { a.add(f) } else { b.add(f) }
        }
        a.merge(&b);
        assert_eq!(a, whole);
        assert_eq!(whole.resolved.late, 3);
        assert_eq!(whole.late.len(), 3);
    }
}
