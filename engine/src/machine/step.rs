//! An agency's answers on a step: accepted, claimed, completed, rejected. Which answer is
//! allowed in which status is `transition`'s table.

use super::event::Actor;
use super::flow;
use super::state::{Dossier, StepStatus};
use super::transition::{self, Move};
use super::{Cx, Error, Result};
use crate::definition::{Mode, Outcome, Step};
use serde_json::{Map, Value};

/// The step's definition and its current status.
pub(super) fn find<'p>(cx: &Cx<'p>, d: &Dossier, step: &str) -> Result<(&'p Step, StepStatus)> {
    let def = cx
        .env
        .procedure
        .step(step)
        .ok_or_else(|| Error::UnknownStep(step.into()))?;
    let status = d
        .steps
        .get(step)
        .map(|s| s.status)
        .ok_or_else(|| Error::UnknownStep(step.into()))?;
    Ok((def, status))
}

/// The step's definition, when its agency may answer it now (`m`) with `outcome`.
pub(super) fn answerable<'p>(
    cx: &Cx<'p>,
    d: &Dossier,
    step: &str,
    m: Move,
    outcome: Outcome,
    name: &'static str,
) -> Result<&'p Step> {
    let (def, status) = find(cx, d, step)?;
    transition::check(step, status, m)?;
    if !def.outcomes.contains(&outcome) {
        return Err(Error::OutcomeNotAllowed {
            step: step.into(),
            outcome: name,
        });
    }
    Ok(def)
}

/// Whether `by` may answer `step` now. A human task takes answers only from the officer
/// holding its live claim; an automated step only from its agency's system (named, or
/// implied by an answer with no actor). An answer with no actor on a human task is a
/// journal written before answers carried their actor ([`super::JOURNAL_FORMAT`] 0), and
/// replays as it was.
pub(super) fn authorize(cx: &Cx<'_>, d: &Dossier, step: &str, by: Option<&Actor>) -> Result<()> {
    let (def, _) = find(cx, d, step)?;
    let Some(st) = d.steps.get(step) else {
        return Err(Error::UnknownStep(step.into()));
    };
    let wrong = |actor: String| Error::WrongActor {
        step: step.into(),
        actor,
    };
    match (def.mode, by) {
        (Mode::Human, Some(Actor::Officer(officer))) => match st.live_claim(cx.env.now) {
            Some((holder, _)) if holder == officer => Ok(()),
            Some((holder, until)) => Err(Error::ClaimedByOther {
                step: step.into(),
                by: holder.to_string(),
                until,
            }),
            None => Err(Error::NotClaimant {
                step: step.into(),
                officer: officer.clone(),
            }),
        },
        (Mode::Human, None) if d.journal == 0 => Ok(()),
        (Mode::Human, None) => Err(wrong("an answer that names no officer".into())),
        (Mode::Human, Some(Actor::System(agency))) => {
            Err(wrong(format!("the system of `{agency}` (a human task)")))
        }
        (Mode::Automated, None) => Ok(()),
        (Mode::Automated, Some(Actor::System(agency))) if *agency == st.agency => Ok(()),
        (Mode::Automated, Some(Actor::System(agency))) => {
            Err(wrong(format!("the system of another agency, `{agency}`")))
        }
        (Mode::Automated, Some(Actor::Officer(officer))) => Err(wrong(format!(
            "officer `{officer}` (an automated step is answered by its agency's system)"
        ))),
    }
}

pub(super) fn on_accepted(cx: &mut Cx<'_>, d: &mut Dossier, step: &str) -> Result<()> {
    let (def, _) = find(cx, d, step)?;
    if let Some(st) = d.steps.get_mut(step) {
        transition::set(st, step, Move::Accept, def.mode)?;
    }
    cx.emit(super::Effect::CancelTimer {
        id: flow::timer(super::TimerKind::Retry, step),
    });
    Ok(())
}

pub(super) fn on_claimed(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    by: &str,
    until: i64,
) -> Result<()> {
    let (def, _) = find(cx, d, step)?;
    // A claimed task is taken again only once its lease ran out.
    if let Some((holder, until)) = d.steps.get(step).and_then(|st| st.live_claim(cx.env.now)) {
        return Err(Error::ClaimedByOther {
            step: step.into(),
            by: holder.to_string(),
            until,
        });
    }
    if let Some(st) = d.steps.get_mut(step) {
        transition::set(st, step, Move::Claim, def.mode)?;
        st.claimed_by = Some(by.to_string());
        st.claim_until = Some(until);
    }
    cx.emit(super::Effect::SetTimer {
        id: flow::timer(super::TimerKind::ClaimExpiry, step),
        at: until,
    });
    Ok(())
}

/// The claimant gave the task back (`authorize` checked who): it returns to the queue, as
/// when its lease runs out.
pub(super) fn on_released(cx: &mut Cx<'_>, d: &mut Dossier, step: &str) -> Result<()> {
    let (def, _) = find(cx, d, step)?;
    let def = def.clone();
    flow::dispatch(cx, d, &def, Move::Release)
}

/// Outputs must be exactly what the step declares: no undeclared field, each value valid.
fn check_outputs(def: &Step, outputs: &Map<String, Value>) -> Result<()> {
    let invalid = |message: String| Error::InvalidOutputs {
        step: def.id.clone(),
        message,
    };
    for (name, value) in outputs {
        let schema = def
            .writes
            .get(name)
            .ok_or_else(|| invalid(format!("`{name}` is not declared in writes:")))?;
        let validator = super::schemas::validator(schema)
            .map_err(|e| invalid(format!("schema of `{name}`: {e}")))?;
        if let Some(e) = validator.iter_errors(value).next() {
            return Err(invalid(format!(
                "`{name}`{}: {}",
                e.instance_path(),
                e.masked()
            )));
        }
    }
    Ok(())
}

pub(super) fn on_completed(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    outputs: &Map<String, Value>,
) -> Result<()> {
    let def = answerable(cx, d, step, Move::Complete, Outcome::Done, "done")?;
    check_outputs(def, outputs)?;
    if let Some(mut st) = d.steps.remove(step) {
        flow::settle(cx, &mut st, step)?;
        transition::set(&mut st, step, Move::Complete, def.mode)?;
        st.outputs = Some(outputs.clone());
        st.claimed_by = None;
        st.claim_until = None;
        d.steps.insert(step.into(), st);
    }
    flow::advance(cx, d)
}

pub(super) fn on_rejected(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    reason: &str,
) -> Result<()> {
    answerable(cx, d, step, Move::Reject, Outcome::Rejected, "rejected")?;
    flow::refuse(cx, d, step, reason, Move::Reject)?;
    flow::advance(cx, d)
}
