//! Group commit in a handful of statements. A group of transitions from different dossiers
//! is written with one multi-row statement per table (the dossiers' updates, the consumed
//! claims, the journal rows, the timers, tasks and outbox rows they set), so a group of 500
//! costs about a dozen round trips to the database instead of several thousand. Every row
//! check of the one-by-one path is kept as a count: the updates must hit every dossier at its
//! expected version and the deletes every claim at its epoch. When a count falls short (a
//! stale transition is in the group) the caller rolls the group back and stores it one
//! transition at a time, where each stale one is refused alone.
//!
//! `plan` is plain Rust (what to write); `write_bulk` writes it, the same SQL in both dialects.

use super::dialect::Dialect;
use super::{
    ClaimedEffect, Commit, Consumed, Dispatched, GENESIS, JournalLink, Result, journal_hash,
    kind_name, status_name,
};
use crate::clock::Millis;
use crate::machine::{DossierId, Effect};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
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
        p.dossiers.push(DossierRow {
            id: id.clone(),
            state: serde_json::to_string(&t.state)?,
            version: i64_of(t.state.version),
            status: status_name(&t.state.status),
            closed_at: t.state.closed_at,
            expected: i64_of(c.expected_version),
            moved: t.moved.status,
        });
        match c.consumed {
            Some(Consumed::Timer { kind, step, epoch }) => {
                p.timers_consumed.push(ClaimedTimerRow {
                    key: TimerKey {
                        dossier: id.clone(),
                        kind: kind_name(*kind),
                        step: step.clone().unwrap_or_default(),
                    },
                    epoch: *epoch,
                })
            }
            Some(Consumed::Outbox { id: row, epoch }) => p.outbox_consumed.push((*row, *epoch)),
            None => {}
        }
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
                Effect::CallAdapter { .. } | Effect::Notify { .. } => p.outbox.push(OutboxRow {
                    dossier: id.clone(),
                    kind: if matches!(e, Effect::CallAdapter { .. }) {
                        "call"
                    } else {
                        "notify"
                    },
                    effect: serde_json::to_string(e)?,
                    at: t.journal.at,
                    claimed: c.dispatch.map(|_| e.clone()),
                    owner: c.dispatch.map(|_| c.node.to_string()),
                    until: c.dispatch,
                    epoch: i64::from(c.dispatch.is_some()),
                }),
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

