//! Rules on single parts of a definition: agencies and actions, deadlines and outcomes,
//! bundles, schedules, identity and intake.

use super::Ctx;
use crate::definition::diagnostic::{Code, Diagnostic};
use crate::definition::model::{Deadline, Outcome};
use crate::definition::schema::suggest;
use std::collections::HashSet;

/// The definition's own agency roles are new ones, each declared once with distinct actions.
pub(super) fn declared_agencies(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    let mut roles = HashSet::new();
    for (i, d) in ctx.p.agencies.iter().enumerate() {
        let at = ctx.pos(&format!("/agencies/{i}/id"));
        if ctx.builtin.agency(&d.id).is_some() {
            found.push(
                Diagnostic::new(
                    Code::E042,
                    at,
                    format!("agency `{}` is built in and cannot be declared again", d.id),
                )
                .hint("remove the declaration, or give the new role another id"),
            );
        } else if !roles.insert(d.id.as_str()) {
            found.push(Diagnostic::new(
                Code::E042,
                at,
                format!("agency `{}` is declared twice", d.id),
            ));
        }
        let mut actions = HashSet::new();
        for (j, a) in d.actions.iter().enumerate() {
            if !actions.insert(a.id.as_str()) {
                found.push(Diagnostic::new(
                    Code::E042,
                    ctx.pos(&format!("/agencies/{i}/actions/{j}/id")),
                    format!("action `{}` of agency `{}` is declared twice", a.id, d.id),
                ));
            }
        }
    }
    for d in found {
        ctx.push(d);
    }
}

/// Every step names a known agency role and one of its actions, in a mode it supports.
pub(super) fn agencies(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    for (i, s) in ctx.p.steps.iter().enumerate() {
        let Some(agency) = ctx.catalog.agency(&s.agency) else {
            let known: Vec<&str> = ctx.catalog.agencies.iter().map(|a| a.id.as_str()).collect();
            let hint = match suggest(&s.agency, known.iter().copied()) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!("known agencies: {}", known.join(", ")),
            };
            found.push(
                Diagnostic::new(
                    Code::E040,
                    ctx.pos(&format!("/steps/{i}/agency")),
                    format!("unknown agency `{}`", s.agency),
                )
                .step(&s.id)
                .hint(hint),
            );
            continue;
        };
        let pos = ctx.pos(&format!("/steps/{i}/action"));
        match agency.action(&s.action) {
            None => {
                let known: Vec<&str> = agency.actions.iter().map(|a| a.id.as_str()).collect();
                let hint = match suggest(&s.action, known.iter().copied()) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!("actions of {}: {}", agency.id, known.join(", ")),
                };
                found.push(
                    Diagnostic::new(
                        Code::E041,
                        pos,
                        format!("agency `{}` has no action `{}`", agency.id, s.action),
                    )
                    .step(&s.id)
                    .hint(hint),
                );
            }
            Some(a) if !a.modes.contains(&s.mode) => {
                let mode = serde_json::to_value(s.mode)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                found.push(
                    Diagnostic::new(
                        Code::E041,
                        ctx.pos(&format!("/steps/{i}/mode")),
                        format!("action `{}` of `{}` cannot run as {mode}", a.id, agency.id),
                    )
                    .step(&s.id)
                    .hint("change mode:, or pick an action the agency offers in this mode"),
                );
            }
            Some(_) => {}
        }
    }
    ctx.out.extend(found);
}

pub(super) fn deadline_consistency(
    ctx: &Ctx<'_>,
    d: &Deadline,
    pointer: &str,
    step: Option<&str>,
    out: &mut Vec<Diagnostic>,
) {
    let tag = |diag: Diagnostic| match step {
        Some(s) => diag.step(s),
        None => diag,
    };
    if let Some(t) = d.target
        && t > d.legal
    {
        out.push(tag(Diagnostic::new(
            Code::E071,
            ctx.pos(&format!("{pointer}/target")),
            format!(
                "target of {t} {} is above the legal limit of {}",
                d.unit.label_en(),
                d.legal
            ),
        )));
    }
    if let Some(v) = d.verification
        && v < d.legal
    {
        out.push(tag(Diagnostic::new(
            Code::E071,
            ctx.pos(&format!("{pointer}/verification")),
            format!(
                "the limit with verification ({v}) is below the legal limit ({})",
                d.legal
            ),
        )));
    }
    if d.unconfirmed {
        out.push(tag(Diagnostic::new(
            Code::W001,
            ctx.pos(&format!("{pointer}/unconfirmed")),
            format!(
                "this deadline (legal limit {}{}) is marked unconfirmed in law",
                d.legal,
                d.verification
                    .map(|v| format!(", {v} with verification"))
                    .unwrap_or_default()
            ),
        )
        .hint("check it against the decree before relying on it in reports")));
    }
}

