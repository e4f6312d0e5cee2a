//! PostgreSQL's write path of a transition, statement by statement inside the caller's
//! transaction: the state (guarded by the expected version), the consumed claim (guarded by
//! its epoch), the journal row chained to the one before it, and the rows of its effects.
//! `commit`, the savepoint path of `commit_many` and `create` use it; `group.rs` is the same
//! writes table by table, and `sqlite_write.rs` the same writes in one round trip.

use super::{
    ClaimedEffect, Commit, Consumed, Dispatched, Error, GENESIS, JournalLink, NewDossier, Result,
    journal_hash, kind_name, status_name,
};
use crate::clock::Millis;
use crate::machine::{DossierId, Effect, Transition};
use sqlx::PgConnection;

/// Wakes idle nodes when the transaction commits new work no node claimed.
pub(crate) const WAKE: &str = "SELECT pg_notify('lienthong_work', '')";

pub(crate) async fn apply_effects(
    tx: &mut PgConnection,
    dossier: &DossierId,
    effects: &[Effect],
    now: Millis,
    dispatch: Option<(&str, Millis)>,
) -> Result<Dispatched> {
    let mut new_work = false;
    let mut dispatched = Vec::new();
    for e in effects {
        match e {
            Effect::SetTimer { id, at } => {
                sqlx::query(
                            "INSERT INTO timers (dossier_id, kind, step, due_at) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (dossier_id, kind, step) DO UPDATE SET due_at = excluded.due_at, \
                             lease_owner = NULL, lease_until = NULL, epoch = timers.epoch + 1",
                        )
                        .bind(&dossier.0)
                        .bind(kind_name(id.kind))
                        .bind(id.step.as_deref().unwrap_or_default())
                        .bind(*at)
                        .execute(&mut *tx)
                        .await?;
            }
            Effect::CancelTimer { id } => {
                sqlx::query("DELETE FROM timers WHERE dossier_id = $1 AND kind = $2 AND step = $3")
                    .bind(&dossier.0)
                    .bind(kind_name(id.kind))
                    .bind(id.step.as_deref().unwrap_or_default())
                    .execute(&mut *tx)
                    .await?;
            }
            Effect::OpenTask {
                step,
                agency,
                action,
                request,
            } => {
                sqlx::query(
                            "INSERT INTO tasks (dossier_id, step, agency, action, request, status, opened_at) \
                             VALUES ($1, $2, $3, $4, $5, 'queued', $6) ON CONFLICT (dossier_id, step) DO UPDATE \
                             SET request = excluded.request, status = 'queued', claimed_by = NULL, claim_until = NULL",
                        )
                        .bind(&dossier.0)
                        .bind(step.as_str())
                        .bind(agency.as_str())
                        .bind(action.as_str())
                        .bind(serde_json::to_string(request)?)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
            }
            Effect::CloseTask { step, .. } => {
                sqlx::query(
                    "UPDATE tasks SET status = 'closed' WHERE dossier_id = $1 AND step = $2",
                )
                .bind(&dossier.0)
                .bind(step.as_str())
                .execute(&mut *tx)
                .await?;
            }
            Effect::CallAdapter { .. } | Effect::Notify { .. } => {
                let kind = if matches!(e, Effect::CallAdapter { .. }) {
                    "call"
                } else {
                    "notify"
                };
                // Claimed by the committing node at once (epoch 1, as a claim), or
                // left for any node to claim.
                let epoch = i64::from(dispatch.is_some());
                let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO outbox (dossier_id, kind, effect, created_at, available_at, lease_owner, lease_until, epoch) \
                             VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id",
                        )
                        .bind(&dossier.0)
                        .bind(kind)
                        .bind(serde_json::to_string(e)?)
                        .bind(now)
                        .bind(dispatch.map(|(node, _)| node))
                        .bind(dispatch.map(|(_, until)| until))
                        .bind(epoch)
                        .fetch_one(&mut *tx)
                        .await?;
                match dispatch {
                    Some(_) => dispatched.push(ClaimedEffect {
                        id,
                        dossier: dossier.clone(),
                        effect: e.clone(),
                        epoch,
                        created_at: now,
                    }),
                    None => new_work = true,
                }
            }
        }
    }
    // Wakes idle nodes when the transaction commits (PostgreSQL NOTIFY; SQLite runs
    // one process, which wakes itself).
    if new_work {
        sqlx::query(WAKE).execute(&mut *tx).await?;
    }
    Ok(dispatched)
}

/// Keeps the task row of the step an event touched in step with the dossier, when it
/// moved (`Transition::task_to_sync`, the rule `group.rs` follows too).
async fn sync_task(tx: &mut PgConnection, t: &Transition) -> Result<()> {
    let Some((step, st)) = t.task_to_sync() else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE tasks SET status = $1, claimed_by = $2, claim_until = $3 \
                 WHERE dossier_id = $4 AND step = $5 AND status <> 'closed'",
    )
    .bind(status_name(&st.status))
    .bind(st.claimed_by.clone())
    .bind(st.claim_until)
    .bind(&t.state.id.0)
    .bind(step)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Appends the transition's journal row, chained to the row before it.
