//! `lienthong graph FILE --format mermaid|dot`

use super::GraphFormat;
use super::validate::validate_path;
use lienthong_engine::definition::{Catalog, render};
use std::path::Path;
use std::process::ExitCode;

pub fn run(file: &Path, format: GraphFormat) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin();
    let v = validate_path(file, &catalog)?;
    let Some(p) = v.procedure else {
        for d in v.errors() {
            eprintln!("{d}");
        }
        eprintln!("{}: invalid, no graph drawn", file.display());
        return Ok(ExitCode::from(1));
    };
    match format {
        GraphFormat::Mermaid => put!("{}", render::mermaid(&p, &catalog)),
        GraphFormat::Dot => put!("{}", render::dot(&p, &catalog)),
    }
    Ok(ExitCode::SUCCESS)
}
