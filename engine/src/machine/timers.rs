//! Timers: deadline warnings, breaches (escalation; the apology slip is `apology`'s), supplement expiry,
//! retries, claim leases. A timer that fires after its step moved on changes nothing.

use super::effect::{Audience, Effect, Template};
use super::event::TimerKind;
use super::flow;
use super::state::{Dossier, DossierStatus, StepStatus};
use super::transition::{self, Move};
use super::{Cx, Error, Result};
use crate::definition::model::OnExpiry;
use serde_json::json;

fn step_def<'p>(cx: &Cx<'p>, step: &str) -> Result<&'p crate::definition::Step> {
    cx.env
        .procedure
        .step(step)
        .ok_or_else(|| Error::UnknownStep(step.into()))
}

pub(super) fn on_fired(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    kind: TimerKind,
    step: Option<&str>,
) -> Result<()> {
    use TimerKind::{
        ApologyCheck, Breach, ClaimExpiry, GroupBreach, Retry, SupplementExpiry, Warning,
        WindowExpiry,
    };
    // Group timers name no step; a step timer without its step is not ours.
    let Some(s) = step else {
        return match kind {
            GroupBreach => super::apology::on_group_breach(cx, d),
            ApologyCheck => super::apology::on_check(cx, d),
            Warning | Breach | SupplementExpiry | Retry | ClaimExpiry | WindowExpiry => Ok(()),
        };
    };
    let m = match kind {
        Warning | Breach => Move::Warn,
        SupplementExpiry => Move::ExpireRefuse,
        Retry => Move::RetryDue,
        ClaimExpiry => Move::LeaseOver,
        WindowExpiry => Move::WindowClose,
        GroupBreach | ApologyCheck => return Ok(()),
    };
    let st = d.steps.get(s).ok_or_else(|| Error::UnknownStep(s.into()))?;
    // The step moved on (or the dossier is paused): the timer is stale; nothing to do.
    if transition::next(st.status, m).is_none() {
        return Ok(());
    }
    let lease_over = st.claim_until.is_some_and(|u| u <= cx.env.now);
    match kind {
        Warning => cx.emit(Effect::Notify {
            audience: Audience::Agency,
            template: Template::DeadlineWarning,
            step: Some(s.into()),
            data: json!({"code": d.code}),
        }),
        Breach => breach(cx, d, s)?,
        SupplementExpiry => expire(cx, d, s)?,
        Retry => flow::dispatch(cx, d, step_def(cx, s)?, m)?,
        // A lease renewed since the timer was set is not over.
        ClaimExpiry if lease_over => flow::dispatch(cx, d, step_def(cx, s)?, m)?,
        WindowExpiry => super::window::on_closed(cx, d, s)?,
        ClaimExpiry | GroupBreach | ApologyCheck => {}
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
        step: Some(step.into()),
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
            flow::refuse(cx, d, step, &reason, Move::ExpireRefuse)?;
            flow::advance(cx, d)
        }
        OnExpiry::RejectStep => {
            if let Some(mut st) = d.steps.remove(step) {
                flow::settle(cx, &mut st, step)?;
                transition::set(&mut st, step, Move::ExpireDrop, def.mode)?;
                st.reason = Some(format!("{}: {reason}", def.name.vi));
                d.steps.insert(step.into(), st);
            }
            if !d.steps.values().any(|s| s.status == StepStatus::Supplement) {
                d.status = DossierStatus::Processing;
            }
            flow::advance(cx, d)
        }
    }
}
