//! Moving through the graph: which steps start, which are skipped, when the dossier is
//! decided, and closing a dossier early.

use super::effect::{Effect, Template, TimerId};
use super::event::TimerKind;
use super::request::{idempotency_key, request_for};
use super::state::{Dossier, DossierStatus, StepState, StepStatus};
use super::transition::{self, Move};
use super::{Cx, Error, Result};
use crate::calendar::SlaClock;
use crate::definition::expr::Scope;
use crate::definition::{Mode, Step, StepId};
use serde_json::{Value, json};

/// What conditions read: the form, earlier outputs, the chosen bundle.
struct DossierScope<'a> {
    d: &'a Dossier,
    bundle: Value,
}

impl Scope for DossierScope<'_> {
    fn lookup(&self, path: &[String]) -> Option<&Value> {
        match path.first().map(String::as_str) {
            Some("form") => path[1..]
                .iter()
                .try_fold(&self.d.form, |v, s| v.get(s.as_str())),
            Some("steps") => {
                let outputs = self.d.steps.get(path.get(1)?.as_str())?.outputs.as_ref()?;
                let first = outputs.get(path.get(2)?.as_str())?;
                path[3..].iter().try_fold(first, |v, s| v.get(s.as_str()))
            }
            Some("bundle") if path.len() == 1 => Some(&self.bundle),
            _ => None,
        }
    }
}

fn condition_holds(cx: &Cx<'_>, d: &Dossier, step: &Step) -> bool {
    let Some(src) = step.when_on(cx.received_day(d)) else {
        return true;
    };
    let bundle = d
        .bundle
        .clone()
        .or_else(|| cx.env.procedure.bundles.as_ref().map(|b| b.default.clone()))
        .map_or(Value::Null, Value::String);
    // Parsed when the definition was read; validation refuses one that does not parse.
    src.holds(&DossierScope { d, bundle })
}

/// Whether a step may run as far as the form and bundle tell: false only when its condition
/// reads nothing but the form and the bundle and is false now.
pub(super) fn may_run(cx: &Cx<'_>, d: &Dossier, step: &Step) -> bool {
    match step.when_on(cx.received_day(d)) {
        Some(c) if c.form_only() => condition_holds(cx, d, step),
        _ => true,
    }
}

/// Timers a step may have set.
pub(super) const STEP_TIMERS: [TimerKind; 6] = [
    TimerKind::Warning,
    TimerKind::Breach,
    TimerKind::Retry,
    TimerKind::ClaimExpiry,
    TimerKind::SupplementExpiry,
    TimerKind::WindowExpiry,
];

pub(super) fn timer(kind: TimerKind, step: &str) -> TimerId {
    TimerId {
        kind,
        step: Some(step.into()),
    }
}

/// Sets the warning and breach timers from a step's clock (after start, resume, extension).
pub(super) fn schedule_clock_timers(cx: &mut Cx<'_>, step: &str, clock: &SlaClock) {
    if let Some(w) = clock.warn_at() {
        cx.emit(Effect::SetTimer {
            id: timer(TimerKind::Warning, step),
            at: w.timestamp_millis(),
        });
    }
    if let Some(b) = clock.deadline() {
        cx.emit(Effect::SetTimer {
            id: timer(TimerKind::Breach, step),
            at: b.timestamp_millis(),
        });
    }
}

/// (Re)sets the group-breach timer at the group clock's deadline, if it has one.
pub(super) fn schedule_group_breach(cx: &mut Cx<'_>, clock: &SlaClock) {
    if let Some(at) = clock.deadline() {
        let id = TimerId {
            kind: TimerKind::GroupBreach,
            step: None,
        };
        cx.emit(Effect::SetTimer {
            id,
            at: at.timestamp_millis(),
        });
    }
}

/// Sends the step to its agency: an adapter call (automated) or a task (human).
pub(super) fn dispatch(cx: &mut Cx<'_>, d: &mut Dossier, step: &Step, m: Move) -> Result<()> {
    let request = request_for(d, step);
    let Some(st) = d.steps.get_mut(&step.id) else {
        return Err(Error::UnknownStep(step.id.clone()));
    };
    transition::set(st, &step.id, m, step.mode)?;
    match step.mode {
        Mode::Automated => {
            st.attempts += 1;
            let key = idempotency_key(&d.id, &step.id, st.round);
            cx.emit(Effect::CallAdapter {
                step: step.id.clone(),
                agency: step.agency.clone(),
                action: step.action.clone(),
                idempotency_key: key,
                request,
                attempt: st.attempts,
            });
        }
        Mode::Human => {
            st.claimed_by = None;
            st.claim_until = None;
            cx.emit(Effect::OpenTask {
                step: step.id.clone(),
                agency: step.agency.clone(),
                action: step.action.clone(),
                request,
            });
        }
    }
    Ok(())
}

