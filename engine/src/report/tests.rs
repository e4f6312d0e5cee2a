//! (Working days are kept to the hundredth, so a value is checked to within 0.005.)

use super::*;
use crate::calendar::Calendar;
use crate::definition::{Catalog, Procedure, RoleId, StepId, validate_source};
use crate::machine::{
    Actor, Channel, Dossier, DossierId, Env, Event, JOURNAL_FORMAT, Options, ProcedureRef,
    Timeliness, apply,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static CALENDAR: LazyLock<Calendar> = LazyLock::new(Calendar::vietnam);
static OPTIONS: LazyLock<Options> = LazyLock::new(Options::default);
const EXAMPLE: &str = include_str!("../../../examples/minimal-procedure.yaml");

/// Monday 23 November 2026, 09:00 in Hà Nội.
const MON_0900: i64 = 1_795_399_200_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn load(text: &str) -> Procedure {
    let v = validate_source("example", text.as_bytes(), &Catalog::builtin());
    v.procedure.expect("valid")
}

/// The example with an internal target of 2 working days on its 3-day group limit.
static TARGETED: LazyLock<Procedure> = LazyLock::new(|| load(&TARGETED_TEXT));

/// The example with a last step that waits up to 60 days for the citizen to collect.
static WINDOWED: LazyLock<Procedure> = LazyLock::new(|| {
    let step = r#"
  - id: hand_over
    name: {vi: "Trao kết quả", en: "Hand-over"}
    agency: civil_status
    mode: human
    action: hand_over_marriage_certificate
    after: [register_residence]
    window: {days: 60, unit: calendar_days, reason: {vi: "Không đến nhận", en: "Not collected"}, basis: "illustration"}
    outcomes: [done, rejected]
"#;
    load(&format!("{}{step}", TARGETED_TEXT.as_str()))
});

static TARGETED_TEXT: LazyLock<String> = LazyLock::new(|| {
    EXAMPLE.replace(
        "deadline: {legal: 3, verification: 5}",
        "deadline: {legal: 3, target: 2, verification: 5}",
    )
});

struct Run {
    p: &'static Procedure,
    d: Option<Dossier>,
}

impl Run {
    fn at(&mut self, now: i64, e: Event) {
        let env = Env {
            procedure: self.p,
            calendar: &CALENDAR,
            options: &OPTIONS,
            now,
        };
        let t = apply(env, self.d.as_ref(), &e).expect("the machine takes the event");
        self.d = Some(t.state);
    }

    fn done(&mut self, now: i64, step: &str, by: Actor, outputs: serde_json::Value) {
        let outputs = outputs.as_object().cloned().unwrap_or_default();
        let e = Event::StepCompleted {
            step: step.into(),
            outputs,
            by: Some(by),
        };
        self.at(now, e);
    }
}

fn system(role: &str) -> Actor {
    Actor::System(RoleId::from(role))
}

/// Files the example at Monday 09:00. With `supplement`, the registrar asks for papers at
/// 10:00 and the citizen brings them on Tuesday at 10:00; the residence officer finishes
/// at `residence_done`.
fn story(supplement: bool, residence_done: i64) -> Dossier {
    story_filed(MON_0900, supplement, Some(residence_done))
}

/// [`story`], filed at `filed` (on Monday, before the registrar answers).
/// With `residence_done` `None`, the residence task is left in its queue.
fn story_filed(filed: i64, supplement: bool, residence_done: Option<i64>) -> Dossier {
    story_on(&TARGETED, filed, supplement, residence_done)
        .d
        .expect("a dossier")
}

fn story_on(
    p: &'static Procedure,
    filed: i64,
    supplement: bool,
    residence_done: Option<i64>,
) -> Run {
    let mut run = Run { p, d: None };
    let procedure = ProcedureRef {
        id: p.id.clone(),
        version: p.version,
        hash: p.content_hash(),
    };
    run.at(
        filed,
        Event::Submitted {
            channel: None,
            id: DossierId("d-1".into()),
            code: "G22.99.08-261123-000001".into(),
            procedure,
            bundle: None,
            form: json!({"child": {"given_name": "An", "birth_date": "2026-11-20"}}),
            journal: JOURNAL_FORMAT,
        },
    );
    if supplement {
        run.at(
            MON_0900 + HOUR,
            Event::SupplementRequested {
                step: "register_birth".into(),
                reason: "Giấy chứng sinh không đọc được".into(),
                by: Some(system("civil_status")),
            },
        );
        run.at(
            MON_0900 + DAY + HOUR,
            Event::SupplementProvided {
                step: "register_birth".into(),
                data: json!({"child": {"given_name": "An", "birth_date": "2026-11-21"}})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            },
        );
    }
    let registered = MON_0900 + DAY + 2 * HOUR;
    let number = json!({"birth_registration_number": "KS-1"});
    run.done(registered, "register_birth", system("civil_status"), number);
    run.done(
        registered,
        "issue_bhyt_card",
        system("social_insurance"),
        json!({}),
    );
    if let Some(done) = residence_done {
        let claim = Event::StepClaimed {
            step: "register_residence".into(),
            by: "officer-1".into(),
            until: done + HOUR,
        };
        run.at(done - HOUR, claim);
        let officer = Actor::Officer("officer-1".into());
        run.done(done, "register_residence", officer, json!({}));
    }
    run
}

#[test]
fn processing_time_leaves_out_the_citizens_supplement_time() {
    // Office hours 08:00–12:00 and 13:00–17:00. Monday 09:00 → Tuesday 15:00 is 13 working
    // hours; the citizen held the file from Monday 10:00 to Tuesday 10:00, 8 of them: 5
    // hours of an 8-hour day.
    let tue_1500 = MON_0900 + DAY + 6 * HOUR;
    let d = story(true, tue_1500);
    let f = Facts::of(&d, &TARGETED, &CALENDAR, tue_1500);
    assert!(f.decided);
    assert!(
        (f.working_days - 5.0 / 8.0).abs() <= 0.005 + 1e-9,
        "{}",
        f.working_days
    );
    assert_eq!(f.timeliness, Some(Timeliness::Early));
    assert_eq!(f.target_met, Some(true));
    assert!(!f.overdue);
    // Without the supplement the same instants count whole.
    let plain = story(false, tue_1500);
    let g = Facts::of(&plain, &TARGETED, &CALENDAR, tue_1500);
    assert!(
        (g.working_days - 13.0 / 8.0).abs() <= 0.005 + 1e-9,
        "{}",
        g.working_days
    );
    // The registrar held its step from Monday 09:00 to Tuesday 11:00 (10 working hours),
    // less the 8 the citizen had it.
    let held = |f: &Facts, step: &str| {
        f.held
            .iter()
            .find(|h| h.step == step)
            .map(|h| h.working_days)
    };
    assert_eq!(held(&f, "register_birth"), Some(2.0 / 8.0));
    assert_eq!(held(&g, "register_birth"), Some(10.0 / 8.0));
}

#[test]
fn a_dossier_filed_after_the_cut_off_counts_from_the_next_working_morning() {
    // Filed Monday at 16:00, after the 15:00 cut-off: the count starts Tuesday at 08:00, so
    // Tuesday 15:00 is 6 working hours, not the 7 since the filing.
    let tue_1500 = MON_0900 + DAY + 6 * HOUR;
    let d = story_filed(MON_0900 + 7 * HOUR, false, Some(tue_1500));
    let f = Facts::of(&d, &TARGETED, &CALENDAR, tue_1500);
    assert!(
        (f.working_days - 6.0 / 8.0).abs() <= 0.005 + 1e-9,
        "{}",
        f.working_days
    );
}

#[test]
fn the_wait_for_the_citizen_to_collect_is_not_processing_time() {
    // Residence done Tuesday 15:00; the citizen collects on Wednesday at 10:00. The
    // administration's time is the same 13 working hours as without the hand-over, and the
    // registrar is not counted as holding the file while it waits.
    let tue_1500 = MON_0900 + DAY + 6 * HOUR;
    let wed_1000 = MON_0900 + 2 * DAY + HOUR;
    let mut run = story_on(&WINDOWED, MON_0900, false, Some(tue_1500));
    run.at(
        wed_1000 - HOUR,
        Event::StepClaimed {
            step: "hand_over".into(),
            by: "officer-2".into(),
            until: wed_1000 + HOUR,
        },
    );
    let officer = Actor::Officer("officer-2".into());
    run.done(wed_1000, "hand_over", officer, json!({}));
    let d = run.d.expect("a dossier");
    assert_eq!(d.closed_at, Some(wed_1000));
    let f = Facts::of(&d, &WINDOWED, &CALENDAR, wed_1000);
    assert!(f.decided);
    assert!(
        (f.working_days - 13.0 / 8.0).abs() <= 0.005 + 1e-9,
        "{}",
        f.working_days
    );
    assert!(f.held.iter().all(|h| h.step != "hand_over"), "{:?}", f.held);
}

#[test]
fn a_dossier_decided_after_its_group_deadline_is_late_and_misses_its_target() {
    // Three working days from Monday: due Thursday 26 November at 17:00. Decided the next
    // Monday, 30 November, at 10:00.
    let next_mon_1000 = MON_0900 + 7 * DAY + HOUR;
    let d = story(false, next_mon_1000);
    let f = Facts::of(&d, &TARGETED, &CALENDAR, next_mon_1000);
    assert_eq!(f.timeliness, Some(Timeliness::Late));
    assert_eq!(f.target_met, Some(false));
    // Still in the residence queue on Friday at 09:00: overdue, not yet resolved; on
    // Thursday at 09:00, within time.
    let open = story_filed(MON_0900, false, None);
    let friday = MON_0900 + 4 * DAY;
    let f = Facts::of(&open, &TARGETED, &CALENDAR, friday);
    assert!(f.overdue);
    assert_eq!((f.timeliness, f.decided), (None, false));
    assert!(!Facts::of(&open, &TARGETED, &CALENDAR, friday - DAY).overdue);
}

#[test]
fn a_group_report_sums_the_facts() {
    let mut early = story(true, MON_0900 + DAY + 6 * HOUR);
    let mut late = story(false, MON_0900 + 7 * DAY + HOUR);
    early.channel = Some(Channel::InPerson);
    late.channel = Some(Channel::Online);
    let open = story_filed(MON_0900, false, None);
    let now = MON_0900 + 8 * DAY;
    let facts: Vec<Facts> = [early, late, open]
        .iter()
        .map(|d| Facts::of(d, &TARGETED, &CALENDAR, now))
        .collect();
    let procedures = BTreeMap::from([(TARGETED.id.clone(), TARGETED.clone())]);
    let s = summarize(&facts, &procedures);
    let g = &s.groups[0];
    assert_eq!((g.dossiers, g.decided), (3, 2));
    let received = (
        g.received.online,
        g.received.in_person,
        g.received.not_recorded,
    );
    assert_eq!(received, (1, 1, 1));
    assert_eq!(g.online_rate, Some(0.5));
    assert_eq!((g.in_progress.within_time, g.in_progress.overdue), (0, 1));
    assert_eq!(
        g.resolved,
        Resolved {
            early: 1,
            on_time: 0,
            late: 1
        }
    );
    assert_eq!(g.on_time_rate, Some(0.5));
    assert_eq!(g.target_rate, Some(0.5));
    assert_eq!((g.legal_limit_days, g.target_days), (3, Some(2)));
    // 5 working hours, and 41 from Monday 09:00 to the next Monday 10:00 (7 + 4 × 8 + 2):
    // the median is their mean, p90 nine tenths of the way.
    let (a, b) = (5.0 / 8.0, 41.0 / 8.0);
    let days: Vec<f64> = facts[..2].iter().map(|f| f.working_days).collect();
    assert!(
        (days[0] - a).abs() <= 0.005 + 1e-9 && (days[1] - b).abs() <= 0.005 + 1e-9,
        "{days:?}"
    );
    assert_eq!(g.median_working_days, Some(round1((a + b) / 2.0)));
    assert_eq!(g.p90_working_days, Some(round1(a + (b - a) * 0.9)));
    let civil = s.agencies.iter().find(|a| a.agency == "civil_status");
    // The registrar's step of each of the three dossiers (the open one's too).
    assert_eq!(civil.map(|a| a.steps), Some(3));
    // A procedure with no dossier has a row with nothing to measure.
    let empty = group(&TARGETED, &[]);
    assert_eq!(
        (empty.median_working_days, empty.on_time_rate),
        (None, None)
    );
}

#[test]
fn the_legal_limit_is_the_declared_one_or_the_longest_chain() {
    let p = load(EXAMPLE);
    assert_eq!(p.chain_days(), vec![0, 2, 2]);
    assert_eq!(p.legal_limit(), 3);
    let undeclared = load(&EXAMPLE.replace("deadline: {legal: 3, verification: 5}\n", ""));
    assert_eq!(undeclared.legal_limit(), 2);
    let s = StepId::from("register_residence");
    assert_eq!(undeclared.step(&s).map(|x| x.after.len()), Some(1));
}
