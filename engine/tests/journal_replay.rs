//! Journals written by an earlier build replay to the states that build reached.
//!
//! `fixtures/journals-2026-12-04.json` was written by the engine as it was before the step
//! protocol became one transition table (commit 8bb44ed): every case of the shipped
//! `workflows/*.test.yaml` files plus a scenario of adapter failures, an incident and a
//! claim lease, each with the definition it ran on, its journal and its final state. The
//! test replays each journal through today's machine and compares the states field by field.
//!
//! To write the fixture again (only when the journal format changes on purpose, with a
//! journal version): `LIENTHONG_WRITE_JOURNAL_FIXTURE=1 cargo test -p lienthong-engine
//! --test journal_replay -- --ignored`.

use lienthong_engine::calendar::Calendar;
use lienthong_engine::cases;
use lienthong_engine::definition::{Catalog, Procedure, validate_source};
use lienthong_engine::machine::{
    self, Dossier, DossierId, Env, Event, JournalEntry, Options, ProcedureRef, Resolution,
    StepStatus, TimerKind,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const FIXTURE: &str = "tests/fixtures/journals-2026-12-04.json";

#[derive(Serialize, Deserialize)]
struct Recorded {
    /// Which test file and case (or scenario) wrote it.
    name: String,
    /// The definition's source text, as published.
    definition: String,
    journal: Vec<JournalEntry>,
    state: Dossier,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn compile(name: &str, source: &str) -> Procedure {
    let v = validate_source(name, source.as_bytes(), &Catalog::builtin());
    match v.procedure {
        Some(p) => p,
        None => panic!(
            "{name}: {}",
            v.errors()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

#[test]
fn journals_written_before_the_transition_table_replay_to_the_same_states() {
    let text = std::fs::read_to_string(root().join(FIXTURE)).expect("fixture");
    let recorded: Vec<Recorded> = serde_json::from_str(&text).expect("fixture parses");
    assert!(recorded.len() >= 20, "{} journals", recorded.len());
    let calendar = Calendar::vietnam();
    let options = Options::default();
    let mut events = std::collections::BTreeSet::new();
    for r in &recorded {
        let p = compile(&r.name, &r.definition);
        let mut replayed = machine::replay(&p, &calendar, &options, &r.journal)
            .unwrap_or_else(|e| panic!("{}: replay: {e}", r.name))
            .expect("a state");
        // The control sheet came later: replay builds it, the old engine wrote none. Every
        // field the old engine wrote must come back equal.
        assert!(!replayed.control.is_empty(), "{}: no control sheet", r.name);
        replayed.control.clear();
        assert_eq!(replayed, r.state, "{}: replayed state differs", r.name);
        events.extend(r.journal.iter().map(|e| e.event.name()));
    }
    // The fixture exercises the protocol broadly, not one happy path.
    for name in [
        "submitted",
        "step_accepted",
        "step_claimed",
        "step_completed",
        "step_rejected",
        "supplement_requested",
        "supplement_provided",
        "verification_started",
        "timer_fired",
        "adapter_failed",
        "incident_resolved",
    ] {
        assert!(events.contains(name), "no `{name}` event in the fixture");
    }
}

/// Every case of the shipped test files, on the definition in force on its day.
fn recorded_cases() -> Vec<Recorded> {
    let dir = root().join("../workflows");
    let mut sources: Vec<(String, Procedure)> = Vec::new();
    let mut tests: Vec<PathBuf> = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("workflows/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".test.yaml") {
            tests.push(path);
        } else if name.ends_with(".yaml") {
            let text = std::fs::read_to_string(&path).expect("definition");
            let p = compile(name, &text);
            sources.push((text, p));
        }
    }
    let calendar = Calendar::vietnam();
    let mut out = Vec::new();
    for path in tests {
        let text = std::fs::read_to_string(&path).expect("test file");
        let file = cases::parse(&path.display().to_string(), &text).expect("test file parses");
        for case in &file.cases {
            let day = case.received.date_naive();
            let (source, p) = sources
                .iter()
                .filter(|(_, p)| p.id == file.procedure)
                .filter(|(_, p)| {
                    p.effective_from <= day && p.effective_until.is_none_or(|u| day <= u)
                })
                .max_by_key(|(_, p)| (p.effective_from, p.version))
                .expect("a definition in force");
            let report = cases::run_case(p, &calendar, case);
            assert!(report.passed, "{}: {:?}", case.name, report.failures);
            out.push(Recorded {
                name: format!("{}: {}", file.procedure, case.name),
                definition: source.clone(),
                journal: report.journal,
                state: report.state.expect("a state"),
            });
        }
    }
    out
}

/// Adapter failures with a retry, an incident retried by an operator, an accepted call and
/// a claim whose lease ran out before another officer claimed the task.
fn recorded_failures() -> Recorded {
    let source = std::fs::read_to_string(root().join("../workflows/marital-status-marriage.yaml"))
        .expect("definition");
    let p = compile("marital-status-marriage.yaml", &source);
    let calendar = Calendar::vietnam();
    let options = Options::default();
    let mut now: i64 = 1_795_399_200_000; // Monday 23 November 2026, 09:00 +07:00
    let mut state: Option<Dossier> = None;
    let mut journal = Vec::new();
    let mut apply = |e: Event, now: i64, state: &mut Option<Dossier>| {
        let env = Env {
            procedure: &p,
            calendar: &calendar,
            options: &options,
            now,
        };
        let t =
            machine::apply(env, state.as_ref(), &e).unwrap_or_else(|err| panic!("{e:?}: {err}"));
        journal.push(t.journal);
        *state = Some(t.state);
    };
    let form = serde_json::json!({
        "partner_a": {"full_name": "Lê Văn Cường", "personal_id": "079095012345", "birth_date": "1995-03-02", "sex": "male"},
        "partner_b": {"full_name": "Phạm Thị Dung", "personal_id": "079197012345", "birth_date": "1997-07-09", "sex": "female"},
        "consent": {"partner_a": true, "partner_b": true}
    });
    apply(
        Event::Submitted {
            channel: None,
            id: DossierId("fixture-failures".into()),
            code: "G22.99.08-261123-000009".into(),
            procedure: ProcedureRef {
                id: p.id.clone(),
                version: p.version,
                hash: p.content_hash(),
            },
            bundle: None,
            form,
            // The fixture was written before answers carried their actor.
            journal: 0,
        },
        now,
        &mut state,
    );
    let dispatched = |d: &Option<Dossier>| {
        d.as_ref()
            .and_then(|d| {
                d.steps
                    .iter()
                    .find(|(_, s)| s.status == StepStatus::Dispatched)
                    .map(|(k, _)| k.clone())
            })
            .expect("a dispatched step")
    };
    let step = dispatched(&state);
    let failed = |retryable| Event::AdapterFailed {
        step: step.clone(),
        retryable,
        message: "HTTP 503".into(),
    };
    now += 60_000;
    apply(failed(true), now, &mut state);
    now += 600_000;
    apply(
        Event::TimerFired {
            kind: TimerKind::Retry,
            step: Some(step.clone()),
        },
        now,
        &mut state,
    );
    now += 60_000;
    apply(failed(false), now, &mut state);
    now += 3_600_000;
    apply(
        Event::IncidentResolved {
            step: step.clone(),
            resolution: Resolution::Retry,
            by: "operator-1".into(),
            reason: "the agency fixed its gateway".into(),
        },
        now,
        &mut state,
    );
    now += 60_000;
    apply(Event::StepAccepted { step: step.clone() }, now, &mut state);
    now += 600_000;
    let outputs = machine_outputs(&p, &step);
    apply(
        Event::StepCompleted {
            by: None,
            step: step.clone(),
            outputs,
        },
        now,
        &mut state,
    );
    // The other lookup answers at once; the registrar's task is claimed, its lease runs
    // out, another officer claims it, asks for a supplement, gets it and registers.
    while let Some(other) = state.as_ref().and_then(|d| {
        d.steps
            .iter()
            .find(|(_, s)| s.status == StepStatus::Dispatched)
            .map(|(k, _)| k.clone())
    }) {
        now += 60_000;
        let outputs = machine_outputs(&p, &other);
        apply(
            Event::StepCompleted {
                by: None,
                step: other,
                outputs,
            },
            now,
            &mut state,
        );
    }
    let task = "register_marriage".to_string();
    let claim = |by: &str, now: i64| Event::StepClaimed {
        step: task.clone().into(),
        by: by.into(),
        until: now + 3_600_000,
    };
    apply(claim("officer-a", now), now, &mut state);
    now += 3_600_000;
    apply(
        Event::TimerFired {
            kind: TimerKind::ClaimExpiry,
            step: Some(task.clone().into()),
        },
        now,
        &mut state,
    );
    now += 60_000;
    apply(claim("officer-b", now), now, &mut state);
    now += 600_000;
    apply(
        Event::SupplementRequested {
            by: None,
            step: task.clone().into(),
            reason: "Bổ sung ngày tổ chức lễ đăng ký kết hôn".into(),
        },
        now,
        &mut state,
    );
    now += 24 * 3_600_000;
    let mut data = serde_json::Map::new();
    data.insert("ceremony_date".into(), "2026-12-12".into());
    apply(
        Event::SupplementProvided {
            step: task.clone().into(),
            data,
        },
        now,
        &mut state,
    );
    now += 60_000;
    apply(claim("officer-b", now), now, &mut state);
    now += 600_000;
    let outputs = machine_outputs(&p, &task);
    apply(
        Event::StepCompleted {
            by: None,
            step: task.clone().into(),
            outputs,
        },
        now,
        &mut state,
    );
    Recorded {
        name: "scenario: adapter failures, an incident, a lapsed claim, a supplement".into(),
        definition: source,
        journal,
        state: state.expect("a state"),
    }
}

/// Outputs a case would make for `step`: run a one-answer case and take what it recorded.
fn machine_outputs(p: &Procedure, step: &str) -> serde_json::Map<String, serde_json::Value> {
    let recorded = recorded_cases();
    recorded
        .iter()
        .filter(|r| r.state.procedure.id == p.id)
        .find_map(|r| r.state.steps.get(step).and_then(|s| s.outputs.clone()))
        .expect("a case that completed the step")
}

#[test]
#[ignore = "writes the fixture; run on purpose only"]
fn write_journal_fixture() {
    if std::env::var_os("LIENTHONG_WRITE_JOURNAL_FIXTURE").is_none() {
        return;
    }
    let mut all = recorded_cases();
    all.push(recorded_failures());
    let text = serde_json::to_string(&all).expect("json");
    let path = root().join(FIXTURE);
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
}
