//! The apology slip (phiếu xin lỗi và hẹn lại ngày trả kết quả). The one-stop rules want it
//! before the appointment, not after: one working day before the appointment the machine
//! predicts when the dossier will finish, and when that is later than the appointment it
//! apologises with the reason and a new appointment counted in working days. An agency that
//! reports a delay triggers the same slip at once. If the appointment passes with no slip
//! issued, the slip goes out then (late, but with a reason and a date).

use super::effect::{Template, TimerId};
use super::event::TimerKind;
use super::flow;
use super::state::{Dossier, DossierStatus, StepStatus};
use super::{Cx, Effect, Error, Result};
use crate::calendar::{due, due_in};
use crate::clock::Millis;
use crate::definition::{Catalog, StepId};
use chrono::{DateTime, FixedOffset};
use serde_json::json;
use std::collections::BTreeMap;

const CHECK: TimerId = TimerId {
    kind: TimerKind::ApologyCheck,
    step: None,
};

/// Arms the check one working day before the appointment (or at the appointment itself
/// when there is no working day between now and then).
pub(super) fn arm(cx: &mut Cx<'_>, d: &Dossier) -> Result<()> {
    let Some(appointment) = d.appointment else {
        return Ok(());
    };
    let at = cx.at(appointment)?;
    let mut day = at.date_naive().pred_opt().unwrap_or(at.date_naive());
    while !cx.env.calendar.is_working_day(day) {
        day = day.pred_opt().unwrap_or(day);
    }
    let before = cx.office.closing_on(day).timestamp_millis();
    let when = if before > cx.env.now {
        before
    } else {
        appointment
    };
    cx.emit(Effect::SetTimer {
        id: CHECK,
        at: when,
    });
    Ok(())
}

/// When the dossier is expected to finish if every agency still working uses its whole
/// limit, and the step that sets that date — the one holding the file on the way to it (a
/// step past its own limit counts one more working day from now). `None` while a clock is
/// paused (supplement).
pub(super) fn predict(cx: &Cx<'_>, d: &Dossier) -> Result<Option<(Millis, Option<StepId>)>> {
    let p = cx.env.procedure;
    let now = cx.env.now;
    let day = cx.received_day(d);
    let one_more = |from: DateTime<FixedOffset>, dl: &crate::definition::model::Deadline| {
        due_in(from, dl.legal, dl.unit, cx.env.calendar, &cx.office)
            .due
            .timestamp_millis()
    };
    let one_day = |from: DateTime<FixedOffset>| {
        due(from, 1, cx.env.calendar, &cx.office)
            .due
            .timestamp_millis()
    };
    let mut finish: BTreeMap<&str, Millis> = BTreeMap::new();
    for _ in 0..p.steps.len() {
        for s in &p.steps {
            let Some(st) = d.steps.get(&s.id) else {
                continue;
            };
            let ready = s
                .after
                .iter()
                .filter_map(|a| finish.get(a.as_str()).copied())
                .max()
                .unwrap_or(now)
                .max(now);
            let end = match st.status {
                x if x.is_terminal() => st.finished_at.unwrap_or(now).min(now),
                StepStatus::Supplement => return Ok(None),
                StepStatus::Pending => {
                    let runs = p.in_bundle(d.bundle.as_deref(), &s.id) && flow::may_run(cx, d, s);
                    match (s.deadline_on(day), runs) {
                        (Some(dl), true) => one_more(cx.at(ready)?, dl),
                        _ => ready,
                    }
                }
                _ => match st.clock.as_ref().and_then(|c| c.deadline()) {
                    Some(dl) if dl.timestamp_millis() > now => dl.timestamp_millis(),
                    Some(_) => one_day(cx.now()?),
                    None => now,
                },
            };
            finish.insert(&s.id, end);
        }
    }
    // A step waiting for the citizen in person (a window step) holds a result the agencies
    // have finished: it is the citizen's time, never a reason to apologise.
    let awaits_citizen = |id: &str| p.step(id).is_some_and(|s| s.window.is_some());
    let latest = d
        .steps
        .iter()
        .filter(|(id, st)| !st.status.is_terminal() && !awaits_citizen(id))
        .filter_map(|(id, _)| finish.get(id.as_str()).map(|f| (*f, id.clone())))
        .max();
    // A step still waiting for its prerequisites is late because of them: the slip names
    // the step that holds the file on the path to the latest finish.
    let Some((f, mut id)) = latest else {
        return Ok(None);
    };
    while d
        .steps
        .get(&id)
        .is_some_and(|st| st.status == StepStatus::Pending)
    {
        let Some(prev) = p.step(&id).and_then(|s| {
            s.after
                .iter()
                .filter_map(|a| finish.get(a.as_str()).map(|f| (*f, a)))
                .max()
        }) else {
            break;
        };
        id = prev.1.clone();
    }
    Ok(Some((f, Some(id))))
}

