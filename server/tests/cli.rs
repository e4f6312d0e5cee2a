//! The command line as a user runs it: exit codes, output formats, the shipped workflows.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn lienthong(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn validate_workflows_names_the_five_groups_with_step_counts() {
    let o = lienthong(&["validate", "workflows/"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    for line in [
        "ok — birth-residence-bhyt v1 (4 steps)",
        "ok — death-residence-funeral-survivor v1 (6 steps)",
        "ok — death-residence-funeral-survivor v2 (6 steps)",
        "ok — marital-status-marriage v2 (4 steps)",
        "ok — birth-recognition-residence-bhyt v1 (4 steps)",
        "ok — judicial-record-vneid v1 (3 steps)",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn validate_exit_codes_are_0_1_2() {
    let invalid = lienthong(&["validate", "tests/corpus/invalid/dangling-after.yaml"]);
    assert_eq!(invalid.status.code(), Some(1));
    assert!(stdout(&invalid).contains("tests/corpus/invalid/dangling-after.yaml:63:13: E021 after: names unknown step `register_brith` [step: issue_bhyt_card]"), "{}", stdout(&invalid));
    let missing = lienthong(&["validate", "no/such/file.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/file.yaml"));
    let usage = lienthong(&["validate"]);
    assert_eq!(usage.status.code(), Some(2));
    let mixed = lienthong(&[
        "validate",
        "workflows/birth-residence-bhyt.yaml",
        "tests/corpus/invalid/cycle.yaml",
    ]);
    assert_eq!(mixed.status.code(), Some(1));
}

#[test]
fn validate_json_lists_every_diagnostic() {
    let o = lienthong(&[
        "validate",
        "--format",
        "json",
        "tests/corpus/invalid/deadline-without-calendar.yaml",
        "workflows/",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(
        report["valid"], 12,
        "six procedure versions and six calendar notices"
    );
    assert_eq!(report["invalid"], 1);
    let bad = &report["files"][0];
    assert_eq!(bad["valid"], false);
    let diags = bad["diagnostics"].as_array().expect("list");
    assert_eq!(diags.len(), 2);
    assert_eq!(diags[0]["code"], "E070");
    assert_eq!(diags[0]["line"], 11);
    assert!(
        diags[0]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("calendar: vn"))
    );
    let good = &report["files"][1];
    assert_eq!(good["procedure"]["steps"], 4);
    assert_eq!(
        good["procedure"]["content_hash"].as_str().map(str::len),
        Some(64)
    );
}

#[test]
fn graph_prints_mermaid_and_dot_and_refuses_invalid_files() {
    let m = lienthong(&[
        "graph",
        "workflows/birth-residence-bhyt.yaml",
        "--format",
        "mermaid",
    ]);
    assert_eq!(m.status.code(), Some(0));
    assert!(stdout(&m).starts_with("flowchart TD\n"));
    let d = lienthong(&[
        "graph",
        "workflows/birth-residence-bhyt.yaml",
        "--format",
        "dot",
    ]);
    assert!(stdout(&d).starts_with("digraph \"birth-residence-bhyt\" {"));
    let bad = lienthong(&["graph", "tests/corpus/invalid/cycle.yaml"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("E022"));
}

#[test]
fn schema_prints_the_committed_schema() {
    let o = lienthong(&["schema"]);
    let committed =
        std::fs::read(repo().join("workflows/schema/procedure.schema.json")).expect("schema");
    assert_eq!(o.stdout, committed);
}

#[test]
fn calendar_year_lists_holidays_compensatory_days_and_working_saturdays() {
    let o = lienthong(&["calendar", "2026", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let days: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).expect("JSON list");
    let find = |date: &str| days.iter().find(|d| d["date"] == date).cloned();
    let tet = find("2026-02-17").expect("Tết");
    assert_eq!(tet["kind"], "holiday");
    assert_eq!(tet["source"], "notice 9441/TB-BNV");
    assert_eq!(
        find("2026-08-22").expect("make-up Saturday")["kind"],
        "working_saturday"
    );
    assert_eq!(
        find("2026-08-31").expect("bridge day")["kind"],
        "compensatory"
    );
    let hung = find("2026-04-26").expect("Hùng Kings on a Sunday is listed");
    assert_eq!(hung["source"], "law");
    assert_eq!(
        find("2026-04-27").expect("its compensatory Monday")["source"],
        "computed"
    );
    for d in &days {
        let keys: Vec<&String> = d.as_object().expect("object").keys().collect();
        assert!(
            keys.iter()
                .all(|k| ["date", "kind", "name", "name_en", "source"].contains(&k.as_str())),
            "{d}"
        );
    }
    let table = lienthong(&["calendar", "2026", "--format", "table"]);
    assert!(
        stdout(&table).contains("2026-08-22 Sat  working_saturday"),
        "{}",
        stdout(&table)
    );
    let provisional = lienthong(&["calendar", "2031"]);
    assert!(stdout(&provisional).contains("provisional"));
    // A folder of notices replaces the built-in ones: without them 2026 is provisional.
    let empty = std::env::temp_dir().join(format!("lienthong-no-notices-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let o = lienthong(&[
        "calendar",
        "2026",
        "--notices",
        empty.to_str().expect("utf-8 path"),
    ]);
    assert!(stdout(&o).contains("provisional"), "{}", stdout(&o));
    let o = lienthong(&["calendar", "2026", "--notices", "workflows/calendar"]);
    assert!(
        stdout(&o).contains("from the official notice"),
        "{}",
        stdout(&o)
    );
    std::fs::remove_dir_all(&empty).ok();
}

#[test]
fn calendar_due_and_lunar_print_their_json() {
    let o = lienthong(&[
        "calendar",
        "due",
        "--received",
        "2026-02-13T15:30",
        "--working-days",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["start_day"], "2026-02-23");
    assert_eq!(v["due"], "2026-02-26T17:00:00+07:00");
    assert_eq!(v["provisional"], false, "2026 has its official notice");
    assert!(
        v["calendar_version"]
            .as_str()
            .is_some_and(|c| c.starts_with("vn-"))
    );
    let provisional = lienthong(&[
        "calendar",
        "due",
        "--received",
        "2027-02-04T16:00",
        "--working-days",
        "1",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&provisional.stdout).expect("JSON");
    assert_eq!(v["provisional"], true, "no notice for 2027 yet");
    for bad in [
        ["--received", "2200-01-01T09:00", "--working-days", "1"],
        [
            "--received",
            "2026-01-05T09:00",
            "--working-days",
            "4000000000",
        ],
    ] {
        let o = lienthong(&[&["calendar", "due"][..], &bad[..]].concat());
        assert_eq!(o.status.code(), Some(2), "{bad:?} must be refused");
    }
    assert_eq!(
        lienthong(&["calendar", "lunar", "9999-12-31"])
            .status
            .code(),
        Some(2)
    );
    let before_cutoff = lienthong(&[
        "calendar",
        "due",
        "--received",
        "2026-08-21T09:00",
        "--working-days",
        "1",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&before_cutoff.stdout).expect("JSON");
    assert_eq!(
        v["due"], "2026-08-22T17:00:00+07:00",
        "Saturday 22 Aug 2026 is a working day"
    );
    let bad = lienthong(&[
        "calendar",
        "due",
        "--received",
        "13/02/2026",
        "--working-days",
        "3",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let l = lienthong(&["calendar", "lunar", "2026-02-17", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&l.stdout).expect("JSON");
    assert_eq!(
        v,
        serde_json::json!({"day": 1, "month": 1, "year": 2026, "leap_month": false})
    );
    let leap = lienthong(&["calendar", "lunar", "2023-04-01"]);
    let v: serde_json::Value = serde_json::from_slice(&leap.stdout).expect("JSON");
    assert_eq!(
        v["leap_month"], true,
        "2023 had a leap 2nd month from 22 March"
    );
}

// `lienthong test`: the shipped definition tests pass, the JSON form carries each case's
// outcome, a failing case exits 1 and says why, usage errors exit 2.

#[test]
fn the_shipped_definition_tests_pass() {
    let o = lienthong(&["test", "workflows/"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.trim_end().ends_with(" passed, 0 failed"), "{out}");
    for name in [
        "a card refusal leaves residence registered",
        "bundle two: appointment 1 working day after registration",
        "a predicted residence breach apologises before the appointment",
        "filed after the cut-off on the eve of Tết",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("PASS") && l.contains(name)),
            "no passing case {name:?} in\n{out}"
        );
    }
}

#[test]
fn the_examples_and_the_deferred_hand_over_run_as_tests() {
    // Dated step rules and calendar-day limits, in the example.
    let o = lienthong(&["test", "examples/"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.trim_end().ends_with("4 passed, 0 failed"), "{out}");
    // The marriage group's 60-day window, collected and not collected.
    let o = lienthong(&["test", "workflows/marital-status-marriage.test.yaml"]);
    let out = stdout(&o);
    for name in [
        "deferred hand-over, collected",
        "not collected within 60 days",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("PASS") && l.contains(name)),
            "no passing case {name:?} in\n{out}"
        );
    }
}

#[test]
fn the_json_form_gives_each_case_its_outcome_and_documents() {
    let o = lienthong(&[
        "test",
        "--format",
        "json",
        "workflows/birth-residence-bhyt.test.yaml",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let cases = report["cases"].as_array().expect("cases");
    let refusal = cases
        .iter()
        .find(|c| {
            c["name"]
                .as_str()
                .is_some_and(|n| n.contains("card refusal"))
        })
        .expect("the refusal case");
    assert_eq!(refusal["passed"], true);
    assert_eq!(refusal["status"], "decided");
    assert_eq!(refusal["portal_code"], 9);
    assert_eq!(refusal["appointment"], "2026-11-26T17:00:00+07:00");
    assert_eq!(
        refusal["procedures"]["health_insurance_card"]["status"],
        "refused"
    );
    assert_eq!(
        refusal["procedures"]["permanent_residence"]["portal_code"],
        9
    );
    assert_eq!(refusal["steps"]["register_residence"]["status"], "done");
    let docs = refusal["documents"].as_array().expect("documents");
    let receipt = &docs[0];
    assert_eq!(receipt["kind"], "receipt");
    assert!(
        receipt["vi"]
            .as_str()
            .is_some_and(|t| t.starts_with("Giấy tiếp nhận hồ sơ và hẹn trả kết quả")),
        "{receipt}"
    );
    assert!(
        receipt["at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+07:00"))
    );
    assert_eq!(report["failed"], 0);
}

#[test]
fn a_failing_case_exits_1_and_says_what_was_found() {
    let dir = std::env::temp_dir().join(format!("lienthong-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let definition = repo().join("workflows/birth-residence-bhyt.yaml");
    let text = format!(
        r#"procedure: {}
cases:
  - name: wrong on purpose
    received: 2026-11-23T09:00:00+07:00
    form: {{}}
    expect: {{status: decided}}
"#,
        definition.display()
    );
    let file = dir.join("wrong.test.yaml");
    std::fs::write(&file, text).expect("write");
    let o = lienthong(&["test", &file.display().to_string()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL"), "{out}");
    assert!(
        out.contains("status: expected decided, got refused"),
        "{out}"
    );
    assert!(out.contains("0 passed, 1 failed"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(lienthong(&["test"]).status.code(), Some(2));
    let not_a_test = lienthong(&["test", "workflows/birth-residence-bhyt.yaml"]);
    assert_eq!(not_a_test.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_a_test.stderr).contains("not a test file"));
    assert_eq!(lienthong(&["test", "no/such/dir"]).status.code(), Some(2));
}