/// Writes a group's plan inside the caller's transaction: per dossier, the outbox rows
/// stored already claimed; `None` when a row check failed (nothing may be kept: the caller
/// rolls back).
pub(crate) async fn write_bulk<DB: Dialect>(
    tx: &mut DB::Connection,
    p: &Plan,
) -> Result<Option<HashMap<String, Dispatched>>>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> Option<String>: Encode<'e, DB> + Decode<'e, DB>,
    for<'e> Option<i64>: Encode<'e, DB> + Decode<'e, DB>,
    usize: ColumnIndex<DB::Row>,
    DB::Arguments: IntoArguments<DB>,
{
    for rows in p.dossiers.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (id, state, version, expected) AS (");
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.id)
                .push_bind(&r.state)
                .push_bind(r.version)
                .push_bind(r.expected);
        });
        q.push(
            ") UPDATE dossiers SET state = v.state, version = v.version \
             FROM v WHERE dossiers.id = v.id AND dossiers.version = v.expected",
        );
        if <DB as Dialect>::affected(&q.build().execute(&mut *tx).await?) != rows.len() as u64 {
            return Ok(None);
        }
    }
    let moved: Vec<_> = p.dossiers.iter().filter(|r| r.moved).collect();
    for rows in moved.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (id, version, status, closed_at) AS (");
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.id)
                .push_bind(r.version)
                .push_bind(&r.status)
                .push_bind(r.closed_at);
        });
        q.push(
            ") UPDATE dossiers SET status = v.status, closed_at = v.closed_at \
             FROM v WHERE dossiers.id = v.id AND dossiers.version = v.version",
        );
        if <DB as Dialect>::affected(&q.build().execute(&mut *tx).await?) != rows.len() as u64 {
            return Ok(None);
        }
    }
    for rows in p.timers_consumed.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (d, k, s, e) AS (");
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.key.dossier)
                .push_bind(&r.key.kind)
                .push_bind(&r.key.step)
                .push_bind(r.epoch);
        });
        q.push(
            ") DELETE FROM timers WHERE (dossier_id, kind, step, epoch) \
             IN (SELECT d, k, s, e FROM v)",
        );
        if <DB as Dialect>::affected(&q.build().execute(&mut *tx).await?) != rows.len() as u64 {
            return Ok(None);
        }
    }
    for rows in p.outbox_consumed.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (i, e) AS (");
        q.push_values(rows, |mut b, (id, epoch)| {
            b.push_bind(*id).push_bind(*epoch);
        });
        q.push(") DELETE FROM outbox WHERE id IN (SELECT i FROM v) AND (id, epoch) IN (SELECT i, e FROM v)");
        if <DB as Dialect>::affected(&q.build().execute(&mut *tx).await?) != rows.len() as u64 {
            return Ok(None);
        }
    }
    let mut previous = HashMap::new();
    for rows in p.predecessors().chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (d, n) AS (");
        q.push_values(rows, |mut b, (d, n)| {
            b.push_bind(*d).push_bind(*n);
        });
        q.push(") SELECT j.dossier_id, j.version, j.hash FROM journal j JOIN v ON j.dossier_id = v.d AND j.version = v.n");
        for (d, n, h) in q
            .build_query_as::<(String, i64, Option<String>)>()
            .fetch_all(&mut *tx)
            .await?
        {
            previous.insert((d, n), h.unwrap_or_default());
        }
    }
    let journal = p.hashed_journal(&previous);
    for rows in journal.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new(
            "INSERT INTO journal (dossier_id, version, at, node, event, status, hash) ",
        );
        q.push_values(rows, |mut b, (d, l)| {
            b.push_bind(*d)
                .push_bind(l.version)
                .push_bind(l.at)
                .push_bind(&l.node)
                .push_bind(&l.event)
                .push_bind(&l.status)
                .push_bind(&l.hash);
        });
        q.build().execute(&mut *tx).await?;
    }
    for rows in p.timers_cancelled.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (d, k, s) AS (");
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.dossier)
                .push_bind(&r.kind)
                .push_bind(&r.step);
        });
        q.push(") DELETE FROM timers WHERE (dossier_id, kind, step) IN (SELECT d, k, s FROM v)");
        q.build().execute(&mut *tx).await?;
    }
    for rows in p.timers_set.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("INSERT INTO timers (dossier_id, kind, step, due_at) ");
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.key.dossier)
                .push_bind(&r.key.kind)
                .push_bind(&r.key.step)
                .push_bind(r.due_at);
        });
        q.push(
            " ON CONFLICT (dossier_id, kind, step) DO UPDATE SET due_at = excluded.due_at, \
             lease_owner = NULL, lease_until = NULL, epoch = timers.epoch + 1",
        );
        q.build().execute(&mut *tx).await?;
    }
    for rows in p.tasks_opened.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new(
            "INSERT INTO tasks (dossier_id, step, agency, action, request, status, opened_at) ",
        );
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.dossier)
                .push_bind(&r.step)
                .push_bind(&r.agency)
                .push_bind(&r.action)
                .push_bind(&r.request)
                .push_bind("queued")
                .push_bind(r.opened_at);
        });
        q.push(
            " ON CONFLICT (dossier_id, step) DO UPDATE SET request = excluded.request, \
             status = 'queued', claimed_by = NULL, claim_until = NULL",
        );
        q.build().execute(&mut *tx).await?;
    }
    for rows in p.tasks_closed.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (d, s) AS (");
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.dossier).push_bind(&r.step);
        });
        q.push(
            ") UPDATE tasks SET status = 'closed' WHERE (dossier_id, step) IN (SELECT d, s FROM v)",
        );
        q.build().execute(&mut *tx).await?;
    }
    for rows in p.tasks_synced.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (d, s, status, claimed_by, claim_until) AS (");
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.key.dossier)
                .push_bind(&r.key.step)
                .push_bind(&r.status)
                .push_bind(&r.claimed_by)
                .push_bind(r.claim_until);
        });
        q.push(
            ") UPDATE tasks SET status = v.status, claimed_by = v.claimed_by, claim_until = v.claim_until \
             FROM v WHERE tasks.dossier_id = v.d AND tasks.step = v.s AND tasks.status <> 'closed'",
        );
        q.build().execute(&mut *tx).await?;
    }
    let mut dispatched: HashMap<String, Dispatched> = Default::default();
    for rows in p.outbox.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new(
            "INSERT INTO outbox (dossier_id, kind, effect, created_at, available_at, lease_owner, lease_until, epoch) ",
        );
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.dossier)
                .push_bind(r.kind)
                .push_bind(&r.effect)
                .push_bind(r.at)
                .push_bind(r.at)
                .push_bind(&r.owner)
                .push_bind(r.until)
                .push_bind(r.epoch);
        });
        q.push(" RETURNING id, dossier_id");
        let mut stored = q
            .build_query_as::<(i64, String)>()
            .fetch_all(&mut *tx)
            .await?;
        // RETURNING promises no order, but ids are taken in the order of the rows
        // given: a dossier's ids, sorted, match its rows in the plan's order.
        stored.sort_unstable();
        let mut ids: HashMap<&str, Vec<i64>> = Default::default();
        for (id, dossier) in &stored {
            ids.entry(dossier.as_str()).or_default().push(*id);
        }
        let mut taken: HashMap<&str, usize> = Default::default();
        for r in rows {
            let k = taken.entry(r.dossier.as_str()).or_default();
            let id = ids.get(r.dossier.as_str()).and_then(|v| v.get(*k)).copied();
            *k += 1;
            let (Some(id), Some(effect)) = (id, &r.claimed) else {
                continue;
            };
            dispatched
                .entry(r.dossier.clone())
                .or_default()
                .push(ClaimedEffect {
                    id,
                    dossier: DossierId(r.dossier.clone()),
                    effect: effect.clone(),
                    epoch: r.epoch,
                    created_at: r.at,
                });
        }
    }
    if let (true, Some(sql)) = (p.new_work(), DB::WAKE) {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    Ok(Some(dispatched))
}
