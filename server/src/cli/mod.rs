//! Command-line interface: one module per command.

/// `println!` (`out!`) and `print!` (`put!`) that end quietly when whoever reads stdout has
/// gone away (`lienthong validate … | head`), instead of panicking on the broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}
macro_rules! put {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

mod accounts;
mod bench;
mod bench_report;
mod bench_timers;
mod bench_trace;
mod calendar;
mod demo;
mod graph;
mod serve;
mod simulate;
mod store;
mod test;
mod validate;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// lienthong — liên thông thủ tục hành chính: interlinked administrative procedures.
#[derive(Debug, Parser)]
#[command(name = "lienthong", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[value(alias = "table")]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate procedure definitions (files or folders); exit 0 valid, 1 invalid, 2 usage.
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Run definition test files (`*.test.yaml`, files or folders) on a simulated clock;
    /// exit 0 when every case passes, 1 otherwise, 2 on a usage error.
    Test {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Draw a procedure's step graph, grouped by agency, with deadlines.
    Graph {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "mermaid")]
        format: GraphFormat,
    },
    /// Print the JSON Schema of the procedure definition format.
    Schema,
    /// The working-day calendar: a year's days off, deadlines, lunar dates.
    Calendar(calendar::CalendarArgs),
    /// Run the demo: the engine, a simulator per agency and a mix of dossiers for the three
    /// groups on a fast simulated clock, then a report.
    Demo(demo::DemoArgs),
    /// Start the agency simulators (one HTTP server per agency on 127.0.0.1) until Ctrl-C.
    Simulate(simulate::SimulateArgs),
    /// Run the standard benchmark workload through the engine and print the figures.
    Bench(bench::BenchArgs),
    /// Run an engine node and its HTTP API (REST, callbacks, metrics, /docs).
    Serve(serve::ServeArgs),
    /// Staff accounts.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// API keys of systems.
    #[command(subcommand)]
    Key(accounts::KeyCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(accounts::AuditCommand),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate { paths, format } => validate::run(&paths, format),
        Command::Graph { file, format } => graph::run(&file, format),
        Command::Test { paths, format } => test::run(&paths, format),
        Command::Calendar(args) => calendar::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Serve(args) => serve::run(args),
        Command::User(cmd) => accounts::user(cmd),
        Command::Key(cmd) => accounts::key(cmd),
        Command::Audit(cmd) => accounts::audit(cmd),
        Command::Schema => {
            print!(
                "{}",
                lienthong_engine::definition::schema::procedure_schema_text()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
