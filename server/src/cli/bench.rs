//! `lienthong bench`: the standard workload (three automated steps in a row per dossier)
//! through the real engine path — submission, outbox, adapter call, result as an event —
//! on SQLite (`synchronous=FULL`) or PostgreSQL.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use lienthong_engine::adapter::{Adapter, CallFuture, Request, Response};
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::SystemClock;
use lienthong_engine::definition::{Catalog, validate_source};
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime, Submission};
use lienthong_engine::store::{PgStore, SqliteStore, Store};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    store: StoreKind,
    /// PostgreSQL URL (with --store postgres); the benchmark's tables are created there.
    #[arg(long, env = "LIENTHONG_DATABASE_URL")]
    database_url: Option<String>,
    /// Dossiers in the throughput phase.
    #[arg(long, default_value_t = 2_000)]
    dossiers: usize,
    /// Instead of the workload: this many deadline warnings due in the same second.
    #[arg(long)]
    timers: Option<usize>,
    /// Instead of the workload: a store of this many dossiers, filled in SQL, and the
    /// lookups, desks' queues and managers' reports over it.
    #[arg(long, alias = "population", conflicts_with = "timers")]
    report_population: Option<usize>,
    /// With --report-population on SQLite: keep the store in this file, and measure a store
    /// already filled there without filling it again.
    #[arg(long, requires = "report_population")]
    keep: Option<PathBuf>,
    /// Concurrent submitters.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Engine nodes on the one database (PostgreSQL), each with its own pool; submitters
    /// are spread over them.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// Also report where one dossier's time goes, span by span along its path (see
    /// `bench_trace.rs`).
    #[arg(long)]
    trace: bool,
    #[arg(long, value_enum, default_value = "json")]
    format: super::Format,
}

/// An agency that answers at once, as the workload prescribes.
#[derive(Debug)]
pub(crate) struct Immediate(pub(crate) &'static str);

impl Adapter for Immediate {
    fn agency(&self) -> &str {
        self.0
    }

    fn call<'a>(&'a self, r: &'a Request) -> CallFuture<'a> {
        Box::pin(async move {
            let case = r.payload["form"]["case_id"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let prefix: String = r.step.chars().take(3).collect::<String>().to_uppercase();
            let out = json!({"step": r.step, "case_id": case, "status": "ok", "ref": format!("{prefix}-{case}")});
            Ok(Response::Completed {
                outputs: out.as_object().cloned().unwrap_or_default(),
            })
        })
    }
}

fn form(i: usize) -> serde_json::Value {
    json!({
        "case_id": format!("bg-{i:08}"),
        "child": {"given_name": "Alex", "family_name": "Example", "birth_date": "2026-11-22"},
        "parents": [format!("P{i:07}A"), format!("P{i:07}B")],
        "municipality": "0042",
        "address": "Main Street 1, 12345"
    })
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// The value at percentile `p` of sorted values (the reporting model's nearest rank); 0 when
/// there are none.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    lienthong_engine::report::percentile(sorted, p).unwrap_or(0.0)
}

async fn measure<S: Store>(
    stores: Vec<S>,
    label: &str,
    args: &BenchArgs,
    trace: Option<&super::bench_trace::Trace>,
) -> anyhow::Result<serde_json::Value> {
    let first = stores.first().context("no store to measure")?;
    first.migrate().await?;
    let text = include_str!("bench.yaml");
    let p = validate_source("bench.yaml", text.as_bytes(), &Catalog::builtin())
        .procedure
        .context("the benchmark procedure is invalid")?;
    let adapters: Vec<Arc<dyn Adapter>> = vec![
        Arc::new(Immediate("civil_status")),
        Arc::new(Immediate("residence")),
        Arc::new(Immediate("social_insurance")),
    ];
    // One runtime per store: a node each, with its own pool, committer and worker.
    let nodes = stores.len();
    let rts: Vec<Arc<Runtime<S>>> = stores
        .into_iter()
        .enumerate()
        .map(|(k, store)| {
            Arc::new(Runtime::new(
                store,
                Arc::new(Calendar::vietnam()),
                Arc::new(SystemClock),
                adapters.clone(),
                Arc::new(RecordingNotifier::default()),
                Config {
                    node: format!("bench-{}-{k}", std::process::id()),
                    ..Config::default()
                },
            ))
        })
        .collect();
    let rt = rts[0].clone();
    rt.publish(&p).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = rts
        .iter()
        .flat_map(|rt| [rt.clone(), rt.clone()])
        .map(|rt| {
            let stopped = stopped.clone();
            tokio::spawn(async move { rt.run(stopped).await })
        })
        .collect();

    // Throughput: N dossiers from K submitters, until the last is decided. Each submitter
    // waits for its dossiers' closings (answered by the committing node as they happen);
    // the store's counts are checked afterwards. A PostgreSQL database may hold earlier
    // runs: count from what is already decided.
    let decided_now = || async {
        let counts = rt.store().count_by_status().await?;
        Ok::<i64, anyhow::Error>(
            counts
                .iter()
                .filter(|(s, _)| s == "decided")
                .map(|(_, n)| *n)
                .sum(),
        )
    };
    let before = decided_now().await?;
    let start = Instant::now();
    let per = args.dossiers.div_ceil(args.concurrency.max(1));
    let mut submitters = Vec::new();
    for k in 0..args.concurrency.max(1) {
        let rt = rts[k % nodes].clone();
        let range = (k * per)..((k + 1) * per).min(args.dossiers);
        submitters.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in range {
                ids.push(rt.submit(submission(form(i))).await?.0);
            }
            let mut open = 0;
            for id in &ids {
                if !rt.until_closed(id, Duration::from_secs(600)).await? {
                    open += 1;
                }
            }
            Ok::<_, lienthong_engine::runtime::Error>((ids.len(), open))
        }));
    }
    let (mut filed, mut open) = (0, 0);
    for s in submitters {
        let (n, o) = s.await??;
        filed += n;
        open += o;
    }
    if open > 0 {
        bail!("{open} of {filed} dossiers were not decided within 10 minutes");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let peak = peak_rss_mb();
    let decided = decided_now().await? - before;
    if decided != i64::try_from(filed)? {
        bail!("{filed} dossiers were filed and closed, but the store counts {decided} decided");
    }

    // Latency: one dossier at a time, submission to decision (after a few warm-up ones).
    let mut latencies = Vec::new();
    let mut paths = Vec::new();
    for i in 0..205 {
        if let Some(t) = trace {
            t.clear();
        }
        let t = Instant::now();
        let (id, _) = rt.submit(submission(form(1_000_000 + i))).await?;
        if !rt.until_closed(&id, Duration::from_secs(60)).await? {
            bail!("dossier {id} was not decided within a minute");
        }
        if i >= 5 {
            latencies.push(t.elapsed().as_secs_f64() * 1_000.0);
            if let Some(tr) = trace {
                paths.push(tr.take(t));
            }
        }
    }
    let _ = stop.send(true);
    for w in workers {
        w.await??;
    }
    latencies.sort_by(f64::total_cmp);
    Ok(json!({
        "store": label,
        "nodes": nodes,
        "dossiers": filed,
        "steps_per_dossier": 3,
        "concurrency": args.concurrency,
        "elapsed_s": (elapsed * 1000.0).round() / 1000.0,
        "throughput_per_s": (filed as f64 / elapsed).round(),
        "p50_ms": (percentile(&latencies, 50.0) * 100.0).round() / 100.0,
        "p99_ms": (percentile(&latencies, 99.0) * 100.0).round() / 100.0,
        "peak_rss_mb": (peak * 10.0).round() / 10.0,
        "trace": trace.map(|_| super::bench_trace::breakdown(&paths)),
    }))
}