/// The check came due: apologise now if the dossier is predicted (or is) late.
pub(super) fn on_check(cx: &mut Cx<'_>, d: &mut Dossier) -> Result<()> {
    if d.status != DossierStatus::Processing {
        return Ok(());
    }
    let Some(appointment) = d.appointment else {
        return Ok(());
    };
    let late_now = cx.env.now >= appointment;
    // A date given by an apology slip is the agency's own estimate: it is not second-guessed
    // by the prediction, only apologised for again if it passes.
    let promised_by_slip = d
        .documents
        .iter()
        .rev()
        .find(|doc| doc.kind == Template::ApologySlip)
        .and_then(|doc| doc.data["new_appointment"].as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .is_some_and(|t| t.timestamp_millis() == appointment);
    if promised_by_slip && !late_now {
        cx.emit(Effect::SetTimer {
            id: CHECK,
            at: appointment,
        });
        return Ok(());
    }
    match predict(cx, d)? {
        Some((finish, step)) if finish > appointment || late_now => {
            let step = step.unwrap_or_default();
            issue(cx, d, &step, None, finish)
        }
        // On course: look again at the appointment itself.
        Some(_) if !late_now => {
            cx.emit(Effect::SetTimer {
                id: CHECK,
                at: appointment,
            });
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The agency says it needs `working_days` more: apologise at once with the new date.
pub(super) fn on_delay(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    reason: &str,
    working_days: u32,
) -> Result<()> {
    let status = d
        .steps
        .get(step)
        .map(|s| s.status)
        .ok_or_else(|| Error::UnknownStep(step.into()))?;
    super::transition::check(step, status, super::transition::Move::ReportDelay)?;
    let finish = due(cx.now()?, working_days, cx.env.calendar, &cx.office)
        .due
        .timestamp_millis();
    if d.appointment.is_some_and(|a| finish <= a) {
        // Late on its own limit, but the promise to the citizen still holds.
        return Ok(());
    }
    issue(cx, d, step, Some(reason), finish)
}

/// The group's legal deadline passed: if the promise to the citizen passed with it and no
/// slip moved it, apologise now.
pub(super) fn on_group_breach(cx: &mut Cx<'_>, d: &mut Dossier) -> Result<()> {
    if d.appointment.is_some_and(|a| a <= cx.env.now) {
        on_check(cx, d)?;
    }
    Ok(())
}

/// Issues the slip: the reason (the agency's own, or the step past its limit), the old and
/// the new appointment — at least one working day after the old one.
fn issue(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    reason: Option<&str>,
    finish: Millis,
) -> Result<()> {
    let old = d.appointment.unwrap_or(finish);
    // The close of the next working day after the old appointment, at the earliest.
    let floor = due(cx.at(old)?, 0, cx.env.calendar, &cx.office)
        .due
        .timestamp_millis();
    let new = finish.max(floor);
    let def = cx.env.procedure.step(step);
    let agency = def.map_or("", |s| s.agency.as_str()).to_string();
    let name = Catalog::role_name(cx.env.procedure, &agency);
    let (vi, en) = match (reason, def) {
        (Some(r), _) => (r.to_string(), r.to_string()),
        (None, Some(s)) => {
            let extended = d
                .steps
                .get(step)
                .and_then(|st| st.clock.as_ref())
                .is_some_and(|c| c.extension().is_some());
            let dl = s.deadline_on(cx.received_day(d));
            let limit = dl.map_or(0, |dl| match dl.verification {
                Some(v) if extended => v,
                _ => dl.legal,
            });
            let unit = dl.map_or(crate::calendar::DayUnit::WorkingDays, |dl| dl.unit);
            (
                format!(
                    "{} chưa hoàn thành trong thời hạn {limit} {}",
                    s.name.vi,
                    unit.label_vi()
                ),
                format!(
                    "{} is not finished within its {limit} {}",
                    s.name.en,
                    unit.label_en()
                ),
            )
        }
        (None, None) => (
            "hồ sơ chưa được giải quyết xong đúng hẹn".to_string(),
            "the dossier is not resolved on time".to_string(),
        ),
    };
    let data = json!({
        "code": d.code,
        "agency": agency,
        "agency_name": name.as_ref().map(|t| t.vi.clone()),
        "agency_name_en": name.map(|t| t.en),
        "reason": vi,
        "reason_en": en,
        "appointment": cx.at(old)?.to_rfc3339(),
        "new_appointment": cx.at(new)?.to_rfc3339(),
    });
    cx.issue(
        d,
        Template::ApologySlip,
        Some(step).filter(|s| !s.is_empty()),
        data,
    );
    d.appointment = Some(new);
    arm(cx, d)
}
