//! Table tests of the state machine on the shipped procedure groups, and the journal-replay
//! property over random event sequences.

use super::*;
use crate::calendar::Calendar;
use crate::definition::{Catalog, Procedure, StepId, validate_source};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

static CALENDAR: LazyLock<Calendar> = LazyLock::new(Calendar::vietnam);
static OPTIONS: LazyLock<Options> = LazyLock::new(Options::default);

fn load(text: &str) -> Procedure {
    let v = validate_source("test", text.as_bytes(), &Catalog::builtin());
    v.procedure.expect("valid workflow")
}

static BIRTH: LazyLock<Procedure> =
    LazyLock::new(|| load(include_str!("../../../workflows/birth-residence-bhyt.yaml")));
static DEATH: LazyLock<Procedure> = LazyLock::new(|| {
    load(include_str!(
        "../../../workflows/death-residence-funeral-survivor.yaml"
    ))
});
static MARRIAGE: LazyLock<Procedure> = LazyLock::new(|| {
    load(include_str!(
        "../../../workflows/marital-status-marriage.yaml"
    ))
});

/// Monday 23 November 2026, 09:00 in Hà Nội.
const MON_0900: i64 = 1_795_399_200_000;
const HOUR: i64 = 3_600_000;

fn birth_form() -> Value {
    json!({
        "child": {"family_name": "Nguyễn", "middle_name": "Thị", "given_name": "An", "birth_date": "2026-11-20", "sex": "female",
                  "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "home_town": "Nam Định", "ethnicity": "Kinh", "nationality": "Việt Nam"},
        "parents": {"mother": {"full_name": "Trần Thị Bình", "nationality": "Việt Nam", "personal_id": "001190012345"}},
        "declarant": {"full_name": "Trần Thị Bình", "personal_id": "001190012345", "relationship": "mẹ", "phone": "0912345678"},
        "birth_certificate": {"kind": "giay_chung_sinh", "uri": "doc://hs/1", "sha256": "a".repeat(64)},
        "residence": {"address": {"province_code": "01", "commune_code": "00004", "commune": "Phường Ba Đình"}},
        "insurance": {"initial_care_facility": "Bệnh viện Xanh Pôn"}
    })
}

fn marriage_form() -> Value {
    json!({
        "partner_a": {"full_name": "Lê Văn Cường", "personal_id": "079095012345", "birth_date": "1995-03-02", "sex": "male"},
        "partner_b": {"full_name": "Phạm Thị Dung", "personal_id": "079197012345", "birth_date": "1997-07-09", "sex": "female"},
        "consent": {"partner_a": true, "partner_b": true}
    })
}

/// A death with social insurance (the VSS branches apply).
fn death_form() -> Value {
    json!({
        "deceased": {"full_name": "Hoàng Văn Em", "personal_id": "036048012345", "birth_date": "1948-05-01", "sex": "male",
                     "date_of_death": "2026-11-20", "place_of_death": "Nam Định", "insured": true, "social_insurance_number": "3601234567"},
        "declarant": {"full_name": "Hoàng Thị Gấm", "personal_id": "036175012345", "relationship": "con"},
        "death_notice": {"kind": "giay_bao_tu", "uri": "doc://hs/2", "sha256": "b".repeat(64)}
    })
}

struct Run {
    p: &'static Procedure,
    options: &'static Options,
    state: Option<Dossier>,
    journal: Vec<JournalEntry>,
    effects: Vec<Effect>,
    /// What the last transition says it moved besides the state.
    moved: Option<Moved>,
    /// Whether the last transition was a notice (`Transition::notice`).
    notice: bool,
    /// The task row the last transition says to bring in line (`Transition::task_to_sync`):
    /// the step, its status and its claimant.
    synced: Option<(String, StepStatus, Option<String>)>,
    now: i64,
}

impl Run {
    fn new(p: &'static Procedure) -> Self {
        Run {
            p,
            options: &OPTIONS,
            state: None,
            journal: Vec::new(),
            effects: Vec::new(),
            moved: None,
            notice: false,
            synced: None,
            now: MON_0900,
        }
    }

    fn apply(&mut self, e: Event) -> Result<&Dossier> {
        let env = Env {
            procedure: self.p,
            calendar: &CALENDAR,
            options: self.options,
            now: self.now,
        };
        let t = apply(env, self.state.as_ref(), &e)?;
        self.synced = t
            .task_to_sync()
            .map(|(step, st)| (step.to_string(), st.status, st.claimed_by.clone()));
        self.effects = t.effects;
        self.moved = Some(t.moved);
        self.notice = t.notice;
        self.journal.push(t.journal);
        self.state = Some(t.state);
        Ok(self.state.as_ref().expect("state"))
    }

    fn submit(&mut self, bundle: Option<&str>, form: Value) -> &Dossier {
        let procedure = ProcedureRef {
            id: self.p.id.clone(),
            version: self.p.version,
            hash: self.p.content_hash(),
        };
        let e = Event::Submitted {
            channel: None,
            id: DossierId("d-1".into()),
            code: "G22.99.08-261123-000001".into(),
            procedure,
            bundle: bundle.map(str::to_string),
            form,
            journal: super::JOURNAL_FORMAT,
        };
        self.apply(e).expect("submitted")
    }

    fn status(&self, step: &str) -> StepStatus {
        self.state
            .as_ref()
            .and_then(|d| d.steps.get(step))
            .map(|s| s.status)
            .expect("step")
    }

    /// Who answers `step`: its claimant on a human task (or an officer holding nothing,
    /// when none claimed it), its agency's system on an automated step.
    fn by(&self, step: &str) -> Option<Actor> {
        let def = self.p.step(step)?;
        Some(match def.mode {
            crate::definition::Mode::Human => Actor::Officer(
                self.state
                    .as_ref()
                    .and_then(|d| d.steps.get(step))
                    .and_then(|s| s.claimed_by.clone())
                    .unwrap_or_else(|| "no-claim".into()),
            ),
            crate::definition::Mode::Automated => Actor::System(def.agency.clone()),
        })
    }

    fn complete(&mut self, step: &str, outputs: Value) -> Result<&Dossier> {
        let Value::Object(outputs) = outputs else {
            panic!("outputs must be an object")
        };
        self.apply(Event::StepCompleted {
            by: self.by(step),
            step: step.into(),
            outputs,
        })
    }

    /// The citizen supplies `data` (an object) for `step`.
    fn supply(&mut self, step: &str, data: Value) -> Result<&Dossier> {
        let Value::Object(data) = data else {
            panic!("a supplement must be an object")
        };
        self.apply(Event::SupplementProvided {
            step: step.into(),
            data,
        })
    }

    fn claim(&mut self, step: &str, by: &str, until: i64) -> Result<&Dossier> {
        self.apply(Event::StepClaimed {
            step: step.into(),
            by: by.into(),
            until,
        })
    }

    fn calls(&self) -> Vec<(StepId, String, Value)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::CallAdapter {
                    step,
                    idempotency_key,
                    request,
                    ..
                } => Some((step.clone(), idempotency_key.clone(), request.clone())),
                _ => None,
            })
            .collect()
    }

    fn timer(&self, kind: TimerKind, step: &str) -> Option<i64> {
        self.effects.iter().find_map(|e| match e {
            Effect::SetTimer { id, at } if id.kind == kind && id.step.as_deref() == Some(step) => {
                Some(*at)
            }
            _ => None,
        })
    }
}

