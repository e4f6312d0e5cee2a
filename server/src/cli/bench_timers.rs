//! `lienthong bench --timers N`: N deadline warnings due in the same second (reliability R7).
//!
//! One dossier of the benchmark procedure is filed and dispatched to an agency that accepts
//! and answers later, so its step waits with its SLA timers set. The fixture then copies that
//! dossier N times in SQL and gives each copy a warning timer due at the same instant T, a
//! few seconds ahead. The engine node, running as usual, fires them. Reported: how many
//! fired, how many twice, how many never, the lateness of each firing (the instant its
//! firing was applied, as its notification row records, minus T) at p50, p99 and max, and
//! when the last firing was seen stored (polled every 20 ms), which bounds the commit time.
//! Also reported: how long write transactions held the database's writer during the firing
//! (`lienthong_store_write_seconds` by operation, as the store records it). On SQLite one
//! writer serialises them, so their sum is a floor under the time to fire the lot.

use crate::cli::bench::{Immediate, percentile};
use anyhow::bail;
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::{Clock, SystemClock};
use lienthong_engine::definition::{Catalog, validate_source};
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime, Submission};
use lienthong_engine::store::{PgStore, SqliteStore, Store};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Copies the template dossier `n` times (ids `<prefix><i>`) with one warning timer each,
/// due at `due`; returns the number of copies. Same SQL on both databases.
const COPY_DOSSIERS: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
     INSERT INTO dossiers (id, code, procedure_hash, submission_key, status, version, state, received_at, closed_at) \
     SELECT $2 || i, d.code || '-' || i, d.procedure_hash, NULL, d.status, d.version, \
     replace(replace(d.state, d.id, $2 || i), d.code, d.code || '-' || i), d.received_at, d.closed_at \
     FROM n, dossiers d WHERE d.id = $3";
const COPY_TIMERS: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
     INSERT INTO timers (dossier_id, kind, step, due_at) SELECT $2 || i, 'warning', 'register_birth', $3 FROM n";
/// Whether any timer due at the instant is left: answered from the index alone and stopping at
/// the first row, so that polling every 20 ms takes no measurable share of the two cores
/// from the engine it measures (a `COUNT(*)` over 50,000 rows did).
const LEFT: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM timers WHERE due_at = $1 LIMIT 1) AS t";
const STATE_BYTES: &str = "SELECT CAST(AVG(LENGTH(state)) AS BIGINT) FROM dossiers";
/// Each firing, when it was applied: a warning that changed nothing is a notification (not a
/// journal row); a firing that changed its dossier is a journal row.
const FIRED: &str = "SELECT dossier_id, at FROM notifications WHERE at >= $1 \
     AND substr(dossier_id, 1, length($2)) = $2 UNION ALL \
     SELECT dossier_id, at FROM journal WHERE at >= $1 AND event LIKE '%timer_fired%' \
     AND substr(dossier_id, 1, length($2)) = $2";

macro_rules! fixture {
    ($pool:expr, $n:expr, $prefix:expr, $template:expr, $due:expr) => {{
        sqlx::query(COPY_DOSSIERS)
            .bind($n)
            .bind($prefix)
            .bind($template)
            .execute($pool)
            .await?;
        sqlx::query(COPY_TIMERS)
            .bind($n)
            .bind($prefix)
            .bind($due)
            .execute($pool)
            .await?;
    }};
}

macro_rules! left {
    ($pool:expr, $due:expr) => {
        sqlx::query_scalar::<_, i64>(LEFT)
            .bind($due)
            .fetch_one($pool)
            .await?
    };
}

