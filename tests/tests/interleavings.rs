//! Property test of the lease and claim protocol: two nodes share one store and one manual
//! clock; a generated schedule interleaves claims, carried-out work, crashes (before the
//! agency is reached, or after it filed the effect but before the answer was committed),
//! clock jumps that expire leases, stale nodes finishing work another node took over, and
//! whole passes. Whatever the schedule: after a drain every dossier is decided, no step is
//! committed twice, every automated step has exactly one effect at its agency, and every
//! journal rebuilds its dossier. Cases: 5,000 (`PROPTEST_CASES` overrides).

use lienthong_engine::adapter::{self, Adapter, CallFuture, Request, Response};
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::ManualClock;
use lienthong_engine::definition::{Mode, Procedure};
use lienthong_engine::machine::{self, DossierStatus, Effect, Event, StepStatus};
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime, Submission};
use lienthong_engine::store::{ClaimedEffect, ClaimedTimer, SqliteStore, Store};
use lienthong_engine::store::{Dossiers, Queue};
use lienthong_tests::fixtures;
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

const T0: i64 = 1_795_399_200_000;
const LEASE: i64 = 5_000;

/// Effects filed, by idempotency key → (dossier code, step).
type Ledger = Arc<Mutex<HashMap<String, (String, String)>>>;

#[derive(Debug)]
struct Agency {
    role: &'static str,
    ledger: Ledger,
}

fn file(ledger: &Ledger, r: &Request) {
    if let Ok(mut l) = ledger.lock() {
        l.entry(r.idempotency_key.clone())
            .or_insert_with(|| (r.dossier_code.clone(), r.step.to_string()));
    }
}

impl Adapter for Agency {
    fn agency(&self) -> &str {
        self.role
    }

    fn call<'a>(&'a self, r: &'a Request) -> CallFuture<'a> {
        Box::pin(async move {
            file(&self.ledger, r);
            Ok::<_, adapter::Error>(Response::Completed {
                outputs: fixtures::outputs(&r.action),
            })
        })
    }
}

/// Built once: the lunar holidays take a while to compute.
fn calendar() -> Arc<Calendar> {
    static C: OnceLock<Arc<Calendar>> = OnceLock::new();
    C.get_or_init(|| Arc::new(Calendar::vietnam())).clone()
}

fn procedures() -> &'static [Procedure] {
    static P: OnceLock<Vec<Procedure>> = OnceLock::new();
    P.get_or_init(fixtures::procedures)
}

#[derive(Debug, Clone)]
enum Op {
    /// A node claims due timers and outbox rows (a few at a time).
    Claim(usize),
    /// A node carries out the n-th item it holds (perhaps after its lease ran out).
    Perform(usize, usize),
    /// A node dies before reaching the agency: what it held stays leased.
    Crash(usize),
    /// A node dies after the agency filed the n-th item's effect, before the answer.
    CrashAfterFiling(usize, usize),
    /// Time passes (half-seconds), expiring leases.
    Advance(i64),
    /// A whole pass of a node.
    Tick(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize).prop_map(Op::Claim),
        4 => (0..2usize, 0..4usize).prop_map(|(n, i)| Op::Perform(n, i)),
        1 => (0..2usize).prop_map(Op::Crash),
        1 => (0..2usize, 0..4usize).prop_map(|(n, i)| Op::CrashAfterFiling(n, i)),
        2 => (1..16i64).prop_map(Op::Advance),
        2 => (0..2usize).prop_map(Op::Tick),
    ]
}

