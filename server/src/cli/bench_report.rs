//! `lienthong bench --report-population N`: the managers' report over a store of N dossiers.
//!
//! The fixture publishes the shipped groups and files twenty real dossiers of them through
//! the runtime. One in a hundred of the N are open: copies (in SQL) of those real dossiers,
//! whose facts each report works out live. The others are closed over the last two years:
//! rows copied in SQL (their receipt and closing instants, status, province and commune
//! computed from their number, so the store's tables and indexes have their real size),
//! with their facts generated from the same numbers and stored by the rollup the daily job
//! runs (`apply_rollup`). Then the runtime's `report` is timed nationwide, for a province,
//! for a commune and for one month, five times each; reported with the store's size.

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
        store
            .copy(
                COPY_OPEN,
                per_template,
                &format!("open{run}-{k}-"),
                &id.0,
                0,
            )
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
    let total: i64 = national["dossiers"].as_i64().unwrap_or(0);
    Ok(json!({
        "store": label,
        "population": total,
        "fill": filled,
        "report_nationwide": national,
        "report_province": by_province,
        "report_commune": by_commune,
        "report_one_month": month,
        "size_mb": store.size().await? / 1_000_000,
        "at": SystemClock.now(),
    }))
}
