//! What one dossier contributes to every report, worked out once from the dossier, its
//! definition and the calendar: how long the administration held it in working days, whether
//! it was resolved early, on time or late, whether it is overdue, and how long each agency
//! held its steps.

use crate::calendar::{Calendar, OfficeHours, VIETNAM_OFFSET, start_day, working_hours_between};
use crate::clock::Millis;
use crate::definition::{Procedure, RoleId, StepId};
use crate::machine::{Channel, Dossier, DossierStatus, Handing, Timeliness, office_hours};
use chrono::{DateTime, FixedOffset, NaiveDate};

/// How long one agency held one step, in working days.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub step: StepId,
    pub agency: RoleId,
    pub working_days: f64,
}

/// One dossier, as the reports count it.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub code: String,
    pub procedure: String,
    pub status: DossierStatus,
    pub received_at: Millis,
    pub closed_at: Option<Millis>,
    /// How it was filed (`None`: filed before the channel was recorded).
    pub channel: Option<Channel>,
    /// The results exist (decided, or decided and delivered).
    pub decided: bool,
    /// Working days the administration held the file, from receipt (or, when it came after
    /// the intake cut-off or on a day off, from the opening of the day the legal count
    /// starts) to closing (to `now` while open), without the time it waited for the
    /// citizen — a supplement, or a step's window for the citizen to come in person;
    /// counted in the procedure's office hours and the calendar (a day is the office's
    /// working hours).
    pub working_days: f64,
    /// For a decided dossier: against the day it was due (see [`timeliness`]).
    pub timeliness: Option<Timeliness>,
    /// Open, and past the instant it was due.
    pub overdue: bool,
    /// For a decided dossier of a group with an internal target: whether it met it.
    pub target_met: Option<bool>,
    /// Every step an agency held (started; a window step, which waits for the citizen, is
    /// not held by its agency), in step order of the dossier.
    pub held: Vec<Held>,
    /// Steps that breached their legal limit.
    pub breached: Vec<StepId>,
}

fn local(ms: Millis) -> Option<DateTime<FixedOffset>> {
    DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&VIETNAM_OFFSET))
}

fn day(ms: Millis) -> Option<NaiveDate> {
    local(ms).map(|t| t.date_naive())
}

/// Rounds to hundredths of a working day, the unit tallies count in (`super::tally`).
fn round2(days: f64) -> f64 {
    (days * 100.0).round() / 100.0
}

/// Working days between two instants in `office`'s hours.
fn working_days_between(a: Millis, b: Millis, calendar: &Calendar, office: &OfficeHours) -> f64 {
    let (Some(a), Some(b)) = (local(a), local(b)) else {
        return 0.0;
    };
    if b <= a {
        return 0.0;
    }
    let minutes = working_hours_between(a, b, calendar, office).num_minutes() as f64;
    let per_day = office.day_length().num_minutes().max(1) as f64;
    minutes / per_day
}

/// The intervals the file waited for the citizen's supplement, for `step` (or any step),
/// merged, each ending when the citizen supplied it (or at `end`).
fn supplement_intervals(d: &Dossier, step: Option<&StepId>, end: Millis) -> Vec<(Millis, Millis)> {
    let mut open: Vec<(&StepId, Millis)> = Vec::new();
    let mut out = Vec::new();
    for row in &d.control {
        let Some(s) = row.step.as_ref() else {
            continue;
        };
        if step.is_some_and(|want| want != s) {
            continue;
        }
        match row.what {
            Handing::SupplementAsked => open.push((s, row.at)),
            Handing::Supplied => {
                if let Some(i) = open.iter().position(|(o, _)| *o == s) {
                    let (_, from) = open.remove(i);
                    out.push((from, row.at.min(end)));
                }
            }
            _ => {}
        }
    }
    out.extend(open.into_iter().map(|(_, from)| (from, end)));
    merge(out)
}