/// The workload's submission of `form`.
fn submission(form: serde_json::Value) -> Submission {
    Submission {
        channel: Default::default(),
        procedure: "bench-birth-skeleton".into(),
        bundle: None,
        form,
        key: None,
        origin: Default::default(),
    }
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let trace = args.trace.then(super::bench_trace::Trace::default);
    if let Some(t) = &trace {
        use tracing_subscriber::layer::SubscriberExt as _;
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(t.clone()))
            .context("another tracing subscriber is installed")?;
    }
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = tokio.block_on(async {
        match args.store {
            StoreKind::Sqlite => {
                let dir =
                    std::env::temp_dir().join(format!("lienthong-bench-{}", std::process::id()));
                std::fs::create_dir_all(&dir)?;
                let path: PathBuf = args.keep.clone().unwrap_or_else(|| dir.join("bench.db"));
                let store = SqliteStore::open(&path).await?;
                let r = match (args.timers, args.report_population) {
                    (Some(n), _) => super::bench_timers::measure(store, "sqlite", n).await,
                    (_, Some(n)) => super::bench_report::measure(store, "sqlite", n).await,
                    _ if args.nodes > 1 => Err(anyhow::anyhow!(
                        "one engine process holds a SQLite store: use --nodes with PostgreSQL"
                    )),
                    _ => measure(vec![store], "sqlite", &args, trace.as_ref()).await,
                };
                std::fs::remove_dir_all(&dir).ok();
                r
            }
            StoreKind::Postgres => {
                let url = args
                    .database_url
                    .clone()
                    .context("--store postgres needs --database-url")?;
                let store = PgStore::connect(&url, 16).await?;
                match (args.timers, args.report_population) {
                    (Some(n), _) => super::bench_timers::measure(store, "postgres", n).await,
                    (_, Some(n)) => super::bench_report::measure(store, "postgres", n).await,
                    _ => {
                        let mut stores = vec![store];
                        for _ in 1..args.nodes.max(1) {
                            stores.push(PgStore::connect(&url, 16).await?);
                        }
                        measure(stores, "postgres", &args, trace.as_ref()).await
                    }
                }
            }
        }
    })?;
    match args.format {
        super::Format::Json => out!("{report}"),
        super::Format::Text => out!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(ExitCode::SUCCESS)
}