/// Deadlines need a known calendar; targets and verification limits must be consistent;
/// every step must be able to end with `done`.
pub(super) fn deadlines(ctx: &mut Ctx<'_>) {
    let p = ctx.p;
    let mut found = Vec::new();
    let any_deadline = p.deadline.is_some() || p.steps.iter().any(|s| s.deadline.is_some());
    match &p.calendar {
        Some(c) if !ctx.catalog.calendars.contains(c) => found.push(
            Diagnostic::new(
                Code::E070,
                ctx.pos("/calendar"),
                format!("unknown calendar `{c}`"),
            )
            .hint(format!(
                "known calendars: {}",
                ctx.catalog.calendars.join(", ")
            )),
        ),
        None if any_deadline => found.push(
            Diagnostic::new(
                Code::E070,
                first_deadline_pos(ctx),
                "deadlines are given in working days but no calendar is named",
            )
            .hint("add `calendar: vn` at the top level"),
        ),
        _ => {}
    }
    if let Some(d) = &p.deadline {
        deadline_consistency(ctx, d, "/deadline", None, &mut found);
    }
    for (k, b) in p.bundles.iter().flat_map(|b| b.options.iter()).enumerate() {
        if let Some(d) = &b.deadline {
            let pointer = format!("/bundles/options/{k}/deadline");
            deadline_consistency(ctx, d, &pointer, None, &mut found);
        }
    }
    let unconfirmed = |what: &str, pointer: &str| {
        Diagnostic::new(
            Code::W001,
            ctx.pos(pointer),
            format!("{what} is marked unconfirmed in law"),
        )
        .hint("check it against the decree before relying on it in reports")
    };
    if p.supplement.unconfirmed {
        let window = p.supplement.window;
        found.push(unconfirmed(
            &format!("the supplement window of {window} working days"),
            "/supplement/unconfirmed",
        ));
    }
    for (i, s) in p.steps.iter().enumerate() {
        if let Some(f) = s.fee.as_ref().filter(|f| f.unconfirmed) {
            found.push(
                unconfirmed(
                    &format!("the fee of {} đồng", f.amount_vnd),
                    &format!("/steps/{i}/fee/unconfirmed"),
                )
                .step(&s.id),
            );
        }
    }
    if let Some(b) = p.baseline.as_ref().filter(|b| b.unconfirmed) {
        found.push(unconfirmed(
            &format!("the baseline of {} working days", b.working_days),
            "/baseline/unconfirmed",
        ));
    }
    for (i, s) in p.steps.iter().enumerate() {
        let pointer = format!("/steps/{i}/deadline");
        if let Some(d) = &s.deadline {
            deadline_consistency(ctx, d, &pointer, Some(&s.id), &mut found);
        }
        let verifies = s.outcomes.contains(&Outcome::Verification);
        let extended = s.deadline.as_ref().and_then(|d| d.verification).is_some();
        if verifies && !extended {
            found.push(Diagnostic::new(Code::E071, ctx.pos(&format!("/steps/{i}/outcomes")), "verification is a possible outcome but the deadline has no `verification:` limit").step(&s.id)
                .hint("say how far verification extends the deadline, e.g. `verification: 5`"));
        } else if extended && !verifies {
            found.push(
                Diagnostic::new(
                    Code::E071,
                    ctx.pos(&format!("{pointer}/verification")),
                    "a verification limit is given but `verification` is not among the outcomes",
                )
                .step(&s.id),
            );
        }
        if !s.outcomes.contains(&Outcome::Done) {
            found.push(
                Diagnostic::new(
                    Code::E032,
                    ctx.pos(&format!("/steps/{i}/outcomes")),
                    "the step can never finish the dossier: `done` is not among its outcomes",
                )
                .step(&s.id)
                .hint("add `done` to outcomes:"),
            );
        }
    }
    ctx.out.extend(found);
}

fn first_deadline_pos(ctx: &Ctx<'_>) -> crate::definition::diagnostic::Pos {
    if ctx.p.deadline.is_some() {
        return ctx.pos("/deadline");
    }
    match ctx.p.steps.iter().position(|s| s.deadline.is_some()) {
        Some(i) => ctx.pos(&format!("/steps/{i}/deadline")),
        None => ctx.pos(""),
    }
}

/// Bundles name existing steps, are not empty, have distinct ids, and the default exists.
pub(super) fn bundles(ctx: &mut Ctx<'_>) {
    let Some(b) = &ctx.p.bundles else { return };
    let mut found = Vec::new();
    let mut ids = HashSet::new();
    for (k, o) in b.options.iter().enumerate() {
        if !ids.insert(o.id.as_str()) {
            found.push(Diagnostic::new(
                Code::E091,
                ctx.pos(&format!("/bundles/options/{k}/id")),
                format!("two bundles share the id `{}`", o.id),
            ));
        }
        if o.steps.is_empty() {
            found.push(Diagnostic::new(
                Code::E090,
                ctx.pos(&format!("/bundles/options/{k}/steps")),
                format!("bundle `{}` names no step", o.id),
            ));
        }
        for (j, s) in o.steps.iter().enumerate() {
            if !ctx.index.contains_key(s.as_str()) {
                let mut d = Diagnostic::new(
                    Code::E090,
                    ctx.pos(&format!("/bundles/options/{k}/steps/{j}")),
                    format!("bundle `{}` names unknown step `{s}`", o.id),
                );
                if let Some(m) = suggest(s, ctx.p.steps.iter().map(|s| s.id.as_str())) {
                    d = d.hint(format!("did you mean `{m}`?"));
                }
                found.push(d);
            }
        }
    }
    if !ids.contains(b.default.as_str()) {
        found.push(Diagnostic::new(
            Code::E091,
            ctx.pos("/bundles/default"),
            format!(
                "the default bundle `{}` is not among the options",
                b.default
            ),
        ));
    }
    ctx.out.extend(found);
}