macro_rules! fired {
    ($pool:expr, $due:expr, $prefix:expr) => {{
        use sqlx::Row;
        sqlx::query(FIRED)
            .bind($due)
            .bind($prefix)
            .fetch_all($pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("dossier_id")?,
                    r.try_get::<i64, _>("at")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    }};
}

/// The database side of the fixture, for each store.
pub trait Fixture: Store {
    fn copy(
        &self,
        n: i64,
        prefix: &str,
        template: &str,
        due: i64,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    fn left(&self, due: i64) -> impl Future<Output = anyhow::Result<i64>> + Send;
    /// The mean size of a stored dossier state, in bytes.
    fn state_bytes(&self) -> impl Future<Output = anyhow::Result<i64>> + Send;
    fn fired(
        &self,
        due: i64,
        prefix: &str,
    ) -> impl Future<Output = anyhow::Result<Vec<(String, i64)>>> + Send;
}

macro_rules! impl_fixture {
    ($store:ty) => {
        impl Fixture for $store {
            async fn copy(
                &self,
                n: i64,
                prefix: &str,
                template: &str,
                due: i64,
            ) -> anyhow::Result<()> {
                fixture!(self.pool(), n, prefix, template, due);
                Ok(())
            }
            async fn left(&self, due: i64) -> anyhow::Result<i64> {
                Ok(left!(self.pool(), due))
            }
            async fn state_bytes(&self) -> anyhow::Result<i64> {
                Ok(sqlx::query_scalar::<_, Option<i64>>(STATE_BYTES)
                    .fetch_one(self.pool())
                    .await?
                    .unwrap_or(0))
            }
            async fn fired(&self, due: i64, prefix: &str) -> anyhow::Result<Vec<(String, i64)>> {
                Ok(fired!(self.pool(), due, prefix))
            }
        }
    };
}

impl_fixture!(SqliteStore);
impl_fixture!(PgStore);

/// An agency that accepts and answers later: the step waits, its timers set.
#[derive(Debug)]
struct Accepting(&'static str);

impl lienthong_engine::adapter::Adapter for Accepting {
    fn agency(&self) -> &str {
        self.0
    }

    fn call<'a>(
        &'a self,
        _: &'a lienthong_engine::adapter::Request,
    ) -> lienthong_engine::adapter::CallFuture<'a> {
        Box::pin(async { Ok(lienthong_engine::adapter::Response::Accepted) })
    }
}

pub async fn measure<S: Fixture>(
    store: S,
    label: &str,
    n: usize,
) -> anyhow::Result<serde_json::Value> {
    store.migrate().await?;
    let text = include_str!("bench.yaml");
    let Some(p) = validate_source("bench.yaml", text.as_bytes(), &Catalog::builtin()).procedure
    else {
        bail!("the benchmark procedure is invalid");
    };
    let adapters: Vec<Arc<dyn lienthong_engine::adapter::Adapter>> = vec![
        Arc::new(Accepting("civil_status")),
        Arc::new(Immediate("residence")),
        Arc::new(Immediate("social_insurance")),
    ];
    let rt = Arc::new(Runtime::new(
        store.clone(),
        Arc::new(Calendar::vietnam()),
        Arc::new(SystemClock),
        adapters,
        Arc::new(RecordingNotifier::default()),
        Config {
            node: format!("timers-{}", std::process::id()),
            ..Config::default()
        },
    ));
    rt.publish(&p).await?;
    let sub = Submission {
        channel: Default::default(),
        procedure: p.id.clone(),
        bundle: None,
        form: json!({"case_id": "bg-00000000", "child": {}, "parents": [], "municipality": "0042", "address": "x"}),
        key: None,
        origin: Default::default(),
    };
    let (template, _) = rt.submit(sub).await?;
    while rt.tick().await?.calls == 0 {}
    let prefix = format!("tmr{}-", std::process::id());
    let due = SystemClock.now() + 3_000 + i64::try_from(n / 20)?;
    store
        .copy(i64::try_from(n)?, &prefix, &template.0, due)
        .await?;
    let metrics = lienthong_server::telemetry::metrics()?;
    let before = writer_time(&metrics.render());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = {
        let rt = rt.clone();
        tokio::spawn(async move { rt.run(stopped).await })
    };
    let start = Instant::now();
    while store.left(due).await? > 0 && start.elapsed() < Duration::from_secs(900) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // When the last firing was seen stored (within the 20-ms polling step).
    let all_stored_ms = SystemClock.now() - due;
    let _ = stop.send(true);
    worker.await??;
    let mut writer = serde_json::Map::new();
    let mut busy_s = 0.0;
    for (op, (s, n)) in writer_time(&metrics.render()) {
        let (s0, n0) = before.get(&op).copied().unwrap_or_default();
        if n > n0 {
            busy_s += s - s0;
            writer.insert(op, json!({"count": n - n0, "ms": ((s - s0) * 1e3).round()}));
        }
    }
    let fired = store.fired(due, &prefix).await?;
    let mut per = std::collections::HashMap::new();
    for (id, _) in &fired {
        *per.entry(id.as_str()).or_insert(0usize) += 1;
    }
    let mut lateness: Vec<f64> = fired.iter().map(|(_, at)| (at - due) as f64).collect();
    lateness.sort_by(f64::total_cmp);
    Ok(json!({
        "store": label,
        "timers": n,
        "fired": per.len(),
        "fired_twice": per.values().filter(|c| **c > 1).count(),
        "missed": n - per.len(),
        "lateness_p50_ms": percentile(&lateness, 50.0).round(),
        "lateness_p99_ms": percentile(&lateness, 99.0).round(),
        "lateness_max_ms": lateness.last().copied().unwrap_or(0.0).round(),
        "all_stored_after_ms": all_stored_ms,
        "writer_busy_ms": (busy_s * 1e3).round(),
        "writer": writer,
        "state_bytes": store.state_bytes().await?,
    }))
}

/// Per operation, the summed seconds and the count of `lienthong_store_write_seconds`, read
/// from the Prometheus rendering.
fn writer_time(text: &str) -> std::collections::BTreeMap<String, (f64, u64)> {
    let mut out = std::collections::BTreeMap::<String, (f64, u64)>::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("lienthong_store_write_seconds_") else {
            continue;
        };
        let (part, rest) = rest.split_once('{').unwrap_or((rest, ""));
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let Some(op) = labels
            .split(',')
            .find_map(|l| l.strip_prefix("op=\"")?.strip_suffix('"'))
        else {
            continue;
        };
        let entry = out.entry(op.to_string()).or_default();
        match part {
            "sum" => entry.0 = value.trim().parse().unwrap_or(0.0),
            "count" => entry.1 = value.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_writer_time_by_operation() {
        let text = "# TYPE lienthong_store_write_seconds summary\n\
            lienthong_store_write_seconds{op=\"group\",quantile=\"0.5\"} 0.03\n\
            lienthong_store_write_seconds_sum{op=\"group\"} 1.5\n\
            lienthong_store_write_seconds_count{op=\"group\"} 49\n\
            lienthong_store_write_seconds_sum{op=\"claim_timers\"} 0.25\n\
            lienthong_store_write_seconds_count{op=\"claim_timers\"} 50\n\
            lienthong_transitions_total{event=\"timer_fired\"} 3\n";
        let t = super::writer_time(text);
        assert_eq!(t.len(), 2);
        assert_eq!(t["group"], (1.5, 49));
        assert_eq!(t["claim_timers"], (0.25, 50));
    }
}
