//! `lienthong demo`: the engine on the embedded SQLite store, a simulator per agency over
//! real HTTP, and a seeded mix of dossiers for the shipped groups flowing through them on a
//! simulated clock that turns each day into a few seconds — so deadlines, warnings, breaches
//! and apology slips happen while you watch. Officers work the human steps, citizens answer
//! (or ignore) supplement requests, an operator retries incidents. It ends with a report.

mod actors;
mod declared;
pub(crate) mod mix;
mod report;
mod staff;

use anyhow::Context;
use chrono::{NaiveDate, TimeZone};
use clap::Args;
use lienthong_adapters::agency::ROLES;
use lienthong_adapters::auth::Secret;
use lienthong_adapters::notify::GatewayNotifier;
use lienthong_adapters::{AgencySettings, Behaviour, CallbackTarget, SimConfig, Simulators};
use lienthong_engine::calendar::{Calendar, VIETNAM_OFFSET};
use lienthong_engine::clock::{Clock, Millis, ScaledClock};
use lienthong_engine::definition::{Catalog, Procedure, validate_source};
use lienthong_engine::machine::{Dossier, DossierId, Options};
use lienthong_engine::runtime::{Config, Runtime, Submission};
use lienthong_engine::store::Dossiers;
use lienthong_engine::store::{SqliteStore, Store};
use lienthong_server::http::AppState;
use lienthong_server::http::auth::Sessions;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The shipped procedure groups, built into the binary so the demo runs from anywhere.
const WORKFLOWS: &[(&str, &str)] = &[
    (
        "birth-residence-bhyt.yaml",
        include_str!("../../../../workflows/birth-residence-bhyt.yaml"),
    ),
    (
        "birth-recognition-residence-bhyt.yaml",
        include_str!("../../../../workflows/birth-recognition-residence-bhyt.yaml"),
    ),
    (
        "death-residence-funeral-survivor.yaml",
        include_str!("../../../../workflows/death-residence-funeral-survivor.yaml"),
    ),
    (
        "marital-status-marriage.yaml",
        include_str!("../../../../workflows/marital-status-marriage.yaml"),
    ),
    (
        "judicial-record-vneid.yaml",
        include_str!("../../../../workflows/judicial-record-vneid.yaml"),
    ),
];

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print the report and exit: 0 only if every dossier reached a final state and no agency
    /// filed anything twice.
    #[arg(long)]
    once: bool,
    /// Dossiers to file.
    #[arg(long, default_value_t = 60)]
    dossiers: usize,
    /// Seed of the mix, the agencies' behaviour and the people's choices.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Real seconds per simulated day.
    #[arg(long, default_value_t = 4.0)]
    day_seconds: f64,
    /// SQLite file to keep (default: a fresh file, removed afterwards).
    #[arg(long)]
    database: Option<PathBuf>,
    /// Port of the HTTP server on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Give up waiting after this many real seconds.
    #[arg(long, default_value_t = 240)]
    timeout_s: u64,
    #[arg(long, value_enum, default_value = "text")]
    format: super::Format,
}

/// The demo's first morning: Monday 7 December 2026, 07:30 in Vietnam.
fn first_morning() -> anyhow::Result<(NaiveDate, Millis)> {
    let day = NaiveDate::from_ymd_opt(2026, 12, 7).context("date")?;
    let at = VIETNAM_OFFSET
        .from_local_datetime(&day.and_hms_opt(7, 30, 0).context("time")?)
        .single()
        .context("local time")?;
    Ok((day, at.timestamp_millis()))
}

