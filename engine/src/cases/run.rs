//! Running one case through the machine on a simulated clock.

use super::model::{Answer, AnswerKind, Case};
use super::outputs::sample;
use crate::calendar::{Calendar, VIETNAM_OFFSET};
use crate::clock::Millis;
use crate::definition::{Mode, Procedure, StepId};
use crate::machine::{
    self, Actor, Dossier, DossierId, Effect, Env, Event, JournalEntry, Options, ProcedureRef,
    StepStatus, TimerId, TimerKind,
};
use chrono::DateTime;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Where a case ended, and whether its expectations held.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub name: String,
    pub passed: bool,
    pub failures: Vec<String>,
    pub status: Option<String>,
    pub portal_code: Option<u8>,
    pub appointment: Option<String>,
    pub procedures: BTreeMap<String, ProcedureReport>,
    pub steps: BTreeMap<String, StepReport>,
    pub documents: Vec<DocumentReport>,
    /// The journal the case wrote, and the state it ended in (for replay tests).
    #[serde(skip)]
    pub journal: Vec<JournalEntry>,
    #[serde(skip)]
    pub state: Option<Dossier>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcedureReport {
    pub status: String,
    pub portal_code: Option<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub status: String,
    pub due: Option<String>,
    pub finished_at: Option<String>,
    #[serde(skip)]
    pub start_day: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentReport {
    pub kind: String,
    pub at: Option<String>,
    pub vi: String,
    pub en: String,
    #[serde(skip)]
    pub at_ms: Millis,
    #[serde(skip)]
    pub data: Value,
}

/// Events a case may apply before it must have settled.
const MAX_EVENTS: usize = 10_000;
/// With no `until`, the clock stops this far after receipt (400 days).
const HORIZON_MS: Millis = 400 * 24 * 3_600_000;
/// The lease an officer takes on a human task the case answers.
const LEASE_MS: Millis = 8 * 3_600_000;
/// The officer a case's answers on human tasks come from.
const OFFICER: &str = "test-officer";

pub(crate) fn rfc3339(ms: Millis) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&VIETNAM_OFFSET).to_rfc3339())
}

pub(crate) fn name_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

struct Sim<'a> {
    p: &'a Procedure,
    calendar: &'a Calendar,
    options: Options,
    now: Millis,
    state: Option<Dossier>,
    timers: BTreeMap<TimerId, Millis>,
    failures: Vec<String>,
    made: u64,
    journal: Vec<JournalEntry>,
}

