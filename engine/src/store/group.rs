//! Group commit in a handful of statements. A group of transitions from different dossiers
//! is written with one multi-row statement per table (the dossiers' updates, the consumed
//! claims, the journal rows, the timers, tasks and outbox rows they set), so a group of 500
//! costs about a dozen round trips to the database instead of several thousand. Every row
//! check of the one-by-one path is kept as a count: the updates must hit every dossier at its
//! expected version and the deletes every claim at its epoch. When a count falls short (a
//! stale transition is in the group) the caller rolls the group back and stores it one
//! transition at a time, where each stale one is refused alone.
//!
//! `plan` is plain Rust (what to write); `bulk.rs` writes it, the same SQL in both dialects.

use super::notices::is_notice;
use super::{Commit, Consumed, GENESIS, JournalLink, Result, journal_hash, kind_name, status_name};
use crate::clock::Millis;
use crate::machine::Effect;
use std::collections::{HashMap, HashSet};

/// Rows per multi-row statement: well under both databases' limits on bound parameters
/// (SQLite 32,766; PostgreSQL 65,535) at seven parameters a row.
pub(crate) const CHUNK: usize = 1_000;

pub(crate) struct DossierRow {
    pub id: String,
    pub state: String,
    pub version: i64,
    pub status: String,
    pub closed_at: Option<Millis>,
    pub expected: i64,
    /// Whether the status or closing instant moved: only then are those indexed columns
    /// rewritten (an index entry rewritten for nothing costs as much as the state itself).
    pub moved: bool,
}

pub(crate) struct TimerKey {
    pub dossier: String,
    pub kind: String,
    pub step: String,
}

pub(crate) struct ClaimedTimerRow {
    pub key: TimerKey,
    pub epoch: i64,
}

pub(crate) struct TimerRow {
    pub key: TimerKey,
    pub due_at: Millis,
}

pub(crate) struct OpenTaskRow {
    pub dossier: String,
    pub step: String,
    pub agency: String,
    pub action: String,
    pub request: String,
    pub opened_at: Millis,
}

pub(crate) struct TaskKey {
    pub dossier: String,
    pub step: String,
}

pub(crate) struct SyncRow {
    pub key: TaskKey,
    pub status: String,
    pub claimed_by: Option<String>,
    pub claim_until: Option<Millis>,
}

#[derive(Clone)]
pub(crate) struct OutboxRow {
    pub dossier: String,
    /// The effect itself, handed back when the row is stored already claimed.
    pub claimed: Option<Effect>,
    pub kind: &'static str,
    pub effect: String,
    pub at: Millis,
    /// The committing node and its lease, when the row is stored already claimed
    /// (`Commit::dispatch`).
    pub owner: Option<String>,
    pub until: Option<Millis>,
    pub epoch: i64,
}

/// A journal row before its hash (the previous row's hash is read inside the transaction,
/// unless the caller knew it).
pub(crate) struct JournalRow {
    pub dossier: String,
    pub link: JournalLink,
    pub prev: Option<String>,
}

/// Everything a group writes, table by table, in the order the one-by-one path writes it.
#[derive(Default)]
pub(crate) struct Plan {
    pub dossiers: Vec<DossierRow>,
    pub timers_consumed: Vec<ClaimedTimerRow>,
    pub outbox_consumed: Vec<(i64, i64)>,
    pub journal: Vec<JournalRow>,
    pub timers_cancelled: Vec<TimerKey>,
    pub timers_set: Vec<TimerRow>,
    pub tasks_opened: Vec<OpenTaskRow>,
    pub tasks_closed: Vec<TaskKey>,
    pub tasks_synced: Vec<SyncRow>,
    pub outbox: Vec<OutboxRow>,
    /// Firings that changed nothing (`notices.rs`): checked at their dossier's version and
    /// recorded in `notifications`; their timers are in `timers_consumed`, their
    /// notifications in `outbox`, in commit order with the rest.
    pub notices: Vec<NotificationRow>,
}

/// A firing kept as a notification: its dossier, the version it fired at, and the row of
/// `notifications`.
pub(crate) struct NotificationRow {
    pub dossier: String,
    pub version: i64,
    pub at: Millis,
    pub node: String,
    pub event: String,
}

impl Plan {
    /// `(dossier, version)` of each journal row with a predecessor.
    pub fn predecessors(&self) -> Vec<(&str, i64)> {
        self.journal
            .iter()
            .filter(|j| j.link.version > 1 && j.prev.is_none())
            .map(|j| (j.dossier.as_str(), j.link.version - 1))
            .collect()
    }

    /// The journal rows with their chain hashes, given the predecessors' hashes.
    pub fn hashed_journal(
        &self,
        previous: &HashMap<(String, i64), String>,
    ) -> Vec<(&str, JournalLink)> {
        self.journal
            .iter()
            .map(|j| {
                let prev = if let Some(known) = &j.prev {
                    known.clone()
                } else if j.link.version > 1 {
                    previous
                        .get(&(j.dossier.clone(), j.link.version - 1))
                        .cloned()
                        .unwrap_or_default()
                } else {
                    GENESIS.to_string()
                };
                let mut link = j.link.clone();
                link.hash = Some(journal_hash(&prev, &j.dossier, &link));
                (j.dossier.as_str(), link)
            })
            .collect()
    }

    /// Whether any row is new work for the nodes (an outbox row no node claimed).
    pub fn new_work(&self) -> bool {
        self.outbox.iter().any(|r| r.owner.is_none())
    }
}