enum Held {
    Effect(ClaimedEffect),
    Timer(ClaimedTimer),
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let store = SqliteStore::in_memory().await.map_err(fail)?;
    store.migrate().await.map_err(fail)?;
    let clock = ManualClock::new(T0);
    let ledger: Ledger = Arc::default();
    let node = |name: &str| {
        let adapters: Vec<Arc<dyn Adapter>> = fixtures::ROLES
            .iter()
            .map(|role| {
                Arc::new(Agency {
                    role,
                    ledger: ledger.clone(),
                }) as Arc<dyn Adapter>
            })
            .collect();
        Runtime::new(
            store.clone(),
            calendar(),
            Arc::new(clock.clone()),
            adapters,
            Arc::new(RecordingNotifier::default()),
            Config {
                node: name.into(),
                lease_ms: LEASE,
                batch: 3,
                ..Config::default()
            },
        )
    };
    let nodes = [node("a"), node("b")];
    let forms = fixtures::forms();
    for p in &procedures()[..2] {
        nodes[0].publish(p).await.map_err(fail)?;
    }
    let mut ids = Vec::new();
    for (i, (procedure, bundle, form)) in forms.iter().take(2).enumerate() {
        let sub = Submission {
            channel: Default::default(),
            procedure: (*procedure).into(),
            bundle: bundle.map(str::to_string),
            form: form.clone(),
            key: Some(format!("k{i}")),
            origin: Default::default(),
        };
        ids.push(nodes[i].submit(sub).await.map_err(fail)?.0);
    }
    let mut held: [Vec<Held>; 2] = [Vec::new(), Vec::new()];
    for op in ops {
        match op {
            Op::Claim(n) => {
                let now = lienthong_engine::clock::Clock::now(&clock);
                let rt = &nodes[n];
                let name = if n == 0 { "a" } else { "b" };
                for t in rt
                    .store()
                    .claim_timers(name, now, LEASE, 2)
                    .await
                    .map_err(fail)?
                {
                    held[n].push(Held::Timer(t));
                }
                for c in rt
                    .store()
                    .claim_outbox(name, now, LEASE, 2)
                    .await
                    .map_err(fail)?
                {
                    held[n].push(Held::Effect(c));
                }
            }
            Op::Perform(n, i) => {
                if held[n].is_empty() {
                    continue;
                }
                let item = held[n].remove(i % held[n].len());
                match item {
                    Held::Effect(c) => nodes[n].perform(&c).await.map(|_| ()).map_err(fail)?,
                    Held::Timer(t) => nodes[n].fire(&t).await.map(|_| ()).map_err(fail)?,
                }
            }
            Op::Crash(n) => held[n].clear(),
            Op::CrashAfterFiling(n, i) => {
                if held[n].is_empty() {
                    continue;
                }
                if let Held::Effect(c) = held[n].remove(i % held[n].len())
                    && let Effect::CallAdapter {
                        step,
                        idempotency_key,
                        request,
                        action,
                        agency,
                        attempt,
                    } = &c.effect
                {
                    let r = Request {
                        dossier_code: request["dossier"]["code"]
                            .as_str()
                            .unwrap_or_default()
                            .into(),
                        step: step.clone(),
                        agency: agency.clone(),
                        action: action.clone(),
                        idempotency_key: idempotency_key.clone(),
                        payload: request.clone(),
                        attempt: *attempt,
                    };
                    file(&ledger, &r);
                }
                held[n].clear();
            }
            Op::Advance(halves) => clock.advance(halves * 500),
            Op::Tick(n) => {
                nodes[n].tick().await.map_err(fail)?;
            }
        }
    }
    // Drain: leases run out, node a finishes whatever is left.
    for _ in 0..60 {
        clock.advance(LEASE + 1);
        nodes[0].tick().await.map_err(fail)?;
        let mut open = 0;
        for id in &ids {
            let d = nodes[0].load(id).await.map_err(fail)?;
            if d.is_none_or(|d| d.status != DossierStatus::Decided) {
                open += 1;
            }
        }
        if open == 0 {
            break;
        }
    }
    let filed: HashMap<(String, String), usize> = {
        let l = ledger
            .lock()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut m = HashMap::new();
        for (code, step) in l.values() {
            *m.entry((code.clone(), step.clone())).or_default() += 1;
        }
        m
    };
    for id in &ids {
        let d = nodes[0]
            .load(id)
            .await
            .map_err(fail)?
            .ok_or_else(|| TestCaseError::fail(format!("{id} lost")))?;
        prop_assert_eq!(d.status, DossierStatus::Decided, "{} {:?}", id, d.steps);
        let p = procedures()
            .iter()
            .find(|p| p.id == d.procedure.id)
            .ok_or_else(|| TestCaseError::fail("procedure"))?;
        let journal = nodes[0].store().journal(id).await.map_err(fail)?;
        let mut completions: HashMap<&str, usize> = HashMap::new();
        for e in &journal {
            if let Event::StepCompleted { step, .. } = &e.event {
                *completions.entry(step).or_default() += 1;
            }
        }
        prop_assert!(
            completions.values().all(|n| *n == 1),
            "a step committed twice: {:?}",
            completions
        );
        for (step, st) in &d.steps {
            let automated = p.step(step).is_some_and(|s| s.mode == Mode::Automated);
            let effects = filed
                .get(&(d.code.clone(), step.to_string()))
                .copied()
                .unwrap_or(0);
            if automated && st.status == StepStatus::Done {
                prop_assert_eq!(effects, 1, "effects of {} on {}", step, id);
            } else {
                prop_assert!(effects <= 1, "effects of {} on {}", step, id);
            }
        }
        let replayed =
            machine::replay(p, &calendar(), &Default::default(), &journal).map_err(fail)?;
        prop_assert_eq!(replayed.as_ref(), Some(&d), "the journal rebuilds {}", id);
    }
    Ok(())
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn interleavings_never_lose_or_duplicate_a_step(ops in proptest::collection::vec(op(), 0..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(fail)?;
        rt.block_on(run(ops))?;
    }
}
