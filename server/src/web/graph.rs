//! A procedure's graph drawn as SVG on the server: steps in columns by depth (a step one
//! column right of the latest step it waits for), arrows for `after:`, human steps drawn
//! with a double border, conditional steps dashed. No external tool is needed.

use super::chart::escape;
use lienthong_engine::definition::{Mode, Procedure};
use std::collections::BTreeMap;

const BOX_W: f64 = 210.0;
const BOX_H: f64 = 58.0;
const COL: f64 = 260.0;
const ROW: f64 = 80.0;
const PAD: f64 = 16.0;

/// Splits a name into at most two lines of about `n` characters.
fn two_lines(s: &str, n: usize) -> (String, String) {
    let mut first = String::new();
    let mut rest = String::new();
    for w in s.split_whitespace() {
        if rest.is_empty() && first.chars().count() + w.chars().count() < n {
            if !first.is_empty() {
                first.push(' ');
            }
            first.push_str(w);
        } else {
            if !rest.is_empty() {
                rest.push(' ');
            }
            rest.push_str(w);
        }
    }
    if rest.chars().count() > n {
        rest = rest.chars().take(n - 1).collect::<String>() + "…";
    }
    (first, rest)
}

/// The SVG of `p`'s steps, names in Vietnamese or English (`vi`).
pub fn svg(p: &Procedure, vi: bool) -> String {
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    // Steps are declared after their prerequisites (the validator checks acyclicity), but
    // the depth is computed to a fixed point so the order does not matter.
    for _ in 0..p.steps.len() {
        for s in &p.steps {
            let d = s
                .after
                .iter()
                .filter_map(|a| depth.get(a.as_str()))
                .map(|d| d + 1)
                .max()
                .unwrap_or(0);
            depth.insert(s.id.as_str(), d);
        }
    }
    let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
    let mut at: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for s in &p.steps {
        let col = depth.get(s.id.as_str()).copied().unwrap_or(0);
        let row = rows.entry(col).or_insert(0);
        at.insert(
            s.id.as_str(),
            (PAD + col as f64 * COL, PAD + *row as f64 * ROW),
        );
        *row += 1;
    }
    let cols = rows.len().max(1) as f64;
    let height = rows.values().copied().max().unwrap_or(1) as f64 * ROW + PAD;
    let width = cols * COL + PAD;
    let mut edges = String::new();
    let mut nodes = String::new();
    for s in &p.steps {
        let Some(&(x, y)) = at.get(s.id.as_str()) else {
            continue;
        };
        for a in &s.after {
            if let Some(&(ax, ay)) = at.get(a.as_str()) {
                edges.push_str(&format!(
                    "<line x1=\"{:.0}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" stroke=\"#4a5360\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"></line>",
                    ax + BOX_W,
                    ay + BOX_H / 2.0,
                    x - 4.0,
                    y + BOX_H / 2.0
                ));
            }
        }
        let name = if vi { &s.name.vi } else { &s.name.en };
        let (l1, l2) = two_lines(name, 30);
        let human = s.mode == Mode::Human;
        let dash = if s.when.is_some() {
            " stroke-dasharray=\"5 3\""
        } else {
            ""
        };
        let width = if human { 3 } else { 1 };
        nodes.push_str(&format!(
            "<g class=\"step\" data-step=\"{}\"><title>{} ({}, {})</title>\
             <rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"6\" fill=\"#ffffff\" stroke=\"#0b4f8a\" stroke-width=\"{width}\"{dash}></rect>\
             <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"12\" fill=\"#1b1f24\">{}</text>\
             <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"12\" fill=\"#1b1f24\">{}</text>\
             <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"10\" fill=\"#4a5360\">{}</text></g>",
            escape(&s.id),
            escape(name),
            escape(&s.agency),
            escape(&s.id),
            x + 8.0,
            y + 17.0,
            escape(&l1),
            x + 8.0,
            y + 32.0,
            escape(&l2),
            x + 8.0,
            y + 50.0,
            escape(&s.agency),
        ));
    }
    let title = if vi { &p.title.vi } else { &p.title.en };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"graph-title\" id=\"graph\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\">\
         <title id=\"graph-title\">{}</title>\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#4a5360\"></path></marker></defs>{edges}{nodes}</svg>",
        escape(title)
    )
}