fn birth_through_personal_id(run: &mut Run) {
    run.complete(
        "register_birth",
        json!({"birth_registration_number": "KS-2026-0001"}),
    )
    .expect("birth");
    run.complete("issue_personal_id", json!({"personal_id": "001326012345"}))
        .expect("id");
}

#[test]
fn a_transition_says_whether_the_dossier_status_or_the_step_task_moved() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    assert_eq!(run.moved, Some(Moved::ALL));
    // A deadline warning only notifies: nothing kept beside the state moves.
    run.apply(Event::TimerFired {
        kind: TimerKind::Warning,
        step: Some("register_birth".into()),
    })
    .expect("warning");
    assert!(matches!(run.effects.as_slice(), [Effect::Notify { .. }]));
    assert!(
        run.notice,
        "a warning changes nothing: a notification, not a version"
    );
    let still = Moved {
        status: false,
        task: false,
    };
    assert_eq!(run.moved, Some(still));
    // A completed step moves its task row, not the dossier's status.
    run.complete(
        "register_birth",
        json!({"birth_registration_number": "KS-2026-0001"}),
    )
    .expect("birth");
    assert_eq!(
        run.moved,
        Some(Moved {
            status: false,
            task: true
        })
    );
    assert!(!run.notice, "a completed step is a new version");
    // A rejection stops the dossier: its status and the rejected step both move.
    run.apply(Event::StepRejected {
        step: "issue_personal_id".into(),
        by: run.by("issue_personal_id"),
        reason: "không khớp".into(),
    })
    .expect("rejected");
    assert_eq!(run.moved, Some(Moved::ALL));
    assert_eq!(
        run.state.as_ref().map(|d| d.status),
        Some(DossierStatus::Stopped)
    );
}

