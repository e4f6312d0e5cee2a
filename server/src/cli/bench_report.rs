//! `lienthong bench --population N` (also `--report-population`): a store of N dossiers, and
//! what reads it — a citizen's lookup by code, an officer's first queue page, the managers'
//! report.
//!
//! The fixture publishes the shipped groups and files twenty real dossiers of them through
//! the runtime. One in a hundred of the N are open: copies (in SQL) of those real dossiers,
//! whose facts each report works out live. The others are closed over the last two years:
//! rows copied in SQL (their receipt and closing instants, status, province and commune
//! computed from their number, so the store's tables and indexes have their real size),
//! with their facts generated from the same numbers and stored by the rollup the daily job
//! runs (`apply_rollup`). Each copy gets its template's task rows (closed for the closed
//! ones). Then the runtime's `report` is timed nationwide, for a province, for a commune and
//! for one month, five times each; 1,000 lookups by code and 40 first queue pages per agency
//! are timed; all reported with the store's size.

use crate::cli::bench::percentile;
use crate::cli::demo::{mix, procedures};
use anyhow::Context;
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::{Clock, SystemClock};
use lienthong_engine::definition::Procedure;
use lienthong_engine::machine::{Channel, DossierStatus, Timeliness};
use lienthong_engine::report::rollup::Rollup;
use lienthong_engine::report::{Facts, Held};
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime, Submission, midnight};
use lienthong_engine::store::{PgStore, Scope, SqliteStore, Store};
use serde_json::{Value, json};
use sqlx::{Database, Encode, Executor, IntoArguments, Pool, Type};
use std::sync::Arc;
use std::time::Instant;

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// Days the closed dossiers were received over.
const SPAN_DAYS: i64 = 730;
const PROVINCES: i64 = 34;
const COMMUNES: i64 = 3_300;

/// Copies template `$3` `$1` times as closed dossiers `<$2><i>`, received from `$4` on.
const COPY_CLOSED: &str = "WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
     INSERT INTO dossiers (id, code, procedure_hash, submission_key, status, version, state, received_at, closed_at, province, commune) \
     SELECT $2 || i, $2 || i, d.procedure_hash, NULL, CASE WHEN i % 20 = 0 THEN 'stopped' ELSE 'decided' END, d.version, d.state, \
     $4 + (i % 730) * 86400000 + (i % 8) * 3600000, $4 + (i % 730) * 86400000 + (i % 8) * 3600000 + (1 + i % 5) * 86400000, \
     CAST(10 + i % 34 AS TEXT), CAST(10000 + i % 3300 AS TEXT) FROM n, dossiers d WHERE d.id = $3";
/// Copies template `$3` `$1` times as open dossiers `<$2><i>` (the state keeps the copy's id).
const COPY_OPEN: &str = "WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
     INSERT INTO dossiers (id, code, procedure_hash, submission_key, status, version, state, received_at, closed_at, province, commune) \
     SELECT $2 || i, $2 || i, d.procedure_hash, NULL, d.status, d.version, \
     replace(replace(d.state, d.id, $2 || i), d.code, $2 || i), d.received_at, NULL, \
     CAST(10 + i % 34 AS TEXT), CAST(10000 + i % 3300 AS TEXT) FROM n, dossiers d WHERE d.id = $3";

/// Copies the task rows of template `$3` for its `$1` copies `<$2><i>`: as they are for
/// open copies (`$4` = 0), closed for closed ones (`$4` = 1), so every agency's queue holds
/// its open tasks among the closed rows of a long-running store.
const COPY_TASKS: &str = "WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
     INSERT INTO tasks (dossier_id, step, agency, action, request, status, claimed_by, claim_until, opened_at) \
     SELECT $2 || i, t.step, t.agency, t.action, t.request, CASE WHEN $4 = 1 THEN 'closed' ELSE t.status END, \
     t.claimed_by, t.claim_until, t.opened_at + i FROM n, tasks t WHERE t.dossier_id = $3";

