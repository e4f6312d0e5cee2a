//! SQLite's one-by-one write path in one round trip. The SQLite driver runs every
//! statement on its connection's thread, so each statement costs a hand-off between threads
//! (about a tenth of a millisecond on these machines, more than the statement itself). A
//! transition's writes — the state, the consumed claim, the journal row, the rows of its
//! effects, the task row — are therefore sent as one multi-statement query: numbered
//! parameters are shared by every statement of it (sqlx binds `$n` by number), and the
//! outbox rows' ids come back through `RETURNING`, in statement order.
//!
//! The row checks of the statement-by-statement path (the update must find the dossier at
//! its expected version, the delete must find the claim at its epoch) become fences: after
//! the statement, `INSERT INTO write_fences (…) SELECT 1 WHERE changes() <> 1` adds a row
//! only when the statement did not touch exactly one row, and that row breaks the table's
//! named CHECK constraint, which fails the query (the table stays empty). The caller's
//! transaction then holds a half-done write and is rolled back, never committed.
//!
//! The SQL text is assembled from the constant statements below and placeholder numbers
//! only; every value is bound.

use super::{ClaimedEffect, Commit, Consumed, Dispatched, Error, GENESIS, NewDossier, Result};
use super::{JournalLink, journal_hash, kind_name, status_name};
use crate::clock::Millis;
use crate::machine::{DossierId, Effect, Transition};
use sqlx::SqliteConnection;

/// A value bound to a batch.
enum Val {
    Text(String),
    Int(i64),
    OptText(Option<String>),
    OptInt(Option<i64>),
}

type Returning = sqlx::query::QueryAs<'static, sqlx::Sqlite, (i64,), sqlx::sqlite::SqliteArguments>;

impl Val {
    fn bind_to(self, q: Returning) -> Returning {
        match self {
            Val::Text(s) => q.bind(s),
            Val::Int(i) => q.bind(i),
            Val::OptText(s) => q.bind(s),
            Val::OptInt(i) => q.bind(i),
        }
    }
}

/// A multi-statement query being assembled.
#[derive(Default)]
struct Batch {
    sql: String,
    vals: Vec<Val>,
}

impl Batch {
    /// Binds a value and returns its placeholder.
    fn p(&mut self, v: Val) -> String {
        self.vals.push(v);
        format!("${}", self.vals.len())
    }

    fn text(&mut self, s: impl Into<String>) -> String {
        self.p(Val::Text(s.into()))
    }

    fn int(&mut self, i: i64) -> String {
        self.p(Val::Int(i))
    }

    /// Appends one statement whose `{}` are replaced, in order, by `args`.
    fn push(&mut self, template: &'static str, args: &[String]) {
        let mut parts = template.split("{}");
        if let Some(first) = parts.next() {
            self.sql.push_str(first);
        }
        for (part, arg) in parts.zip(args) {
            self.sql.push_str(arg);
            self.sql.push_str(part);
        }
        self.sql.push_str(";\n");
    }

    /// Fails the query unless the statement before touched exactly one row.
    fn fence(&mut self, column: &'static str) {
        self.push(
            "INSERT INTO write_fences ({}) SELECT 1 WHERE changes() <> 1",
            &[column.to_string()],
        );
    }

    /// Runs the batch; the rows its `RETURNING` clauses gave, in statement order. A batch of
    /// one dossier has few shapes and is kept prepared on the connection; a batch of many
    /// (a group of submissions) is prepared for this run only, or each group size would
    /// keep its own long program in the connection's statement cache.
    async fn run(self, conn: &mut SqliteConnection, keep: bool) -> Result<Vec<(i64,)>> {
        let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(self.sql)).persistent(keep);
        for v in self.vals {
            q = v.bind_to(q);
        }
        q.fetch_all(&mut *conn).await.map_err(fenced)
    }
}

/// A fence's failure as the statement-by-statement path reports it.
fn fenced(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(d) = &e {
        let message = d.message();
        if message.contains("dossier_version_moved") {
            return Error::Conflict("the dossier is no longer at the expected version".into());
        }
        if message.contains("claim_taken_over") {
            return Error::LeaseLost("the claimed work was taken over".into());
        }
    }
    Error::Database(e)
}

/// The hash of the journal row before `t`'s: the caller's, or one read (none for the first).
async fn previous_hash(
    conn: &mut SqliteConnection,
    t: &Transition,
    head: Option<&str>,
) -> Result<String> {
    if let Some(known) = head {
        return Ok(known.to_string());
    }
    let version = i64::try_from(t.journal.version).unwrap_or(i64::MAX);
    if version <= 1 {
        return Ok(GENESIS.to_string());
    }
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT hash FROM journal WHERE dossier_id = $1 AND version = $2")
            .bind(&t.state.id.0)
            .bind(version - 1)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.and_then(|(h,)| h).unwrap_or_default())
}

