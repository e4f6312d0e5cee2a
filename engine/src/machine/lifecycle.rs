//! The dossier's life: filed, withdrawn, cancelled, delivered.

use super::effect::{Effect, Template, TimerId};
use super::event::TimerKind;
use super::flow;
use super::state::{Dossier, DossierId, DossierStatus, ProcedureRef, StepState};
use super::{Cx, Error, Result};
use crate::calendar::{SlaClock, start_day};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Checks the form against the procedure's form schema and its addresses against the
/// units in force: (field, reason) for each error.
fn form_errors(schema: &Value, form: &Value) -> Vec<(String, String)> {
    super::schemas::form_errors(schema, form, 20)
}

/// The end of the longest chain of step limits among the steps this dossier will run, for
/// the appointment when the group (or the bundle) has no limit of its own. Each step's
/// limit (in force on the day of receipt, in its own unit) counts from the day its
/// prerequisites end. A step outside the bundle, or whose condition the form already makes
/// false, does not count; a condition on an earlier step's outputs counts as true (the
/// step may run).
fn chain_due(cx: &Cx<'_>, d: &Dossier, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    let p = cx.env.procedure;
    let cal = cx.env.calendar;
    let day = cx.received_day(d);
    let runs = |s: &crate::definition::Step| {
        p.in_bundle(d.bundle.as_deref(), &s.id) && flow::may_run(cx, d, s)
    };
    let first = start_day(now, cal, &cx.office);
    let mut finish: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    // Steps are validated acyclic; a few passes in definition order settle every chain.
    for _ in 0..p.steps.len() {
        for s in &p.steps {
            let begin = s
                .after
                .iter()
                .filter_map(|a| finish.get(a.as_str()).copied())
                .max()
                .unwrap_or(first);
            let end = match s.deadline_on(day) {
                Some(dl) if runs(s) => cal.add_days(begin, dl.legal, dl.unit),
                _ => begin,
            };
            finish.insert(&s.id, end);
        }
    }
    cx.office
        .closing_on(finish.values().copied().max().unwrap_or(first))
}

/// What the receipt and appointment slip (giấy tiếp nhận hồ sơ và hẹn trả kết quả) says:
/// the group, each procedure the citizen asked for with its agencies, when the dossier was
/// received, and the appointment.
fn receipt(cx: &Cx<'_>, d: &Dossier, appointment: &str) -> Value {
    let p = cx.env.procedure;
    let procedures: Vec<Value> = super::procedures::members(p)
        .into_iter()
        .filter_map(|part| {
            let steps = part.step_ids(p);
            if !steps.iter().any(|s| p.in_bundle(d.bundle.as_deref(), s)) {
                return None;
            }
            let mut agencies: Vec<&str> = steps
                .iter()
                .filter_map(|s| p.step(s))
                .map(|s| s.agency.as_str())
                .collect();
            agencies.dedup();
            Some(json!({
                "id": part.id, "title": part.title.vi, "title_en": part.title.en,
                "code": part.code, "agencies": agencies,
            }))
        })
        .collect();
    let received = cx
        .at(cx.env.now)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    json!({
        "code": d.code,
        "group": p.title.vi,
        "group_en": p.title.en,
        "group_code": p.procedure_codes.first().map(|c| c.0.clone()),
        "bundle": p.bundle(d.bundle.as_deref()).map(|b| b.title.vi.clone()),
        "procedures": procedures,
        "received_at": received,
        "appointment": appointment,
    })
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
        channel: None,
        status: DossierStatus::Processing,
        steps,
        clock: None,
        received_at: cx.env.now,
        closed_at: None,
        reason: None,
        appointment: None,
        documents: Vec::new(),
        control: Vec::new(),
        journal: 0,
        version: 0,
    };
    let mut problems = form_errors(&p.form, form);
    if let (Some(b), Some(bundles)) = (bundle, &p.bundles) {
        if !bundles.options.iter().any(|o| o.id == b) {
            let why = format!("bundle `{b}` is not offered by this procedure");
            problems.push(("bundle".into(), why));
        }
    } else if bundle.is_some() && p.bundles.is_none() {
        problems.push(("bundle".into(), "this procedure offers no bundles".into()));
    }
    if !problems.is_empty() {
        let reason: Vec<String> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let mut fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        fields.dedup();
        flow::close_with(
            cx,
            &mut d,
            DossierStatus::Refused,
            &reason.join("; "),
            Template::Refused,
            json!({ "fields": fields }),
        )?;
        return Ok(d);
    }
    let now = cx.now()?;
    if let Some(deadline) = p.group_deadline(bundle) {
        let clock = SlaClock::start_in(
            now,
            deadline.legal,
            deadline.unit,
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
        None => chain_due(cx, &d, now),
    };
    let data = receipt(cx, &d, &appointment.to_rfc3339());
    cx.issue(&mut d, Template::Receipt, None, data);
    d.appointment = Some(appointment.timestamp_millis());
    super::apology::arm(cx, &d)?;
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
