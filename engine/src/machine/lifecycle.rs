//! The dossier's life: filed, withdrawn, cancelled, delivered.

use super::effect::{Audience, Effect, Template, TimerId};
use super::event::TimerKind;
use super::flow;
use super::state::{Dossier, DossierId, DossierStatus, ProcedureRef, StepState};
use super::{Cx, Error, Result};
use crate::calendar::{SlaClock, due};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Checks the form against the procedure's form schema; the reasons name each field.
fn form_errors(schema: &Value, form: &Value) -> Vec<String> {
    match super::schemas::validator(schema) {
        Ok(v) => v
            .iter_errors(form)
            .take(20)
            .map(|e| {
                let path = e.instance_path().to_string();
                format!(
                    "{}: {}",
                    if path.is_empty() { "/" } else { &path },
                    e.masked()
                )
            })
            .collect(),
        Err(e) => vec![format!("the procedure's form schema does not compile: {e}")],
    }
}

/// The longest chain of step limits, for the appointment date when the group has no limit.
fn chain_limit(cx: &Cx<'_>) -> u32 {
    let p = cx.env.procedure;
    let mut finish: BTreeMap<&str, u32> = BTreeMap::new();
    // Steps are validated acyclic; a few passes in definition order settle every chain.
    for _ in 0..p.steps.len() {
        for s in &p.steps {
            let start = s
                .after
                .iter()
                .filter_map(|a| finish.get(a.as_str()).copied())
                .max()
                .unwrap_or(0);
            finish.insert(&s.id, start + s.deadline.as_ref().map_or(0, |d| d.legal));
        }
    }
    finish.values().copied().max().unwrap_or(0)
}

pub(super) fn on_submitted(
    cx: &mut Cx<'_>,
    id: &DossierId,
    code: &str,
    procedure: &ProcedureRef,
    bundle: Option<&str>,
    form: &Value,
) -> Result<Dossier> {
    let p = cx.env.procedure;
    let steps = p
        .steps
        .iter()
        .map(|s| (s.id.clone(), StepState::pending(&s.agency)))
        .collect();
    let mut d = Dossier {
        id: id.clone(),
        code: code.to_string(),
        procedure: procedure.clone(),
        bundle: bundle.map(str::to_string),
        form: form.clone(),
        status: DossierStatus::Processing,
        steps,
        clock: None,
        received_at: cx.env.now,
        closed_at: None,
        reason: None,
        version: 0,
    };
    let mut problems = form_errors(&p.form, form);
    if let (Some(b), Some(bundles)) = (bundle, &p.bundles) {
        if !bundles.options.iter().any(|o| o.id == b) {
            problems.push(format!("bundle `{b}` is not offered by this procedure"));
        }
    } else if bundle.is_some() && p.bundles.is_none() {
        problems.push("this procedure offers no bundles".to_string());
    }
    if !problems.is_empty() {
        flow::close(
            cx,
            &mut d,
            DossierStatus::Refused,
            &problems.join("; "),
            Template::Refused,
        )?;
        return Ok(d);
    }
    let now = cx.now()?;
    if let Some(deadline) = &p.deadline {
        let clock = SlaClock::start(
            now,
            deadline.legal,
            cx.env.options.warn_fraction,
            cx.env.calendar,
            &cx.office,
        )?;
        if let Some(at) = clock.deadline() {
            cx.emit(Effect::SetTimer {
                id: TimerId {
                    kind: TimerKind::GroupBreach,
                    step: None,
                },
                at: at.timestamp_millis(),
            });
        }
        d.clock = Some(clock);
    }
    let appointment = match d.clock.as_ref().and_then(SlaClock::deadline) {
        Some(at) => at,
        None => due(now, chain_limit(cx), cx.env.calendar, &cx.office).due,
    };
    cx.emit(Effect::Notify {
        audience: Audience::Citizen,
        template: Template::Receipt,
        step: None,
        data: json!({"code": d.code, "appointment": appointment.to_rfc3339()}),
    });
    flow::advance(cx, &mut d)?;
    Ok(d)
}

pub(super) fn on_withdrawn(cx: &mut Cx<'_>, d: &mut Dossier, reason: &str) -> Result<()> {
    flow::close(cx, d, DossierStatus::Withdrawn, reason, Template::Withdrawn)
}

pub(super) fn on_cancelled(cx: &mut Cx<'_>, d: &mut Dossier, by: &str, reason: &str) -> Result<()> {
    flow::close(
        cx,
        d,
        DossierStatus::Stopped,
        &format!("{reason} ({by})"),
        Template::Stopped,
    )
}

pub(super) fn on_delivered(d: &mut Dossier, channel: &str) -> Result<()> {
    if d.status != DossierStatus::Decided {
        return Err(Error::NotDecided(d.status));
    }
    d.status = DossierStatus::Delivered;
    d.reason = Some(format!("delivered by {channel}"));
    Ok(())
}