/// The outbox row of a commit's effect (a call or a notification), stored already claimed
/// when the commit carries `dispatch`.
pub(crate) fn outbox_row(c: &Commit<'_>, e: &Effect) -> Result<OutboxRow> {
    Ok(OutboxRow {
        dossier: c.transition.state.id.0.clone(),
        kind: if matches!(e, Effect::CallAdapter { .. }) {
            "call"
        } else {
            "notify"
        },
        effect: serde_json::to_string(e)?,
        at: c.transition.journal.at,
        claimed: c.dispatch.map(|_| e.clone()),
        owner: c.dispatch.map(|_| c.node.to_string()),
        until: c.dispatch,
        epoch: i64::from(c.dispatch.is_some()),
    })
}

/// The claim a commit consumes, to delete at its epoch.
fn consume(p: &mut Plan, c: &Commit<'_>) {
    match c.consumed {
        Some(Consumed::Timer { kind, step, epoch }) => p.timers_consumed.push(ClaimedTimerRow {
            key: TimerKey {
                dossier: c.transition.state.id.0.clone(),
                kind: kind_name(*kind),
                step: step.clone().unwrap_or_default(),
            },
            epoch: *epoch,
        }),
        Some(Consumed::Outbox { id: row, epoch }) => p.outbox_consumed.push((*row, *epoch)),
        None => {}
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The plan of a group, or `None` when the group must go one by one: two transitions of one
/// dossier, or one transition touching the same timer or task twice (their order would
/// matter, and one statement per table cannot keep it).
pub(crate) fn plan(commits: &[Commit<'_>]) -> Result<Option<Plan>> {
    let mut p = Plan::default();
    let mut seen = HashSet::new();
    for c in commits {
        let t = c.transition;
        let id = t.state.id.0.clone();
        if !seen.insert(id.clone()) {
            return Ok(None);
        }
        if is_notice(c) {
            consume(&mut p, c);
            p.notices.push(NotificationRow {
                dossier: id,
                version: i64_of(c.expected_version),
                at: t.journal.at,
                node: c.node.to_string(),
                event: serde_json::to_string(&t.journal.event)?,
            });
            for e in t
                .effects
                .iter()
                .filter(|e| matches!(e, Effect::Notify { .. }))
            {
                p.outbox.push(outbox_row(c, e)?);
            }
            continue;
        }
        p.dossiers.push(DossierRow {
            id: id.clone(),
            state: serde_json::to_string(&t.state)?,
            version: i64_of(t.state.version),
            status: status_name(&t.state.status),
            closed_at: t.state.closed_at,
            expected: i64_of(c.expected_version),
            moved: t.moved.status,
        });
        consume(&mut p, c);
        p.journal.push(JournalRow {
            dossier: id.clone(),
            link: JournalLink {
                version: i64_of(t.journal.version),
                at: t.journal.at,
                node: c.node.to_string(),
                event: serde_json::to_string(&t.journal.event)?,
                status: status_name(&t.journal.status),
                hash: None,
            },
            prev: c.head.map(str::to_string),
        });
        let (mut timers, mut tasks) = (HashSet::new(), HashSet::new());
        for e in &t.effects {
            match e {
                Effect::SetTimer { id: timer, at } => {
                    if !timers.insert((timer.kind, timer.step.clone())) {
                        return Ok(None);
                    }
                    p.timers_set.push(TimerRow {
                        key: TimerKey {
                            dossier: id.clone(),
                            kind: kind_name(timer.kind),
                            step: timer.step.as_deref().unwrap_or_default().to_string(),
                        },
                        due_at: *at,
                    });
                }
                Effect::CancelTimer { id: timer } => {
                    if !timers.insert((timer.kind, timer.step.clone())) {
                        return Ok(None);
                    }
                    p.timers_cancelled.push(TimerKey {
                        dossier: id.clone(),
                        kind: kind_name(timer.kind),
                        step: timer.step.as_deref().unwrap_or_default().to_string(),
                    });
                }
                Effect::OpenTask {
                    step,
                    agency,
                    action,
                    request,
                } => {
                    if !tasks.insert(step.clone()) {
                        return Ok(None);
                    }
                    p.tasks_opened.push(OpenTaskRow {
                        dossier: id.clone(),
                        step: step.to_string(),
                        agency: agency.to_string(),
                        action: action.to_string(),
                        request: serde_json::to_string(request)?,
                        opened_at: t.journal.at,
                    });
                }
                Effect::CloseTask { step, .. } => {
                    if !tasks.insert(step.clone()) {
                        return Ok(None);
                    }
                    p.tasks_closed.push(TaskKey {
                        dossier: id.clone(),
                        step: step.to_string(),
                    });
                }
                Effect::CallAdapter { .. } | Effect::Notify { .. } => {
                    p.outbox.push(outbox_row(c, e)?);
                }
            }
        }
        // The task row of the step the event touched follows the dossier when it moved
        // (`Transition::task_to_sync`, as `sync_task`).
        if let Some((step, st)) = t.task_to_sync() {
            p.tasks_synced.push(SyncRow {
                key: TaskKey {
                    dossier: id.clone(),
                    step: step.to_string(),
                },
                status: status_name(&st.status),
                claimed_by: st.claimed_by.clone(),
                claim_until: st.claim_until,
            });
        }
    }
    Ok(Some(p))
}