#[test]
fn a_step_task_row_is_synced_only_when_the_event_moved_or_touched_it() {
    let mut run = Run::new(&MARRIAGE);
    run.submit(None, marriage_form());
    assert_eq!(run.synced, None, "a submission names no step");
    run.complete(
        "check_status_a",
        json!({"marital_status": "single", "source": "database"}),
    )
    .expect("a");
    assert_eq!(
        run.synced,
        Some(("check_status_a".into(), StepStatus::Done, None))
    );
    run.complete(
        "check_status_b",
        json!({"marital_status": "single", "source": "database"}),
    )
    .expect("b");
    // The task opened for the next step is its own row (an `OpenTask` effect), not a sync.
    assert_eq!(
        run.synced.as_ref().map(|s| s.0.as_str()),
        Some("check_status_b")
    );
    let until = run.now + HOUR;
    run.claim("register_marriage", "officer-7", until)
        .expect("claimed");
    assert_eq!(
        run.synced,
        Some((
            "register_marriage".into(),
            StepStatus::Claimed,
            Some("officer-7".into())
        ))
    );
    // A warning, and a claim-expiry timer that fires while the claim still runs, change
    // nothing the task row shows: no sync.
    run.apply(Event::TimerFired {
        kind: TimerKind::Warning,
        step: Some("register_marriage".into()),
    })
    .expect("warning");
    assert_eq!(run.synced, None);
    run.apply(Event::TimerFired {
        kind: TimerKind::ClaimExpiry,
        step: Some("register_marriage".into()),
    })
    .expect("early expiry");
    assert_eq!(run.synced, None);
    // Once the claim has run out, the task goes back to the queue without a claimant.
    run.now = until;
    run.apply(Event::TimerFired {
        kind: TimerKind::ClaimExpiry,
        step: Some("register_marriage".into()),
    })
    .expect("expired");
    assert_eq!(
        run.synced,
        Some(("register_marriage".into(), StepStatus::Queued, None))
    );
}

