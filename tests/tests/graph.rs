//! `graph` output for each procedure group: DOT that Graphviz accepts, and Mermaid that keeps
//! to the flowchart grammar (every node declared once, edges between declared nodes,
//! subgraphs closed, no reserved word as an id).

use lienthong_engine::definition::{Catalog, Procedure, render, validate_source};
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn procedures() -> Vec<Procedure> {
    let files = lienthong_tests::fixtures::definition_files();
    assert!(files.len() >= 4, "{files:?}");
    files
        .iter()
        .map(|f| {
            let v = validate_source(
                &f.display().to_string(),
                &std::fs::read(f).expect("read"),
                &Catalog::builtin(),
            );
            v.procedure.expect("valid workflow")
        })
        .collect()
}

#[test]
fn dot_output_is_accepted_by_graphviz() {
    let catalog = Catalog::builtin();
    for p in procedures() {
        let dot = render::dot(&p, &catalog);
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Graphviz `dot` must be installed (apt-get install graphviz; .ci/run does it)");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(dot.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("dot runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{}: dot said {stderr}\n{dot}",
            p.id
        );
        let svg = String::from_utf8_lossy(&out.stdout);
        for s in &p.steps {
            assert!(
                svg.contains(&s.name.vi),
                "{}: step {} missing from the drawing",
                p.id,
                s.id
            );
        }
    }
}

const RESERVED: &[&str] = &[
    "end",
    "graph",
    "subgraph",
    "flowchart",
    "style",
    "classDef",
    "class",
    "click",
];

/// Checks the subset of the Mermaid flowchart grammar the renderer uses.
fn check_mermaid(text: &str) -> Result<(), String> {
    let mut lines = text.lines();
    if lines.next() != Some("flowchart TD") {
        return Err("must start with `flowchart TD`".into());
    }
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !RESERVED.contains(&s)
    };
    let mut declared = HashSet::new();
    let mut depth = 0i32;
    let mut edges = Vec::new();
    for (n, raw) in text.lines().enumerate().skip(1) {
        let line = raw.trim();
        let err = |m: &str| Err(format!("line {}: {m}: {raw}", n + 1));
        if line.starts_with("%%") || line.is_empty() || line.starts_with("classDef ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("subgraph ") {
            let id = rest.split('[').next().unwrap_or("");
            if !ident(id) || !rest.ends_with("\"]") {
                return err("bad subgraph");
            }
            depth += 1;
            continue;
        }
        if line == "end" {
            depth -= 1;
            if depth < 0 {
                return err("`end` without subgraph");
            }
            continue;
        }
        if let Some((a, b)) = line.split_once(" --> ") {
            edges.push((a.to_string(), b.to_string()));
            continue;
        }
        let id: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let shape = &line[id.len()..];
        let shape = shape.split(":::").next().unwrap_or(shape);
        let ok_shape = [("[\"", "\"]"), ("((\"", "\"))"), ("{\"", "\"}")]
            .iter()
            .any(|(o, c)| {
                shape.starts_with(o)
                    && shape.ends_with(c)
                    && !shape[o.len()..shape.len() - c.len()].contains('"')
            });
        if !ident(&id) || !ok_shape {
            return err("not a node declaration");
        }
        if !declared.insert(id) {
            return err("node declared twice");
        }
    }
    if depth != 0 {
        return Err("unclosed subgraph".into());
    }
    for (a, b) in edges {
        if !declared.contains(&a) || !declared.contains(&b) {
            return Err(format!("edge {a} --> {b} uses an undeclared node"));
        }
    }
    Ok(())
}

#[test]
fn mermaid_output_keeps_to_the_grammar() {
    let catalog = Catalog::builtin();
    for p in procedures() {
        let m = render::mermaid(&p, &catalog);
        check_mermaid(&m).unwrap_or_else(|e| panic!("{}: {e}\n{m}", p.id));
    }
    assert!(
        check_mermaid("flowchart TD\n  end[\"x\"]\n").is_err(),
        "the checker must refuse reserved ids"
    );
    assert!(check_mermaid("flowchart TD\n  a[\"x\"]\n  a --> b\n").is_err());
}

/// The real Mermaid parser (`tests/mermaid`, installed by `.ci/run` with `npm ci`). Required
/// in CI; elsewhere it runs when installed, next to the grammar check above.
#[test]
fn mermaid_output_parses_with_mermaid_itself() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mermaid");
    if !dir.join("node_modules/mermaid").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "in CI the Mermaid parser must be installed: npm ci --prefix tests/mermaid"
        );
        eprintln!(
            "tests/mermaid is not installed (npm ci --prefix tests/mermaid); grammar check only"
        );
        return;
    }
    let out_dir = std::env::temp_dir().join(format!("lienthong-mermaid-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).expect("temp dir");
    let catalog = Catalog::builtin();
    let mut files = Vec::new();
    for p in procedures() {
        let f = out_dir.join(format!("{}.mmd", p.id));
        std::fs::write(&f, render::mermaid(&p, &catalog)).expect("write");
        files.push(f);
    }
    let broken = out_dir.join("broken.mmd");
    std::fs::write(&broken, "flowchart TD\n  end[\"x\"] --> a\n").expect("write");
    let run = |files: &[std::path::PathBuf]| {
        Command::new("node")
            .arg(dir.join("check.mjs"))
            .args(files)
            .output()
            .expect("node runs")
    };
    let out = run(&files);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !run(&[broken]).status.success(),
        "the Mermaid check must refuse a reserved id"
    );
    std::fs::remove_dir_all(&out_dir).ok();
}

/// Step ids that are words of the drawing (`end`) or names of its own nodes (`filed`,
/// `results`) must not merge with them.
#[test]
fn step_ids_never_collide_with_the_drawings_own_nodes() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/valid/base.yaml"),
    )
    .expect("base");
    let text = base
        .replace("register_birth", "end")
        .replace("register_residence", "filed")
        .replace("issue_bhyt_card", "results")
        .replace("action: end", "action: register_birth")
        .replace("action: results", "action: issue_bhyt_card");
    let p = validate_source("ids.yaml", text.as_bytes(), &Catalog::builtin())
        .procedure
        .expect("valid");
    let m = render::mermaid(&p, &Catalog::builtin());
    check_mermaid(&m).unwrap_or_else(|e| panic!("{e}\n{m}"));
    assert!(
        m.contains("filed --> s_end") && m.contains("s_results --> join_results"),
        "{m}"
    );
    let d = render::dot(&p, &Catalog::builtin());
    assert!(!d.contains("\"filed\" -> \"filed\""), "{d}");
}

#[test]
fn forks_and_joins_are_drawn() {
    let catalog = Catalog::builtin();
    let ps = procedures();
    let birth = ps
        .iter()
        .find(|p| p.id == "birth-residence-bhyt")
        .expect("birth group");
    let m = render::mermaid(birth, &catalog);
    assert!(
        m.contains("s_issue_personal_id --> fork_s_issue_personal_id"),
        "{m}"
    );
    assert!(
        m.contains("fork_s_issue_personal_id --> s_register_residence"),
        "{m}"
    );
    let marriage = ps
        .iter()
        .find(|p| p.id == "marital-status-marriage")
        .expect("marriage group");
    let d = render::dot(marriage, &catalog);
    assert!(
        d.contains("\"join_s_register_marriage\" -> \"s_register_marriage\""),
        "{d}"
    );
    assert!(d.contains("\"fork_filed\" -> \"s_check_status_a\""), "{d}");
    assert!(
        d.contains("2 ngày làm việc") || d.contains("trong ngày"),
        "deadlines on nodes"
    );
}
