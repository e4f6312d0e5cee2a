//! Drawing a procedure as a graph: Mermaid (for documents and the web UI) and Graphviz DOT.
//!
//! Steps are grouped by agency (one cluster and one colour each), deadlines are printed on
//! the nodes, and parallelism is explicit: a fork node where several steps follow one, a join
//! node where one step waits for several, between a `filed` node and a `results` node. Step nodes are named `s_<step id>`.

use super::catalog::Catalog;
use super::ids::RoleId;
use super::model::{Procedure, Step};

const COLOURS: &[&str] = &[
    "#dbeafe", "#dcfce7", "#fef9c3", "#fce7f3", "#ede9fe", "#ffedd5", "#e0f2fe", "#f1f5f9",
];

struct Shape {
    /// Successors of each step.
    next: Vec<Vec<usize>>,
    /// Prerequisites of each step.
    prev: Vec<Vec<usize>>,
    /// Agencies in order of first appearance.
    agencies: Vec<RoleId>,
}

fn shape(p: &Procedure) -> Shape {
    let index = |id: &str| p.steps.iter().position(|s| s.id == id);
    let prev: Vec<Vec<usize>> = p
        .steps
        .iter()
        .map(|s| s.after.iter().filter_map(|a| index(a)).collect())
        .collect();
    let mut next = vec![Vec::new(); p.steps.len()];
    for (i, ps) in prev.iter().enumerate() {
        for &j in ps {
            next[j].push(i);
        }
    }
    let mut agencies: Vec<RoleId> = Vec::new();
    for s in &p.steps {
        if !agencies.contains(&s.agency) {
            agencies.push(s.agency.clone());
        }
    }
    Shape {
        next,
        prev,
        agencies,
    }
}

fn deadline_line(s: &Step) -> String {
    if let Some(w) = &s.window {
        return format!(
            "chờ công dân / awaits the citizen: {} {} / {}",
            w.days,
            w.unit.label_vi(),
            w.unit.label_en()
        );
    }
    match &s.deadline {
        None => String::new(),
        Some(d) => {
            let mut t = if d.legal == 0 {
                "trong ngày / same day".to_string()
            } else {
                format!("{} {} / {}", d.legal, d.unit.label_vi(), d.unit.label_en())
            };
            if !s.rules.is_empty() {
                t.push_str(" — thay đổi theo ngày hiệu lực / changes by date");
            }
            if let Some(v) = d.verification {
                t.push_str(&format!(" (xác minh / verification: {v})"));
            }
            if d.unconfirmed {
                t.push_str(" — chưa xác nhận / unconfirmed");
            }
            format!("thời hạn / limit: {t}")
        }
    }
}

fn mode_line(s: &Step) -> &'static str {
    match s.mode {
        super::Mode::Automated => "tự động / automated",
        super::Mode::Human => "xử lý thủ công / human task",
    }
}

fn agency_label(catalog: &Catalog, id: &str) -> String {
    catalog.agency(id).map_or_else(
        || id.to_string(),
        |a| format!("{} / {}", a.name.vi, a.name.en),
    )
}

/// The drawing's node for a step: prefixed, so no step id can collide with the `filed` and
/// `results` nodes, the gateways, or a word the drawing languages reserve (`end`).
fn node(id: &str) -> String {
    format!("s_{id}")
}

/// Edges of the drawing, with fork and join nodes made explicit.
fn edges(p: &Procedure, sh: &Shape) -> (Vec<(String, String)>, Vec<String>, Vec<String>) {
    let mut forks = Vec::new();
    let mut joins = Vec::new();
    let mut out = Vec::new();
    let entry = |i: usize| {
        if sh.prev[i].len() > 1 {
            format!("join_{}", node(&p.steps[i].id))
        } else {
            node(&p.steps[i].id)
        }
    };
    let exit = |i: usize| {
        if sh.next[i].len() > 1 {
            format!("fork_{}", node(&p.steps[i].id))
        } else {
            node(&p.steps[i].id)
        }
    };
    let roots: Vec<usize> = (0..p.steps.len())
        .filter(|&i| sh.prev[i].is_empty())
        .collect();
    let sinks: Vec<usize> = (0..p.steps.len())
        .filter(|&i| sh.next[i].is_empty())
        .collect();
    if roots.len() > 1 {
        forks.push("fork_filed".to_string());
        out.push(("filed".into(), "fork_filed".into()));
        out.extend(roots.iter().map(|&r| ("fork_filed".to_string(), entry(r))));
    } else {
        out.extend(roots.iter().map(|&r| ("filed".to_string(), entry(r))));
    }
    for (i, s) in p.steps.iter().enumerate() {
        let n = node(&s.id);
        if sh.prev[i].len() > 1 {
            joins.push(format!("join_{n}"));
            out.push((format!("join_{n}"), n.clone()));
        }
        if sh.next[i].len() > 1 {
            forks.push(format!("fork_{n}"));
            out.push((n.clone(), format!("fork_{n}")));
        }
        for &k in &sh.next[i] {
            out.push((exit(i), entry(k)));
        }
    }
    if sinks.len() > 1 {
        joins.push("join_results".to_string());
        out.extend(sinks.iter().map(|&k| (exit(k), "join_results".to_string())));
        out.push(("join_results".into(), "results".into()));
    } else {
        out.extend(sinks.iter().map(|&k| (exit(k), "results".to_string())));
    }
    (out, forks, joins)
}

