//! The step graph: ids, `after:` references, cycles, roots, and which steps can ever run.

use super::Ctx;
use crate::definition::diagnostic::{Code, Diagnostic};
use crate::definition::schema::suggest;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::DiGraph;
use std::collections::{BTreeSet, HashSet, VecDeque};

/// Duplicate ids, dangling and repeated prerequisites, cycles, and steps to start from.
pub(super) fn structure(ctx: &mut Ctx<'_>) {
    let p = ctx.p;
    let mut seen = HashSet::new();
    for (i, s) in p.steps.iter().enumerate() {
        if !seen.insert(s.id.as_str()) {
            let first = ctx.index[s.id.as_str()];
            let d = Diagnostic::new(
                Code::E020,
                ctx.pos(&format!("/steps/{i}/id")),
                format!("duplicate step id `{}`", s.id),
            )
            .step(&s.id)
            .hint(format!(
                "step {} (line {}) already uses this id",
                first + 1,
                ctx.pos(&format!("/steps/{first}")).line
            ));
            ctx.push(d);
        }
        let mut listed = HashSet::new();
        for (j, a) in s.after.iter().enumerate() {
            let pos = ctx.pos(&format!("/steps/{i}/after/{j}"));
            if a == &s.id {
                ctx.push(
                    Diagnostic::new(Code::E023, pos, "a step cannot come after itself").step(&s.id),
                );
            } else if !listed.insert(a.as_str()) {
                ctx.push(
                    Diagnostic::new(Code::E023, pos, format!("`{a}` is listed twice in after:"))
                        .step(&s.id),
                );
            } else if !ctx.index.contains_key(a.as_str()) {
                let mut d =
                    Diagnostic::new(Code::E021, pos, format!("after: names unknown step `{a}`"))
                        .step(&s.id);
                if let Some(m) = suggest(a, p.steps.iter().map(|s| s.id.as_str())) {
                    d = d.hint(format!("did you mean `{m}`?"));
                }
                ctx.push(d);
            }
        }
    }
    if !p.steps.is_empty() && p.steps.iter().all(|s| !s.after.is_empty()) {
        ctx.push(
            Diagnostic::new(
                Code::E033,
                ctx.pos("/steps"),
                "no step can start: every step has prerequisites",
            )
            .hint("the first step (usually the civil-status registration) has no after:"),
        );
    }

    let mut g = DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..p.steps.len()).map(|i| g.add_node(i)).collect();
    for (i, preds) in ctx.preds.iter().enumerate() {
        for &j in preds {
            if i != j {
                g.add_edge(nodes[j], nodes[i], ());
            }
        }
    }
    let mut cyclic = false;
    for scc in tarjan_scc(&g) {
        if scc.len() < 2 {
            continue;
        }
        cyclic = true;
        let members: BTreeSet<usize> = scc.iter().map(|n| g[*n]).collect();
        let cycle = cycle_through(ctx, &members);
        let names: Vec<&str> = cycle.iter().map(|&i| p.steps[i].id.as_str()).collect();
        let first = cycle[0];
        ctx.push(
            Diagnostic::new(
                Code::E022,
                ctx.pos(&format!("/steps/{first}/after")),
                format!("cycle: {} → {}", names.join(" → "), names[0]),
            )
            .step(&p.steps[first].id)
            .hint("remove one of these after: entries; steps must form a directed acyclic graph"),
        );
    }
    if cyclic {
        return;
    }
    let Ok(order) = toposort(&g, None) else {
        return;
    };
    let mut anc = vec![BTreeSet::new(); p.steps.len()];
    for n in order {
        let i = g[n];
        let mut set = BTreeSet::new();
        for &j in &ctx.preds[i] {
            set.insert(j);
            set.extend(anc[j].iter().copied());
        }
        anc[i] = set;
    }
    ctx.ancestors = Some(anc);
}

/// One cycle inside a strongly connected set, in `after:` order, starting at its first step.
fn cycle_through(ctx: &Ctx<'_>, members: &BTreeSet<usize>) -> Vec<usize> {
    let start = *members.iter().next().unwrap_or(&0);
    // Breadth-first search from `start` along "after" edges back to `start`.
    let mut parent = vec![usize::MAX; ctx.p.steps.len()];
    let mut queue = VecDeque::from([start]);
    while let Some(i) = queue.pop_front() {
        for &j in &ctx.preds[i] {
            if !members.contains(&j) {
                continue;
            }
            if j == start {
                let mut path = vec![i];
                let mut k = i;
                while k != start {
                    k = parent[k];
                    path.push(k);
                }
                path.reverse();
                return path;
            }
            if parent[j] == usize::MAX {
                parent[j] = i;
                queue.push_back(j);
            }
        }
    }
    members.iter().copied().collect()
}

/// Which steps can ever run: per bundle, a step runs when the bundle includes it, its
/// condition is not always false, and it has no prerequisite or at least one that can run.
pub(super) fn reachability(ctx: &mut Ctx<'_>, never: &[bool]) {
    let Some(anc) = &ctx.ancestors else { return };
    let p = ctx.p;
    // Topological order: sort by number of ancestors (ancestors always have fewer).
    let mut order: Vec<usize> = (0..p.steps.len()).collect();
    order.sort_by_key(|&i| anc[i].len());
    let bundles: Vec<Option<&str>> = match &p.bundles {
        Some(b) => b.options.iter().map(|o| Some(o.id.as_str())).collect(),
        None => vec![None],
    };
    let mut runs_somewhere = vec![false; p.steps.len()];
    let mut findings = Vec::new();
    for bundle in &bundles {
        let mut runs = vec![false; p.steps.len()];
        for &i in &order {
            let s = &p.steps[i];
            let included = p.in_bundle(*bundle, &s.id);
            let fed = ctx.preds[i].is_empty() || ctx.preds[i].iter().any(|&j| runs[j]);
            runs[i] = included && !never[i] && fed;
            runs_somewhere[i] |= runs[i];
            if included && !never[i] && !fed {
                let preds: Vec<&str> = ctx.preds[i]
                    .iter()
                    .map(|&j| p.steps[j].id.as_str())
                    .collect();
                let msg = match bundle {
                    Some(b) => format!(
                        "unreachable in bundle `{b}`: none of its prerequisites ({}) can run there",
                        preds.join(", ")
                    ),
                    None => format!(
                        "unreachable: none of its prerequisites ({}) can ever run",
                        preds.join(", ")
                    ),
                };
                findings.push((i, msg));
            }
        }
    }
    for (i, msg) in findings {
        let s = &p.steps[i];
        ctx.push(
            Diagnostic::new(Code::E031, ctx.pos(&format!("/steps/{i}/after")), msg)
                .step(&s.id)
                .hint("add the prerequisite to the bundle, or change after:"),
        );
    }
    for (i, s) in p.steps.iter().enumerate() {
        let in_some = bundles.iter().any(|b| p.in_bundle(*b, &s.id));
        if !in_some {
            ctx.push(
                Diagnostic::new(
                    Code::E030,
                    ctx.pos(&format!("/steps/{i}/id")),
                    "no bundle includes this step, so it can never run",
                )
                .step(&s.id)
                .hint("list it in a bundle's steps, or remove it"),
            );
        }
    }
}
