//! Supplement requests (yêu cầu bổ sung hồ sơ) and verification (xác minh).

use super::effect::{Effect, Template};
use super::event::TimerKind;
use super::flow;
use super::state::{Dossier, DossierStatus, StepStatus};
use super::step::{ANSWERABLE, answerable, find, require};
use super::{Cx, Error, Result};
use crate::calendar::due;
use crate::definition::Outcome;
use serde_json::{Map, Value, json};

pub(super) fn on_requested(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    reason: &str,
) -> Result<()> {
    let def = answerable(
        cx,
        d,
        step,
        "supplement_requested",
        Outcome::Supplement,
        "supplement",
    )?;
    let now = cx.now()?;
    let rule = def
        .supplement
        .as_ref()
        .unwrap_or(&cx.env.procedure.supplement)
        .clone();
    let expiry = due(now, rule.window, cx.env.calendar, &cx.office).due;
    if let Some(st) = d.steps.get_mut(step) {
        st.status = StepStatus::Supplement;
        st.reason = Some(reason.to_string());
        st.claimed_by = None;
        st.claim_until = None;
        if let Some(c) = st.clock.as_mut() {
            c.pause(now, reason, cx.env.calendar, &cx.office)?;
        }
    }
    if d.status == DossierStatus::Processing
        && let Some(c) = d.clock.as_mut()
    {
        c.pause(now, reason, cx.env.calendar, &cx.office)?;
        cx.emit(Effect::CancelTimer {
            id: super::TimerId {
                kind: TimerKind::GroupBreach,
                step: None,
            },
        });
    }
    d.status = DossierStatus::SupplementRequested;
    for kind in [
        TimerKind::Warning,
        TimerKind::Breach,
        TimerKind::Retry,
        TimerKind::ClaimExpiry,
    ] {
        cx.emit(Effect::CancelTimer {
            id: flow::timer(kind, step),
        });
    }
    cx.emit(Effect::SetTimer {
        id: flow::timer(TimerKind::SupplementExpiry, step),
        at: expiry.timestamp_millis(),
    });
    let data = json!({"code": d.code, "reason": reason, "until": expiry.to_rfc3339(), "working_days": rule.window});
    cx.issue(d, Template::SupplementRequested, Some(step), data);
    Ok(())
}

/// Merges the supplement into the form (top-level fields replace, objects merge one level).
fn merge(form: &mut Value, data: &Map<String, Value>) {
    let Value::Object(target) = form else { return };
    for (k, v) in data {
        match (target.get_mut(k), v) {
            (Some(Value::Object(existing)), Value::Object(new)) => {
                existing.extend(new.iter().map(|(a, b)| (a.clone(), b.clone())));
            }
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

pub(super) fn on_provided(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    data: &Map<String, Value>,
) -> Result<()> {
    let (def, status) = find(cx, d, step)?;
    require(
        step,
        status,
        &[StepStatus::Supplement],
        "supplement_provided",
    )?;
    let now = cx.now()?;
    merge(&mut d.form, data);
    let mut clock_copy = None;
    if let Some(st) = d.steps.get_mut(step) {
        st.round += 1;
        st.attempts = 0;
        st.reason = None;
        if let Some(c) = st.clock.as_mut() {
            c.resume(now, cx.env.calendar, &cx.office)?;
            clock_copy = Some(c.clone());
        }
    }
    cx.emit(Effect::CancelTimer {
        id: flow::timer(TimerKind::SupplementExpiry, step),
    });
    if let Some(c) = &clock_copy {
        flow::schedule_clock_timers(cx, step, c);
    }
    let others_waiting = d
        .steps
        .iter()
        .any(|(k, s)| k != step && s.status == StepStatus::Supplement);
    if !others_waiting {
        d.status = DossierStatus::Processing;
        if let Some(c) = d.clock.as_mut() {
            c.resume(now, cx.env.calendar, &cx.office)?;
            flow::schedule_group_breach(cx, c);
        }
        // The pause moved the group's deadline, and with it the appointment.
        if let Some(at) = d.clock.as_ref().and_then(|c| c.deadline()) {
            d.appointment = Some(at.timestamp_millis());
            super::apology::arm(cx, d)?;
        }
    }
    flow::dispatch(cx, d, def);
    Ok(())
}

pub(super) fn on_verification(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    basis: &str,
) -> Result<()> {
    let (def, status) = find(cx, d, step)?;
    require(step, status, &ANSWERABLE, "verification_started")?;
    let limit = def
        .deadline
        .as_ref()
        .and_then(|dl| dl.verification)
        .filter(|_| def.outcomes.contains(&Outcome::Verification))
        .ok_or_else(|| Error::OutcomeNotAllowed {
            step: step.to_string(),
            outcome: "verification",
        })?;
    let now = cx.now()?;
    let mut clock_copy = None;
    if let Some(c) = d.steps.get_mut(step).and_then(|st| st.clock.as_mut()) {
        if c.extension().is_none() {
            c.extend(now, limit, basis, cx.env.calendar, &cx.office)?;
        }
        clock_copy = Some(c.clone());
    }
    if let Some(c) = &clock_copy {
        flow::schedule_clock_timers(cx, step, c);
    }
    let group_limit = cx
        .env
        .procedure
        .group_deadline(d.bundle.as_deref())
        .and_then(|dl| dl.verification);
    if let (Some(limit), Some(c)) = (group_limit, d.clock.as_mut())
        && c.extension().is_none()
    {
        c.extend(now, limit, basis, cx.env.calendar, &cx.office)?;
        flow::schedule_group_breach(cx, c);
    }
    Ok(())
}
