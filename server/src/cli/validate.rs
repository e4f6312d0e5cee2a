//! `lienthong validate PATH...`

use super::Format;
use anyhow::{Context, bail};
use lienthong_engine::calendar::YearNotice;
use lienthong_engine::definition::{Catalog, Validated, validate_source, yaml};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Largest file read, so a huge file is refused by size before it is read whole.
const READ_CAP: u64 = 2 << 20;

/// The YAML files under each path, in a stable order.
pub fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            let mut todo = vec![p.clone()];
            while let Some(dir) = todo.pop() {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .with_context(|| format!("cannot list {}", dir.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .collect();
                entries.sort();
                for e in entries {
                    if e.is_dir() {
                        todo.push(e);
                    } else if is_yaml(&e) && !is_test_file(&e) {
                        files.push(e);
                    }
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        bail!(
            "no .yaml or .yml file under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(files)
}

/// A definition test file (`*.test.yaml`, run by `lienthong test`), not a definition.
pub fn is_test_file(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".test.yaml") || n.ends_with(".test.yml"))
}

pub(super) fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Reads at most `READ_CAP` bytes (the validator refuses anything over its own cap).
pub fn read_capped(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(READ_CAP)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(bytes)
}

pub fn validate_path(path: &Path, catalog: &Catalog) -> anyhow::Result<Validated> {
    let bytes = read_capped(path)?;
    Ok(validate_source(
        &path.display().to_string(),
        &bytes,
        catalog,
    ))
}

/// What a file under `workflows/` turned out to be.
enum Checked {
    Procedure(Box<Validated>),
    /// A yearly calendar notice (`workflows/calendar/<year>.yaml`), or why it is invalid.
    Notice(Result<YearNotice, String>),
}

impl Checked {
    fn is_valid(&self) -> bool {
        match self {
            Checked::Procedure(v) => v.is_valid(),
            Checked::Notice(n) => n.is_ok(),
        }
    }
}

/// A calendar notice has a top-level `year` and no `steps`.
fn is_notice(bytes: &[u8]) -> bool {
    let loaded = yaml::load(bytes, yaml::Limits::default());
    match loaded.root.map(|r| r.value) {
        Some(yaml::Value::Map(entries)) => {
            entries.iter().any(|e| e.key == "year") && !entries.iter().any(|e| e.key == "steps")
        }
        _ => false,
    }
}

fn check(path: &Path, catalog: &Catalog) -> anyhow::Result<Checked> {
    let bytes = read_capped(path)?;
    let name = path.display().to_string();
    if is_notice(&bytes) {
        let text = String::from_utf8_lossy(&bytes);
        return Ok(Checked::Notice(
            YearNotice::from_yaml(&text, &name).map_err(|e| e.to_string()),
        ));
    }
    Ok(Checked::Procedure(Box::new(validate_source(
        &name, &bytes, catalog,
    ))))
}

pub fn run(paths: &[PathBuf], format: Format) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin();
    let files = collect(paths)?;
    let mut results = Vec::new();
    for f in &files {
        results.push((f, check(f, &catalog)?));
    }
    let invalid = results.iter().filter(|(_, c)| !c.is_valid()).count();
    match format {
        Format::Text => {
            for (f, c) in &results {
                print_text(f, c);
            }
            out!("{} valid, {invalid} invalid", results.len() - invalid);
        }
        Format::Json => {
            let files: Vec<_> = results.iter().map(|(f, c)| to_json(f, c)).collect();
            let report =
                json!({"files": files, "valid": results.len() - invalid, "invalid": invalid});
            out!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(if invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_text(f: &Path, c: &Checked) {
    match c {
        Checked::Procedure(v) => {
            for d in &v.diagnostics {
                out!("{d}");
            }
            match &v.procedure {
                Some(p) => out!(
                    "{}: ok — {} v{} ({} step{}): {}",
                    f.display(),
                    p.id,
                    p.version,
                    p.steps.len(),
                    if p.steps.len() == 1 { "" } else { "s" },
                    p.title.vi
                ),
                None => out!("{}: invalid — {} error(s)", f.display(), v.errors().count()),
            }
        }
        Checked::Notice(Ok(n)) => out!(
            "{}: ok — calendar notice {} for {} ({} days off, {} working Saturdays)",
            f.display(),
            n.notice,
            n.year,
            n.days_off.len(),
            n.working_saturdays.len()
        ),
        Checked::Notice(Err(e)) => out!("{e}\n{}: invalid — calendar notice", f.display()),
    }
}

fn to_json(f: &Path, c: &Checked) -> serde_json::Value {
    match c {
        Checked::Procedure(v) => json!({
            "file": f.display().to_string(),
            "kind": "procedure",
            "valid": v.is_valid(),
            "procedure": v.procedure.as_ref().map(|p| json!({
                "id": p.id, "version": p.version, "steps": p.steps.len(),
                "title": p.title, "content_hash": p.content_hash(),
            })),
            "diagnostics": v.diagnostics,
        }),
        Checked::Notice(n) => json!({
            "file": f.display().to_string(),
            "kind": "calendar_notice",
            "valid": n.is_ok(),
            "notice": n.as_ref().ok().map(|n| json!({"number": n.notice, "year": n.year})),
            "error": n.as_ref().err(),
        }),
    }
}