/// Runs one statement with integer and text arguments.
async fn exec<DB: Database>(
    pool: &Pool<DB>,
    sql: &'static str,
    n: i64,
    a: &str,
    b: &str,
    at: i64,
) -> anyhow::Result<()>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'e> i64: Encode<'e, DB> + Type<DB>,
    for<'e> String: Encode<'e, DB> + Type<DB>,
    DB::Arguments: IntoArguments<DB>,
{
    let mut conn = pool.acquire().await?;
    let mut q = sqlx::query(sql)
        .bind(n)
        .bind(a.to_string())
        .bind(b.to_string());
    if sql.contains("$4") {
        q = q.bind(at);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// The fixture's SQL, on either store.
pub trait Population: Store {
    fn copy(
        &self,
        sql: &'static str,
        n: i64,
        prefix: &str,
        template: &str,
        at: i64,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// The database's size on disk, in bytes.
    fn size(&self) -> impl Future<Output = anyhow::Result<i64>> + Send;
}

impl Population for SqliteStore {
    async fn copy(
        &self,
        sql: &'static str,
        n: i64,
        prefix: &str,
        template: &str,
        at: i64,
    ) -> anyhow::Result<()> {
        exec(self.pool(), sql, n, prefix, template, at).await
    }

    async fn size(&self) -> anyhow::Result<i64> {
        let (pages, size): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT page_count FROM pragma_page_count()), (SELECT page_size FROM pragma_page_size())",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(pages * size)
    }
}

impl Population for PgStore {
    async fn copy(
        &self,
        sql: &'static str,
        n: i64,
        prefix: &str,
        template: &str,
        at: i64,
    ) -> anyhow::Result<()> {
        exec(self.pool(), sql, n, prefix, template, at).await
    }

    async fn size(&self) -> anyhow::Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(self.pool())
                .await?,
        )
    }
}

/// The facts of closed copy `i` of `p`, from the same numbers as `COPY_CLOSED`.
fn facts(p: &Procedure, prefix: &str, i: i64, start: i64) -> Facts {
    let received_at = start + (i % SPAN_DAYS) * DAY + (i % 8) * HOUR;
    let decided = i % 20 != 0;
    let working_days = ((i * 37) % 400 + 10) as f64 / 100.0;
    let timeliness = match i % 10 {
        0..=6 => Timeliness::Early,
        7 | 8 => Timeliness::OnTime,
        _ => Timeliness::Late,
    };
    let steps: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.window.is_none())
        .take(3)
        .collect();
    let share = (working_days / steps.len().max(1) as f64 * 100.0).round() / 100.0;
    Facts {
        code: format!("{prefix}{i}"),
        procedure: p.id.clone(),
        status: if decided {
            DossierStatus::Decided
        } else {
            DossierStatus::Stopped
        },
        received_at,
        closed_at: Some(received_at + (1 + i % 5) * DAY),
        channel: Some(if i % 5 < 3 {
            Channel::Online
        } else {
            Channel::InPerson
        }),
        decided,
        working_days,
        timeliness: decided.then_some(timeliness),
        overdue: false,
        target_met: None,
        held: steps
            .iter()
            .map(|s| Held {
                step: s.id.clone(),
                agency: s.agency.clone(),
                working_days: share,
            })
            .collect(),
        breached: if decided && timeliness == Timeliness::Late {
            steps.first().map(|s| s.id.clone()).into_iter().collect()
        } else {
            Vec::new()
        },
    }
}

/// Five timings of one report, in milliseconds: p50 and max.
async fn time<S: Store>(
    rt: &Runtime<S>,
    scope: &Scope,
    days: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
) -> anyhow::Result<Value> {
    let mut ms = Vec::new();
    let mut dossiers = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let r = rt.report(scope, None, days).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        dossiers = r.dossiers;
    }
    ms.sort_by(f64::total_cmp);
    Ok(json!({
        "dossiers": dossiers,
        "p50_ms": (percentile(&ms, 50.0) * 10.0).round() / 10.0,
        "max_ms": (ms.last().copied().unwrap_or(0.0) * 10.0).round() / 10.0,
    }))
}

