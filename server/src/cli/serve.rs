//! `lienthong serve`: one engine node and its HTTP API. SQLite by default (one node);
//! PostgreSQL for several nodes (each with its own `node` name and the same session
//! secret). The shipped procedures are published at start, with any from `workflows`.
//! Stops on SIGTERM or Ctrl-C: the server stops taking requests and the worker drains.

use super::store::{Target, postgres, sqlite};
use anyhow::Context as _;
use clap::Args;
use lienthong_adapters::config::{Connected, adapters_from_toml};
use lienthong_engine::clock::SystemClock;
use lienthong_engine::definition::Catalog;
use lienthong_engine::machine::{DossierId, Effect};
use lienthong_engine::runtime::{Config, Notifier, Runtime};
use lienthong_engine::store::Store;
use lienthong_server::config::{Overrides, ServeConfig, load};
use lienthong_server::http::auth::Sessions;
use lienthong_server::http::{AppState, ops::calendar_with, router, serve};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); `LIENTHONG_*` variables and these flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// `sqlite:PATH` or `postgres://…`.
    #[arg(long)]
    database_url: Option<String>,
    /// Address to listen on.
    #[arg(long)]
    bind: Option<String>,
}

/// Notifications go to the log (masked) until a gateway is connected.
#[derive(Debug)]
struct LogNotifier;

impl Notifier for LogNotifier {
    fn send(&self, dossier: &DossierId, effect: &Effect) -> Result<(), String> {
        if let Effect::Notify { template, .. } = effect {
            tracing::info!(dossier = %dossier, template = ?template, "notification");
        }
        Ok(())
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let flags = Overrides {
        database_url: args.database_url,
        bind: args.bind,
    };
    let cfg = load(args.config.as_deref(), &flags).map_err(anyhow::Error::msg)?;
    let _telemetry = lienthong_server::telemetry::init(&cfg.log, cfg.otlp_endpoint.as_deref())?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tokio.block_on(async move {
        match super::store::target(&cfg.database_url)? {
            Target::Sqlite(path) => node(sqlite(&path).await?, cfg).await,
            Target::Postgres(url) => node(postgres(&url).await?, cfg).await,
        }
    })
}

async fn node<S: Store>(store: S, cfg: ServeConfig) -> anyhow::Result<ExitCode> {
    let sessions = match std::env::var("LIENTHONG_SESSION_SECRET") {
        Ok(s) if s.len() >= 32 => Sessions::new(s.as_bytes(), cfg.session_ttl_s),
        Ok(_) => anyhow::bail!("LIENTHONG_SESSION_SECRET: at least 32 characters"),
        Err(_) => {
            tracing::warn!(
                "LIENTHONG_SESSION_SECRET is not set: sessions are signed with a random secret and end when this process stops; set it on every node"
            );
            Sessions::random(cfg.session_ttl_s)?
        }
    };
    let env = |name: &str| std::env::var(name).ok();
    let connected = match &cfg.agencies {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            adapters_from_toml(&text, &env, &cfg.node)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => {
            tracing::warn!("no agencies file: automated steps will wait as incidents");
            Connected::default()
        }
    };
    if connected.callback_secrets.is_empty() {
        tracing::info!("no agency has a callback secret: late answers are refused (404)");
    }
    let calendar = calendar_with(&store.notices().await?).map_err(anyhow::Error::msg)?;
    let mut config = Config {
        node: cfg.node.clone(),
        agency_code: cfg.agency_code.clone(),
        spans: lienthong_server::telemetry::dossier_spans(),
        ..Config::default()
    };
    config.options.agencies = connected.retry;
    let rt = Arc::new(Runtime::new(
        store,
        Arc::new(calendar),
        Arc::new(SystemClock),
        connected.adapters,
        Arc::new(LogNotifier),
        config,
    ));
    for p in super::demo::procedures()? {
        rt.publish(&p).await?;
    }
    if let Some(dir) = &cfg.workflows {
        let catalog = Catalog::builtin();
        for file in super::validate::collect(std::slice::from_ref(dir))? {
            let v = super::validate::validate_path(&file, &catalog)?;
            let p = v.procedure.with_context(|| {
                format!(
                    "{} is invalid: run `lienthong validate` on it",
                    file.display()
                )
            })?;
            rt.publish(&p).await?;
        }
    }
    let state = AppState {
        metrics: Some(lienthong_server::telemetry::metrics()?),
        secure_cookies: cfg.secure_cookies,
        callback_secrets: connected.callback_secrets,
        ..AppState::new(rt.clone(), sessions)
    }
    .with_limits(cfg.limits.limits());
    let listener = tokio::net::TcpListener::bind(&cfg.bind)
        .await
        .with_context(|| format!("binding {}", cfg.bind))?;
    tracing::info!(bind = %cfg.bind, node = %cfg.node, "serving");
    eprintln!(
        "lienthong: serving on http://{} (API document: /docs)",
        listener.local_addr()?
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(serve(listener, router(Arc::new(state)), stopped.clone()));
    let worker = {
        let rt = rt.clone();
        tokio::spawn(async move { rt.run(stopped).await })
    };
    shutdown_signal().await;
    tracing::info!("stopping: draining in-flight work");
    let _ = stop.send(true);
    server.await??;
    worker.await??;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