#[test]
fn birth_group_forks_after_the_personal_id_and_is_decided_when_both_branches_end() {
    let mut run = Run::new(&BIRTH);
    let d = run.submit(None, birth_form());
    assert_eq!(d.status, DossierStatus::Processing);
    assert_eq!(d.status.portal_code(), 4);
    assert_eq!(run.calls().len(), 1);
    // The receipt promises the group deadline: three working days after Monday → Thursday 17:00.
    let receipt = run.effects.iter().find_map(|e| match e {
        Effect::Notify {
            template: Template::Receipt,
            data,
            ..
        } => Some(data["appointment"].clone()),
        _ => None,
    });
    assert_eq!(receipt, Some(json!("2026-11-26T17:00:00+07:00")));
    run.complete(
        "register_birth",
        json!({"birth_registration_number": "KS-2026-0001"}),
    )
    .expect("birth");
    assert_eq!(run.status("issue_personal_id"), StepStatus::Dispatched);
    run.complete("issue_personal_id", json!({"personal_id": "001326012345"}))
        .expect("id");
    let forked: Vec<StepId> = run.calls().into_iter().map(|c| c.0).collect();
    assert_eq!(forked, ["register_residence", "issue_bhyt_card"]);
    run.complete(
        "issue_bhyt_card",
        json!({"social_insurance_number": "0123456789", "bhyt_card_number": "TE1010123456789"}),
    )
    .expect("bhyt");
    assert_eq!(
        run.state.as_ref().map(|d| d.status),
        Some(DossierStatus::Processing),
        "the join waits for residence"
    );
    let d = run
        .complete("register_residence", json!({"residence_record_id": "CT-1"}))
        .expect("residence");
    assert_eq!(d.status, DossierStatus::Decided);
    assert_eq!(d.status.portal_code(), 9);
    let d = run
        .apply(Event::Delivered {
            channel: "vneid".into(),
        })
        .expect("delivered");
    assert_eq!(d.status.portal_code(), 10);
    assert!(matches!(
        run.apply(Event::Withdrawn {
            reason: "late".into()
        }),
        Err(Error::Closed(_))
    ));
}

#[test]
fn agencies_receive_only_the_fields_their_step_reads() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    let calls = run.calls();
    let bhyt = &calls
        .iter()
        .find(|c| c.0 == "issue_bhyt_card")
        .expect("bhyt call")
        .2;
    assert_eq!(
        bhyt["steps"]["issue_personal_id"]["personal_id"],
        "001326012345"
    );
    assert_eq!(
        bhyt["form"]["insurance"]["initial_care_facility"],
        "Bệnh viện Xanh Pôn"
    );
    assert!(
        bhyt["form"].get("declarant").is_none(),
        "the declarant is not the insurer's business"
    );
    assert!(bhyt["form"].get("residence").is_none());
    assert!(bhyt["form"].get("birth_certificate").is_none());
}

#[test]
fn bundles_and_conditions_skip_steps_with_a_reason() {
    let mut run = Run::new(&BIRTH);
    run.submit(Some("birth_bhyt"), birth_form());
    birth_through_personal_id(&mut run);
    assert_eq!(run.status("register_residence"), StepStatus::Skipped);
    let reason = run
        .state
        .as_ref()
        .and_then(|d| d.steps["register_residence"].reason.clone());
    assert_eq!(reason.as_deref(), Some("không thuộc các thủ tục đã chọn"));

    let mut form = birth_form();
    form["residence"]["collective_household"] = json!(true);
    let mut run = Run::new(&BIRTH);
    run.submit(None, form);
    birth_through_personal_id(&mut run);
    assert_eq!(run.status("register_residence"), StepStatus::Skipped);
    let d = run
        .complete(
            "issue_bhyt_card",
            json!({"social_insurance_number": "0123456789"}),
        )
        .expect("bhyt");
    assert_eq!(
        d.status,
        DossierStatus::Decided,
        "a skipped branch does not hold the join"
    );
}

#[test]
fn an_invalid_form_is_refused_with_the_fields_named() {
    let mut form = birth_form();
    form["child"]["sex"] = json!("unknown");
    form.as_object_mut().expect("object").remove("declarant");
    let mut run = Run::new(&BIRTH);
    let d = run.submit(None, form);
    assert_eq!(d.status, DossierStatus::Refused);
    assert_eq!(d.status.portal_code(), 3);
    let reason = d.reason.clone().unwrap_or_default();
    assert!(reason.contains("/child/sex"), "{reason}");
    assert!(reason.contains("declarant"), "{reason}");
    assert!(run.calls().is_empty());
}

