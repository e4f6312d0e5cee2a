//! `lienthong test`: the shipped definition tests pass, the JSON form carries each case's
//! outcome, a failing case exits 1 and says why, usage errors exit 2.

use std::path::PathBuf;
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
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
