//! The supervisor: prepares the store, starts the agencies and the nodes, kills and restarts
//! nodes on a seeded schedule, waits for every dossier, stops the nodes with SIGTERM and
//! hands everything to the checker.

use crate::check::{self, Kill, Report};
use crate::{RunArgs, StoreKind};
use anyhow::{Context, bail};
use lienthong_engine::clock::{Clock, SystemClock};
use lienthong_engine::store::{PgStore, Procedures, SqliteStore, Store};
use lienthong_tests::agency::{self, Agencies};
use lienthong_tests::fixtures;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the nodes keep their state.
enum Target {
    Sqlite(PathBuf),
    Postgres {
        admin: String,
        url: String,
        name: String,
    },
}

/// A seeded generator (no dependency needed for a schedule).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

struct Node {
    name: String,
    submit: (usize, usize),
    child: Child,
}

pub async fn run(args: &RunArgs) -> anyhow::Result<Report> {
    if args.store == StoreKind::Sqlite && args.nodes != 1 {
        bail!("the embedded SQLite store runs one node; use --store postgres for several");
    }
    let target = prepare(args).await?;
    let agencies = Agencies::new(args.seed, args.fail_percent);
    let base = agency::serve(agencies.clone()).await?;
    let exe = std::env::current_exe()?;
    let spawn = |name: &str, submit: (usize, usize)| -> anyhow::Result<Child> {
        let mut cmd = Command::new(&exe);
        cmd.arg("node")
            .args(["--name", name, "--agencies", &base])
            .args(["--lease-ms", &args.lease_ms.to_string()])
            .args(["--submit", &submit.0.to_string(), &submit.1.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        match &target {
            Target::Sqlite(path) => cmd.arg("--sqlite").arg(path),
            Target::Postgres { url, .. } => cmd.args(["--postgres", url]),
        };
        Ok(cmd.spawn()?)
    };
    let per = args.dossiers.div_ceil(args.nodes.max(1));
    let mut nodes = Vec::new();
    for i in 0..args.nodes {
        let name = format!("node-{}", i + 1);
        let submit = (
            (i * per).min(args.dossiers),
            ((i + 1) * per).min(args.dossiers),
        );
        let child = spawn(&name, submit)?;
        nodes.push(Node {
            name,
            submit,
            child,
        });
    }
    let started = Instant::now();
    let mut rng = Rng(args.seed.wrapping_add(0x5eed));
    let mut kills = Vec::new();
    while kills.len() < args.kills && started.elapsed().as_secs() < args.timeout_s {
        // A kill every two seconds on average, as in the reliability plan (R1).
        tokio::time::sleep(Duration::from_millis(1_000 + rng.below(2_000))).await;
        let Ok(i) = usize::try_from(rng.below(nodes.len() as u64)) else {
            continue;
        };
        let node = &mut nodes[i];
        node.child.kill()?;
        node.child.wait()?;
        kills.push(Kill {
            node: node.name.clone(),
            at: SystemClock.now(),
        });
        tokio::time::sleep(Duration::from_millis(100 + rng.below(500))).await;
        node.child = spawn(&node.name, node.submit)?;
    }
    let finished = wait_until_final(&target, args, started).await;
    // Stop every node as an operator would, and time the drain.
    let mut drain = Duration::ZERO;
    for node in &mut nodes {
        let asked = Instant::now();
        Command::new("kill")
            .args(["-TERM", &node.child.id().to_string()])
            .status()?;
        loop {
            if node.child.try_wait()?.is_some() {
                break;
            }
            if asked.elapsed() > Duration::from_secs(30) {
                node.child.kill()?;
                node.child.wait()?;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drain = drain.max(asked.elapsed());
    }
    let elapsed = started.elapsed();
    finished?;
    let ledger = std::mem::take(
        &mut *agencies
            .ledger
            .lock()
            .map_err(|e| anyhow::anyhow!("ledger: {e}"))?,
    );
    // After every kill: the embedded database file must still be sound.
    let integrity = match &target {
        Target::Sqlite(path) => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .read_only(true);
            let pool = sqlx::SqlitePool::connect_with(options).await?;
            let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&pool)
                .await?;
            pool.close().await;
            Some(verdict == "ok")
        }
        Target::Postgres { .. } => None,
    };
    let mut report = match &target {
        Target::Sqlite(path) => {
            check::check(
                &SqliteStore::open(path).await?,
                args.dossiers,
                &ledger,
                &kills,
            )
            .await?
        }
        Target::Postgres { url, .. } => {
            check::check(
                &PgStore::connect(url, 4).await?,
                args.dossiers,
                &ledger,
                &kills,
            )
            .await?
        }
    };
    report.elapsed_s = elapsed.as_secs_f64();
    report.drain_s = drain.as_secs_f64();
    report.integrity_ok = integrity;
    report.store = format!("{:?}", args.store).to_lowercase();
    report.nodes = args.nodes;
    report.seed = args.seed;
    cleanup(&target).await;
    Ok(report)
}

/// Creates the store, migrates it and publishes the three groups.
async fn prepare(args: &RunArgs) -> anyhow::Result<Target> {
    let procedures = fixtures::procedures();
    match args.store {
        StoreKind::Sqlite => {
            let dir = std::env::temp_dir().join(format!("lienthong-chaos-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("chaos.db");
            let store = SqliteStore::open(&path).await?;
            store.migrate().await?;
            for p in &procedures {
                store.publish(p, SystemClock.now()).await?;
            }
            Ok(Target::Sqlite(path))
        }
        StoreKind::Postgres => {
            let admin = args.database_url.clone();
            let name = format!("lienthong_chaos_{}", std::process::id());
            let pool = sqlx::PgPool::connect(&admin).await.context("PostgreSQL")?;
            // The name is made here from the process id, never from input.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await?;
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            let store = PgStore::connect(&url, 2).await?;
            store.migrate().await?;
            for p in &procedures {
                store.publish(p, SystemClock.now()).await?;
            }
            store.pool().close().await;
            Ok(Target::Postgres { admin, url, name })
        }
    }
}

/// Polls until every submission exists and is final (or the time-out passes).
async fn wait_until_final(target: &Target, args: &RunArgs, started: Instant) -> anyhow::Result<()> {
    let n = i64::try_from(args.dossiers)?;
    loop {
        let done = match target {
            Target::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true);
                let pool = sqlx::SqlitePool::connect_with(options).await?;
                let n: i64 = sqlx::query_scalar(check::FINAL_COUNT)
                    .fetch_one(&pool)
                    .await?;
                pool.close().await;
                n
            }
            Target::Postgres { url, .. } => {
                let pool = sqlx::PgPool::connect(url).await?;
                let n: i64 = sqlx::query_scalar(check::FINAL_COUNT)
                    .fetch_one(&pool)
                    .await?;
                pool.close().await;
                n
            }
        };
        if done >= n {
            return Ok(());
        }
        if started.elapsed().as_secs() > args.timeout_s {
            // The checker reports what is missing.
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn cleanup(target: &Target) {
    match target {
        Target::Sqlite(path) => {
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        Target::Postgres { admin, name, .. } => {
            if let Ok(pool) = sqlx::PgPool::connect(admin).await {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
            }
        }
    }
}