#[test]
fn supplement_pauses_the_clock_and_its_expiry_refuses_only_that_procedure() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    let first_key = run
        .calls()
        .iter()
        .find(|c| c.0 == "register_residence")
        .map(|c| c.1.clone())
        .expect("call");
    let breach_before = run
        .timer(TimerKind::Breach, "register_residence")
        .expect("breach timer");
    run.now += HOUR;
    let d = run
        .apply(Event::SupplementRequested {
            step: "register_residence".into(),
            by: run.by("register_residence"),
            reason: "thiếu xác nhận chủ hộ".into(),
        })
        .expect("supplement");
    assert_eq!(d.status.portal_code(), 5);
    // Seven working days from Monday 10:00 → Wednesday 2 December, 17:00.
    assert_eq!(
        run.timer(TimerKind::SupplementExpiry, "register_residence"),
        Some(1_796_205_600_000)
    );
    // Two working days later the citizen supplies the paper: a new round, a new key, and the
    // deadline moves by exactly the two working days paused.
    run.now += 2 * 24 * HOUR;
    let d = run
        .supply(
            "register_residence",
            json!({"residence": {"relationship_to_head": "con"}}),
        )
        .expect("provided");
    assert_eq!(d.status, DossierStatus::Processing);
    assert_eq!(
        d.form["residence"]["address"]["commune"], "Phường Ba Đình",
        "merge keeps what was there"
    );
    let (_, key, request) = run.calls().into_iter().next().expect("re-dispatched");
    assert_ne!(key, first_key);
    assert_eq!(request["form"]["residence"]["relationship_to_head"], "con");
    let breach_after = run
        .timer(TimerKind::Breach, "register_residence")
        .expect("breach timer");
    assert_eq!(breach_after - breach_before, 2 * 24 * HOUR);
    run.apply(Event::SupplementRequested {
        step: "register_residence".into(),
        by: run.by("register_residence"),
        reason: "chưa đủ".into(),
    })
    .expect("again");
    run.now += 10 * 24 * HOUR;
    let d = run
        .apply(Event::TimerFired {
            kind: TimerKind::SupplementExpiry,
            step: Some("register_residence".into()),
        })
        .expect("expired");
    assert_eq!(d.steps["register_residence"].status, StepStatus::Rejected);
    assert_eq!(
        d.status.portal_code(),
        4,
        "an accepted dossier is never 'not accepted' (3); the card goes on"
    );
    assert_eq!(d.steps["issue_bhyt_card"].status, StepStatus::Dispatched);
    let d = run
        .complete(
            "issue_bhyt_card",
            json!({"social_insurance_number": "0123456789"}),
        )
        .expect("card");
    assert_eq!(d.status, DossierStatus::Decided);
    let residence = results(&BIRTH, d)
        .into_iter()
        .find(|r| r.id == "permanent_residence")
        .expect("residence");
    assert_eq!(residence.status, ProcedureStatus::Refused);
    assert!(
        residence
            .reason
            .is_some_and(|r| r.contains("quá thời hạn 7 ngày làm việc")),
        "the reason is in Vietnamese"
    );
}

#[test]
fn verification_extends_the_deadline_from_two_to_five_working_days() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    let before = run
        .timer(TimerKind::Breach, "register_residence")
        .expect("breach");
    assert_eq!(before, 1_795_600_800_000, "Wednesday 25 November, 17:00");
    run.apply(Event::VerificationStarted {
        step: "register_residence".into(),
        by: run.by("register_residence"),
        basis: "Nghị định 63/2024/NĐ-CP".into(),
    })
    .expect("verify");
    assert_eq!(
        run.timer(TimerKind::Breach, "register_residence"),
        Some(1_796_032_800_000),
        "Monday 30 November, 17:00"
    );
    let err = run.apply(Event::VerificationStarted {
        step: "issue_bhyt_card".into(),
        by: run.by("issue_bhyt_card"),
        basis: "x".into(),
    });
    assert!(matches!(err, Err(Error::OutcomeNotAllowed { .. })));
}