/// Cron expressions parse, name weekdays (never numbers), and use a real time zone.
pub(super) fn schedules(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    let mut ids = HashSet::new();
    for (i, s) in ctx.p.schedules.iter().enumerate() {
        let base = format!("/schedules/{i}");
        if !ids.insert(s.id.as_str()) {
            found.push(Diagnostic::new(
                Code::E101,
                ctx.pos(&format!("{base}/id")),
                format!("two schedules share the id `{}`", s.id),
            ));
        }
        let pos = ctx.pos(&format!("{base}/cron"));
        let fields: Vec<&str> = s.cron.source().split_whitespace().collect();
        if let Err(e) = s.cron.value() {
            found.push(
                Diagnostic::new(
                    Code::E080,
                    pos,
                    format!(
                        "cron expression `{}` does not parse: {}",
                        s.cron,
                        e.lines().next().unwrap_or("").trim()
                    ),
                )
                .hint("six or seven fields, seconds first: `0 0 7 * * MON-FRI`"),
            );
        } else if fields
            .get(5)
            .is_some_and(|dow| dow.bytes().any(|b| b.is_ascii_digit()))
        {
            found.push(
                Diagnostic::new(
                    Code::E081,
                    pos,
                    format!(
                        "day of week `{}` is numeric, which the scheduler reads with 1 = Sunday",
                        fields[5]
                    ),
                )
                .hint("name the days: MON-FRI, SAT, SUN"),
            );
        }
        if s.timezone.value().is_err() {
            found.push(
                Diagnostic::new(
                    Code::E082,
                    ctx.pos(&format!("{base}/timezone")),
                    format!("unknown time zone `{}`", s.timezone),
                )
                .hint("use an IANA name such as Asia/Ho_Chi_Minh"),
            );
        }
        if s.working_days_only && ctx.p.calendar.is_none() {
            found.push(
                Diagnostic::new(
                    Code::E070,
                    ctx.pos(&format!("{base}/working_days_only")),
                    "working_days_only needs a calendar",
                )
                .hint("add `calendar: vn` at the top level"),
            );
        }
    }
    ctx.out.extend(found);
}

/// Dates in order, procedure codes once, and an intake cut-off inside office hours.
pub(super) fn identity(ctx: &mut Ctx<'_>) {
    let p = ctx.p;
    if let Some(until) = p.effective_until
        && until < p.effective_from
    {
        ctx.push(Diagnostic::new(
            Code::E101,
            ctx.pos("/effective_until"),
            format!(
                "effective_until {until} is before effective_from {}",
                p.effective_from
            ),
        ));
    }
    let mut codes = HashSet::new();
    for (i, c) in p.procedure_codes.iter().enumerate() {
        if !codes.insert(c.0.as_str()) {
            ctx.push(Diagnostic::new(
                Code::E101,
                ctx.pos(&format!("/procedure_codes/{i}")),
                format!("procedure code {} is listed twice", c.0),
            ));
        }
    }
    let cutoff = p.intake.cutoff.source();
    if !("08:00"..="17:00").contains(&cutoff) {
        ctx.push(
            Diagnostic::new(
                Code::E100,
                ctx.pos("/intake/cutoff"),
                format!("cut-off {cutoff} is outside office hours (08:00–17:00)"),
            )
            .hint("the usual cut-off is 15:00"),
        );
    }
}

/// Even with every agency on time, the longest chain of steps must fit in the group limit.
pub(super) fn critical_path(ctx: &mut Ctx<'_>) {
    let p = ctx.p;
    let (Some(group), Some(_)) = (&p.deadline, &ctx.ancestors) else {
        return;
    };
    // Sums of days compare only within one unit: a group or step counted in calendar days,
    // or a step whose limit changes by date, is checked when a dossier is filed instead.
    let calendar_days = |d: &Deadline| !d.unit.is_working_days();
    if calendar_days(group)
        || p.steps
            .iter()
            .any(|s| !s.rules.is_empty() || s.deadline.as_ref().is_some_and(calendar_days))
    {
        return;
    }
    let finish = p.chain_days();
    let mut found = Vec::new();
    for (i, s) in p.steps.iter().enumerate() {
        let over_before = ctx.preds[i].iter().any(|&j| finish[j] > group.legal);
        if finish[i] > group.legal && !over_before {
            found.push(
                Diagnostic::new(Code::E032, ctx.pos(&format!("/steps/{i}/deadline")), format!(
                    "the step can never finish the dossier in time: its chain of legal limits adds up to {} working days, over the group's {}",
                    finish[i], group.legal
                ))
                .step(&s.id)
                .hint("shorten a step's limit or raise the group's deadline"),
            );
        }
    }
    ctx.out.extend(found);
}