/// How the simulated agencies behave in the demo: mostly well, with faults everywhere,
/// a slow police residence system, and some supplement requests and refusals.
fn behaviours() -> BTreeMap<String, Behaviour> {
    let mut m = BTreeMap::new();
    let normal = Behaviour {
        latency_ms: (5, 40),
        hang_ms: 900,
        ..Behaviour::failing(8)
    };
    for role in ROLES {
        m.insert((*role).to_string(), normal.clone());
    }
    m.insert(
        "residence".into(),
        Behaviour {
            latency_ms: (100, 450),
            // Most residence filings are accepted and answered by callback hours later.
            accept_percent: 60,
            callback_delay_ms: (1_000, 6_000),
            supplement_percent: 10,
            reject_percent: 2,
            ..normal.clone()
        },
    );
    m.insert(
        "social_insurance".into(),
        Behaviour {
            supplement_percent: 8,
            accept_percent: 40,
            callback_delay_ms: (500, 4_000),
            ..Behaviour {
                latency_ms: (20, 120),
                ..Behaviour::failing(12)
            }
        },
    );
    m.insert(
        "civil_status".into(),
        Behaviour {
            reject_percent: 2,
            ..normal
        },
    );
    m
}

pub(crate) fn procedures() -> anyhow::Result<Vec<Procedure>> {
    let catalog = Catalog::builtin();
    WORKFLOWS
        .iter()
        .map(|(name, text)| {
            validate_source(name, text.as_bytes(), &catalog)
                .procedure
                .with_context(|| format!("the shipped procedure {name} is invalid"))
        })
        .collect()
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if !(args.day_seconds > 0.05 && args.day_seconds < 3_600.0) {
        anyhow::bail!("--day-seconds must be between 0.05 and 3600");
    }
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tokio.block_on(demo(args))
}

async fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let (first_day, start) = first_morning()?;
    let clock = Arc::new(ScaledClock::new(start, 86_400.0 / args.day_seconds));
    let sim_ms = |real: Duration| (real.as_secs_f64() * 1_000.0 * clock.factor()) as Millis;
    let calendar = Arc::new(Calendar::vietnam());
    // The HTTP server first: the agencies need its callback address.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let server_addr = listener.local_addr()?;
    // Demo-only callback secrets, one per agency (a deployment reads its own from the
    // environment).
    let secrets: BTreeMap<String, Secret> = ROLES
        .iter()
        .map(|r| {
            (
                (*r).to_string(),
                Secret::new(format!("demo-{}-{r}", args.seed)),
            )
        })
        .collect();
    let sims = Simulators::start(SimConfig {
        seed: args.seed,
        default: Behaviour::default(),
        agencies: behaviours(),
        clock: clock.clone(),
        auth: BTreeMap::new(),
        callback: Some(CallbackTarget {
            url: format!("http://{server_addr}/api/v1/callbacks"),
            secrets: secrets.clone(),
        }),
        base_port: 0,
    })
    .await
    .map_err(anyhow::Error::msg)?;
    let settings = AgencySettings {
        // Real time is multiplied on the simulated clock: half a second is three hours.
        timeout: Duration::from_millis(500),
        node: "demo-1".into(),
        ..AgencySettings::default()
    };
    let mut adapters = sims.adapters(&settings).map_err(anyhow::Error::msg)?;
    let shipped = procedures()?;
    let (declared, more, declared_secrets) = declared::Declared::start(
        &shipped,
        &format!("http://{server_addr}/api/v1/callbacks"),
        args.seed,
        settings.timeout,
    )
    .await?;
    adapters.extend(more);
    let mut secrets = secrets;
    secrets.extend(declared_secrets);
    let (path, temporary) = match &args.database {
        Some(p) => (p.clone(), false),
        None => {
            let dir = std::env::temp_dir().join(format!("lienthong-demo-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            (dir.join("demo.db"), true)
        }
    };
    let store = SqliteStore::open(&path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    store.migrate().await?;
    let notifier = Arc::new(GatewayNotifier::new(args.seed, 5));
    let config = Config {
        node: "demo-1".into(),
        lease_ms: sim_ms(Duration::from_secs(5)),
        adapter_timeout: Duration::from_secs(3),
        poll: Duration::from_millis(20),
        claim_lease_ms: 14 * 86_400_000,
        options: Options {
            backoff_base_ms: 5 * 60_000,
            backoff_max_ms: 2 * 3_600_000,
            ..Options::default()
        },
        ..Config::default()
    };
    let rt = Arc::new(Runtime::new(
        store,
        calendar.clone(),
        clock.clone(),
        adapters,
        notifier.clone(),
        config,
    ));
    let mut procedures_by_hash = BTreeMap::new();
    for p in shipped {
        rt.publish(&p).await?;
        procedures_by_hash.insert(p.content_hash(), p);
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let app = lienthong_server::http::router(Arc::new(AppState {
        callback_secrets: secrets,
        // Plain HTTP on the loopback: the cookies cannot be `Secure`.
        secure_cookies: false,
        session_clock: Some(Arc::new(lienthong_engine::clock::SystemClock)),
        ..AppState::new(rt.clone(), Sessions::random(3_600)?)
    }));
    let server = tokio::spawn(lienthong_server::http::serve(
        listener,
        app,
        stopped.clone(),
    ));
    let worker = {
        let rt = rt.clone();
        tokio::spawn(async move { rt.run(stopped).await })
    };

    let plan = mix::plan(args.dossiers, args.seed, first_day, 3);
    let filed: Arc<Mutex<Vec<DossierId>>> = Arc::default();
    let submitter = {
        let (rt, clock, filed) = (rt.clone(), clock.clone(), filed.clone());
        let mut plan = plan.clone();
        plan.sort_by_key(|p| p.arrival_minutes);
        tokio::spawn(async move {
            for p in plan {
                let at = start + p.arrival_minutes * 60_000;
                let wait = at - clock.now();
                if wait > 0 {
                    tokio::time::sleep(clock.real(wait)).await;
                }
                let sub = Submission {
                    channel: p.channel,
                    procedure: p.procedure.to_string(),
                    bundle: p.bundle,
                    form: p.form,
                    key: Some(p.key),
                    origin: Default::default(),
                };
                let (id, _) = rt.submit(sub).await?;
                if let Ok(mut f) = filed.lock() {
                    f.push(id);
                }
            }
            Ok::<_, anyhow::Error>(())
        })
    };

    if args.format == super::Format::Text {
        eprintln!(
            "lienthong demo: {} hồ sơ / dossiers, 1 ngày mô phỏng = {} giây / 1 simulated day = {} s; cơ quan mô phỏng / simulated agencies:",
            args.dossiers, args.day_seconds, args.day_seconds
        );
        for (role, addr) in &sims.addrs {
            eprintln!("  {role:<18} http://{addr}");
        }
        for a in &declared.agencies {
            eprintln!("  {:<18} http://{} (generic)", a.spec.role, a.addr);
        }
        eprintln!(
            "máy chủ / server: http://{server_addr} (/healthz, /api/v1/callbacks/{{agency}})"
        );
    }
    let mut actors = actors::Actors::new(args.seed, calendar.clone());
    let deadline = started + Duration::from_secs(args.timeout_s);
    let mut last_progress = Instant::now() - Duration::from_secs(10);
    let mut finished = false;
    loop {
        let ids: Vec<DossierId> = filed.lock().map(|f| f.clone()).unwrap_or_default();
        actors.act(&rt, &ids).await?;
        let counts = rt.store().count_by_status().await?;
        let open: i64 = counts
            .iter()
            .filter(|(s, _)| s == "processing" || s == "supplement_requested")
            .map(|(_, n)| *n)
            .sum();
        let all_filed = submitter.is_finished();
        if args.format == super::Format::Text && last_progress.elapsed() >= Duration::from_secs(2) {
            last_progress = Instant::now();
            let now = chrono::DateTime::from_timestamp_millis(clock.now())
                .map(|t| {
                    t.with_timezone(&VIETNAM_OFFSET)
                        .format("%a %d/%m/%Y %H:%M")
                        .to_string()
                })
                .unwrap_or_default();
            let c: Vec<String> = counts.iter().map(|(s, n)| format!("{s} {n}")).collect();
            eprintln!(
                "[{now}] nộp / filed {}/{} · {}",
                ids.len(),
                args.dossiers,
                c.join(" · ")
            );
        }
        if all_filed && open == 0 {
            finished = true;
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if submitter.is_finished() {
        submitter.await??;
    }
    // Let the last notifications leave the outbox before counting them.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let ids: Vec<DossierId> = filed.lock().map(|f| f.clone()).unwrap_or_default();
    let mut dossiers: Vec<Dossier> = Vec::new();
    for id in &ids {
        if let Some(d) = rt.load(id).await? {
            dossiers.push(d);
        }
    }
    // The engine's report over the whole store, as the API and the dashboard give it.
    let summary = rt
        .report(&lienthong_engine::store::Scope::default(), None, None)
        .await?
        .summary;
    let (groups, agencies) = (summary.groups, summary.agencies);
    let mut effects = sims.figures();
    effects.extend(declared.figures());
    let r = report::Report {
        dossiers: args.dossiers,
        final_state: dossiers.iter().filter(|d| d.status.is_closed()).count(),
        groups,
        agencies,
        total_effects: effects.iter().map(|f| f.effects).sum(),
        duplicate_effects: effects.iter().map(|f| f.duplicate_effects).sum(),
        agency_calls: effects.iter().map(|f| f.calls).sum(),
        effects,
        notifications: notifier.by_template(),
        notification_failures_retried: notifier.failures(),
        people: actors.counts.clone(),
        simulated_days: ((clock.now() - start) as f64 / 86_400_000.0 * 10.0).round() / 10.0,
        elapsed_s: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    };
    match args.format {
        super::Format::Text => out!("{}", r.text()),
        super::Format::Json => out!("{}", serde_json::to_string_pretty(&r)?),
    }
    let ok = finished && r.final_state == r.dossiers && r.duplicate_effects == 0;
    if !finished {
        eprintln!(
            "lienthong demo: {} of {} dossiers reached a final state within {} s",
            r.final_state, r.dossiers, args.timeout_s
        );
    }
    if !args.once {
        // Some dossiers left for people to work in the web application.
        let more = mix::plan(6, args.seed + 1, first_day, 1);
        let mut example = None;
        for p in more {
            let filer = lienthong_server::web::status::filers(&p.form)
                .next()
                .map(str::to_string);
            let sub = Submission {
                channel: p.channel,
                procedure: p.procedure.to_string(),
                bundle: p.bundle,
                form: p.form,
                key: Some(format!("web-{}", p.key)),
                origin: Default::default(),
            };
            let (id, _) = rt.submit(sub).await?;
            if example.is_none()
                && let (Some(d), Some(filer)) = (rt.load(&id).await?, filer)
            {
                example = Some((d.code, filer));
            }
        }
        let mut roles: Vec<&str> = ROLES.to_vec();
        roles.extend(declared.agencies.iter().map(|a| a.spec.role.as_str()));
        let accounts = staff::create(&rt, &roles).await?;
        out!(
            "\nỨng dụng web / web application: http://{server_addr}/ (mở trong trình duyệt / open in a browser)"
        );
        if let Some((code, filer)) = &example {
            out!(
                "Trang tra cứu của công dân / citizen status page: http://{server_addr}/status (code={code} personal_id={filer})"
            );
        }
        out!("Tài khoản của lần chạy này / accounts of this run (demo only):");
        for a in &accounts {
            out!("{}", a.line());
        }
        eprintln!(
            "Máy chủ http://{server_addr} và các cơ quan mô phỏng vẫn chạy; Ctrl-C để dừng / the server at http://{server_addr} and the simulators keep running; Ctrl-C to stop."
        );
        tokio::signal::ctrl_c().await?;
    }
    let _ = stop.send(true);
    worker.await??;
    server.await??;
    sims.stop();
    declared.stop();
    if temporary && let Some(dir) = path.parent() {
        std::fs::remove_dir_all(dir).ok();
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
