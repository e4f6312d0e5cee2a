//! `lienthong simulate`: the agency simulators on their own, one HTTP server per agency on
//! 127.0.0.1, for trying adapters or a lienthong node against them by hand.

use clap::Args;
use lienthong_adapters::{Behaviour, SimConfig, Simulators};
use lienthong_engine::clock::SystemClock;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// First port: agencies listen on consecutive ports from here (0: any free ports).
    #[arg(long, default_value_t = 7100)]
    base_port: u16,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Out of 100 calls, how many fail (500s, lost answers, hangs and 429s in equal parts).
    #[arg(long, default_value_t = 0)]
    fail_percent: u32,
    /// Out of 100 filings, how many are refused.
    #[arg(long, default_value_t = 0)]
    reject_percent: u32,
    /// Out of 100 filings, how many ask the citizen for a supplement.
    #[arg(long, default_value_t = 0)]
    supplement_percent: u32,
    /// Each answer takes up to this many milliseconds.
    #[arg(long, default_value_t = 0)]
    max_latency_ms: u64,
}

pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let behaviour = Behaviour {
        reject_percent: args.reject_percent,
        supplement_percent: args.supplement_percent,
        latency_ms: (0, args.max_latency_ms),
        ..Behaviour::failing(args.fail_percent)
    };
    behaviour
        .validate("--fail/--reject/--supplement")
        .map_err(anyhow::Error::msg)?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tokio.block_on(async {
        let sims = Simulators::start(SimConfig {
            seed: args.seed,
            default: behaviour,
            agencies: BTreeMap::new(),
            clock: Arc::new(SystemClock),
            auth: BTreeMap::new(),
            callback: None,
            base_port: args.base_port,
        })
        .await
        .map_err(anyhow::Error::msg)?;
        for (role, addr) in &sims.addrs {
            out!("{role:<18} http://{addr}   (GET /_ledger, POST /_control {{\"down\": true}})");
        }
        eprintln!("Ctrl-C để dừng / Ctrl-C to stop");
        tokio::signal::ctrl_c().await?;
        sims.stop();
        Ok(ExitCode::SUCCESS)
    })
}