/// Text inside a quoted Mermaid label or a `%%` comment: one line, no quote or angle bracket.
fn mermaid_text(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// The procedure as a Mermaid flowchart.
pub fn mermaid(p: &Procedure, catalog: &Catalog) -> String {
    let catalog = &catalog.for_procedure(p);
    let sh = shape(p);
    let mut out = format!(
        "flowchart TD\n  %% {} v{} — {}\n",
        p.id,
        p.version,
        mermaid_text(&p.title.en)
    );
    out.push_str("  filed((\"Nộp hồ sơ / Filed\"))\n  results((\"Trả kết quả / Results\"))\n");
    for (k, a) in sh.agencies.iter().enumerate() {
        out.push_str(&format!(
            "  subgraph ag_{a}[\"{}\"]\n",
            mermaid_text(&agency_label(catalog, a))
        ));
        for s in p.steps.iter().filter(|s| &s.agency == a) {
            let mut label = format!(
                "{}<br/>{}<br/>{}",
                mermaid_text(&s.name.vi),
                mermaid_text(&s.name.en),
                mode_line(s)
            );
            let d = deadline_line(s);
            if !d.is_empty() {
                label.push_str(&format!("<br/>{d}"));
            }
            if let Some(w) = &s.when {
                label.push_str(&format!("<br/>khi / when: {}", mermaid_text(w.source())));
            }
            out.push_str(&format!("    {}[\"{label}\"]:::ag{k}\n", node(&s.id)));
        }
        out.push_str("  end\n");
    }
    let (edges, forks, joins) = edges(p, &sh);
    for f in &forks {
        out.push_str(&format!("  {f}{{\"∥ fork\"}}:::gateway\n"));
    }
    for j in &joins {
        out.push_str(&format!("  {j}{{\"∥ join\"}}:::gateway\n"));
    }
    for (a, b) in &edges {
        out.push_str(&format!("  {a} --> {b}\n"));
    }
    for (k, _) in sh.agencies.iter().enumerate() {
        out.push_str(&format!(
            "  classDef ag{k} fill:{},stroke:#334155\n",
            COLOURS[k % COLOURS.len()]
        ));
    }
    out.push_str("  classDef gateway fill:#ffffff,stroke:#0f172a\n");
    out
}

/// Text inside a quoted DOT string: one line, backslashes and quotes escaped.
fn dot_text(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// The procedure as a Graphviz DOT digraph.
pub fn dot(p: &Procedure, catalog: &Catalog) -> String {
    let catalog = &catalog.for_procedure(p);
    let sh = shape(p);
    let mut out = format!("digraph \"{}\" {{\n", dot_text(&p.id));
    out.push_str(&format!(
        "  label=\"{} v{}\\n{}\";\n  labelloc=t;\n  rankdir=TB;\n",
        dot_text(&p.title.vi),
        p.version,
        dot_text(&p.title.en)
    ));
    out.push_str("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n");
    out.push_str("  filed [shape=circle, label=\"Nộp hồ sơ\\nFiled\", fillcolor=\"#ffffff\"];\n");
    out.push_str(
        "  results [shape=doublecircle, label=\"Trả kết quả\\nResults\", fillcolor=\"#ffffff\"];\n",
    );
    for (k, a) in sh.agencies.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        out.push_str(&format!(
            "  subgraph \"cluster_{a}\" {{\n    label=\"{}\";\n    style=\"rounded\";\n",
            dot_text(&agency_label(catalog, a))
        ));
        for s in p.steps.iter().filter(|s| &s.agency == a) {
            let mut label = format!(
                "{}\\n{}\\n{}",
                dot_text(&s.name.vi),
                dot_text(&s.name.en),
                mode_line(s)
            );
            let d = deadline_line(s);
            if !d.is_empty() {
                label.push_str(&format!("\\n{}", dot_text(&d)));
            }
            if let Some(w) = &s.when {
                label.push_str(&format!("\\nkhi / when: {}", dot_text(w.source())));
            }
            out.push_str(&format!(
                "    \"{}\" [label=\"{label}\", fillcolor=\"{colour}\"];\n",
                node(&s.id)
            ));
        }
        out.push_str("  }\n");
    }
    let (edges, forks, joins) = edges(p, &sh);
    for g in forks.iter().chain(&joins) {
        let kind = if g.starts_with("fork") {
            "fork"
        } else {
            "join"
        };
        out.push_str(&format!(
            "  \"{g}\" [shape=diamond, label=\"∥\\n{kind}\", fillcolor=\"#ffffff\"];\n"
        ));
    }
    for (a, b) in &edges {
        out.push_str(&format!("  \"{a}\" -> \"{b}\";\n"));
    }
    out.push_str("}\n");
    out
}