/// Intervals sorted and merged where they overlap; empty ones dropped.
fn merge(mut intervals: Vec<(Millis, Millis)>) -> Vec<(Millis, Millis)> {
    intervals.retain(|(a, b)| b > a);
    intervals.sort_unstable();
    let mut merged: Vec<(Millis, Millis)> = Vec::new();
    for (a, b) in intervals {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// A step that waits for the citizen in person (`window:`): its time is the citizen's.
fn awaits_citizen(p: &Procedure, step: &StepId) -> bool {
    p.step(step).is_some_and(|s| s.window.is_some())
}

/// The time window steps waited for the citizen to come, each ending when the step ended
/// (or at `end`).
fn citizen_windows(d: &Dossier, p: &Procedure, end: Millis) -> Vec<(Millis, Millis)> {
    d.steps
        .iter()
        .filter(|(id, _)| awaits_citizen(p, id))
        .filter_map(|(_, s)| Some((s.started_at?, s.finished_at.unwrap_or(end).min(end))))
        .collect()
}

/// Where processing time starts: the instant of receipt, or — for a dossier received after
/// the intake cut-off or on a day off — the opening of the day the legal count starts on.
fn counted_from(received: Millis, calendar: &Calendar, office: &OfficeHours) -> Millis {
    let Some(at) = local(received) else {
        return received;
    };
    let first = start_day(at, calendar, office);
    if first > at.date_naive() {
        office.at(first, office.opening()).timestamp_millis()
    } else {
        received
    }
}

/// Working days from `a` to `b` without the supplement intervals inside them.
fn held_days(
    a: Millis,
    b: Millis,
    pauses: &[(Millis, Millis)],
    calendar: &Calendar,
    office: &OfficeHours,
) -> f64 {
    let total = working_days_between(a, b, calendar, office);
    let paused: f64 = pauses
        .iter()
        .map(|&(from, until)| working_days_between(from.max(a), until.min(b), calendar, office))
        .sum();
    (total - paused).max(0.0)
}

/// Whether a decided dossier came early, on time or late. With a group clock: by
/// [`Timeliness::of`] against the group's deadline (which moves with supplement pauses and
/// lawful verification extensions, never with an apology slip). Without one: late if any step breached or finished
/// after its own deadline; otherwise early when decided before the appointment's day, on
/// time on it.
fn timeliness(d: &Dossier) -> Option<Timeliness> {
    let closed = d.closed_at?;
    if let Some(c) = &d.clock {
        return Timeliness::of(closed, c.computed().deadline.timestamp_millis());
    }
    let closed_day = day(closed)?;
    let steps_met = d.steps.values().all(|s| {
        let met = match (&s.clock, s.finished_at) {
            (Some(c), Some(end)) => end <= c.computed().deadline.timestamp_millis(),
            _ => true,
        };
        met && !s.breached
    });
    if !steps_met {
        return Some(Timeliness::Late);
    }
    match d.appointment.and_then(day) {
        Some(due) if closed_day < due => Some(Timeliness::Early),
        _ => Some(Timeliness::OnTime),
    }
}

/// Whether an open dossier is past the instant it was due at `now`: its group's deadline,
/// or a running step's own.
fn overdue(d: &Dossier, now: Millis) -> bool {
    if d.status.is_closed() {
        return false;
    }
    let past = |c: &crate::calendar::SlaClock| c.computed().deadline.timestamp_millis() < now;
    if let Some(c) = &d.clock {
        return past(c);
    }
    d.steps
        .values()
        .any(|s| s.status.is_active() && s.clock.as_ref().is_some_and(past))
}

/// The steps that breached their legal limit.
fn breached(d: &Dossier) -> Vec<StepId> {
    d.steps
        .iter()
        .filter(|(_, s)| s.breached)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Working days from `begin` to `end` without the citizen's time (supplements, windows).
fn processing_days(
    d: &Dossier,
    p: &Procedure,
    calendar: &Calendar,
    office: &OfficeHours,
    begin: Millis,
    end: Millis,
) -> f64 {
    let mut pauses = supplement_intervals(d, None, end);
    pauses.extend(citizen_windows(d, p, end));
    round2(held_days(begin, end, &merge(pauses), calendar, office))
}

impl Facts {
    /// The facts of `d`, run on `p`, at `now` (which bounds what is still open).
    pub fn of(d: &Dossier, p: &Procedure, calendar: &Calendar, now: Millis) -> Facts {
        let office = office_hours(p);
        let begin = counted_from(d.received_at, calendar, &office);
        let end = d.closed_at.unwrap_or(now).max(begin);
        let working_days = processing_days(d, p, calendar, &office, begin, end);
        let decided = matches!(d.status, DossierStatus::Decided | DossierStatus::Delivered);
        let target_met = match (decided, p.deadline.as_ref().and_then(|g| g.target)) {
            (true, Some(target)) => Some(working_days <= f64::from(target)),
            _ => None,
        };
        let held = d
            .steps
            .iter()
            .filter(|(id, _)| !awaits_citizen(p, id))
            .filter_map(|(id, s)| {
                let a = s.started_at?;
                let b = s.finished_at.unwrap_or(end).max(a);
                let own = supplement_intervals(d, Some(id), b);
                Some(Held {
                    step: id.clone(),
                    agency: s.agency.clone(),
                    working_days: round2(held_days(a, b, &own, calendar, &office)),
                })
            })
            .collect();
        Facts {
            code: d.code.clone(),
            procedure: d.procedure.id.clone(),
            status: d.status,
            received_at: d.received_at,
            closed_at: d.closed_at,
            channel: d.channel,
            decided,
            working_days,
            timeliness: if decided { timeliness(d) } else { None },
            overdue: overdue(d, now),
            target_met,
            held,
            breached: breached(d),
        }
    }

    /// What an open dossier counts for in a report at `now`: its status, channel and
    /// breaches, whether it is overdue, and — only then, for the list of late dossiers —
    /// its working days so far. Time held by agencies is counted when a dossier closes
    /// (`held` is empty here), so that stored and live figures stay the same figures.
    pub fn of_open(d: &Dossier, p: &Procedure, calendar: &Calendar, now: Millis) -> Facts {
        let overdue = overdue(d, now);
        let working_days = if overdue {
            let office = office_hours(p);
            let begin = counted_from(d.received_at, calendar, &office);
            processing_days(d, p, calendar, &office, begin, now.max(begin))
        } else {
            0.0
        };
        Facts {
            code: d.code.clone(),
            procedure: d.procedure.id.clone(),
            status: d.status,
            received_at: d.received_at,
            closed_at: None,
            channel: d.channel,
            decided: false,
            working_days,
            timeliness: None,
            overdue,
            target_met: None,
            held: Vec::new(),
            breached: breached(d),
        }
    }

    /// Resolved early or on time.
    pub fn on_time(&self) -> bool {
        matches!(
            self.timeliness,
            Some(Timeliness::Early | Timeliness::OnTime)
        )
    }
}
