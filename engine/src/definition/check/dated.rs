//! Windows for the citizen and step rules in force from a date.

use super::Ctx;
use super::rules::deadline_consistency;
use crate::definition::diagnostic::{Code, Diagnostic};
use crate::definition::model::Mode;
use std::collections::HashSet;

/// A window waits for the citizen at a human task (an officer records the appearance), and
/// no agency limit runs beside it.
pub(super) fn windows(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    for (i, s) in ctx.p.steps.iter().enumerate() {
        let Some(w) = &s.window else { continue };
        let pointer = format!("/steps/{i}/window");
        if s.mode != Mode::Human {
            found.push(
                Diagnostic::new(
                    Code::E072,
                    ctx.pos(&pointer),
                    "a window for the citizen needs a human step: an officer records the appearance",
                )
                .step(&s.id)
                .hint("set `mode: human`"),
            );
        }
        if s.deadlines().next().is_some() {
            found.push(
                Diagnostic::new(
                    Code::E072,
                    ctx.pos(&pointer),
                    "a step that waits for the citizen has no agency deadline: the window is the citizen's time",
                )
                .step(&s.id)
                .hint("remove `deadline:` (and any rule's deadline) from this step"),
            );
        }
        if w.unconfirmed {
            found.push(
                Diagnostic::new(
                    Code::W001,
                    ctx.pos(&format!("{pointer}/unconfirmed")),
                    format!(
                        "the window of {} {} is marked unconfirmed in law",
                        w.days,
                        w.unit.label_en()
                    ),
                )
                .step(&s.id)
                .hint("check it against the decree before relying on it"),
            );
        }
    }
    ctx.out.extend(found);
}

/// Dated rules fall within the definition's effective dates, one per date, with
/// consistent limits.
pub(super) fn step_rules(ctx: &mut Ctx<'_>) {
    let p = ctx.p;
    let mut found = Vec::new();
    for (i, s) in p.steps.iter().enumerate() {
        let mut dates = HashSet::new();
        for (k, r) in s.rules.iter().enumerate() {
            let pointer = format!("/steps/{i}/rules/{k}");
            let at = ctx.pos(&format!("{pointer}/effective_from"));
            let day = r.effective_from;
            if day <= p.effective_from {
                found.push(
                    Diagnostic::new(
                        Code::E073,
                        at,
                        format!(
                            "the rule takes effect on {day}, not after the definition itself ({}): it would never apply on its own",
                            p.effective_from
                        ),
                    )
                    .step(&s.id)
                    .hint("put the step's first rule in its own `deadline:` and `when:`"),
                );
            } else if let Some(until) = p.effective_until.filter(|u| day > *u) {
                found.push(
                    Diagnostic::new(
                        Code::E073,
                        at,
                        format!("the rule takes effect on {day}, after the definition's last day ({until})"),
                    )
                    .step(&s.id),
                );
            }
            if !dates.insert(day) {
                found.push(
                    Diagnostic::new(
                        Code::E073,
                        at,
                        format!("two rules of this step take effect on {day}"),
                    )
                    .step(&s.id)
                    .hint("merge them into one rule"),
                );
            }
            if r.deadline.is_none() && r.when.is_none() {
                found.push(
                    Diagnostic::new(
                        Code::E073,
                        ctx.pos(&pointer),
                        "the rule changes nothing: give a `deadline:` or a `when:`",
                    )
                    .step(&s.id),
                );
            }
            if let Some(d) = &r.deadline {
                let pointer = format!("{pointer}/deadline");
                deadline_consistency(ctx, d, &pointer, Some(&s.id), &mut found);
            }
        }
    }
    ctx.out.extend(found);
}
