//! The one reporting model: what each dossier contributes ([`Facts`], computed once from the
//! dossier, its definition and the calendar) and the figures over many ([`summarize`]).
//!
//! Invariant: processing time, timeliness and time held are computed here and nowhere
//! else. The API's figures, the demo's report and the daily job read these functions, so
//! the same dossiers give the same numbers everywhere.

mod assemble;
mod facts;
pub mod rollup;
mod summary;
mod tally;

#[cfg(test)]
mod tests;

pub use assemble::{AreaRow, Report, Trend, assemble, live_facts};
pub use facts::{Facts, Held};
pub use summary::{
    AgencyHeld, GroupReport, InProgress, Received, Resolved, Summary, group, percentile, round1,
    summarize,
};
pub use tally::{AreaCounts, Late, Tally, agencies};
