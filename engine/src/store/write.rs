//! The one-by-one write path of a transition, inside the caller's transaction: the state
//! (guarded by the expected version), the consumed claim (guarded by its epoch), the journal
//! row chained to the one before it, and the rows of its effects. `commit`, the savepoint
//! path of `commit_many` and `create` use it; `group.rs` is the same writes table by table.

/// Expands `apply_effects`, `sync_task`, `write_journal` and `write_commit` for a dialect.
macro_rules! single_write {
    ($db:ty, $wake:expr) => {
        async fn apply_effects(
            tx: &mut <$db as sqlx::Database>::Connection,
            dossier: &DossierId,
            effects: &[Effect],
            now: Millis,
        ) -> Result<()> {
            let mut new_work = false;
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
                    Effect::OpenTask { step, agency, action, request } => {
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
                        sqlx::query("UPDATE tasks SET status = 'closed' WHERE dossier_id = $1 AND step = $2")
                            .bind(&dossier.0)
                            .bind(step.as_str())
                            .execute(&mut *tx)
                            .await?;
                    }
                    Effect::CallAdapter { .. } | Effect::Notify { .. } => {
                        let kind = if matches!(e, Effect::CallAdapter { .. }) { "call" } else { "notify" };
                        sqlx::query(
                            "INSERT INTO outbox (dossier_id, kind, effect, created_at, available_at) VALUES ($1, $2, $3, $4, $4)",
                        )
                        .bind(&dossier.0)
                        .bind(kind)
                        .bind(serde_json::to_string(e)?)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        new_work = true;
                    }
                }
            }
            // Wakes idle nodes when the transaction commits (PostgreSQL NOTIFY; SQLite runs
            // one process, which wakes itself).
            let wake: Option<&str> = $wake;
            if let (true, Some(sql)) = (new_work, wake) {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            Ok(())
        }

        /// Keeps the task row of the step an event touched in step with the dossier, when it
        /// moved (`Transition::task_to_sync`, the rule `group.rs` follows too).
        async fn sync_task(tx: &mut <$db as sqlx::Database>::Connection, t: &Transition) -> Result<()> {
            let Some((step, st)) = t.task_to_sync() else { return Ok(()) };
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
        async fn write_journal(tx: &mut <$db as sqlx::Database>::Connection, t: &Transition, node: &str) -> Result<()> {
            let version = i64::try_from(t.journal.version).unwrap_or(i64::MAX);
            let prev = if version > 1 {
                sqlx::query_as::<_, (Option<String>,)>("SELECT hash FROM journal WHERE dossier_id = $1 AND version = $2")
                    .bind(&t.state.id.0)
                    .bind(version - 1)
                    .fetch_optional(&mut *tx)
                    .await?
                    .and_then(|(h,)| h)
                    .unwrap_or_default()
            } else {
                $crate::store::GENESIS.to_string()
            };
            let row = $crate::store::JournalLink {
                version,
                at: t.journal.at,
                node: node.to_string(),
                event: serde_json::to_string(&t.journal.event)?,
                status: status_name(&t.journal.status),
                hash: None,
            };
            let hash = $crate::store::journal_hash(&prev, &t.state.id.0, &row);
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
    async fn write_commit(tx: &mut <$db as sqlx::Database>::Connection, c: &Commit<'_>) -> Result<()> {
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
                return Err(Error::Conflict(format!("dossier {id} is no longer at version {}", c.expected_version)));
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
                        return Err(Error::LeaseLost(format!("timer of dossier {id} was taken over")));
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
            write_journal(tx, t, c.node).await?;
            apply_effects(tx, id, &t.effects, t.journal.at).await?;
            sync_task(tx, t).await?;
            Ok(())
        }

    };
}

pub(crate) use single_write;
