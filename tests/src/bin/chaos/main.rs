//! The chaos harness: engine nodes as separate processes, killed with SIGKILL at seeded
//! moments and restarted, against fake agencies that keep a ledger of effects; then every
//! node is stopped with SIGTERM (which must drain within 10 s) and the store, the journals
//! and the ledger are checked.
//!
//! ```text
//! cargo run --release -p lienthong-tests --bin chaos -- --store sqlite|postgres \
//!     --nodes M --dossiers N --kills K --seed S --format json
//! ```
//! Exits non-zero when an invariant breaks: a dossier lost or unfinished, a step committed
//! twice, an effect filed twice, a completed step without its effect, a journal that does not
//! rebuild its dossier, a takeover slower than the lease plus one second, or a slow drain.

mod check;
mod node;
mod supervise;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Text,
}

#[derive(Debug, Parser)]
#[command(
    name = "chaos",
    about = "Kill engine nodes at random and check that nothing is lost or done twice"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One engine node (started by the harness).
    #[command(hide = true)]
    Node(node::NodeArgs),
}

#[derive(Debug, Clone, clap::Args)]
struct RunArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    store: StoreKind,
    /// PostgreSQL server (a database of its own is created there and dropped afterwards).
    #[arg(
        long,
        env = "LIENTHONG_TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    #[arg(long, default_value_t = 300)]
    dossiers: usize,
    #[arg(long, default_value_t = 5)]
    kills: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Claim lease of every node, in milliseconds.
    #[arg(long, default_value_t = 5_000)]
    lease_ms: i64,
    /// Percentage of agency calls that fail (half of them after filing the effect).
    #[arg(long, default_value_t = 10)]
    fail_percent: u64,
    /// Give up waiting for the dossiers after this many seconds.
    #[arg(long, default_value_t = 900)]
    timeout_s: u64,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Node(args)) = cli.command {
        return match node::main(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("node: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let args = cli.run;
    let report = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(supervise::run(&args)));
    match report {
        Ok(report) => {
            let broken = report.broken(args.lease_ms);
            match args.format {
                Format::Json => println!("{}", report.json()),
                Format::Text => println!("{}", report.text()),
            }
            for b in &broken {
                eprintln!("invariant broken: {b}");
            }
            if broken.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("chaos: {e:#}");
            ExitCode::from(2)
        }
    }
}
