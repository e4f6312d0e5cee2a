//! Embedding the validator: `cargo run -p lienthong-engine --example validate -- FILE.yaml`.

use lienthong_engine::definition::{Catalog, validate_source};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: validate FILE.yaml");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let checked = validate_source(&path, &bytes, &Catalog::builtin());
    for d in &checked.diagnostics {
        println!("{d}");
    }
    match checked.procedure {
        Some(p) => {
            println!(
                "{path}: {} v{} is valid; version hash {}",
                p.id,
                p.version,
                p.content_hash()
            );
            ExitCode::SUCCESS
        }
        None => ExitCode::from(1),
    }
}
