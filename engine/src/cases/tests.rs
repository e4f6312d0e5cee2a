use super::{parse, run_case};
use crate::calendar::Calendar;
use crate::definition::{Catalog, validate_source};

fn birth() -> crate::definition::Procedure {
    let text = include_str!("../../../workflows/birth-residence-bhyt.yaml");
    validate_source("birth", text.as_bytes(), &Catalog::builtin())
        .procedure
        .expect("valid")
}

const CASE: &str = r#"
procedure: birth-residence-bhyt
cases:
  - name: card refused
    received: 2026-11-23T09:00:00+07:00
    form:
      child: {family_name: "Nguyễn", given_name: "An", birth_date: "2026-11-20", sex: female,
              place_of_birth: "Hà Nội", home_town: "Nam Định", ethnicity: Kinh, nationality: "Việt Nam"}
      parents: {mother: {full_name: "Trần Thị Bình", nationality: "Việt Nam"}}
      declarant: {full_name: "Trần Thị Bình", personal_id: "001190012345", relationship: "mẹ"}
      birth_certificate: {kind: giay_chung_sinh, uri: "doc://1", sha256: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
    answers:
      - {step: issue_bhyt_card, answer: rejected, reason: "đã có thẻ"}
    expect:
      status: decided
      procedures:
        health_insurance_card: {status: refused, portal_code: 8}
        permanent_residence: {status: decided}
"#;

#[test]
fn a_case_runs_unnamed_automated_steps_and_checks_its_expectations() {
    let file = parse("t.test.yaml", CASE).expect("parses");
    let r = run_case(&birth(), &Calendar::vietnam(), &file.cases[0]);
    assert!(r.passed, "{:?}", r.failures);
    assert_eq!(r.portal_code, Some(9));
    assert_eq!(r.steps["register_residence"].status, "done");
    assert!(r.documents.iter().any(|d| d.kind == "procedure_refused"));
}

#[test]
fn a_wrong_expectation_fails_and_says_what_was_found() {
    let text = CASE.replace("status: decided\n", "status: stopped\n");
    let file = parse("t.test.yaml", &text).expect("parses");
    let r = run_case(&birth(), &Calendar::vietnam(), &file.cases[0]);
    assert!(!r.passed);
    assert_eq!(r.failures, ["status: expected stopped, got decided"]);
}

#[test]
fn an_answer_that_never_applies_is_a_failure() {
    let text = CASE.replace(
        "answer: rejected, reason: \"đã có thẻ\"",
        "answer: supplement_provided, data: {}",
    );
    let file = parse("t.test.yaml", &text).expect("parses");
    let r = run_case(&birth(), &Calendar::vietnam(), &file.cases[0]);
    assert!(
        r.failures
            .iter()
            .any(|f| f.contains("answer 1 (step `issue_bhyt_card`) was never applied")),
        "{:?}",
        r.failures
    );
}

#[test]
fn a_malformed_file_names_its_line() {
    let e = parse(
        "t.test.yaml",
        "procedure: x\ncases:\n  - name: a\n    recieved: now\n",
    )
    .expect_err("unknown field");
    assert!(e.starts_with("t.test.yaml:4:"), "{e}");
}
