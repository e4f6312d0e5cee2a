//! Writing a group's plan (`group.rs`) in one multi-row statement per table, the same SQL in
//! both dialects. Every row check of the one-by-one path is kept as a count; a short count
//! refuses the whole group (the caller rolls back and stores it one by one).

use super::dialect::Dialect;
use super::group::{CHUNK, OutboxRow, Plan};
use super::notices::{insert_notifications, notices_at_version};
use super::{ClaimedEffect, Dispatched, Result};
use crate::machine::DossierId;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use std::collections::HashMap;

/// Why a group could not be written together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A dossier no longer at the version its member was worked out from.
    Moved,
    /// A claim a member consumes is no longer held at its epoch.
    ClaimLost,
}

/// Writes a group's plan inside the caller's transaction: per dossier, the outbox rows
/// stored already claimed; `Err(Refused)` when a row check failed (nothing may be kept: the
/// caller rolls back).
pub(crate) async fn write_bulk<DB: Dialect>(
    tx: &mut DB::Connection,
    p: &Plan,
) -> Result<Result<HashMap<String, Dispatched>, Refused>>
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
            return Ok(Err(Refused::Moved));
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
            return Ok(Err(Refused::Moved));
        }
    }
    if !notices_at_version::<DB>(tx, &p.notices).await? {
        return Ok(Err(Refused::Moved));
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
            return Ok(Err(Refused::ClaimLost));
        }
    }
    for rows in p.outbox_consumed.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (i, e) AS (");
        q.push_values(rows, |mut b, (id, epoch)| {
            b.push_bind(*id).push_bind(*epoch);
        });
        q.push(") DELETE FROM outbox WHERE id IN (SELECT i FROM v) AND (id, epoch) IN (SELECT i, e FROM v)");
        if <DB as Dialect>::affected(&q.build().execute(&mut *tx).await?) != rows.len() as u64 {
            return Ok(Err(Refused::ClaimLost));
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
    insert_notifications::<DB>(tx, &p.notices).await?;
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
    insert_outbox::<DB>(tx, &p.outbox, &mut dispatched).await?;
    if let (true, Some(sql)) = (p.new_work(), DB::WAKE) {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    Ok(Ok(dispatched))
}

/// Inserts outbox rows, one multi-row statement per chunk; the rows stored already claimed
/// are added to `dispatched`, per dossier, in the order given.
pub(crate) async fn insert_outbox<DB: Dialect>(
    tx: &mut DB::Connection,
    outbox: &[OutboxRow],
    dispatched: &mut HashMap<String, Dispatched>,
) -> Result<()>
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
    for rows in outbox.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new(
            "INSERT INTO outbox (dossier_id, kind, effect, created_at, available_at, lease_owner, \
             lease_until, epoch) ",
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
    Ok(())
}
