//! The procedures of a group are independent; the appointment follows the bundle; the
//! apology slip comes before the appointment, with a reason and a computed date.

use super::*;

/// Friday 13 February 2026, 15:30 in Hà Nội: after the cut-off, on the eve of Tết.
const FRI_13_FEB_1530: i64 = 1_770_971_400_000;
/// Wednesday 25 November 2026, 17:00 in Hà Nội.
const WED_1700: i64 = 1_795_600_800_000;

fn documents(run: &Run, kind: Template) -> Vec<Value> {
    run.state
        .as_ref()
        .map(|d| {
            d.documents
                .iter()
                .filter(|x| x.kind == kind)
                .map(|x| x.data.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn status_of(run: &Run, procedure: &str) -> ProcedureStatus {
    let d = run.state.as_ref().expect("state");
    results(run.p, d)
        .into_iter()
        .find(|r| r.id == procedure)
        .map(|r| r.status)
        .expect("procedure")
}

#[test]
fn a_card_refusal_leaves_the_birth_and_the_residence_registration_standing() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    let d = run
        .apply(Event::StepRejected {
            step: "issue_bhyt_card".into(),
            by: run.by("issue_bhyt_card"),
            reason: "đã có thẻ".into(),
        })
        .expect("rejected");
    assert_eq!(d.status, DossierStatus::Processing);
    assert_eq!(d.steps["register_residence"].status, StepStatus::Dispatched);
    assert_eq!(
        status_of(&run, "health_insurance_card"),
        ProcedureStatus::Refused
    );
    assert_eq!(
        status_of(&run, "permanent_residence"),
        ProcedureStatus::Processing
    );
    let refusal = documents(&run, Template::ProcedureRefused);
    assert_eq!(refusal.len(), 1);
    assert_eq!(
        refusal[0]["procedure"],
        "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi"
    );
    assert_eq!(refusal[0]["reason"], "đã có thẻ");
    let d = run
        .complete("register_residence", json!({"residence_record_id": "CT-1"}))
        .expect("residence");
    assert_eq!(d.status, DossierStatus::Decided);
    assert_eq!(d.status.portal_code(), 9);
    let r = results(&BIRTH, d);
    let by_id: Vec<(&str, ProcedureStatus, Option<u8>)> = r
        .iter()
        .map(|x| (x.id.as_str(), x.status, x.portal_code))
        .collect();
    assert_eq!(
        by_id,
        [
            ("birth_registration", ProcedureStatus::Decided, Some(9)),
            ("permanent_residence", ProcedureStatus::Decided, Some(9)),
            ("health_insurance_card", ProcedureStatus::Refused, Some(8)),
        ]
    );
    let decided = documents(&run, Template::Decided);
    assert_eq!(decided.len(), 1, "the citizen is told every outcome once");
    assert_eq!(decided[0]["procedures"][2]["reason"], "đã có thẻ");
}

#[test]
fn a_refused_birth_registration_ends_every_procedure_that_depends_on_it() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    let d = run
        .apply(Event::StepRejected {
            step: "register_birth".into(),
            by: run.by("register_birth"),
            reason: "giấy chứng sinh không hợp lệ".into(),
        })
        .expect("rejected");
    assert_eq!(d.status, DossierStatus::Stopped);
    assert_eq!(d.status.portal_code(), 8);
    for step in ["issue_personal_id", "register_residence", "issue_bhyt_card"] {
        assert_eq!(d.steps[step].status, StepStatus::Cancelled, "{step}");
        assert_eq!(d.steps[step].refused_by.as_deref(), Some("register_birth"));
    }
    assert!(
        results(&BIRTH, d)
            .iter()
            .all(|r| r.status == ProcedureStatus::Refused)
    );
    assert!(!documents(&run, Template::Stopped).is_empty());
}

#[test]
fn a_refusal_cancels_the_running_work_of_a_dependent_step() {
    // The death group without `procedures:` would stop whole; with them, the survivor
    // benefit's refusal leaves the funeral allowance running.
    let mut run = Run::new(&DEATH);
    let form = death_form();
    run.submit(Some("four"), form);
    run.complete(
        "register_death",
        json!({"death_registration_number": "KT-1"}),
    )
    .expect("death");
    let d = run
        .apply(Event::StepRejected {
            step: "survivor_benefit".into(),
            by: run.by("survivor_benefit"),
            reason: "không có thân nhân đủ điều kiện".into(),
        })
        .expect("rejected");
    assert_eq!(d.steps["funeral_allowance"].status, StepStatus::Dispatched);
    assert_eq!(d.steps["mark_deceased"].status, StepStatus::Dispatched);
    assert_eq!(
        status_of(&run, "survivor_benefit"),
        ProcedureStatus::Refused
    );
}

fn receipt_appointment(run: &Run) -> Value {
    documents(run, Template::Receipt)
        .first()
        .map(|r| r["appointment"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn the_appointment_follows_the_bundle_and_the_2026_law() {
    let form = death_form();
    let mut two = Run::new(&DEATH);
    two.submit(Some("two"), form.clone());
    // Registration the same day, automatic deletion 1 working day later: Tuesday 17:00.
    assert_eq!(
        receipt_appointment(&two),
        json!("2026-11-24T17:00:00+07:00")
    );
    let mut four = Run::new(&DEATH);
    four.submit(Some("four"), form);
    // The social-insurance branches take 10 working days: Monday 7 December.
    assert_eq!(
        receipt_appointment(&four),
        json!("2026-12-07T17:00:00+07:00")
    );
    let receipt = &documents(&four, Template::Receipt)[0];
    let titles: Vec<&str> = receipt["procedures"]
        .as_array()
        .expect("procedures")
        .iter()
        .filter_map(|p| p["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Đăng ký khai tử",
            "Xóa đăng ký thường trú",
            "Hỗ trợ chi phí mai táng, trợ cấp mai táng",
            "Giải quyết chế độ tử tuất"
        ]
    );
    assert_eq!(receipt["received_at"], "2026-11-23T09:00:00+07:00");
}

#[test]
fn a_dossier_filed_after_the_cutoff_on_the_eve_of_tet_counts_from_23_february() {
    let mut run = Run::new(&BIRTH);
    run.now = FRI_13_FEB_1530;
    run.submit(None, birth_form());
    let d = run.state.as_ref().expect("state");
    let clock = d.clock.as_ref().expect("group clock");
    assert_eq!(clock.computed().start_day.to_string(), "2026-02-23");
    assert_eq!(
        receipt_appointment(&run),
        json!("2026-02-26T17:00:00+07:00")
    );
}

#[test]
fn a_predicted_residence_breach_apologises_before_the_appointment_with_a_new_date() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    run.complete(
        "issue_bhyt_card",
        json!({"social_insurance_number": "0123456789"}),
    )
    .expect("card");
    // The check is armed one working day before Thursday's appointment.
    let check = run.state.as_ref().and_then(|d| d.appointment);
    assert_eq!(
        check,
        Some(1_795_687_200_000),
        "Thursday 26 November, 17:00"
    );
    run.now = WED_1700;
    run.apply(Event::TimerFired {
        kind: TimerKind::ApologyCheck,
        step: None,
    })
    .expect("check");
    let slips = documents(&run, Template::ApologySlip);
    assert_eq!(slips.len(), 1);
    let slip = &slips[0];
    assert_eq!(slip["agency"], "residence");
    assert_eq!(slip["appointment"], "2026-11-26T17:00:00+07:00");
    assert_eq!(slip["new_appointment"], "2026-11-27T17:00:00+07:00");
    assert!(
        slip["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Đăng ký thường trú chưa hoàn thành trong thời hạn 2")),
        "{slip}"
    );
    let d = run.state.as_ref().expect("state");
    assert_eq!(d.appointment, Some(1_795_773_600_000), "the promise moved");
    // The group's breach at the old appointment does not apologise a second time.
    run.now = 1_795_687_200_000;
    run.apply(Event::TimerFired {
        kind: TimerKind::GroupBreach,
        step: None,
    })
    .expect("group breach");
    assert_eq!(documents(&run, Template::ApologySlip).len(), 1);
    // The check before the new date leaves the slip's own date alone…
    run.apply(Event::TimerFired {
        kind: TimerKind::ApologyCheck,
        step: None,
    })
    .expect("check before the new date");
    assert_eq!(documents(&run, Template::ApologySlip).len(), 1);
    // …but if the new date passes too, the citizen gets a second slip.
    run.now = 1_795_773_600_000;
    run.apply(Event::TimerFired {
        kind: TimerKind::ApologyCheck,
        step: None,
    })
    .expect("check at the new date");
    let slips = documents(&run, Template::ApologySlip);
    assert_eq!(slips.len(), 2);
    assert_eq!(slips[1]["appointment"], "2026-11-27T17:00:00+07:00");
}

#[test]
fn an_agency_reporting_a_delay_sends_the_apology_at_once() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    run.now += HOUR;
    run.apply(Event::DelayReported {
        step: "register_residence".into(),
        reason: "hệ thống cư trú đang bảo trì".into(),
        working_days: 5,
    })
    .expect("delay");
    let slip = &documents(&run, Template::ApologySlip)[0];
    assert_eq!(slip["reason"], "hệ thống cư trú đang bảo trì");
    assert_eq!(slip["new_appointment"], "2026-11-30T17:00:00+07:00");
    run.apply(Event::DelayReported {
        step: "issue_bhyt_card".into(),
        reason: "x".into(),
        working_days: 1,
    })
    .expect("a second delay is accepted");
    assert_eq!(
        documents(&run, Template::ApologySlip).len(),
        1,
        "a delay that still fits the new appointment needs no second slip"
    );
    assert!(matches!(
        run.apply(Event::DelayReported {
            step: "register_birth".into(),
            reason: "x".into(),
            working_days: 1,
        }),
        Err(Error::NotAllowed { .. })
    ));
}

#[test]
fn an_on_course_dossier_gets_no_apology_and_is_looked_at_again_at_the_appointment() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    run.now = WED_1700 - 4 * HOUR;
    run.apply(Event::TimerFired {
        kind: TimerKind::ApologyCheck,
        step: None,
    })
    .expect("check");
    assert!(documents(&run, Template::ApologySlip).is_empty());
    assert!(run.effects.iter().any(|e| matches!(e,
        Effect::SetTimer { id, at } if id.kind == TimerKind::ApologyCheck && *at == 1_795_687_200_000)));
}

#[test]
fn a_supplement_that_changes_a_partner_runs_the_lookup_again_before_registration() {
    let mut run = Run::new(&MARRIAGE);
    run.submit(None, marriage_form());
    let lookup = json!({"marital_status": "single", "source": "database"});
    run.complete("check_status_a", lookup.clone()).expect("a");
    run.complete("check_status_b", lookup.clone()).expect("b");
    run.claim("register_marriage", "officer", MON_0900 + HOUR)
        .expect("claim");
    run.apply(Event::SupplementRequested {
        step: "register_marriage".into(),
        by: run.by("register_marriage"),
        reason: "giấy tờ của bên nam".into(),
    })
    .expect("asked");
    let d = run
        .supply(
            "register_marriage",
            json!({"partner_a": {"full_name": "Lê Văn Cường", "personal_id": "079095099999"}}),
        )
        .expect("supplied");
    assert_eq!(d.steps["check_status_a"].status, StepStatus::Dispatched);
    assert_eq!(d.steps["check_status_a"].round, 1, "a new round, a new key");
    assert_eq!(d.steps["check_status_b"].status, StepStatus::Done);
    assert_eq!(d.steps["register_marriage"].status, StepStatus::Pending);
    let calls = run.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].2["form"]["partner_a"]["personal_id"],
        "079095099999"
    );
    let d = run
        .complete("check_status_a", lookup)
        .expect("looked up again");
    assert_eq!(d.steps["register_marriage"].status, StepStatus::Queued);
}

#[test]
fn a_supplement_that_changes_what_a_registration_read_flags_it_to_its_agency() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    run.apply(Event::SupplementRequested {
        step: "register_residence".into(),
        by: run.by("register_residence"),
        reason: "tên đệm của trẻ chưa khớp".into(),
    })
    .expect("asked");
    let d = run
        .supply(
            "register_residence",
            json!({"child": {"middle_name": "Thùy"}}),
        )
        .expect("supplied");
    assert_eq!(
        d.steps["register_birth"].status,
        StepStatus::Done,
        "never filed twice"
    );
    assert_eq!(
        d.steps["register_birth"].inputs_changed,
        ["form.child.middle_name"]
    );
    assert_eq!(d.steps["register_residence"].status, StepStatus::Dispatched);
    assert!(run.effects.iter().any(|e| matches!(e,
        Effect::Notify { audience: Audience::Agency, template: Template::InputsChanged, step: Some(s), .. } if s == "register_birth")));
}
