//! The one implementation of [`super::Store`], expanded for each database by
//! `sql_store!`. The SQL is shared; the claim queries and the statement that opens a write
//! transaction are the dialect's own.

/// Expands `impl Store for $store` over `sqlx::Pool<$db>` (field `pool`).
macro_rules! sql_store {
    ($store:ident, $db:ty, begin: $begin:expr, wake: $wake:expr, claim_timers: $claim_timers:expr, claim_outbox: $claim_outbox:expr) => {
        use $crate::clock::Millis;
        use $crate::definition::Procedure;
        use $crate::machine::{Dossier, DossierId, Effect, JournalEntry, Transition};
        use $crate::store::{
            ClaimedEffect, ClaimedTimer, Commit, Consumed, Created, Error, NewDossier, Published, Result, Store, Task,
            kind_from, kind_name, status_name,
        };
        use chrono::NaiveDate;
        use sqlx::Row;

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
                        .bind(id.step.clone().unwrap_or_default())
                        .bind(*at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Effect::CancelTimer { id } => {
                        sqlx::query("DELETE FROM timers WHERE dossier_id = $1 AND kind = $2 AND step = $3")
                            .bind(&dossier.0)
                            .bind(kind_name(id.kind))
                            .bind(id.step.clone().unwrap_or_default())
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
                        .bind(step)
                        .bind(agency)
                        .bind(action)
                        .bind(serde_json::to_string(request)?)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Effect::CloseTask { step, .. } => {
                        sqlx::query("UPDATE tasks SET status = 'closed' WHERE dossier_id = $1 AND step = $2")
                            .bind(&dossier.0)
                            .bind(step)
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

        /// Keeps the task row of the step an event touched in step with the dossier.
        async fn sync_task(tx: &mut <$db as sqlx::Database>::Connection, t: &Transition) -> Result<()> {
            let Some(step) = t.journal.event.step() else { return Ok(()) };
            let Some(st) = t.state.steps.get(step) else { return Ok(()) };
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
            let updated = sqlx::query(
                "UPDATE dossiers SET state = $1, version = $2, status = $3, closed_at = $4 WHERE id = $5 AND version = $6",
            )
            .bind(serde_json::to_string(&t.state)?)
            .bind(i64::try_from(t.state.version).unwrap_or(i64::MAX))
            .bind(status_name(&t.state.status))
            .bind(t.state.closed_at)
            .bind(&id.0)
            .bind(i64::try_from(c.expected_version).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
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

        impl Store for $store {
            async fn watch(&self, wake: std::sync::Arc<tokio::sync::Notify>) -> Result<()> {
                self.watch_work(wake).await
            }

            async fn migrate(&self) -> Result<()> {
                self.migrator().run(&self.pool).await?;
                Ok(())
            }

            async fn publish(&self, p: &Procedure, now: Millis) -> Result<Published> {
                let hash = p.content_hash();
                sqlx::query(
                    "INSERT INTO procedures (hash, id, version, effective_from, definition, published_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
                )
                .bind(&hash)
                .bind(&p.id)
                .bind(i64::from(p.version))
                .bind(p.effective_from.to_string())
                .bind(serde_json::to_string(p)?)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => Error::Conflict(format!(
                        "{} v{} is already published with other content; publish a new version",
                        p.id, p.version
                    )),
                    _ => Error::Database(e),
                })?;
                Ok(Published { hash, id: p.id.clone(), version: p.version, effective_from: p.effective_from })
            }

            async fn procedure_for(&self, id: &str, day: NaiveDate) -> Result<Option<(Published, Procedure)>> {
                let row = sqlx::query(
                    "SELECT hash, definition FROM procedures WHERE id = $1 AND effective_from <= $2 \
                     ORDER BY effective_from DESC, version DESC LIMIT 1",
                )
                .bind(id)
                .bind(day.to_string())
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let hash: String = row.try_get("hash")?;
                let p: Procedure = serde_json::from_str(&row.try_get::<String, _>("definition")?)?;
                let published = Published { hash, id: p.id.clone(), version: p.version, effective_from: p.effective_from };
                Ok(Some((published, p)))
            }

            async fn procedure_by_hash(&self, hash: &str) -> Result<Option<Procedure>> {
                let row = sqlx::query("SELECT definition FROM procedures WHERE hash = $1")
                    .bind(hash)
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(r) => Ok(Some(serde_json::from_str(&r.try_get::<String, _>("definition")?)?)),
                    None => Ok(None),
                }
            }

            async fn create(
                &self,
                new: NewDossier<'_>,
                build: impl FnOnce(String) -> Result<Transition, $crate::machine::Error> + Send,
            ) -> Result<Result<Created, $crate::machine::Error>> {
                let mut tx = self.pool.begin_with($begin).await?;
                if let Some(key) = new.submission_key {
                    let existing = sqlx::query("SELECT id FROM dossiers WHERE submission_key = $1")
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(row) = existing {
                        return Ok(Ok(Created::Existing(DossierId(row.try_get("id")?))));
                    }
                }
                let seq: i64 = sqlx::query(
                    "INSERT INTO code_sequences (agency_code, day, last) VALUES ($1, $2, 1) \
                     ON CONFLICT (agency_code, day) DO UPDATE SET last = code_sequences.last + 1 RETURNING last",
                )
                .bind(new.agency_code)
                .bind(new.day.to_string())
                .fetch_one(&mut *tx)
                .await?
                .try_get("last")?;
                let code = format!("{}-{}-{seq:06}", new.agency_code, new.day.format("%y%m%d"));
                let t = match build(code) {
                    Ok(t) => t,
                    Err(e) => return Ok(Err(e)),
                };
                let inserted = sqlx::query(
                    "INSERT INTO dossiers (id, code, procedure_hash, submission_key, status, version, state, received_at, closed_at, \
                     submitted_by, province, commune) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
                .await;
                if let Err(sqlx::Error::Database(d)) = &inserted {
                    if d.is_unique_violation() && new.submission_key.is_some() {
                        drop(tx);
                        let row = sqlx::query("SELECT id FROM dossiers WHERE submission_key = $1")
                            .bind(new.submission_key)
                            .fetch_one(&self.pool)
                            .await?;
                        return Ok(Ok(Created::Existing(DossierId(row.try_get("id")?))));
                    }
                }
                inserted?;
                write_journal(&mut tx, &t, new.node).await?;
                apply_effects(&mut tx, &t.state.id, &t.effects, t.journal.at).await?;
                tx.commit().await?;
                Ok(Ok(Created::New(Box::new(t))))
            }

            async fn load(&self, id: &DossierId) -> Result<Option<Dossier>> {
                let row = sqlx::query("SELECT state FROM dossiers WHERE id = $1").bind(&id.0).fetch_optional(&self.pool).await?;
                match row {
                    Some(r) => Ok(Some(serde_json::from_str(&r.try_get::<String, _>("state")?)?)),
                    None => Ok(None),
                }
            }

            async fn dossiers(&self, after: Option<&DossierId>, limit: i64) -> Result<Vec<(Option<String>, Dossier)>> {
                let rows = sqlx::query("SELECT submission_key, state FROM dossiers WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after.map_or("", |a| a.0.as_str()))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("submission_key")?, serde_json::from_str(&r.try_get::<String, _>("state")?)?)))
                    .collect()
            }

            async fn commit(&self, c: Commit<'_>) -> Result<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                write_commit(&mut tx, &c).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn commit_many(&self, commits: &[Commit<'_>]) -> Result<Vec<Result<()>>> {
                use sqlx::Acquire;
                let mut tx = self.pool.begin_with($begin).await?;
                let mut out = Vec::with_capacity(commits.len());
                for c in commits {
                    // Each commit in a savepoint: a stale one is undone alone.
                    let mut one = tx.begin().await?;
                    match write_commit(&mut one, c).await {
                        Ok(()) => {
                            one.commit().await?;
                            out.push(Ok(()));
                        }
                        Err(e @ (Error::Conflict(_) | Error::LeaseLost(_))) => {
                            one.rollback().await?;
                            out.push(Err(e));
                        }
                        Err(e) => return Err(e),
                    }
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn journal(&self, id: &DossierId) -> Result<Vec<JournalEntry>> {
                let rows = sqlx::query("SELECT version, at, event, status FROM journal WHERE dossier_id = $1 ORDER BY version")
                    .bind(&id.0)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(JournalEntry {
                            version: u64::try_from(r.try_get::<i64, _>("version")?).unwrap_or(0),
                            at: r.try_get("at")?,
                            event: serde_json::from_str(&r.try_get::<String, _>("event")?)?,
                            status: serde_json::from_value(serde_json::Value::String(r.try_get("status")?))?,
                        })
                    })
                    .collect()
            }

            async fn claim_timers(&self, node: &str, now: Millis, lease: Millis, limit: i64) -> Result<Vec<ClaimedTimer>> {
                let mut tx = self.pool.begin_with($begin).await?;
                let rows = sqlx::query($claim_timers)
                    .bind(node)
                    .bind(now + lease)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows.iter()
                    .map(|r| {
                        let step: String = r.try_get("step")?;
                        Ok(ClaimedTimer {
                            dossier: DossierId(r.try_get("dossier_id")?),
                            kind: kind_from(&r.try_get::<String, _>("kind")?)?,
                            step: (!step.is_empty()).then_some(step),
                            due_at: r.try_get("due_at")?,
                            epoch: r.try_get("epoch")?,
                        })
                    })
                    .collect()
            }

            async fn claim_outbox(&self, node: &str, now: Millis, lease: Millis, limit: i64) -> Result<Vec<ClaimedEffect>> {
                let mut tx = self.pool.begin_with($begin).await?;
                let rows = sqlx::query($claim_outbox)
                    .bind(node)
                    .bind(now + lease)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows.iter()
                    .map(|r| {
                        Ok(ClaimedEffect {
                            id: r.try_get("id")?,
                            dossier: DossierId(r.try_get("dossier_id")?),
                            effect: serde_json::from_str(&r.try_get::<String, _>("effect")?)?,
                            epoch: r.try_get("epoch")?,
                            created_at: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn finish_timer(&self, timer: &ClaimedTimer) -> Result<bool> {
                let done = sqlx::query("DELETE FROM timers WHERE dossier_id = $1 AND kind = $2 AND step = $3 AND epoch = $4")
                    .bind(&timer.dossier.0)
                    .bind(kind_name(timer.kind))
                    .bind(timer.step.clone().unwrap_or_default())
                    .bind(timer.epoch)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn finish_outbox(&self, id: i64, epoch: i64) -> Result<bool> {
                let done = sqlx::query("DELETE FROM outbox WHERE id = $1 AND epoch = $2").bind(id).bind(epoch).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_outbox(&self, id: i64, epoch: i64, available_at: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE outbox SET lease_owner = NULL, lease_until = NULL, available_at = $1 WHERE id = $2 AND epoch = $3",
                )
                .bind(available_at)
                .bind(id)
                .bind(epoch)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn tasks(&self, agency: &str, limit: i64) -> Result<Vec<Task>> {
                let rows = sqlx::query(
                    "SELECT dossier_id, step, agency, action, request, status, claimed_by, claim_until, opened_at \
                     FROM tasks WHERE agency = $1 AND status IN ('queued', 'claimed') ORDER BY opened_at LIMIT $2",
                )
                .bind(agency)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Task {
                            dossier: DossierId(r.try_get("dossier_id")?),
                            step: r.try_get("step")?,
                            agency: r.try_get("agency")?,
                            action: r.try_get("action")?,
                            request: serde_json::from_str(&r.try_get::<String, _>("request")?)?,
                            status: r.try_get("status")?,
                            claimed_by: r.try_get("claimed_by")?,
                            claim_until: r.try_get("claim_until")?,
                            opened_at: r.try_get("opened_at")?,
                        })
                    })
                    .collect()
            }

            async fn claim_tick(&self, name: &str, due: Millis, next: Millis) -> Result<bool> {
                let done = sqlx::query("UPDATE schedules SET next_at = $1, epoch = epoch + 1 WHERE name = $2 AND next_at = $3")
                    .bind(next)
                    .bind(name)
                    .bind(due)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn schedule_next(&self, name: &str, first: Millis) -> Result<Millis> {
                sqlx::query("INSERT INTO schedules (name, next_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(first)
                    .execute(&self.pool)
                    .await?;
                let row = sqlx::query("SELECT next_at FROM schedules WHERE name = $1").bind(name).fetch_one(&self.pool).await?;
                Ok(row.try_get("next_at")?)
            }

            async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
                let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM dossiers GROUP BY status ORDER BY status")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|r| Ok((r.try_get("status")?, r.try_get("n")?))).collect()
            }

            // The task API's and the scheduler's queries (`queries.rs`).
            $crate::store::queries::store_queries!($begin);

            async fn next_due(&self) -> Result<Option<Millis>> {
                let row = sqlx::query(
                    // Work leased by a node counts from its lease's end (when it may be taken over).
                    "SELECT MIN(t) AS t FROM (\
                     SELECT MIN(CASE WHEN lease_until > due_at THEN lease_until ELSE due_at END) AS t FROM timers \
                     UNION ALL SELECT MIN(CASE WHEN lease_until > available_at THEN lease_until ELSE available_at END) AS t \
                     FROM outbox) AS due",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(row.try_get("t")?)
            }
        }

        $crate::store::accounts_sql::accounts_impl!($store, $begin);
    };
}

pub(crate) use sql_store;
