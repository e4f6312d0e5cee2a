//! Supplement requests (yêu cầu bổ sung hồ sơ) and verification (xác minh).

use super::apology;
use super::effect::{Audience, Effect, Template};
use super::event::TimerKind;
use super::flow;
use super::state::{Dossier, DossierStatus, StepStatus};
use super::step::{answerable, find};
use super::transition::{self, Move};
use super::{Cx, Error, Result};
use crate::calendar::due;
use crate::definition::model::OnChangedInputs;
use crate::definition::{Outcome, StepId};
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
        Move::AskSupplement,
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
        transition::set(st, step, Move::AskSupplement, def.mode)?;
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

/// The form field that lists the dossier's papers, which any supplement may add to.
const PAPERS: &str = "documents";

/// A supplement may change only what the step's agency reads of the form (`reads:` paths
/// under `form.`) and the papers list, and the form with it merged must still satisfy the
/// procedure's form schema. The error names the first field at fault.
fn check_supplement(cx: &Cx<'_>, d: &Dossier, step: &str, data: &Map<String, Value>) -> Result<()> {
    let def = cx
        .env
        .procedure
        .step(step)
        .ok_or_else(|| Error::UnknownStep(step.into()))?;
    // What the agency reads, and the list of papers (references to stored documents): a
    // supplement request is most often for a paper.
    let allowed: Vec<Vec<&str>> = def
        .reads
        .iter()
        .filter_map(|r| r.source().strip_prefix("form."))
        .chain(std::iter::once(PAPERS))
        .map(|r| r.split('.').collect())
        .collect();
    let refuse = |field: String, message: &str| Error::InvalidSupplement {
        step: step.into(),
        field,
        message: message.to_string(),
    };
    if data.is_empty() {
        return Err(refuse("/".into(), "the supplement is empty"));
    }
    for (k, v) in data {
        covered(&[k.as_str()], v, &allowed).map_err(|path| {
            refuse(
                format!("/{}", path.join("/")),
                "not among the fields this step's agency may ask for",
            )
        })?;
    }
    let mut merged = d.form.clone();
    merge(&mut merged, data);
    match super::schemas::form_errors(&cx.env.procedure.form, &merged, 1).pop() {
        Some((field, why)) => Err(refuse(field, &why)),
        None => Ok(()),
    }
}

/// Whether `path` (with its `value`) lies inside one of the `allowed` form paths; the error
/// is the first path that does not.
fn covered<'a>(
    path: &[&'a str],
    value: &'a Value,
    allowed: &[Vec<&str>],
) -> Result<(), Vec<String>> {
    let inside = |a: &Vec<&str>| a.len() <= path.len() && a.iter().zip(path).all(|(x, y)| x == y);
    if allowed.iter().any(inside) {
        return Ok(());
    }
    let above = |a: &Vec<&str>| a.len() > path.len() && a.iter().zip(path).all(|(x, y)| x == y);
    match value {
        Value::Object(m) if allowed.iter().any(above) && !m.is_empty() => {
            for (k, v) in m {
                let mut deeper = path.to_vec();
                deeper.push(k.as_str());
                covered(&deeper, v, allowed)?;
            }
            Ok(())
        }
        _ => Err(path.iter().map(|s| (*s).to_string()).collect()),
    }
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
    transition::check(step, status, Move::Supplied)?;
    check_supplement(cx, d, step, data)?;
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
    if reexamine(cx, d, step, data)? {
        // A lookup this step relies on runs again first; the step waits for it.
        if let Some(st) = d.steps.get_mut(step) {
            transition::set(st, step, Move::AwaitRerun, def.mode)?;
        }
        return flow::advance(cx, d);
    }
    flow::dispatch(cx, d, def, Move::Supplied)
}

/// The form paths a supplement changes (`form.a` or `form.a.b`).
fn changed_paths(data: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in data {
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.extend(m.keys().map(|sub| format!("form.{k}.{sub}")));
            }
            _ => out.push(format!("form.{k}")),
        }
    }
    out
}

/// Finished steps that read what the supplement changed: a `rerun` step the supplementing
/// step depends on runs again (new round, new key); any other is flagged to its agency.
/// Returns whether a re-run was started.
fn reexamine(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    data: &Map<String, Value>,
) -> Result<bool> {
    let p = cx.env.procedure;
    let changed = changed_paths(data);
    let overlaps = |read: &str, c: &str| {
        read == c || c.starts_with(&format!("{read}.")) || read.starts_with(&format!("{c}."))
    };
    let upstream = ancestors(p, step);
    let mut rerun = false;
    for s in &p.steps {
        if s.id == step || d.steps.get(&s.id).map(|x| x.status) != Some(StepStatus::Done) {
            continue;
        }
        let hit: Vec<String> = changed
            .iter()
            .filter(|c| s.reads.iter().any(|r| overlaps(r.source(), c)))
            .cloned()
            .collect();
        if hit.is_empty() {
            continue;
        }
        let again = s.on_changed_inputs == OnChangedInputs::Rerun && upstream.contains(&s.id);
        if again {
            if let Some(st) = d.steps.get_mut(&s.id) {
                st.round += 1;
                st.attempts = 0;
                st.outputs = None;
                st.finished_at = None;
                st.clock = None;
                transition::set(st, &s.id, Move::Rerun, s.mode)?;
            }
            rerun = true;
        } else if let Some(st) = d.steps.get_mut(&s.id) {
            st.inputs_changed = hit.clone();
            cx.emit(Effect::Notify {
                audience: Audience::Agency,
                template: Template::InputsChanged,
                step: Some(s.id.clone()),
                data: json!({"code": d.code, "fields": hit}),
            });
        }
    }
    Ok(rerun)
}

/// Every step `step` waits for, directly or not.
fn ancestors(p: &crate::definition::Procedure, step: &str) -> Vec<StepId> {
    let mut out: Vec<StepId> = Vec::new();
    let mut todo = vec![StepId::from(step)];
    while let Some(s) = todo.pop() {
        for a in p.step(&s).map(|x| x.after.clone()).unwrap_or_default() {
            if !out.contains(&a) {
                out.push(a.clone());
                todo.push(a);
            }
        }
    }
    out
}

pub(super) fn on_verification(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    basis: &str,
) -> Result<()> {
    let (def, status) = find(cx, d, step)?;
    transition::check(step, status, Move::Verify)?;
    let limit = def
        .deadline_on(cx.received_day(d))
        .and_then(|dl| dl.verification)
        .filter(|_| def.outcomes.contains(&Outcome::Verification))
        .ok_or_else(|| Error::OutcomeNotAllowed {
            step: step.into(),
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
    // The new promise: the group's extended limit, or, for a group with no limit of its
    // own, when its steps are expected to finish with this step's extended limit.
    let extended = match d.clock.as_ref().filter(|c| c.extension().is_some()) {
        Some(c) => c.deadline().map(|t| t.timestamp_millis()),
        None => apology::predict(cx, d)?.map(|(finish, _)| finish),
    };
    if let (Some(old), Some(new)) = (d.appointment, extended)
        && new > old
    {
        let data = json!({
            "code": d.code,
            "step_name": def.name.vi,
            "step_name_en": def.name.en,
            "basis": basis,
            "appointment": cx.at(old)?.to_rfc3339(),
            "new_appointment": cx.at(new)?.to_rfc3339(),
        });
        cx.issue(d, Template::VerificationExtended, Some(step), data);
        d.appointment = Some(new);
        apology::arm(cx, d)?;
    }
    Ok(())
}
