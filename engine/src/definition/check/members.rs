//! The procedures of a group: each names existing steps, ids are distinct, and every step
//! belongs to exactly one procedure (so a refusal knows what it ends).

use super::Ctx;
use crate::definition::diagnostic::{Code, Diagnostic};
use crate::definition::schema::suggest;
use std::collections::{HashMap, HashSet};

pub(super) fn procedures(ctx: &mut Ctx<'_>) {
    let p = ctx.p;
    if p.procedures.is_empty() {
        return;
    }
    let mut found = Vec::new();
    let mut ids = HashSet::new();
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for (k, m) in p.procedures.iter().enumerate() {
        if !ids.insert(m.id.as_str()) {
            found.push(Diagnostic::new(
                Code::E110,
                ctx.pos(&format!("/procedures/{k}/id")),
                format!("two procedures share the id `{}`", m.id),
            ));
        }
        for (j, s) in m.steps.iter().enumerate() {
            let pos = ctx.pos(&format!("/procedures/{k}/steps/{j}"));
            if !ctx.index.contains_key(s.as_str()) {
                let mut d = Diagnostic::new(
                    Code::E110,
                    pos,
                    format!("procedure `{}` names unknown step `{s}`", m.id),
                );
                if let Some(h) = suggest(s, p.steps.iter().map(|s| s.id.as_str())) {
                    d = d.hint(format!("did you mean `{h}`?"));
                }
                found.push(d);
            } else if let Some(first) = owner.insert(s.as_str(), m.id.as_str()) {
                found.push(
                    Diagnostic::new(
                        Code::E111,
                        pos,
                        format!(
                            "step `{s}` is in procedure `{first}` and again in `{}`",
                            m.id
                        ),
                    )
                    .step(s)
                    .hint("a step belongs to one procedure: remove it from one list"),
                );
            }
        }
    }
    for (i, s) in p.steps.iter().enumerate() {
        if !owner.contains_key(s.id.as_str()) {
            found.push(
                Diagnostic::new(
                    Code::E111,
                    ctx.pos(&format!("/steps/{i}/id")),
                    format!("step `{}` belongs to no procedure of the group", s.id),
                )
                .step(&s.id)
                .hint("add it to the `steps:` of one entry under `procedures:`"),
            );
        }
    }
    ctx.out.extend(found);
}