#[test]
fn an_agency_retry_policy_overrides_the_default() {
    static STRICT: LazyLock<Options> = LazyLock::new(|| {
        let mut o = Options::default();
        o.agencies.insert(
            "civil_status".into(),
            super::RetryPolicy {
                retry_budget: 2,
                backoff_base_ms: 60_000,
                backoff_max_ms: 60_000,
            },
        );
        o
    });
    let mut run = Run::new(&BIRTH);
    run.options = &STRICT;
    run.submit(None, birth_form());
    let failed = Event::AdapterFailed {
        step: "register_birth".into(),
        retryable: true,
        message: "HTTP 503".into(),
    };
    run.apply(failed.clone()).expect("failed");
    let at = run
        .timer(TimerKind::Retry, "register_birth")
        .expect("retry timer");
    let delay = at - run.now;
    assert!((48_000..=72_000).contains(&delay), "{delay}");
    run.now = at;
    run.apply(Event::TimerFired {
        kind: TimerKind::Retry,
        step: Some("register_birth".into()),
    })
    .expect("retry");
    run.apply(failed).expect("failed again");
    assert_eq!(
        run.status("register_birth"),
        StepStatus::Incident,
        "the agency's budget of 2 calls, not the default 6"
    );
}

#[test]
fn retryable_failures_back_off_then_open_an_incident_that_a_retry_resolves_with_the_same_key() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    let key = run.calls()[0].1.clone();
    for attempt in 1..=OPTIONS.retry_budget {
        run.apply(Event::AdapterFailed {
            step: "register_birth".into(),
            retryable: true,
            message: "HTTP 500".into(),
        })
        .expect("failed");
        if attempt == OPTIONS.retry_budget {
            break;
        }
        let at = run
            .timer(TimerKind::Retry, "register_birth")
            .expect("retry timer");
        let delay = at - run.now;
        let nominal = (2_000i64 << (attempt - 1)).min(600_000);
        assert!(
            (delay - nominal).abs() <= nominal / 5,
            "attempt {attempt}: {delay} vs {nominal}"
        );
        run.now = at;
        run.apply(Event::TimerFired {
            kind: TimerKind::Retry,
            step: Some("register_birth".into()),
        })
        .expect("retry");
        assert_eq!(
            run.calls()[0].1,
            key,
            "every retry carries the same idempotency key"
        );
    }
    assert_eq!(run.status("register_birth"), StepStatus::Incident);
    assert!(run.effects.iter().any(|e| matches!(
        e,
        Effect::Notify {
            template: Template::IncidentOpened,
            ..
        }
    )));
    run.apply(Event::IncidentResolved {
        step: "register_birth".into(),
        resolution: Resolution::Retry,
        by: "ops@so-tu-phap".into(),
        reason: "agency fixed".into(),
    })
    .expect("resolved");
    assert_eq!(run.calls()[0].1, key);
    run.apply(Event::AdapterFailed {
        step: "register_birth".into(),
        retryable: false,
        message: "HTTP 400".into(),
    })
    .expect("permanent");
    assert_eq!(
        run.status("register_birth"),
        StepStatus::Incident,
        "a permanent failure opens an incident at once"
    );
}

#[test]
fn outputs_must_be_declared_and_valid() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    let undeclared = run.complete("issue_bhyt_card", json!({"citizen_name": "x"}));
    assert!(matches!(undeclared, Err(Error::InvalidOutputs { .. })));
    let malformed = run.complete("issue_bhyt_card", json!({"social_insurance_number": "12"}));
    assert!(matches!(malformed, Err(Error::InvalidOutputs { .. })));
    let early = run.complete("register_birth", json!({}));
    assert!(matches!(early, Err(Error::NotAllowed { .. })));
}

