//! Timers: deadline warnings, breaches (escalation and apology slip), supplement expiry,
//! retries, claim leases. A timer that fires after its step moved on changes nothing.

use super::effect::{Audience, Effect, Template};
use super::event::TimerKind;
use super::flow;
use super::state::{Dossier, DossierStatus, StepStatus};
use super::{Cx, Error, Result};
use crate::calendar::due;
use crate::definition::model::OnExpiry;
use serde_json::json;

fn step_def<'p>(cx: &Cx<'p>, step: &str) -> Result<&'p crate::definition::Step> {
    cx.env
        .procedure
        .step(step)
        .ok_or_else(|| Error::UnknownStep(step.to_string()))
}

pub(super) fn on_fired(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    kind: TimerKind,
    step: Option<&str>,
) -> Result<()> {
    let status = step.and_then(|s| d.steps.get(s)).map(|s| s.status);
    if let (Some(s), None) = (step, status) {
        return Err(Error::UnknownStep(s.to_string()));
    }
    match (kind, step, status) {
        (TimerKind::Warning, Some(s), Some(st))
            if st.is_active() && st != StepStatus::Supplement =>
        {
            cx.emit(Effect::Notify {
                audience: Audience::Agency,
                template: Template::DeadlineWarning,
                step: Some(s.to_string()),
                data: json!({"code": d.code}),
            });
        }
        (TimerKind::Breach, Some(s), Some(st))
            if st.is_active() && st != StepStatus::Supplement =>
        {
            breach(cx, d, s)?
        }
        (TimerKind::SupplementExpiry, Some(s), Some(StepStatus::Supplement)) => expire(cx, d, s)?,
        (TimerKind::Retry, Some(s), Some(StepStatus::RetryWait)) => {
            flow::dispatch(cx, d, step_def(cx, s)?);
        }
        (TimerKind::ClaimExpiry, Some(s), Some(StepStatus::Claimed)) => {
            let over = d
                .steps
                .get(s)
                .and_then(|x| x.claim_until)
                .is_some_and(|u| u <= cx.env.now);
            if over {
                flow::dispatch(cx, d, step_def(cx, s)?);
            }
        }
        (TimerKind::GroupBreach, None, _) if d.status == DossierStatus::Processing => {
            let new_date = due(cx.now()?, 1, cx.env.calendar, &cx.office).due;
            cx.emit(Effect::Notify {
                audience: Audience::Citizen,
                template: Template::ApologySlip,
                step: None,
                data: json!({"code": d.code, "new_appointment": new_date.to_rfc3339()}),
            });
        }
        // The step moved on (or the dossier is paused): the timer is stale; nothing to do.
        _ => {}
    }
    Ok(())
}

/// A step's deadline passed: escalate to the agency and send the citizen an apology slip with
/// a new appointment date, once.
fn breach(cx: &mut Cx<'_>, d: &mut Dossier, step: &str) -> Result<()> {
    let Some(st) = d.steps.get_mut(step) else {
        return Ok(());
    };
    if st.breached {
        return Ok(());
    }
    st.breached = true;
    let new_date = due(cx.now()?, 1, cx.env.calendar, &cx.office).due;
    cx.emit(Effect::Notify {
        audience: Audience::Agency,
        template: Template::DeadlineWarning,
        step: Some(step.to_string()),
        data: json!({"code": d.code, "overdue": true}),
    });
    cx.emit(Effect::Notify {
        audience: Audience::Citizen,
        template: Template::ApologySlip,
        step: Some(step.to_string()),
        data: json!({"code": d.code, "new_appointment": new_date.to_rfc3339()}),
    });
    Ok(())
}

/// The citizen did not supplement in time.
fn expire(cx: &mut Cx<'_>, d: &mut Dossier, step: &str) -> Result<()> {
    let def = step_def(cx, step)?;
    let rule = def
        .supplement
        .as_ref()
        .unwrap_or(&cx.env.procedure.supplement);
    let reason = format!(
        "{}: the supplement window of {} working days passed",
        def.name.vi, rule.window
    );
    match rule.on_expiry {
        OnExpiry::Refuse => flow::close(cx, d, DossierStatus::Refused, &reason, Template::Refused),
        OnExpiry::RejectStep => {
            if let Some(mut st) = d.steps.remove(step) {
                flow::settle(cx, &mut st, step)?;
                st.status = StepStatus::Skipped;
                st.reason = Some(reason);
                d.steps.insert(step.to_string(), st);
            }
            if !d.steps.values().any(|s| s.status == StepStatus::Supplement) {
                d.status = DossierStatus::Processing;
            }
            flow::advance(cx, d)
        }
    }
}
