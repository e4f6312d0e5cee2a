//! One engine node of the chaos run, as its own process: it files its share of the dossiers
//! (by submission key, so a restarted node files none twice), runs the engine against the
//! fake agencies over HTTP, plays the civil-status officer for human steps, and drains on
//! SIGTERM.

use anyhow::Context;
use lienthong_adapters::{HttpAdapter, HttpConfig};
use lienthong_engine::adapter::Adapter;
use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::SystemClock;
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime, Submission, TaskQuery};
use lienthong_engine::store::{PgStore, SqliteStore, Store};
use lienthong_tests::fixtures;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    /// This node's name.
    #[arg(long)]
    pub name: String,
    /// The SQLite file (embedded store).
    #[arg(long)]
    pub sqlite: Option<std::path::PathBuf>,
    /// The PostgreSQL URL.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Base URL of the fake agencies.
    #[arg(long)]
    pub agencies: String,
    #[arg(long)]
    pub lease_ms: i64,
    /// First and one-past-last dossier numbers this node files.
    #[arg(long, num_args = 2)]
    pub submit: Vec<usize>,
}

pub fn main(args: NodeArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match (&args.sqlite, &args.postgres) {
            (Some(path), _) => run(SqliteStore::open(path).await?, &args).await,
            (None, Some(url)) => run(PgStore::connect(url, 8).await?, &args).await,
            (None, None) => anyhow::bail!("give --sqlite FILE or --postgres URL"),
        }
    })
}

async fn run<S: Store>(store: S, args: &NodeArgs) -> anyhow::Result<()> {
    let adapters = fixtures::ROLES
        .iter()
        .map(|role| {
            let mut config = HttpConfig::new(role, &format!("{}/{role}", args.agencies));
            config.node = args.name.clone();
            config.timeout = Duration::from_secs(2);
            HttpAdapter::new(config).map(|a| Arc::new(a) as Arc<dyn Adapter>)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let config = Config {
        node: args.name.clone(),
        lease_ms: args.lease_ms,
        adapter_timeout: Duration::from_secs(3),
        poll: Duration::from_millis(250),
        ..Config::default()
    };
    let rt = Arc::new(Runtime::new(
        store,
        Arc::new(Calendar::vietnam()),
        Arc::new(SystemClock),
        adapters,
        Arc::new(RecordingNotifier::default()),
        config,
    ));
    let mut term = signal(SignalKind::terminate())?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = {
        let rt = rt.clone();
        tokio::spawn(async move { rt.run(stopped).await })
    };
    let submitter = tokio::spawn(submit_share(rt.clone(), args.submit.clone()));
    let officer = tokio::spawn(officer(rt.clone(), format!("officer-{}", args.name)));
    term.recv().await;
    submitter.abort();
    officer.abort();
    stop.send(true).ok();
    worker.await.context("worker task")??;
    Ok(())
}

/// Files dossiers `from..to`, round-robin over the three groups, each under its own key.
async fn submit_share<S: Store>(rt: Arc<Runtime<S>>, range: Vec<usize>) -> anyhow::Result<()> {
    let (from, to) = (range.first().copied(), range.get(1).copied());
    let (Some(from), Some(to)) = (from, to) else {
        return Ok(());
    };
    let forms = fixtures::forms();
    for i in from..to {
        let (procedure, bundle, form) = forms[i % forms.len()].clone();
        let sub = Submission {
            channel: Default::default(),
            procedure: procedure.into(),
            bundle: bundle.map(str::to_string),
            form,
            key: Some(format!("chaos-{i}")),
            origin: Default::default(),
        };
        // Transient store errors: try again (the key makes a second attempt harmless).
        while rt.submit(sub.clone()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// The civil-status officer: claims and completes the human steps in the agency's queue,
/// through the task API (on behalf of that agency only).
async fn officer<S: Store>(rt: Arc<Runtime<S>>, me: String) {
    let query = TaskQuery {
        limit: 64,
        ..TaskQuery::default()
    };
    loop {
        let tasks = rt
            .open_tasks("civil_status", &query)
            .await
            .unwrap_or_default();
        for t in &tasks {
            if t.claimed_by.as_deref().is_some_and(|by| by != me) {
                continue;
            }
            if rt
                .claim_task("civil_status", &t.dossier, &t.step, &me)
                .await
                .is_err()
            {
                continue;
            }
            let outputs = fixtures::outputs(&t.action);
            let _ = rt
                .complete_task("civil_status", &t.dossier, &t.step, &me, &outputs)
                .await;
        }
        if tasks.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
