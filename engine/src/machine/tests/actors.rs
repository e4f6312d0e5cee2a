//! Answers carry their actor: who may answer a step is the machine's rule, and every
//! hand-off of the file lands on the control sheet.

use super::*;

fn lookups_done(run: &mut Run) {
    run.submit(None, marriage_form());
    for (step, status) in [("check_status_a", "single"), ("check_status_b", "divorced")] {
        run.complete(
            step,
            json!({"marital_status": status, "source": "database"}),
        )
        .expect(step);
    }
    assert_eq!(run.status("register_marriage"), StepStatus::Queued);
}

fn complete_by(run: &mut Run, by: Option<Actor>) -> Result<&Dossier> {
    let outputs = json!({"marriage_certificate_number": "KH-1", "registered_on": "2026-11-23", "handover_deferred": false});
    let Value::Object(outputs) = outputs else {
        unreachable!()
    };
    run.apply(Event::StepCompleted {
        step: "register_marriage".into(),
        outputs,
        by,
    })
}

fn officer(name: &str) -> Option<Actor> {
    Some(Actor::Officer(name.into()))
}

#[test]
fn only_the_officer_holding_a_live_claim_answers_a_human_task() {
    let mut run = Run::new(&MARRIAGE);
    lookups_done(&mut run);
    let unclaimed = complete_by(&mut run, officer("officer-7"));
    assert!(
        matches!(unclaimed, Err(Error::NotClaimant { .. })),
        "{unclaimed:?}"
    );
    let until = run.now + HOUR;
    run.claim("register_marriage", "officer-7", until)
        .expect("claim");
    let other = complete_by(&mut run, officer("officer-8"));
    assert!(
        matches!(other, Err(Error::ClaimedByOther { ref by, until: u, .. }) if by == "officer-7" && u == until),
        "{other:?}"
    );
    let anonymous = complete_by(&mut run, None);
    assert!(
        matches!(anonymous, Err(Error::WrongActor { .. })),
        "{anonymous:?}"
    );
    let system = complete_by(&mut run, Some(Actor::System("civil_status".into())));
    assert!(
        matches!(system, Err(Error::WrongActor { .. })),
        "{system:?}"
    );
    // The lease ran out and its timer has not fired yet: the claim is no longer live.
    run.now = until;
    let lapsed = complete_by(&mut run, officer("officer-7"));
    assert!(
        matches!(lapsed, Err(Error::NotClaimant { .. })),
        "{lapsed:?}"
    );
    run.now = until - 1;
    let d = complete_by(&mut run, officer("officer-7")).expect("the claimant answers");
    assert_eq!(d.status, DossierStatus::Decided);
    assert_eq!(
        run.journal.last().and_then(|e| e.event.actor()),
        Some(&Actor::Officer("officer-7".into())),
        "the journal records who answered"
    );
}

