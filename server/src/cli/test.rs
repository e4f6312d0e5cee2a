//! `lienthong test PATH... [--format json]`: definition test files (`*.test.yaml`) run on a
//! simulated clock, with no network and no store (see `lienthong_engine::cases`).

use super::Format;
use super::validate::{is_test_file, is_yaml, read_capped};
use anyhow::{Context, bail};
use lienthong_engine::calendar::Calendar;
use lienthong_engine::cases::{self, CaseReport, TestFile};
use lienthong_engine::definition::{Catalog, Procedure, validate_source};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The test files named, and those under the folders named.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if !meta.is_dir() {
            if !is_test_file(p) {
                bail!("{} is not a test file (*.test.yaml)", p.display());
            }
            files.push(p.clone());
            continue;
        }
        let mut todo = vec![p.clone()];
        while let Some(dir) = todo.pop() {
            for e in std::fs::read_dir(&dir)
                .with_context(|| format!("cannot list {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
            {
                if e.is_dir() {
                    todo.push(e);
                } else if is_test_file(&e) {
                    files.push(e);
                }
            }
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        bail!("no *.test.yaml file under the paths given");
    }
    Ok(files)
}

/// The definitions a test file can name by id: the valid ones beside it.
fn definitions_beside(file: &Path, catalog: &Catalog) -> Vec<Procedure> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_yaml(p) && !is_test_file(p))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| {
            let bytes = read_capped(p).ok()?;
            validate_source(&p.display().to_string(), &bytes, catalog).procedure
        })
        .collect()
}

/// The procedure a case runs on: by path, or by id the version in force on its day.
fn resolve<'a>(
    file: &Path,
    t: &TestFile,
    beside: &'a [Procedure],
    by_path: &'a Option<Result<Procedure, String>>,
    day: chrono::NaiveDate,
) -> Result<&'a Procedure, String> {
    if let Some(r) = by_path {
        return r.as_ref().map_err(Clone::clone);
    }
    beside
        .iter()
        .filter(|p| p.id == t.procedure)
        .filter(|p| p.effective_from <= day && p.effective_until.is_none_or(|u| day <= u))
        .max_by_key(|p| (p.effective_from, p.version))
        .ok_or_else(|| {
            format!(
                "no valid definition of `{}` beside {} is in force on {day}",
                t.procedure,
                file.display()
            )
        })
}

fn load_path(file: &Path, rel: &str, catalog: &Catalog) -> Result<Procedure, String> {
    let path = file.parent().unwrap_or(Path::new(".")).join(rel);
    let bytes = read_capped(&path).map_err(|e| format!("{e:#}"))?;
    let v = validate_source(&path.display().to_string(), &bytes, catalog);
    match v.procedure {
        Some(p) => Ok(p),
        None => Err(format!(
            "{} is not a valid definition: {}",
            path.display(),
            v.errors()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

fn failed(name: &str, why: String) -> CaseReport {
    CaseReport {
        name: name.to_string(),
        passed: false,
        failures: vec![why],
        status: None,
        portal_code: None,
        appointment: None,
        procedures: Default::default(),
        steps: Default::default(),
        documents: Vec::new(),
        journal: Vec::new(),
        state: None,
    }
}

fn run_file(file: &Path, catalog: &Catalog, calendar: &Calendar) -> Vec<CaseReport> {
    let name = file.display().to_string();
    let text = match read_capped(file) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => return vec![failed(&name, format!("{e:#}"))],
    };
    let t = match cases::parse(&name, &text) {
        Ok(t) => t,
        Err(e) => return vec![failed(&name, e)],
    };
    let is_path = t.procedure.ends_with(".yaml") || t.procedure.ends_with(".yml");
    let by_path = is_path.then(|| load_path(file, &t.procedure, catalog));
    let beside = if is_path {
        Vec::new()
    } else {
        definitions_beside(file, catalog)
    };
    t.cases
        .iter()
        .map(
            |c| match resolve(file, &t, &beside, &by_path, c.received.date_naive()) {
                Ok(p) => cases::run_case(p, calendar, c),
                Err(e) => failed(&c.name, e),
            },
        )
        .collect()
}

pub fn run(paths: &[PathBuf], format: Format) -> anyhow::Result<ExitCode> {
    let files = collect(paths)?;
    let catalog = Catalog::builtin();
    let calendar = Calendar::vietnam();
    let results: Vec<(PathBuf, Vec<CaseReport>)> = files
        .iter()
        .map(|f| (f.clone(), run_file(f, &catalog, &calendar)))
        .collect();
    let all = || results.iter().flat_map(|(_, r)| r.iter());
    let failed = all().filter(|r| !r.passed).count();
    let passed = all().count() - failed;
    match format {
        Format::Text => {
            for (f, reports) in &results {
                for r in reports {
                    let mark = if r.passed { "PASS" } else { "FAIL" };
                    out!("{mark} {}: {}", f.display(), r.name);
                    for why in &r.failures {
                        out!("     - {why}");
                    }
                }
            }
            out!("{passed} passed, {failed} failed");
        }
        Format::Json => {
            let cases: Vec<serde_json::Value> = results
                .iter()
                .flat_map(|(f, reports)| {
                    reports.iter().map(move |r| {
                        let mut v = serde_json::to_value(r).unwrap_or_default();
                        v["file"] = json!(f.display().to_string());
                        v
                    })
                })
                .collect();
            let report = json!({"cases": cases, "passed": passed, "failed": failed});
            out!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