/// Fills the store: the shipped groups, twenty real dossiers, their open copies, the closed
/// rows and their stored tallies.
async fn fill<S: Population>(
    store: &S,
    rt: &Runtime<S>,
    n: usize,
    today: chrono::NaiveDate,
) -> anyhow::Result<Value> {
    let groups = procedures()?;
    for p in &groups {
        rt.publish(p).await?;
    }
    let mut templates = Vec::new();
    for planned in mix::plan(20, 7, today, 1) {
        let (id, _) = rt
            .submit(Submission {
                procedure: planned.procedure.to_string(),
                bundle: planned.bundle,
                form: planned.form,
                key: None,
                origin: Default::default(),
                channel: planned.channel,
            })
            .await?;
        templates.push((planned.procedure, id));
    }
    let fill = Instant::now();
    let n = i64::try_from(n)?;
    let open = (n / 100).max(1);
    let per_template = (open / templates.len() as i64).max(1);
    let run = std::process::id();
    for (k, (_, id)) in templates.iter().enumerate() {
        let prefix = format!("open{run}-{k}-");
        store
            .copy(COPY_OPEN, per_template, &prefix, &id.0, 0)
            .await?;
        store
            .copy(COPY_TASKS, per_template, &prefix, &id.0, 0)
            .await?;
    }
    let start = midnight(today) - (SPAN_DAYS + 10) * DAY;
    let closed = n - per_template * templates.len() as i64 - templates.len() as i64;
    let per_group = closed / groups.len() as i64;
    let mut rollup = Rollup::default();
    for p in &groups {
        let (_, template) = templates
            .iter()
            .find(|(id, _)| *id == p.id)
            .context("a template dossier of every group")?;
        let prefix = format!("closed{run}-{}-", p.id);
        store
            .copy(COPY_CLOSED, per_group, &prefix, &template.0, start)
            .await?;
        store
            .copy(COPY_TASKS, per_group, &prefix, &template.0, 1)
            .await?;
        for i in 1..=per_group {
            let f = facts(p, &prefix, i, start);
            let province = (10 + i % PROVINCES).to_string();
            let commune = (10_000 + i % COMMUNES).to_string();
            rollup.add(&f, Some(&province), Some(&commune));
        }
    }
    let filled_s = fill.elapsed().as_secs_f64();
    let rows = rollup.into_rows();
    let roll = Instant::now();
    let stored = store.apply_rollup(0, midnight(today), &rows).await?;
    let rollup_s = roll.elapsed().as_secs_f64();
    anyhow::ensure!(stored, "the watermark moved under the benchmark");
    Ok(json!({
        "open": per_template * templates.len() as i64 + templates.len() as i64,
        "stored_rows": rows.len(),
        "fill_s": (filled_s * 10.0).round() / 10.0,
        "rollup_s": (rollup_s * 10.0).round() / 10.0,
    }))
}

