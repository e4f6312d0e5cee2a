//! The corpus of invalid definitions: every file marks each line where an error is expected
//! with `# <- CODE [CODE…] [step=ID]`, and the validator must report exactly those errors —
//! the same codes, on the same lines, for the same steps, and nothing else.

use lienthong_engine::definition::{Catalog, validate_source};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

type Finding = (usize, String, Option<String>);

fn corpus(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("corpus folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn expected(text: &str) -> BTreeSet<Finding> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let Some((_, marks)) = line.split_once("# <- ") else {
            continue;
        };
        let words: Vec<&str> = marks.split_whitespace().collect();
        let step = words
            .iter()
            .find_map(|w| w.strip_prefix("step="))
            .map(str::to_string);
        for code in words.iter().filter(|w| !w.starts_with("step=")) {
            out.insert((i + 1, (*code).to_string(), step.clone()));
        }
    }
    out
}

#[test]
fn every_invalid_definition_reports_exactly_its_marked_errors() {
    let catalog = Catalog::builtin();
    let files = corpus("invalid");
    assert!(
        files.len() >= 40,
        "the corpus has {} files, fewer than 40",
        files.len()
    );
    let mut failures = Vec::new();
    let mut codes_seen = BTreeSet::new();
    for f in &files {
        let bytes = std::fs::read(f).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        let want = expected(&text);
        assert!(!want.is_empty(), "{} marks no expected error", f.display());
        let v = validate_source(&f.display().to_string(), &bytes, &catalog);
        assert!(!v.is_valid(), "{} was accepted", f.display());
        let got: BTreeSet<Finding> = v
            .errors()
            .map(|d| (d.line, d.code.to_string(), d.step.clone()))
            .collect();
        for d in v.errors() {
            codes_seen.insert(d.code.to_string());
            assert!(d.column >= 1, "{d}");
            assert!(d.to_string().starts_with(&format!(
                "{}:{}:{}: {} ",
                f.display(),
                d.line,
                d.column,
                d.code
            )));
        }
        if got != want {
            let shown: Vec<String> = v.errors().map(ToString::to_string).collect();
            failures.push(format!(
                "{}\n  expected {want:?}\n  got      {got:?}\n  {}",
                f.display(),
                shown.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every rule of the validator that a definition file can trigger appears at least once.
    for code in [
        "E003", "E005", "E006", "E007", "E010", "E011", "E012", "E013", "E020", "E021", "E022",
        "E023", "E030", "E031", "E032", "E033", "E040", "E041", "E042", "E050", "E051", "E052",
        "E060", "E061", "E062", "E070", "E071", "E080", "E081", "E082", "E090", "E091", "E100",
        "E101", "E072", "E073",
    ] {
        assert!(codes_seen.contains(code), "no corpus file exercises {code}");
    }
}

#[test]
fn valid_corpus_and_shipped_workflows_have_no_error() {
    let catalog = Catalog::builtin();
    let mut files = corpus("valid");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    files.push(examples.join("minimal-procedure.yaml"));
    files.push(examples.join("declared-agency.yaml"));
    files.push(examples.join("dated-rules.yaml"));
    files.extend(lienthong_tests::fixtures::definition_files());
    assert!(files.len() >= 5);
    for f in files {
        let v = validate_source(
            &f.display().to_string(),
            &std::fs::read(&f).expect("read"),
            &catalog,
        );
        let errors: Vec<String> = v.errors().map(ToString::to_string).collect();
        assert!(v.is_valid(), "{}: {errors:?}", f.display());
    }
}
