//! Timers: deadline warnings, breaches (escalation; the apology slip is `apology`'s), supplement expiry,
//! retries, claim leases. A timer that fires after its step moved on changes nothing.

use super::effect::{Audience, Effect, Template};
use super::event::TimerKind;
use super::flow;
use super::state::{Dossier, DossierStatus, StepStatus};
use super::{Cx, Error, Result};
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
        (TimerKind::GroupBreach, None, _) => super::apology::on_group_breach(cx, d)?,
        (TimerKind::ApologyCheck, None, _) => super::apology::on_check(cx, d)?,
        // The step moved on (or the dossier is paused): the timer is stale; nothing to do.
        _ => {}
    }
    Ok(())
}

/// A step's deadline passed: the agency is told it is overdue, once. The citizen's apology
/// slip depends on the whole dossier's appointment, not on one step (see `apology`).
fn breach(cx: &mut Cx<'_>, d: &mut Dossier, step: &str) -> Result<()> {
    let Some(st) = d.steps.get_mut(step) else {
        return Ok(());
    };
    if st.breached {
        return Ok(());
    }
    st.breached = true;
    cx.emit(Effect::Notify {
        audience: Audience::Agency,
        template: Template::DeadlineWarning,
        step: Some(step.to_string()),
        data: json!({"code": d.code, "overdue": true}),
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
        "quá thời hạn {} ngày làm việc để bổ sung, hoàn thiện hồ sơ",
        rule.window
    );
    match rule.on_expiry {
        OnExpiry::Refuse => {
            flow::refuse(cx, d, step, &reason)?;
            flow::advance(cx, d)
        }
        OnExpiry::RejectStep => {
            if let Some(mut st) = d.steps.remove(step) {
                flow::settle(cx, &mut st, step)?;
                st.status = StepStatus::Skipped;
                st.reason = Some(format!("{}: {reason}", def.name.vi));
                d.steps.insert(step.to_string(), st);
            }
            if !d.steps.values().any(|s| s.status == StepStatus::Supplement) {
                d.status = DossierStatus::Processing;
            }
            flow::advance(cx, d)
        }
    }
}