pub async fn measure<S: Population>(store: S, label: &str, n: usize) -> anyhow::Result<Value> {
    store.migrate().await?;
    let rt = Runtime::new(
        store.clone(),
        Arc::new(Calendar::vietnam()),
        Arc::new(SystemClock),
        Vec::new(),
        Arc::new(RecordingNotifier::default()),
        Config {
            node: format!("report-{}", std::process::id()),
            ..Config::default()
        },
    );
    let today = chrono::DateTime::from_timestamp_millis(SystemClock.now())
        .context("the clock")?
        .with_timezone(&lienthong_engine::calendar::VIETNAM_OFFSET)
        .date_naive();
    // A store filled before (`--keep`) is measured as it is.
    let filled = if store.rollup_watermark().await? > 0 {
        json!({"reused": true})
    } else {
        fill(&store, &rt, n, today).await?
    };
    let national = time(&rt, &Scope::default(), None).await?;
    let province = Scope {
        province: Some("10".into()),
        commune: None,
    };
    let by_province = time(&rt, &province, None).await?;
    let commune = Scope {
        province: Some("10".into()),
        commune: Some("10000".into()),
    };
    let by_commune = time(&rt, &commune, None).await?;
    let month_start = today - chrono::Days::new(400);
    let month = time(
        &rt,
        &Scope::default(),
        Some((month_start, month_start + chrono::Days::new(30))),
    )
    .await?;
    let lookups = lookups(&rt).await?;
    let queues = queues(&rt).await?;
    let total: i64 = national["dossiers"].as_i64().unwrap_or(0);
    Ok(json!({
        "store": label,
        "population": total,
        "fill": filled,
        "report_nationwide": national,
        "report_province": by_province,
        "report_commune": by_commune,
        "report_one_month": month,
        "lookup": lookups,
        "queue": queues,
        "size_mb": store.size().await? / 1_000_000,
        "at": SystemClock.now(),
    }))
}

/// p50 and p99 of timings in milliseconds, to a hundredth.
fn spread(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let r = |v: f64| (v * 100.0).round() / 100.0;
    (r(percentile(&ms, 50.0)), r(percentile(&ms, 99.0)))
}

/// A citizen's status lookup, 1,000 times over codes spread across the store: the dossier
/// by its code, then its state (`/status`, `GET /api/v1/dossiers/{code}`).
async fn lookups<S: Store>(rt: &Runtime<S>) -> anyhow::Result<Value> {
    use lienthong_engine::machine::DossierId;
    // Codes sampled with a fixed linear congruence over the ids' digits.
    let mut codes = Vec::new();
    let mut x: u64 = 12_345;
    for _ in 0..1_000 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let after = DossierId(format!("closed{}", x % 10_000_000));
        if let Some((_, d)) = rt
            .store()
            .dossiers(Some(&after), 1)
            .await?
            .into_iter()
            .next()
        {
            codes.push(d.code);
        }
    }
    anyhow::ensure!(!codes.is_empty(), "no dossier to look up");
    let mut ms = Vec::with_capacity(codes.len());
    for code in &codes {
        let t = Instant::now();
        let id = rt
            .dossier_by_code(code)
            .await?
            .context("a sampled code is stored")?;
        rt.load(&id).await?.context("a sampled dossier is stored")?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99) = spread(ms);
    Ok(json!({"lookups": codes.len(), "lookup_p50_ms": p50, "lookup_p99_ms": p99}))
}

/// An officer's desk: the first page (50) of each agency's open tasks, oldest first, 40
/// times per agency that has tasks.
async fn queues<S: Store>(rt: &Runtime<S>) -> anyhow::Result<Value> {
    use lienthong_engine::runtime::TaskQuery;
    let mut agencies: Vec<String> = procedures()?
        .iter()
        .flat_map(|p| p.steps.iter().map(|s| s.agency.to_string()))
        .collect();
    agencies.sort();
    agencies.dedup();
    let query = TaskQuery::default();
    let (mut ms, mut largest) = (Vec::new(), (String::new(), 0));
    for agency in &agencies {
        let first = rt.open_tasks(agency, &query).await?;
        if first.is_empty() {
            continue;
        }
        if first.len() > largest.1 {
            largest = (agency.clone(), first.len());
        }
        for _ in 0..40 {
            let t = Instant::now();
            let page = rt.open_tasks(agency, &query).await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(page.len() == first.len(), "the queue of {agency} changed");
        }
    }
    anyhow::ensure!(!ms.is_empty(), "no agency has open tasks");
    let pages = ms.len();
    let (p50, p99) = spread(ms);
    Ok(json!({
        "pages": pages,
        "fullest_page": largest.1,
        "queue_p50_ms": p50,
        "queue_p99_ms": p99,
    }))
}
