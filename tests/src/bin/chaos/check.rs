//! The checker: joins the store, the journals and the agencies' ledger after a chaos run.

use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::Millis;
use lienthong_engine::definition::{Mode, Procedure};
use lienthong_engine::machine::{self, DossierStatus, Event, StepStatus};
use lienthong_engine::store::Store;
use lienthong_tests::agency::Ledger;
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// Dossiers in a final state.
pub const FINAL_COUNT: &str = "SELECT COUNT(*) FROM dossiers WHERE status IN \
     ('decided', 'delivered', 'stopped', 'refused', 'withdrawn')";

/// One SIGKILL.
#[derive(Debug, Clone)]
pub struct Kill {
    pub node: String,
    pub at: Millis,
}

#[derive(Debug, Default)]
pub struct Report {
    pub store: String,
    pub nodes: usize,
    pub seed: u64,
    pub dossiers: usize,
    pub completed: usize,
    pub lost: usize,
    pub duplicate_commits: usize,
    pub duplicate_effects: usize,
    pub missing_effects: usize,
    pub replay_mismatches: usize,
    pub calls: usize,
    pub raw_duplicate_calls: usize,
    pub takeover_samples: usize,
    pub takeover_p50_ms: i64,
    pub takeover_p99_ms: i64,
    pub kills: usize,
    pub elapsed_s: f64,
    pub drain_s: f64,
    /// SQLite's `PRAGMA integrity_check` after the run (none on PostgreSQL).
    pub integrity_ok: Option<bool>,
}

