//! Moving through the graph: which steps start, which are skipped, when the dossier is
//! decided, and closing a dossier early.

use super::effect::{Audience, Effect, Template, TimerId};
use super::event::TimerKind;
use super::request::{idempotency_key, request_for};
use super::state::{Dossier, DossierStatus, StepState, StepStatus};
use super::{Cx, Result};
use crate::calendar::SlaClock;
use crate::definition::expr::{self, Scope};
use crate::definition::{Mode, Step};
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
                let outputs = self.d.steps.get(path.get(1)?)?.outputs.as_ref()?;
                let first = outputs.get(path.get(2)?.as_str())?;
                path[3..].iter().try_fold(first, |v, s| v.get(s.as_str()))
            }
            Some("bundle") if path.len() == 1 => Some(&self.bundle),
            _ => None,
        }
    }
}

fn condition_holds(cx: &Cx<'_>, d: &Dossier, step: &Step) -> bool {
    let Some(src) = &step.when else { return true };
    let bundle = d
        .bundle
        .clone()
        .or_else(|| cx.env.procedure.bundles.as_ref().map(|b| b.default.clone()))
        .map_or(Value::Null, Value::String);
    // Definitions are validated before publication; a condition that no longer parses is
    // treated as false, so the step is skipped with that reason rather than run blindly.
    expr::parse(src).is_ok_and(|e| e.eval(&DossierScope { d, bundle }))
}

/// Timers a step may have set.
pub(super) const STEP_TIMERS: [TimerKind; 5] = [
    TimerKind::Warning,
    TimerKind::Breach,
    TimerKind::Retry,
    TimerKind::ClaimExpiry,
    TimerKind::SupplementExpiry,
];

pub(super) fn timer(kind: TimerKind, step: &str) -> TimerId {
    TimerId {
        kind,
        step: Some(step.to_string()),
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
pub(super) fn dispatch(cx: &mut Cx<'_>, d: &mut Dossier, step: &Step) {
    let request = request_for(d, step);
    let Some(st) = d.steps.get_mut(&step.id) else {
        return;
    };
    match step.mode {
        Mode::Automated => {
            st.status = StepStatus::Dispatched;
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
            st.status = StepStatus::Queued;
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
}

fn start(cx: &mut Cx<'_>, d: &mut Dossier, step: &Step) -> Result<()> {
    let now = cx.now()?;
    let clock = match &step.deadline {
        Some(deadline) => Some(SlaClock::start(
            now,
            deadline.legal,
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
    dispatch(cx, d, step);
    Ok(())
}

fn skip(d: &mut Dossier, step: &str, reason: String, now: i64) {
    if let Some(st) = d.steps.get_mut(step) {
        st.status = StepStatus::Skipped;
        st.reason = Some(reason);
        st.finished_at = Some(now);
    }
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
                skip(d, &step.id, "not in the chosen bundle".into(), cx.env.now);
            } else if !preds.is_empty() && !preds.contains(&StepStatus::Done) {
                skip(
                    d,
                    &step.id,
                    "every prerequisite was skipped".into(),
                    cx.env.now,
                );
            } else if !condition_holds(cx, d, step) {
                let reason = format!("condition is false: {}", step.when.as_deref().unwrap_or(""));
                skip(d, &step.id, reason, cx.env.now);
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

fn decide(cx: &mut Cx<'_>, d: &mut Dossier) -> Result<()> {
    stop_group_clock(cx, d)?;
    d.status = DossierStatus::Decided;
    d.closed_at = Some(cx.env.now);
    cx.emit(Effect::Notify {
        audience: Audience::Citizen,
        template: Template::Decided,
        step: None,
        data: json!({"code": d.code}),
    });
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
    let ids: Vec<String> = d
        .steps
        .iter()
        .filter(|(_, s)| !s.status.is_terminal())
        .map(|(k, _)| k.clone())
        .collect();
    for id in ids {
        let Some(mut st) = d.steps.remove(&id) else {
            continue;
        };
        if matches!(st.status, StepStatus::Queued | StepStatus::Claimed) {
            cx.emit(Effect::CloseTask {
                step: id.clone(),
                agency: st.agency.clone(),
            });
        }
        if st.status.is_active() {
            settle(cx, &mut st, &id)?;
        }
        st.status = StepStatus::Cancelled;
        st.reason = Some(reason.to_string());
        d.steps.insert(id, st);
    }
    stop_group_clock(cx, d)?;
    d.status = status;
    d.reason = Some(reason.to_string());
    d.closed_at = Some(cx.env.now);
    cx.emit(Effect::Notify {
        audience: Audience::Citizen,
        template,
        step: None,
        data: json!({"code": d.code, "reason": reason}),
    });
    Ok(())
}