impl Sim<'_> {
    fn apply(&mut self, e: &Event) -> Result<(), machine::Error> {
        let env = Env {
            procedure: self.p,
            calendar: self.calendar,
            options: &self.options,
            now: self.now,
        };
        let t = machine::apply(env, self.state.as_ref(), e)?;
        for effect in &t.effects {
            match effect {
                Effect::SetTimer { id, at } => {
                    self.timers.insert(id.clone(), *at);
                }
                Effect::CancelTimer { id } => {
                    self.timers.remove(id);
                }
                _ => {}
            }
        }
        self.journal.push(t.journal);
        self.state = Some(t.state);
        Ok(())
    }

    fn status(&self, step: &str) -> Option<StepStatus> {
        self.state.as_ref()?.steps.get(step).map(|s| s.status)
    }

    /// Whether `a` can be applied now.
    fn answerable(&self, a: &Answer) -> bool {
        let Some(status) = self.status(&a.step) else {
            return false;
        };
        match a.answer {
            AnswerKind::SupplementProvided => status == StepStatus::Supplement,
            _ => matches!(
                status,
                StepStatus::Dispatched
                    | StepStatus::Accepted
                    | StepStatus::Queued
                    | StepStatus::Claimed
                    | StepStatus::RetryWait
            ),
        }
    }

    /// Outputs valid for the step's `writes:`.
    fn outputs_for(&mut self, step: &str) -> Result<Map<String, Value>, String> {
        let def = self
            .p
            .step(step)
            .ok_or_else(|| format!("unknown step `{step}`"))?;
        let now = DateTime::from_timestamp_millis(self.now)
            .map(|t| t.with_timezone(&VIETNAM_OFFSET))
            .ok_or("time out of range")?;
        let mut out = Map::new();
        for (name, schema) in &def.writes {
            self.made += 1;
            let v = sample(schema, now, self.made).ok_or_else(|| {
                format!(
                    "cannot make a valid `{name}` for step `{step}`: give `outputs:` in an answer"
                )
            })?;
            out.insert(name.clone(), v);
        }
        Ok(out)
    }

    /// Who answers `step`: the case's officer on a human task, else the agency's system.
    fn actor(&self, step: &str) -> Option<Actor> {
        let def = self.p.step(step)?;
        Some(match def.mode {
            Mode::Human => Actor::Officer(OFFICER.into()),
            Mode::Automated => Actor::System(def.agency.clone()),
        })
    }

    fn answer(&mut self, i: usize, a: &Answer) -> Result<(), String> {
        let what = || format!("answer {} (step `{}`)", i + 1, a.step);
        let need = |v: &Option<String>, field: &str| {
            v.clone()
                .ok_or_else(|| format!("{}: `{field}` is required for this answer", what()))
        };
        let human = self.p.step(&a.step).is_some_and(|s| s.mode == Mode::Human);
        if human
            && self.status(&a.step) == Some(StepStatus::Queued)
            && a.answer != AnswerKind::SupplementProvided
        {
            let claim = Event::StepClaimed {
                step: a.step.clone(),
                by: OFFICER.into(),
                until: self.now + LEASE_MS,
            };
            self.apply(&claim)
                .map_err(|e| format!("{}: claim: {e}", what()))?;
        }
        let by = self.actor(&a.step);
        let event = match a.answer {
            AnswerKind::Done => Event::StepCompleted {
                by,
                step: a.step.clone(),
                outputs: match &a.outputs {
                    Some(o) => o.clone(),
                    None => self.outputs_for(&a.step)?,
                },
            },
            AnswerKind::Rejected => Event::StepRejected {
                by,
                step: a.step.clone(),
                reason: need(&a.reason, "reason")?,
            },
            AnswerKind::Supplement => Event::SupplementRequested {
                by,
                step: a.step.clone(),
                reason: need(&a.reason, "reason")?,
            },
            AnswerKind::Verification => Event::VerificationStarted {
                by,
                step: a.step.clone(),
                basis: need(&a.basis, "basis")?,
            },
            AnswerKind::Delay => Event::DelayReported {
                step: a.step.clone(),
                reason: need(&a.reason, "reason")?,
                working_days: a
                    .working_days
                    .ok_or_else(|| format!("{}: `working_days` is required", what()))?,
            },
            AnswerKind::SupplementProvided => Event::SupplementProvided {
                step: a.step.clone(),
                data: a.data.clone().unwrap_or_default(),
            },
        };
        self.apply(&event).map_err(|e| format!("{}: {e}", what()))
    }

    /// An automated step waiting for its agency that no remaining answer names.
    fn unnamed_ready(&self, rest: &[Answer]) -> Option<StepId> {
        let d = self.state.as_ref()?;
        self.p
            .steps
            .iter()
            .filter(|s| s.mode == Mode::Automated)
            .filter(|s| !rest.iter().any(|a| s.id == a.step))
            .find(|s| {
                d.steps.get(&s.id).is_some_and(|st| {
                    matches!(
                        st.status,
                        StepStatus::Dispatched | StepStatus::Accepted | StepStatus::RetryWait
                    )
                })
            })
            .map(|s| s.id.clone())
    }

    fn next_timer(&self) -> Option<(TimerId, Millis)> {
        self.timers
            .iter()
            .min_by_key(|(id, at)| (**at, (*id).clone()))
            .map(|(id, at)| (id.clone(), *at))
    }

    fn fire(&mut self, id: TimerId, at: Millis) {
        self.timers.remove(&id);
        self.now = self.now.max(at);
        let e = Event::TimerFired {
            kind: id.kind,
            step: id.step.clone(),
        };
        if let Err(e) = self.apply(&e) {
            // Retries are not simulated; anything else a timer trips on is a finding.
            if id.kind != TimerKind::Retry {
                self.failures.push(format!("timer {:?}: {e}", id.kind));
            }
        }
    }
}