#[test]
fn human_tasks_are_queued_claimed_and_return_to_the_queue_when_the_lease_ends() {
    let mut run = Run::new(&MARRIAGE);
    run.submit(None, marriage_form());
    assert_eq!(
        run.calls().len(),
        2,
        "both partners are looked up in parallel"
    );
    run.complete(
        "check_status_a",
        json!({"marital_status": "single", "source": "database"}),
    )
    .expect("a");
    run.complete(
        "check_status_b",
        json!({"marital_status": "divorced", "source": "database"}),
    )
    .expect("b");
    assert_eq!(run.status("register_marriage"), StepStatus::Queued);
    assert!(
        run.effects
            .iter()
            .any(|e| matches!(e, Effect::OpenTask { agency, .. } if agency == "civil_status"))
    );
    let until = run.now + HOUR;
    run.claim("register_marriage", "officer-7", until)
        .expect("claimed");
    let again = run.claim("register_marriage", "officer-8", until);
    assert!(
        matches!(again, Err(Error::ClaimedByOther { ref by, .. }) if by == "officer-7"),
        "a claimed task cannot be taken while the lease runs: {again:?}"
    );
    run.now = until;
    run.apply(Event::TimerFired {
        kind: TimerKind::ClaimExpiry,
        step: Some("register_marriage".into()),
    })
    .expect("expired");
    assert_eq!(run.status("register_marriage"), StepStatus::Queued);
    run.claim("register_marriage", "officer-8", until + HOUR)
        .expect("reclaimed");
    let d = run
        .complete(
            "register_marriage",
            json!({"marriage_certificate_number": "KH-1", "registered_on": "2026-11-23", "handover_deferred": false}),
        )
        .expect("done");
    assert_eq!(d.status, DossierStatus::Decided);
}

#[test]
fn a_step_breach_tells_the_agency_it_is_overdue_once_and_apologises_to_nobody() {
    let mut run = Run::new(&BIRTH);
    run.submit(None, birth_form());
    birth_through_personal_id(&mut run);
    let at = run
        .timer(TimerKind::Breach, "register_residence")
        .expect("breach");
    run.now = at;
    run.apply(Event::TimerFired {
        kind: TimerKind::Breach,
        step: Some("register_residence".into()),
    })
    .expect("breach");
    let notices: Vec<(Audience, Template, Value)> = run
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify {
                audience,
                template,
                data,
                ..
            } => Some((*audience, template.clone(), data.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].0, Audience::Agency);
    assert_eq!(notices[0].1, Template::DeadlineWarning);
    assert_eq!(notices[0].2["overdue"], true);
    run.apply(Event::TimerFired {
        kind: TimerKind::Breach,
        step: Some("register_residence".into()),
    })
    .expect("again");
    assert!(
        run.effects.is_empty(),
        "a second breach of the same step sends nothing"
    );
}

#[test]
fn the_death_bundle_runs_the_insured_branches_only() {
    let mut run = Run::new(&DEATH);
    run.submit(Some("four"), death_form());
    run.complete(
        "register_death",
        json!({"death_registration_number": "KT-1"}),
    )
    .expect("death");
    let started: Vec<StepId> = run.calls().into_iter().map(|c| c.0).collect();
    assert_eq!(
        started,
        ["mark_deceased", "funeral_allowance", "survivor_benefit"],
        "residence deletion waits for the population database (Decree 58/2026)"
    );
    assert_eq!(run.status("funeral_support"), StepStatus::Skipped);
}

mod actors;
mod procedures;

/// Random events against the birth group: any mix of answers, failures, timers, supplements
/// and withdrawals, most of them refused by the machine. Replaying the journal must rebuild
/// the final state exactly, and no step may be done before its prerequisites.
fn arb_event() -> impl Strategy<Value = (u8, u8, u16)> {
    (0u8..14, 0u8..4, 0u16..600)
}

