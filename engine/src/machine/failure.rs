//! Adapter failures, retries with backoff and jitter, incidents and their resolution.

use super::effect::{Audience, Effect, Template};
use super::event::{Resolution, TimerKind};
use super::flow;
use super::state::{Dossier, Incident};
use super::step::find;
use super::transition::{self, Move};
use super::{Cx, Result};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Delay before retry `attempt` (1-based): exponential, capped, with ±20 % jitter derived
/// from the dossier, step and attempt, so replaying the journal gives the same instants.
fn backoff(cx: &Cx<'_>, d: &Dossier, step: &str, attempt: u32) -> i64 {
    let agency = d.steps.get(step).map_or("", |s| s.agency.as_str());
    let o = cx.env.options.retry(agency);
    let exp = o
        .backoff_base_ms
        .saturating_mul(1i64 << attempt.saturating_sub(1).min(20));
    let base = exp.min(o.backoff_max_ms);
    let digest = Sha256::digest(format!("{}/{step}/{attempt}", d.id.0).as_bytes());
    let r = i64::from(u16::from_be_bytes([digest[0], digest[1]])); // 0..65535
    base + base * (r - 32_768) / 163_840 // ±20 %
}

pub(super) fn on_adapter_failed(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    retryable: bool,
    message: &str,
) -> Result<()> {
    let (def, status) = find(cx, d, step)?;
    transition::check(step, status, Move::FailRetryable)?;
    let attempts = d.steps.get(step).map_or(0, |s| s.attempts);
    let agency = d.steps.get(step).map_or("", |s| s.agency.as_str());
    if retryable && attempts < cx.env.options.retry(agency).retry_budget {
        let at = cx.env.now + backoff(cx, d, step, attempts);
        if let Some(st) = d.steps.get_mut(step) {
            transition::set(st, step, Move::FailRetryable, def.mode)?;
            st.reason = Some(message.to_string());
        }
        cx.emit(Effect::SetTimer {
            id: flow::timer(TimerKind::Retry, step),
            at,
        });
        return Ok(());
    }
    if let Some(st) = d.steps.get_mut(step) {
        transition::set(st, step, Move::FailFinal, def.mode)?;
        st.incident = Some(Incident {
            opened_at: cx.env.now,
            message: message.to_string(),
            attempts,
        });
    }
    cx.emit(Effect::Notify {
        audience: Audience::Operators,
        template: Template::IncidentOpened,
        step: Some(step.into()),
        data: json!({"code": d.code, "message": message, "attempts": attempts, "retryable": retryable}),
    });
    Ok(())
}

pub(super) fn on_resolved(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    resolution: Resolution,
    by: &str,
    reason: &str,
) -> Result<()> {
    let (def, status) = find(cx, d, step)?;
    transition::check(step, status, Move::OperatorRetry)?;
    match resolution {
        Resolution::Retry => {
            if let Some(st) = d.steps.get_mut(step) {
                st.attempts = 0;
                st.incident = None;
                st.reason = Some(format!("retried by {by}: {reason}"));
            }
            flow::dispatch(cx, d, def, Move::OperatorRetry)
        }
        Resolution::Skip => {
            if let Some(mut st) = d.steps.remove(step) {
                flow::settle(cx, &mut st, step)?;
                transition::set(&mut st, step, Move::OperatorSkip, def.mode)?;
                st.incident = None;
                st.reason = Some(format!("skipped by {by}: {reason}"));
                d.steps.insert(step.into(), st);
            }
            flow::advance(cx, d)
        }
    }
}