/// Appends the journal row and the effects' rows of `t` to `b`; the outbox rows it creates
/// (their ids are read back in this order).
fn journal_and_effects(
    b: &mut Batch,
    t: &Transition,
    node: &str,
    prev: &str,
    dispatch: Option<Millis>,
) -> Result<Vec<(Effect, i64)>> {
    let id = &t.state.id.0;
    let link = JournalLink {
        version: i64::try_from(t.journal.version).unwrap_or(i64::MAX),
        at: t.journal.at,
        node: node.to_string(),
        event: serde_json::to_string(&t.journal.event)?,
        status: status_name(&t.journal.status),
        hash: None,
    };
    let hash = journal_hash(prev, id, &link);
    let args = [
        b.text(id),
        b.int(link.version),
        b.int(link.at),
        b.text(node),
        b.text(link.event),
        b.text(link.status),
        b.text(hash),
    ];
    b.push(
        "INSERT INTO journal (dossier_id, version, at, node, event, status, hash) \
         VALUES ({}, {}, {}, {}, {}, {}, {})",
        &args,
    );
    let now = t.journal.at;
    let mut outbox = Vec::new();
    for e in &t.effects {
        match e {
            Effect::SetTimer { id: timer, at } => {
                let args = [
                    b.text(id),
                    b.text(kind_name(timer.kind)),
                    b.text(timer.step.as_deref().unwrap_or_default()),
                    b.int(*at),
                ];
                b.push(
                    "INSERT INTO timers (dossier_id, kind, step, due_at) VALUES ({}, {}, {}, {}) \
                     ON CONFLICT (dossier_id, kind, step) DO UPDATE SET due_at = excluded.due_at, \
                     lease_owner = NULL, lease_until = NULL, epoch = timers.epoch + 1",
                    &args,
                );
            }
            Effect::CancelTimer { id: timer } => {
                let args = [
                    b.text(id),
                    b.text(kind_name(timer.kind)),
                    b.text(timer.step.as_deref().unwrap_or_default()),
                ];
                b.push(
                    "DELETE FROM timers WHERE dossier_id = {} AND kind = {} AND step = {}",
                    &args,
                );
            }
            Effect::OpenTask {
                step,
                agency,
                action,
                request,
            } => {
                let args = [
                    b.text(id),
                    b.text(step.as_str()),
                    b.text(agency.as_str()),
                    b.text(action.as_str()),
                    b.text(serde_json::to_string(request)?),
                    b.int(now),
                ];
                b.push(
                    "INSERT INTO tasks (dossier_id, step, agency, action, request, status, opened_at) \
                     VALUES ({}, {}, {}, {}, {}, 'queued', {}) ON CONFLICT (dossier_id, step) DO UPDATE \
                     SET request = excluded.request, status = 'queued', claimed_by = NULL, claim_until = NULL",
                    &args,
                );
            }
            Effect::CloseTask { step, .. } => {
                let args = [b.text(id), b.text(step.as_str())];
                b.push(
                    "UPDATE tasks SET status = 'closed' WHERE dossier_id = {} AND step = {}",
                    &args,
                );
            }
            Effect::CallAdapter { .. } | Effect::Notify { .. } => {
                let kind = if matches!(e, Effect::CallAdapter { .. }) {
                    "call"
                } else {
                    "notify"
                };
                // Claimed by the committing node at once (epoch 1, as a claim), or left for
                // any node to claim.
                let epoch = i64::from(dispatch.is_some());
                let at = b.int(now);
                let args = [
                    b.text(id),
                    b.text(kind),
                    b.text(serde_json::to_string(e)?),
                    at.clone(),
                    at,
                    b.p(Val::OptText(dispatch.map(|_| node.to_string()))),
                    b.p(Val::OptInt(dispatch)),
                    b.int(epoch),
                ];
                b.push(
                    "INSERT INTO outbox (dossier_id, kind, effect, created_at, available_at, \
                     lease_owner, lease_until, epoch) VALUES ({}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
                    &args,
                );
                outbox.push((e.clone(), epoch));
            }
        }
    }
    Ok(outbox)
}

/// The rows handed over to the committing node, from the ids `RETURNING` gave.
fn handed_over(
    dossier: &DossierId,
    outbox: Vec<(Effect, i64)>,
    ids: Vec<(i64,)>,
    dispatch: Option<Millis>,
    now: Millis,
) -> Result<Dispatched> {
    if ids.len() != outbox.len() {
        return Err(Error::Conflict(format!(
            "{} outbox rows were stored for dossier {dossier}, {} expected",
            ids.len(),
            outbox.len()
        )));
    }
    if dispatch.is_none() {
        return Ok(Vec::new());
    }
    Ok(outbox
        .into_iter()
        .zip(ids)
        .map(|((effect, epoch), (id,))| ClaimedEffect {
            id,
            dossier: dossier.clone(),
            effect,
            epoch,
            created_at: now,
        })
        .collect())
}