fn event_for(kind: u8, step: &str) -> Event {
    let step = StepId::from(step);
    let outputs = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let done = match step.as_str() {
        "register_birth" => json!({"birth_registration_number": "KS-1"}),
        "issue_personal_id" => json!({"personal_id": "001326012345"}),
        "register_residence" => json!({"residence_record_id": "CT-1"}),
        _ => json!({"social_insurance_number": "0123456789"}),
    };
    match kind {
        0..=3 => Event::StepCompleted {
            step,
            by: None,
            outputs: outputs(done),
        },
        4 => Event::AdapterFailed {
            step,
            retryable: true,
            message: "500".into(),
        },
        5 => Event::TimerFired {
            kind: TimerKind::Retry,
            step: Some(step),
        },
        6 => Event::SupplementRequested {
            step,
            by: None,
            reason: "thiếu giấy".into(),
        },
        7 => Event::SupplementProvided {
            step,
            data: Map::new(),
        },
        8 => Event::VerificationStarted {
            step,
            by: None,
            basis: "NĐ 63".into(),
        },
        9 => Event::TimerFired {
            kind: TimerKind::Breach,
            step: Some(step),
        },
        10 => Event::IncidentResolved {
            step,
            resolution: Resolution::Retry,
            by: "ops".into(),
            reason: "fixed".into(),
        },
        12 => Event::StepRejected {
            step,
            by: None,
            reason: "từ chối".into(),
        },
        13 => Event::DelayReported {
            step,
            reason: "chậm".into(),
            working_days: 2,
        },
        _ => Event::AdapterFailed {
            step,
            retryable: false,
            message: "400".into(),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn replaying_the_journal_rebuilds_the_state(events in proptest::collection::vec(arb_event(), 1..40)) {
        let steps = ["register_birth", "issue_personal_id", "register_residence", "issue_bhyt_card"];
        let mut run = Run::new(&BIRTH);
        run.submit(None, birth_form());
        for (kind, step, minutes) in events {
            run.now += i64::from(minutes) * 60_000;
            let _ = run.apply(event_for(kind, steps[usize::from(step)]));
        }
        let rebuilt = replay(&BIRTH, &CALENDAR, &OPTIONS, &run.journal).expect("replay");
        prop_assert_eq!(rebuilt.as_ref(), run.state.as_ref());
        let d = run.state.as_ref().expect("state");
        prop_assert_eq!(d.version as usize, run.journal.len());
        for s in &BIRTH.steps {
            if d.steps[&s.id].status == StepStatus::Done {
                for pred in &s.after {
                    prop_assert_eq!(d.steps[pred].status, StepStatus::Done, "{} done before {}", s.id, pred);
                }
            }
        }
    }
}

#[test]
fn only_the_claimant_gives_a_task_back_and_the_control_sheet_records_it() {
    let mut run = Run::new(&MARRIAGE);
    run.submit(None, marriage_form());
    for step in ["check_status_a", "check_status_b"] {
        run.complete(
            step,
            json!({"marital_status": "single", "source": "database"}),
        )
        .expect("looked up");
    }
    let until = run.now + HOUR;
    run.claim("register_marriage", "officer-7", until)
        .expect("claimed");
    let other = run.apply(Event::ClaimReleased {
        step: "register_marriage".into(),
        by: "officer-8".into(),
    });
    assert!(
        matches!(other, Err(Error::ClaimedByOther { ref by, .. }) if by == "officer-7"),
        "another officer cannot give it back: {other:?}"
    );
    assert_eq!(run.status("register_marriage"), StepStatus::Claimed);
    let d = run
        .apply(Event::ClaimReleased {
            step: "register_marriage".into(),
            by: "officer-7".into(),
        })
        .expect("released");
    let st = &d.steps["register_marriage"];
    assert_eq!(st.status, StepStatus::Queued);
    assert_eq!(st.claimed_by, None);
    assert!(
        d.control
            .iter()
            .any(|h| h.what == Handing::Released && h.step.as_deref() == Some("register_marriage")),
        "the hand-off back to the queue is on the control sheet"
    );
    // Nobody holds it now: giving it back again is refused, claiming it works.
    let again = run.apply(Event::ClaimReleased {
        step: "register_marriage".into(),
        by: "officer-7".into(),
    });
    assert!(matches!(again, Err(Error::NotClaimant { .. })), "{again:?}");
    run.claim("register_marriage", "officer-8", until)
        .expect("claimed by another");
}