impl Report {
    /// The invariants that broke (empty when the run is clean).
    pub fn broken(&self, lease_ms: i64) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |bad: bool, what: String| {
            if bad {
                out.push(what);
            }
        };
        check(
            self.lost > 0,
            format!("{} dossiers lost or unfinished", self.lost),
        );
        check(
            self.completed != self.dossiers,
            format!("{} of {} completed", self.completed, self.dossiers),
        );
        check(
            self.duplicate_commits > 0,
            format!("{} steps committed twice", self.duplicate_commits),
        );
        check(
            self.duplicate_effects > 0,
            format!("{} effects filed twice", self.duplicate_effects),
        );
        check(
            self.missing_effects > 0,
            format!("{} completed steps without an effect", self.missing_effects),
        );
        check(
            self.replay_mismatches > 0,
            format!(
                "{} journals do not rebuild their dossier",
                self.replay_mismatches
            ),
        );
        check(
            self.takeover_p99_ms > lease_ms + 1_000,
            format!(
                "takeover p99 {} ms exceeds the lease plus one second",
                self.takeover_p99_ms
            ),
        );
        check(
            self.drain_s > 10.0,
            format!("drain took {:.1} s (limit 10 s)", self.drain_s),
        );
        check(
            self.integrity_ok == Some(false),
            "the SQLite file fails its integrity check".to_string(),
        );
        out
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "store": self.store, "nodes": self.nodes, "seed": self.seed,
            "dossiers": self.dossiers, "completed": self.completed, "lost": self.lost,
            "duplicate_commits": self.duplicate_commits, "duplicate_effects": self.duplicate_effects,
            "missing_effects": self.missing_effects, "replay_mismatches": self.replay_mismatches,
            "calls": self.calls, "raw_duplicate_calls": self.raw_duplicate_calls,
            "takeover_samples": self.takeover_samples, "takeover_p50_ms": self.takeover_p50_ms,
            "takeover_p99_ms": self.takeover_p99_ms, "kills": self.kills,
            "elapsed_s": (self.elapsed_s * 10.0).round() / 10.0, "drain_s": (self.drain_s * 100.0).round() / 100.0, "integrity_ok": self.integrity_ok,
        })
    }

    pub fn text(&self) -> String {
        let mut lines = Vec::new();
        if let Some(map) = self.json().as_object() {
            for (k, v) in map {
                lines.push(format!("{k:>20}  {v}"));
            }
        }
        lines.join("\n")
    }
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub async fn check<S: Store>(
    store: &S,
    n: usize,
    ledger: &Ledger,
    kills: &[Kill],
) -> anyhow::Result<Report> {
    let calendar = Calendar::vietnam();
    let mut procedures: HashMap<String, Procedure> = HashMap::new();
    let mut effects: HashMap<(&str, &str), usize> = HashMap::new();
    for e in ledger.effects.values() {
        *effects
            .entry((e.dossier_code.as_str(), e.step.as_str()))
            .or_default() += 1;
    }
    let mut report = Report {
        dossiers: n,
        kills: kills.len(),
        calls: ledger.calls,
        raw_duplicate_calls: ledger.calls.saturating_sub(ledger.by_key.len()),
        duplicate_effects: ledger.duplicate_effects(),
        ..Report::default()
    };
    let mut finished_keys = HashSet::new();
    // For takeovers: each dossier's journal (time, step) by code.
    let mut step_events: HashMap<String, Vec<(Millis, String)>> = HashMap::new();
    let mut after = None;
    loop {
        let page = store.dossiers(after.as_ref(), 500).await?;
        let Some((_, last)) = page.last() else { break };
        after = Some(last.id.clone());
        for (key, d) in &page {
            if !procedures.contains_key(&d.procedure.hash) {
                let p = store
                    .procedure_by_hash(&d.procedure.hash)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("procedure {} is missing", d.procedure.hash))?;
                procedures.insert(d.procedure.hash.clone(), p);
            }
            let p = &procedures[&d.procedure.hash];
            let journal = store.journal(&d.id).await?;
            let replayed = machine::replay(p, &calendar, &Default::default(), &journal)?;
            if replayed.as_ref() != Some(d) {
                report.replay_mismatches += 1;
            }
            let mut completions: HashMap<&str, usize> = HashMap::new();
            for entry in &journal {
                if let Event::StepCompleted { step, .. } = &entry.event {
                    *completions.entry(step).or_default() += 1;
                }
                if let Some(step) = entry.event.step() {
                    step_events
                        .entry(d.code.clone())
                        .or_default()
                        .push((entry.at, step.to_string()));
                }
            }
            report.duplicate_commits += completions
                .values()
                .map(|c| c.saturating_sub(1))
                .sum::<usize>();
            for (id, st) in &d.steps {
                let automated = p.step(id).is_some_and(|s| s.mode == Mode::Automated);
                if automated
                    && st.status == StepStatus::Done
                    && !effects.contains_key(&(d.code.as_str(), id.as_str()))
                {
                    report.missing_effects += 1;
                }
            }
            let done = matches!(d.status, DossierStatus::Decided | DossierStatus::Delivered);
            if done {
                report.completed += 1;
            }
            if let (true, Some(k)) = (done, key) {
                finished_keys.insert(k.clone());
            }
        }
    }
    report.lost = (0..n)
        .filter(|i| !finished_keys.contains(&format!("chaos-{i}")))
        .count();
    let mut samples = takeovers(ledger, kills, &step_events);
    samples.sort_unstable();
    report.takeover_samples = samples.len();
    report.takeover_p50_ms = percentile(&samples, 0.50);
    report.takeover_p99_ms = percentile(&samples, 0.99);
    Ok(report)
}

/// For each kill, the calls the killed node had in flight (its call with no journal entry
/// for that step between the call and the kill): the time from the kill until the step's
/// work resumed — the next call with the same key, by whichever node took it over.
fn takeovers(
    ledger: &Ledger,
    kills: &[Kill],
    step_events: &HashMap<String, Vec<(Millis, String)>>,
) -> Vec<i64> {
    let mut samples = Vec::new();
    for kill in kills {
        for k in ledger.by_key.values() {
            let Some(&(called, _)) = k
                .calls
                .iter()
                .filter(|(t, node)| *node == kill.node && *t <= kill.at)
                .max_by_key(|(t, _)| *t)
            else {
                continue;
            };
            let events = step_events
                .get(&k.dossier_code)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let on_step = |e: &&(Millis, String)| e.1 == k.step;
            let answered_before = events
                .iter()
                .filter(on_step)
                .any(|(at, _)| *at >= called && *at <= kill.at);
            if answered_before {
                continue;
            }
            // Resumed: the next call with the key (by whichever node took the work over),
            // or else the next commit on the step.
            let next_call = k
                .calls
                .iter()
                .map(|(t, _)| *t)
                .filter(|t| *t > kill.at)
                .min();
            let next_event = events
                .iter()
                .filter(on_step)
                .map(|(at, _)| *at)
                .filter(|at| *at > kill.at)
                .min();
            if let Some(at) = next_call.or(next_event) {
                samples.push(at - kill.at);
            }
        }
    }
    samples
}
