//! The table's own properties, and the scan that keeps it the only writer of step statuses.

use super::*;
use std::path::{Path, PathBuf};

const ALL: [StepStatus; 12] = [
    StepStatus::Pending,
    StepStatus::Queued,
    StepStatus::Claimed,
    StepStatus::Dispatched,
    StepStatus::Accepted,
    StepStatus::RetryWait,
    StepStatus::Supplement,
    StepStatus::Done,
    StepStatus::Rejected,
    StepStatus::Skipped,
    StepStatus::Cancelled,
    StepStatus::Incident,
];

const MOVES: [Move; 24] = [
    Move::Start,
    Move::Accept,
    Move::Claim,
    Move::Complete,
    Move::Reject,
    Move::AskSupplement,
    Move::Verify,
    Move::ReportDelay,
    Move::Supplied,
    Move::AwaitRerun,
    Move::Rerun,
    Move::FailRetryable,
    Move::FailFinal,
    Move::RetryDue,
    Move::LeaseOver,
    Move::Release,
    Move::OperatorRetry,
    Move::OperatorSkip,
    Move::NotApplicable,
    Move::ExpireRefuse,
    Move::ExpireDrop,
    Move::WindowClose,
    Move::Cancel,
    Move::Warn,
];

fn targets(from: StepStatus) -> Vec<StepStatus> {
    let mut out = Vec::new();
    for m in MOVES {
        match next(from, m) {
            Some(To::Status(s)) => out.push(s),
            Some(To::Agency) => out.extend([StepStatus::Dispatched, StepStatus::Queued]),
            Some(To::Same) => out.push(from),
            None => {}
        }
    }
    out
}

#[test]
fn terminal_statuses_never_move_except_a_lookup_run_again() {
    for from in ALL.into_iter().filter(|s| s.is_terminal()) {
        for m in MOVES {
            let allowed = next(from, m).is_some();
            let rerun = from == StepStatus::Done && m == Move::Rerun;
            assert_eq!(allowed, rerun, "{from:?} + {m:?}");
        }
    }
}

#[test]
fn every_status_is_reachable_from_pending_and_every_live_one_can_end() {
    let mut seen = vec![StepStatus::Pending];
    let mut todo = vec![StepStatus::Pending];
    while let Some(s) = todo.pop() {
        for t in targets(s) {
            if !seen.contains(&t) {
                seen.push(t);
                todo.push(t);
            }
        }
    }
    for s in ALL {
        assert!(seen.contains(&s), "{s:?} unreachable");
        if !s.is_terminal() {
            assert_eq!(
                next(s, Move::Cancel),
                Some(To::Status(StepStatus::Cancelled)),
                "{s:?} cannot be cancelled"
            );
        }
    }
}

#[test]
fn set_moves_by_mode_and_refuses_what_the_table_refuses() {
    let mut st = StepState::pending("police");
    set(&mut st, "s", Move::Start, Mode::Human).expect("start");
    assert_eq!(st.status, StepStatus::Queued);
    let e = set(&mut st, "s", Move::Accept, Mode::Human).expect_err("a task is not accepted");
    assert!(
        matches!(
            e,
            Error::NotAllowed {
                status: StepStatus::Queued,
                event: "step_accepted",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        st.status,
        StepStatus::Queued,
        "a refused move changes nothing"
    );
    let mut st = StepState::pending("population_db");
    set(&mut st, "s", Move::Start, Mode::Automated).expect("start");
    assert_eq!(st.status, StepStatus::Dispatched);
    set(&mut st, "s", Move::Verify, Mode::Automated).expect("verify");
    assert_eq!(st.status, StepStatus::Dispatched);
}

/// Lines outside this file that assign a step's status. Dossier statuses are assigned
/// through `d.status` (the machine's name for a dossier) and reports through `r.status`.
fn writers(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            writers(&path, out);
            continue;
        }
        let table = path.ends_with("machine/transition.rs")
            || path.ends_with("machine/transition/tests.rs");
        if path.extension().is_none_or(|e| e != "rs") || table {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("").trim();
            let assigns = code
                .match_indices(".status =")
                .map(|(i, _)| &code[i + ".status =".len()..])
                // `==` compares; `= $1` is SQL inside a string.
                .any(|rest| !rest.starts_with('=') && !rest.trim_start().starts_with('$'));
            let dossier = code.starts_with("d.status =") || code.starts_with("r.status =");
            let literal = code.starts_with("status: StepStatus::")
                && !(path.ends_with("state.rs") && code == "status: StepStatus::Pending,");
            let swapped = code.contains("&mut st.status") || code.contains("&mut s.status");
            if (assigns && !dossier) || literal || swapped {
                out.push(format!("{}:{}: {code}", path.display(), n + 1));
            }
        }
    }
}

#[test]
fn the_table_is_the_only_writer_of_step_statuses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for krate in ["engine", "server", "adapters", "tests"] {
        writers(&root.join(krate), &mut found);
    }
    // The scan finds a writer where there is one.
    let probe = std::env::temp_dir().join(format!("lienthong-scan-{}", std::process::id()));
    std::fs::create_dir_all(&probe).expect("probe dir");
    std::fs::write(
        probe.join("probe.rs"),
        "fn f(st: &mut StepState) {\n    st.status = StepStatus::Done;\n    if d.status == x {}\n}\n",
    )
    .expect("probe");
    let mut caught = Vec::new();
    writers(&probe, &mut caught);
    std::fs::remove_dir_all(&probe).ok();
    assert_eq!(caught.len(), 1, "{caught:?}");
    assert!(
        found.is_empty(),
        "step statuses written outside the table:\n{}",
        found.join("\n")
    );
}