/// One transition's writes inside the caller's transaction, in one round trip (two when
/// the caller does not know the previous journal hash).
pub(crate) async fn write_commit(
    conn: &mut SqliteConnection,
    c: &Commit<'_>,
) -> Result<Dispatched> {
    let t = c.transition;
    let id = &t.state.id;
    let prev = previous_hash(conn, t, c.head).await?;
    let mut b = Batch::default();
    let state = b.text(serde_json::to_string(&t.state)?);
    let version = b.int(i64::try_from(t.state.version).unwrap_or(i64::MAX));
    let dossier = b.text(&id.0);
    let expected = b.int(i64::try_from(c.expected_version).unwrap_or(i64::MAX));
    // The indexed status columns are rewritten only when they moved (as `group.rs`).
    if t.moved.status {
        let status = b.text(status_name(&t.state.status));
        let closed = b.p(Val::OptInt(t.state.closed_at));
        b.push(
            "UPDATE dossiers SET state = {}, version = {}, status = {}, closed_at = {} \
             WHERE id = {} AND version = {}",
            &[state, version, status, closed, dossier, expected],
        );
    } else {
        b.push(
            "UPDATE dossiers SET state = {}, version = {} WHERE id = {} AND version = {}",
            &[state, version, dossier, expected],
        );
    }
    b.fence("dossier_version");
    match c.consumed {
        Some(Consumed::Timer { kind, step, epoch }) => {
            let args = [
                b.text(&id.0),
                b.text(kind_name(*kind)),
                b.text(step.clone().unwrap_or_default()),
                b.int(*epoch),
            ];
            b.push(
                "DELETE FROM timers WHERE dossier_id = {} AND kind = {} AND step = {} AND epoch = {}",
                &args,
            );
            b.fence("claim");
        }
        Some(Consumed::Outbox { id: row, epoch }) => {
            let args = [b.int(*row), b.int(*epoch)];
            b.push("DELETE FROM outbox WHERE id = {} AND epoch = {}", &args);
            b.fence("claim");
        }
        None => {}
    }
    let outbox = journal_and_effects(&mut b, t, c.node, &prev, c.dispatch)?;
    if let Some((step, st)) = t.task_to_sync() {
        let args = [
            b.text(status_name(&st.status)),
            b.p(Val::OptText(st.claimed_by.clone())),
            b.p(Val::OptInt(st.claim_until)),
            b.text(&id.0),
            b.text(step),
        ];
        b.push(
            "UPDATE tasks SET status = {}, claimed_by = {}, claim_until = {} \
             WHERE dossier_id = {} AND step = {} AND status <> 'closed'",
            &args,
        );
    }
    let ids = b.run(conn, true).await?;
    handed_over(id, outbox, ids, c.dispatch, t.journal.at)
}

/// New dossiers' rows, their journal rows and their effects' rows, in one round trip. A
/// submission key used before fails the query with a unique violation.
pub(crate) async fn insert_all(
    conn: &mut SqliteConnection,
    rows: &[(&NewDossier<'_>, &Transition)],
) -> Result<Vec<Dispatched>> {
    let mut b = Batch::default();
    let mut outboxes = Vec::with_capacity(rows.len());
    for (new, t) in rows {
        outboxes.push(push_created(&mut b, new, t)?);
    }
    let mut ids = b.run(conn, rows.len() == 1).await?.into_iter();
    let mut out = Vec::with_capacity(rows.len());
    for ((new, t), outbox) in rows.iter().zip(outboxes) {
        let mine: Vec<(i64,)> = ids.by_ref().take(outbox.len()).collect();
        out.push(handed_over(
            &t.state.id,
            outbox,
            mine,
            new.dispatch,
            t.journal.at,
        )?);
    }
    Ok(out)
}

/// Appends a new dossier's row, its journal row and its effects' rows to `b`.
fn push_created(b: &mut Batch, new: &NewDossier<'_>, t: &Transition) -> Result<Vec<(Effect, i64)>> {
    let d = &t.state;
    let args = [
        b.text(&d.id.0),
        b.text(&d.code),
        b.text(new.procedure_hash),
        b.p(Val::OptText(new.submission_key.map(str::to_string))),
        b.text(status_name(&d.status)),
        b.int(i64::try_from(d.version).unwrap_or(i64::MAX)),
        b.text(serde_json::to_string(d)?),
        b.int(d.received_at),
        b.p(Val::OptInt(d.closed_at)),
        b.p(Val::OptText(new.origin.submitted_by.clone())),
        b.p(Val::OptText(new.origin.province.clone())),
        b.p(Val::OptText(new.origin.commune.clone())),
    ];
    b.push(
        "INSERT INTO dossiers (id, code, procedure_hash, submission_key, status, version, state, \
         received_at, closed_at, submitted_by, province, commune) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        &args,
    );
    journal_and_effects(b, t, new.node, GENESIS, new.dispatch)
}