fn start(cx: &mut Cx<'_>, d: &mut Dossier, step: &Step) -> Result<()> {
    let now = cx.now()?;
    // A step sent back to wait for a re-run before it keeps the clock it was running on.
    if let Some(st) = d.steps.get(&step.id)
        && let Some(c) = st.clock.clone().filter(|c| c.stopped_at().is_none())
    {
        schedule_clock_timers(cx, &step.id, &c);
        return dispatch(cx, d, step, Move::Start);
    }
    let clock = match step.deadline_on(cx.received_day(d)) {
        Some(deadline) => Some(SlaClock::start_in(
            now,
            deadline.legal,
            deadline.unit,
            cx.env.options.warn_fraction,
            cx.env.calendar,
            &cx.office,
        )?),
        None => None,
    };
    if let Some(c) = &clock {
        schedule_clock_timers(cx, &step.id, c);
    }
    if let Some(st) = d.steps.get_mut(&step.id) {
        st.started_at = Some(cx.env.now);
        st.clock = clock;
    }
    super::window::arm(cx, step)?;
    dispatch(cx, d, step, Move::Start)
}

fn skip(d: &mut Dossier, step: &Step, reason: String, now: i64) -> Result<()> {
    if let Some(st) = d.steps.get_mut(&step.id) {
        transition::set(st, &step.id, Move::NotApplicable, step.mode)?;
        st.reason = Some(reason);
        st.finished_at = Some(now);
    }
    Ok(())
}

/// Starts or skips every pending step whose prerequisites have all ended, until nothing
/// changes; decides the dossier when every step has ended.
pub(super) fn advance(cx: &mut Cx<'_>, d: &mut Dossier) -> Result<()> {
    let procedure = cx.env.procedure;
    loop {
        let mut changed = false;
        for step in &procedure.steps {
            let status = d.steps.get(&step.id).map(|s| s.status);
            if status != Some(StepStatus::Pending) {
                continue;
            }
            let preds: Vec<StepStatus> = step
                .after
                .iter()
                .filter_map(|a| d.steps.get(a).map(|s| s.status))
                .collect();
            if preds.iter().any(|s| !s.is_terminal()) {
                continue;
            }
            changed = true;
            if !procedure.in_bundle(d.bundle.as_deref(), &step.id) {
                skip(
                    d,
                    step,
                    "không thuộc các thủ tục đã chọn".into(),
                    cx.env.now,
                )?;
            } else if !preds.is_empty() && !preds.contains(&StepStatus::Done) {
                skip(
                    d,
                    step,
                    "các bước trước đều không thực hiện".into(),
                    cx.env.now,
                )?;
            } else if !condition_holds(cx, d, step) {
                let reason = format!(
                    "không thuộc diện giải quyết (điều kiện: {})",
                    step.when_on(cx.received_day(d)).map_or("", |c| c.source())
                );
                skip(d, step, reason, cx.env.now)?;
            } else {
                start(cx, d, step)?;
            }
        }
        if !changed {
            break;
        }
    }
    if d.status == DossierStatus::Processing && d.steps.values().all(|s| s.status.is_terminal()) {
        decide(cx, d)?;
    }
    Ok(())
}

fn stop_group_clock(cx: &mut Cx<'_>, d: &mut Dossier) -> Result<()> {
    let now = cx.now()?;
    if let Some(c) = d.clock.as_mut() {
        c.stop(now)?;
        cx.emit(Effect::CancelTimer {
            id: TimerId {
                kind: TimerKind::GroupBreach,
                step: None,
            },
        });
    }
    Ok(())
}

/// Every step has ended: the dossier is decided when at least one procedure was, and
/// stopped when every requested procedure was refused. The citizen is told each outcome.
fn decide(cx: &mut Cx<'_>, d: &mut Dossier) -> Result<()> {
    stop_group_clock(cx, d)?;
    cx.emit(Effect::CancelTimer {
        id: TimerId {
            kind: TimerKind::ApologyCheck,
            step: None,
        },
    });
    let results = super::procedures::results(cx.env.procedure, d);
    let any_decided = results
        .iter()
        .any(|r| r.status == super::ProcedureStatus::Decided);
    let any_refused = results
        .iter()
        .any(|r| r.status == super::ProcedureStatus::Refused);
    let (status, template) = if any_refused && !any_decided {
        (DossierStatus::Stopped, Template::Stopped)
    } else {
        (DossierStatus::Decided, Template::Decided)
    };
    d.status = status;
    d.closed_at = Some(cx.env.now);
    let refusals: Vec<String> = results
        .iter()
        .filter(|r| r.status == super::ProcedureStatus::Refused)
        .map(|r| match &r.reason {
            Some(why) => format!("{}: {why}", r.title_vi),
            None => r.title_vi.clone(),
        })
        .collect();
    if status == DossierStatus::Stopped {
        d.reason = Some(refusals.join("; "));
    }
    let mut data = json!({"code": d.code, "procedures": results});
    if status == DossierStatus::Stopped {
        data["reason"] = Value::String(refusals.join("; "));
    }
    cx.issue(d, template, None, data);
    Ok(())
}