pub(crate) async fn write_journal(
    tx: &mut PgConnection,
    t: &Transition,
    node: &str,
    head: Option<&str>,
) -> Result<()> {
    let version = i64::try_from(t.journal.version).unwrap_or(i64::MAX);
    let prev = if let Some(known) = head {
        known.to_string()
    } else if version > 1 {
        sqlx::query_as::<_, (Option<String>,)>(
            "SELECT hash FROM journal WHERE dossier_id = $1 AND version = $2",
        )
        .bind(&t.state.id.0)
        .bind(version - 1)
        .fetch_optional(&mut *tx)
        .await?
        .and_then(|(h,)| h)
        .unwrap_or_default()
    } else {
        GENESIS.to_string()
    };
    let row = JournalLink {
        version,
        at: t.journal.at,
        node: node.to_string(),
        event: serde_json::to_string(&t.journal.event)?,
        status: status_name(&t.journal.status),
        hash: None,
    };
    let hash = journal_hash(&prev, &t.state.id.0, &row);
    sqlx::query("INSERT INTO journal (dossier_id, version, at, node, event, status, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&t.state.id.0)
                .bind(version)
                .bind(row.at)
                .bind(node)
                .bind(&row.event)
                .bind(&row.status)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
    Ok(())
}

/// One transition's writes, inside the caller's transaction.
pub(crate) async fn write_commit(tx: &mut PgConnection, c: &Commit<'_>) -> Result<Dispatched> {
    let t = c.transition;
    let id = &t.state.id;
    let state = serde_json::to_string(&t.state)?;
    let version = i64::try_from(t.state.version).unwrap_or(i64::MAX);
    let expected = i64::try_from(c.expected_version).unwrap_or(i64::MAX);
    // The indexed status columns are rewritten only when they moved (as `group.rs`).
    let updated = if t.moved.status {
        sqlx::query(
                    "UPDATE dossiers SET state = $1, version = $2, status = $3, closed_at = $4 WHERE id = $5 AND version = $6",
                )
                .bind(state)
                .bind(version)
                .bind(status_name(&t.state.status))
                .bind(t.state.closed_at)
                .bind(&id.0)
                .bind(expected)
                .execute(&mut *tx)
                .await?
    } else {
        sqlx::query("UPDATE dossiers SET state = $1, version = $2 WHERE id = $3 AND version = $4")
            .bind(state)
            .bind(version)
            .bind(&id.0)
            .bind(expected)
            .execute(&mut *tx)
            .await?
    };
    if updated.rows_affected() != 1 {
        return Err(Error::Conflict(format!(
            "dossier {id} is no longer at version {}",
            c.expected_version
        )));
    }
    match c.consumed {
        Some(Consumed::Timer { kind, step, epoch }) => {
            let done = sqlx::query("DELETE FROM timers WHERE dossier_id = $1 AND kind = $2 AND step = $3 AND epoch = $4")
                        .bind(&id.0)
                        .bind(kind_name(*kind))
                        .bind(step.clone().unwrap_or_default())
                        .bind(*epoch)
                        .execute(&mut *tx)
                        .await?;
            if done.rows_affected() != 1 {
                return Err(Error::LeaseLost(format!(
                    "timer of dossier {id} was taken over"
                )));
            }
        }
        Some(Consumed::Outbox { id: row, epoch }) => {
            let done = sqlx::query("DELETE FROM outbox WHERE id = $1 AND epoch = $2")
                .bind(*row)
                .bind(*epoch)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(Error::LeaseLost(format!("outbox row {row} was taken over")));
            }
        }
        None => {}
    }
    write_journal(tx, t, c.node, c.head).await?;
    let dispatched = apply_effects(
        tx,
        id,
        &t.effects,
        t.journal.at,
        c.dispatch.map(|until| (c.node, until)),
    )
    .await?;
    sync_task(tx, t).await?;
    Ok(dispatched)
}

/// A new dossier's row, its journal row and its effects' rows. A submission key used before
/// fails the insert with a unique violation.
pub(crate) async fn write_created(
    tx: &mut PgConnection,
    new: &NewDossier<'_>,
    t: &Transition,
) -> Result<Dispatched> {
    sqlx::query(
        "INSERT INTO dossiers (id, code, procedure_hash, submission_key, status, version, state, received_at, \
         closed_at, submitted_by, province, commune) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&t.state.id.0)
    .bind(&t.state.code)
    .bind(new.procedure_hash)
    .bind(new.submission_key)
    .bind(status_name(&t.state.status))
    .bind(i64::try_from(t.state.version).unwrap_or(i64::MAX))
    .bind(serde_json::to_string(&t.state)?)
    .bind(t.state.received_at)
    .bind(t.state.closed_at)
    .bind(&new.origin.submitted_by)
    .bind(&new.origin.province)
    .bind(&new.origin.commune)
    .execute(&mut *tx)
    .await?;
    write_journal(tx, t, new.node, None).await?;
    let dispatch = new.dispatch.map(|until| (new.node, until));
    apply_effects(tx, &t.state.id, &t.effects, t.journal.at, dispatch).await
}
