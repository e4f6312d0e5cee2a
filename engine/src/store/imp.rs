//! The one implementation of [`super::Store`], expanded for each database by
//! `sql_store!`. The SQL is shared; the claim queries and the statement that opens a write
//! transaction are the dialect's own.

/// Expands `impl Store for $store` over `sqlx::Pool<$db>` (field `pool`).
macro_rules! sql_store {
    ($store:ident, $db:ty, begin: $begin:expr, wake: $wake:expr, claim_timers: $claim_timers:expr, claim_outbox: $claim_outbox:expr) => {
        use $crate::clock::Millis;
        use $crate::definition::Procedure;
        use $crate::machine::{Dossier, DossierId, JournalEntry, Transition};
        use $crate::store::{
            ClaimedEffect, ClaimedTimer, Commit, Created, Error, NewDossier, Published, Result, Store, Task,
            kind_from, kind_name,
        };
        use chrono::NaiveDate;
        use sqlx::Row;

        $crate::store::group::bulk_write!($db, $wake);

        impl Store for $store {
            fn one_writer(&self) -> bool {
                Self::ONE_WRITER
            }

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

            async fn published_for(&self, id: &str, day: NaiveDate) -> Result<Option<Published>> {
                let row: Option<(String, String, i64, String)> = sqlx::query_as(
                    "SELECT hash, id, version, effective_from FROM procedures WHERE id = $1 AND effective_from <= $2 \
                     ORDER BY effective_from DESC, version DESC LIMIT 1",
                )
                .bind(id)
                .bind(day.to_string())
                .fetch_optional(&self.pool)
                .await?;
                let Some((hash, id, version, from)) = row else { return Ok(None) };
                Ok(Some(Published {
                    hash,
                    id,
                    version: u32::try_from(version).unwrap_or(u32::MAX),
                    effective_from: from
                        .parse()
                        .map_err(|e| Error::Conflict(format!("stored effective_from `{from}`: {e}")))?,
                }))
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
                let _turn = $crate::store::Held::start("create", self.gate().await);
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
                let code = $crate::store::create::dossier_code(new.agency_code, new.day, seq);
                let t = match build(code) {
                    Ok(t) => t,
                    Err(e) => return Ok(Err(e)),
                };
                let inserted = <$db as $crate::store::create::Filer>::insert_all(&mut tx, &[(&new, &t)])
                    .await
                    .map(|mut one| one.pop().unwrap_or_default());
                if let Err(Error::Database(sqlx::Error::Database(d))) = &inserted {
                    if d.is_unique_violation() && new.submission_key.is_some() {
                        drop(tx);
                        let row = sqlx::query("SELECT id FROM dossiers WHERE submission_key = $1")
                            .bind(new.submission_key)
                            .fetch_one(&self.pool)
                            .await?;
                        return Ok(Ok(Created::Existing(DossierId(row.try_get("id")?))));
                    }
                }
                let dispatched = inserted?;
                tx.commit().await?;
                Ok(Ok(Created::New(Box::new(t), dispatched)))
            }

            async fn create_many(
                &self,
                items: &[$crate::store::Filing<'_>],
            ) -> Result<Vec<Result<Created, $crate::machine::Error>>> {
                let written = {
                    let _turn = $crate::store::Held::start("create_many", self.gate().await);
                    let mut tx = self.pool.begin_with($begin).await?;
                    match $crate::store::create::file_all::<$db>(&mut tx, items).await {
                        Ok(out) => {
                            tx.commit().await?;
                            Some(out)
                        }
                        // A key filed meanwhile by another transaction: each alone below,
                        // where a used key answers the dossier it filed.
                        Err(Error::Database(sqlx::Error::Database(d))) if d.is_unique_violation() => None,
                        Err(e) => return Err(e),
                    }
                };
                if let Some(out) = written {
                    return Ok(out);
                }
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.create(item.new.clone(), |code| (item.build)(code)).await?);
                }
                Ok(out)
            }

            async fn load(&self, id: &DossierId) -> Result<Option<Dossier>> {
                let row = sqlx::query("SELECT state FROM dossiers WHERE id = $1").bind(&id.0).fetch_optional(&self.pool).await?;
                match row {
                    Some(r) => Ok(Some(serde_json::from_str(&r.try_get::<String, _>("state")?)?)),
                    None => Ok(None),
                }
            }

            async fn load_head(&self, id: &DossierId) -> Result<Option<(Dossier, String)>> {
                let row: Option<(String, Option<String>)> = sqlx::query_as(
                    "SELECT d.state, j.hash FROM dossiers d \
                     JOIN journal j ON j.dossier_id = d.id AND j.version = d.version WHERE d.id = $1",
                )
                .bind(&id.0)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some((state, hash)) => Ok(Some((serde_json::from_str(&state)?, hash.unwrap_or_default()))),
                    None => Ok(None),
                }
            }

            async fn load_many(&self, ids: &[DossierId]) -> Result<Vec<Dossier>> {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks($crate::store::group::CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT state FROM dossiers WHERE id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(&id.0);
                    }
                    q.push(")");
                    for (state,) in q.build_query_as::<(String,)>().fetch_all(&self.pool).await? {
                        out.push(serde_json::from_str(&state)?);
                    }
                }
                Ok(out)
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

            async fn commit(&self, c: Commit<'_>) -> Result<$crate::store::Dispatched> {
                let _turn = $crate::store::Held::start("commit", self.gate().await);
                let mut tx = self.pool.begin_with($begin).await?;
                let dispatched = Self::write_one(&mut tx, &c).await?;
                tx.commit().await?;
                Ok(dispatched)
            }

            async fn commit_many(&self, commits: &[Commit<'_>]) -> Result<Vec<Result<$crate::store::Dispatched>>> {
                use sqlx::Acquire;
                // A lone transition needs no savepoint.
                if let [c] = commits {
                    return match self.commit(*c).await {
                        Ok(dispatched) => Ok(vec![Ok(dispatched)]),
                        Err(e @ (Error::Conflict(_) | Error::LeaseLost(_))) => Ok(vec![Err(e)]),
                        Err(e) => Err(e),
                    };
                }
                // The whole group in a dozen statements when it can be (see `group.rs`); a
                // stale transition inside sends it down the one-by-one path below.
                if commits.len() > 1 {
                    if let Some(plan) = $crate::store::group::plan(commits)? {
                        // The write runs as a task of its own: each of its statements is
                        // sent the moment the previous one returns, instead of waiting for
                        // the caller's task to finish whatever it does beside the write
                        // (reading and applying the next timer batch, parsing JSON); see
                        // BENCHMARKS.md, the 50,000-timer section, for what it measured.
                        let store = self.clone();
                        let write = tokio::spawn(async move {
                            let _turn = $crate::store::Held::start("group", store.gate().await);
                            let mut tx = store.pool.begin_with($begin).await?;
                            let written = write_bulk(&mut tx, &plan).await?;
                            if written.is_some() {
                                tx.commit().await?;
                            } else {
                                tx.rollback().await?;
                            }
                            Ok::<_, Error>(written)
                        });
                        let written = match write.await {
                            Ok(written) => written?,
                            // A panic in the write is the caller's panic, as without the task.
                            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                            Err(e) => return Err(Error::Io(std::io::Error::other(e))),
                        };
                        if let Some(mut by_dossier) = written {
                            return Ok(commits
                                .iter()
                                .map(|c| Ok(by_dossier.remove(&c.transition.state.id.0).unwrap_or_default()))
                                .collect());
                        }
                    }
                }
                let _turn = $crate::store::Held::start("commit_each", self.gate().await);
                let mut tx = self.pool.begin_with($begin).await?;
                let mut out = Vec::with_capacity(commits.len());
                for c in commits {
                    // Each commit in a savepoint: a stale one is undone alone.
                    let mut one = tx.begin().await?;
                    match Self::write_one(&mut one, c).await {
                        Ok(dispatched) => {
                            one.commit().await?;
                            out.push(Ok(dispatched));
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
                let _turn = $crate::store::Held::start("claim_timers", self.gate().await);
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
                let _turn = $crate::store::Held::start("claim_outbox", self.gate().await);
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

            async fn finish_outbox_many(&self, rows: &[(i64, i64)]) -> Result<u64> {
                let mut done = 0;
                let _turn = $crate::store::Held::start("finish_outbox_many", self.gate().await);
                for chunk in rows.chunks($crate::store::group::CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("WITH v (i, e) AS (");
                    q.push_values(chunk, |mut b, (id, epoch)| {
                        b.push_bind(*id).push_bind(*epoch);
                    });
                    q.push(") DELETE FROM outbox WHERE id IN (SELECT i FROM v) AND (id, epoch) IN (SELECT i, e FROM v)");
                    done += q.build().execute(&self.pool).await?.rows_affected();
                }
                Ok(done)
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