/// A step was refused (by its agency, or because the citizen's supplement never came): it
/// ends with the reason, and so do the unfinished steps of its procedure and every step
/// that depends on it, in whatever procedure. Sibling procedures go on.
pub(super) fn refuse(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    step: &str,
    reason: &str,
    m: Move,
) -> Result<()> {
    let p = cx.env.procedure;
    let mode = p.step(step).map_or(Mode::Automated, |s| s.mode);
    let member = p.member_of(step);
    let same_procedure = |s: &Step| p.procedures.is_empty() || p.member_of(&s.id) == member;
    if let Some(mut st) = d.steps.remove(step) {
        if st.status.is_active() {
            settle(cx, &mut st, step)?;
        }
        transition::set(&mut st, step, m, mode)?;
        st.reason = Some(reason.to_string());
        st.finished_at = Some(cx.env.now);
        d.steps.insert(step.into(), st);
    }
    let name = p.step(step).map_or(step, |s| s.name.vi.as_str());
    let why = format!("{name}: {reason}");
    let mut ended = vec![StepId::from(step)];
    loop {
        let next: Vec<StepId> = p
            .steps
            .iter()
            .filter(|s| d.steps.get(&s.id).is_some_and(|x| !x.status.is_terminal()))
            .filter(|s| same_procedure(s) || s.after.iter().any(|a| ended.contains(a)))
            .map(|s| s.id.clone())
            .collect();
        if next.is_empty() {
            break;
        }
        for id in next {
            end_step(cx, d, &id, &why, Some(step))?;
            ended.push(id);
        }
    }
    let title = &p.procedures.get(member).map_or(&p.title, |m| &m.title);
    let data =
        json!({"code": d.code, "procedure": title.vi, "procedure_en": title.en, "reason": reason});
    cx.issue(d, Template::ProcedureRefused, Some(step), data);
    if d.status == DossierStatus::SupplementRequested
        && !d.steps.values().any(|s| s.status == StepStatus::Supplement)
    {
        d.status = DossierStatus::Processing;
    }
    Ok(())
}

/// Cancels one unfinished step: its task closed, its clock stopped, its timers cancelled.
fn end_step(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    id: &str,
    reason: &str,
    refused_by: Option<&str>,
) -> Result<()> {
    let Some(mut st) = d.steps.remove(id) else {
        return Ok(());
    };
    if matches!(st.status, StepStatus::Queued | StepStatus::Claimed) {
        cx.emit(Effect::CloseTask {
            step: id.into(),
            agency: st.agency.clone(),
        });
    }
    if st.status.is_active() {
        settle(cx, &mut st, id)?;
    }
    let mode = cx
        .env
        .procedure
        .step(id)
        .map_or(Mode::Automated, |s| s.mode);
    transition::set(&mut st, id, Move::Cancel, mode)?;
    st.reason = Some(reason.to_string());
    st.refused_by = refused_by.map(Into::into);
    d.steps.insert(id.into(), st);
    Ok(())
}

/// Ends one step's activity: stops its clock and cancels its timers.
pub(super) fn settle(cx: &mut Cx<'_>, st: &mut StepState, step: &str) -> Result<()> {
    let now = cx.now()?;
    if let Some(c) = st.clock.as_mut().filter(|c| c.stopped_at().is_none()) {
        c.stop(now)?;
    }
    st.finished_at = Some(cx.env.now);
    for kind in STEP_TIMERS {
        cx.emit(Effect::CancelTimer {
            id: timer(kind, step),
        });
    }
    Ok(())
}

/// Closes the dossier before it is decided: every unfinished step is cancelled.
pub(super) fn close(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    status: DossierStatus,
    reason: &str,
    template: Template,
) -> Result<()> {
    close_with(cx, d, status, reason, template, Value::Null)
}

/// [`close`], with more data for the citizen's document (e.g. the fields found invalid).
pub(super) fn close_with(
    cx: &mut Cx<'_>,
    d: &mut Dossier,
    status: DossierStatus,
    reason: &str,
    template: Template,
    extra: Value,
) -> Result<()> {
    let ids: Vec<StepId> = d
        .steps
        .iter()
        .filter(|(_, s)| !s.status.is_terminal())
        .map(|(k, _)| k.clone())
        .collect();
    for id in ids {
        end_step(cx, d, &id, reason, None)?;
    }
    stop_group_clock(cx, d)?;
    cx.emit(Effect::CancelTimer {
        id: TimerId {
            kind: TimerKind::ApologyCheck,
            step: None,
        },
    });
    d.status = status;
    d.reason = Some(reason.to_string());
    d.closed_at = Some(cx.env.now);
    let mut data = json!({"code": d.code, "reason": reason});
    if let (Value::Object(m), Value::Object(more)) = (&mut data, extra) {
        m.extend(more);
    }
    cx.issue(d, template, None, data);
    Ok(())
}