/// Runs `case` on `p`, then checks its expectations.
pub fn run_case(p: &Procedure, calendar: &Calendar, case: &Case) -> CaseReport {
    let received = case.received.timestamp_millis();
    let until = case
        .until
        .map_or(received + HORIZON_MS, |u| u.timestamp_millis());
    let mut sim = Sim {
        p,
        calendar,
        options: Options::default(),
        now: received,
        state: None,
        timers: BTreeMap::new(),
        failures: Vec::new(),
        made: 0,
        journal: Vec::new(),
    };
    let submitted = Event::Submitted {
        channel: None,
        id: DossierId("test".into()),
        code: format!("TEST-{}-000001", case.received.format("%y%m%d")),
        procedure: ProcedureRef {
            id: p.id.clone(),
            version: p.version,
            hash: p.content_hash(),
        },
        bundle: case.bundle.clone(),
        form: case.form.clone(),
        journal: crate::machine::JOURNAL_FORMAT,
    };
    if let Err(e) = sim.apply(&submitted) {
        sim.failures.push(format!("submission: {e}"));
    }
    let mut next = 0;
    for _ in 0..MAX_EVENTS {
        let Some(d) = sim.state.as_ref() else { break };
        if d.status.is_closed() {
            break;
        }
        let timer = sim.next_timer().filter(|(_, at)| *at <= until);
        if let Some(a) = case.answers.get(next).filter(|a| sim.answerable(a)) {
            let at = a.at.map_or(sim.now, |t| t.timestamp_millis()).max(sim.now);
            match timer {
                Some((id, t)) if t < at => sim.fire(id, t),
                _ if at > until => break,
                _ => {
                    sim.now = at;
                    if let Err(e) = sim.answer(next, a) {
                        sim.failures.push(e);
                    }
                    next += 1;
                }
            }
            continue;
        }
        if let Some(step) = sim.unnamed_ready(&case.answers[next..]) {
            let done = sim.outputs_for(&step).and_then(|outputs| {
                sim.apply(&Event::StepCompleted {
                    by: sim.actor(&step),
                    step: step.clone(),
                    outputs,
                })
                .map_err(|e| format!("step `{step}` (completed by the case): {e}"))
            });
            if let Err(e) = done {
                sim.failures.push(e);
                break;
            }
            continue;
        }
        match timer {
            Some((id, t)) => sim.fire(id, t),
            None => break,
        }
    }
    // An answer dated after `until` is not due yet: the case ends before it.
    let pending = case
        .answers
        .get(next)
        .filter(|a| a.at.is_none_or(|t| t.timestamp_millis() <= until));
    if let Some(a) = pending {
        let status = sim
            .status(&a.step)
            .map_or("unknown".to_string(), |s| name_of(&s));
        sim.failures.push(format!(
            "answer {} (step `{}`) was never applied: the step is {status}",
            next + 1,
            a.step
        ));
    }
    report(p, case, sim)
}

fn report(p: &Procedure, case: &Case, sim: Sim<'_>) -> CaseReport {
    let mut r = CaseReport {
        name: case.name.clone(),
        passed: false,
        failures: sim.failures,
        status: None,
        portal_code: None,
        appointment: None,
        procedures: BTreeMap::new(),
        steps: BTreeMap::new(),
        documents: Vec::new(),
        journal: sim.journal,
        state: None,
    };
    if let Some(d) = &sim.state {
        r.status = Some(name_of(&d.status));
        r.portal_code = Some(machine::portal_code(p, d));
        r.appointment = d.appointment.and_then(rfc3339);
        for res in machine::results(p, d) {
            r.procedures.insert(
                res.id.clone(),
                ProcedureReport {
                    status: name_of(&res.status),
                    portal_code: res.portal_code,
                },
            );
        }
        for (id, st) in &d.steps {
            r.steps.insert(
                id.to_string(),
                StepReport {
                    status: name_of(&st.status),
                    due: st
                        .clock
                        .as_ref()
                        .and_then(|c| c.deadline())
                        .map(|t| t.to_rfc3339()),
                    finished_at: st.finished_at.and_then(rfc3339),
                    start_day: st.clock.as_ref().map(|c| c.computed().start_day),
                },
            );
        }
        for doc in &d.documents {
            let (vi, en) = crate::documents::render(&doc.kind, &doc.data);
            r.documents.push(DocumentReport {
                kind: name_of(&doc.kind),
                at: rfc3339(doc.at),
                vi,
                en,
                at_ms: doc.at,
                data: doc.data.clone(),
            });
        }
    }
    if let Some(e) = &case.expect {
        let found = super::expect::check(e, &r);
        r.failures.extend(found);
    }
    r.passed = r.failures.is_empty();
    r.state = sim.state;
    r
}