#[test]
fn an_automated_step_is_answered_by_its_own_agencys_system() {
    let mut run = Run::new(&MARRIAGE);
    run.submit(None, marriage_form());
    let answer = |by: Option<Actor>| Event::StepCompleted {
        step: "check_status_a".into(),
        outputs: json!({"marital_status": "single", "source": "database"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        by,
    };
    for by in [officer("officer-7"), Some(Actor::System("police".into()))] {
        let refused = run.apply(answer(by.clone()));
        assert!(
            matches!(refused, Err(Error::WrongActor { .. })),
            "{by:?}: {refused:?}"
        );
    }
    run.apply(answer(Some(Actor::System("civil_status".into()))))
        .expect("its own system");
}

#[test]
fn a_journal_from_before_actors_replays_its_anonymous_answers() {
    let mut run = Run::new(&MARRIAGE);
    lookups_done(&mut run);
    run.claim("register_marriage", "officer-7", run.now + HOUR)
        .expect("claim");
    // The same dossier filed under format 0: an answer without actor is what it recorded.
    let mut old = run.state.clone().expect("state");
    old.journal = 0;
    run.state = Some(old);
    complete_by(&mut run, None).expect("a format-0 answer replays");
}

#[test]
fn the_control_sheet_shows_who_held_the_file_from_when_to_when() {
    let mut run = Run::new(&MARRIAGE);
    let filed = run.now;
    lookups_done(&mut run);
    run.now += HOUR;
    let claimed = run.now;
    run.claim("register_marriage", "officer-7", run.now + HOUR)
        .expect("claim");
    run.now += HOUR / 2;
    let d = complete_by(&mut run, officer("officer-7"))
        .expect("done")
        .clone();
    let rows: Vec<(Handing, Option<&str>, &Holder, &Holder)> = d
        .control
        .iter()
        .map(|r| (r.what, r.step.as_deref(), &r.from, &r.to))
        .collect();
    let desk = Holder::Desk;
    let civil = Holder::Agency {
        role: "civil_status".into(),
        officer: None,
    };
    let lan = Holder::Agency {
        role: "civil_status".into(),
        officer: Some("officer-7".into()),
    };
    assert_eq!(
        rows,
        vec![
            (Handing::Received, None, &Holder::Citizen, &desk),
            (Handing::Sent, Some("check_status_a"), &desk, &civil),
            (Handing::Sent, Some("check_status_b"), &desk, &civil),
            (Handing::Decided, Some("check_status_a"), &civil, &desk),
            (Handing::Decided, Some("check_status_b"), &civil, &desk),
            (Handing::Sent, Some("register_marriage"), &civil, &civil),
            (Handing::Claimed, Some("register_marriage"), &civil, &lan),
            (Handing::Decided, Some("register_marriage"), &lan, &desk),
        ]
    );
    assert_eq!(d.control[0].at, filed);
    assert_eq!(d.control[6].at, claimed);
    assert_eq!(d.control[7].at, claimed + HOUR / 2);
    assert_eq!(
        d.control[7].timeliness,
        Some(Timeliness::OnTime),
        "a same-day registration (limit 0) decided on its day, before the due instant"
    );
    let names = crate::documents::control::Names {
        role: &|role| (format!("cơ quan {role}"), format!("agency {role}")),
        step: &|step| {
            run.p
                .step(step)
                .map(|s| (s.name.vi.clone(), s.name.en.clone()))
        },
    };
    let (vi, en) = crate::documents::control::render(&d.code, &d.control, &names);
    assert!(
        vi.starts_with("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ\n"),
        "{vi}"
    );
    assert!(
        vi.contains("bước: Đăng ký kết hôn — bên giao: cơ quan civil_status, cán bộ officer-7; bên nhận: Bộ phận Một cửa — trả kết quả giải quyết (đúng hạn)"),
        "{vi}"
    );
    assert!(en.contains("8. "), "{en}");
    // The two lookups, by one agency, read apart.
    for partner in ["(bên nam)", "(bên nữ)"] {
        let line = format!("bước: Tra cứu, xác minh tình trạng hôn nhân {partner} — bên giao:");
        assert!(vi.contains(&line), "{vi}");
    }
    // The sheet is state: replaying the journal rebuilds it exactly.
    let replayed = replay(run.p, &CALENDAR, run.options, &run.journal)
        .expect("replay")
        .expect("state");
    assert_eq!(replayed.control, d.control);
}

#[test]
fn a_supplement_goes_to_the_citizen_and_back_on_the_sheet() {
    let mut run = Run::new(&MARRIAGE);
    lookups_done(&mut run);
    run.claim("register_marriage", "officer-7", run.now + HOUR)
        .expect("claim");
    run.apply(Event::SupplementRequested {
        step: "register_marriage".into(),
        reason: "thiếu giấy".into(),
        by: officer("officer-7"),
    })
    .expect("asked");
    let d = run.state.as_ref().expect("state");
    let last = d.control.last().expect("a row");
    assert_eq!(last.what, Handing::SupplementAsked);
    assert_eq!(last.to, Holder::Citizen);
}

#[test]
fn a_result_is_early_before_its_due_day_and_late_after_its_due_instant() {
    let timeliness = |run: &Run, step: &str| {
        run.state
            .as_ref()
            .and_then(|d| {
                d.control
                    .iter()
                    .rev()
                    .find(|r| r.step.as_deref() == Some(step))
            })
            .and_then(|r| r.timeliness)
    };
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    run.complete("register_residence", json!({"residence_record_id": "CT-1"}))
        .expect("residence");
    assert_eq!(
        timeliness(&run, "register_residence"),
        Some(Timeliness::Early)
    );
    let due = run
        .state
        .as_ref()
        .and_then(|d| d.steps.get("issue_bhyt_card"))
        .and_then(|s| s.clock.as_ref())
        .and_then(|c| c.deadline())
        .expect("the card's deadline")
        .timestamp_millis();
    run.now = due + HOUR;
    run.complete(
        "issue_bhyt_card",
        json!({"social_insurance_number": "0123456789"}),
    )
    .expect("card");
    assert_eq!(timeliness(&run, "issue_bhyt_card"), Some(Timeliness::Late));
}
