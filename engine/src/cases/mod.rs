//! Definition test cases (`*.test.yaml`): a procedure, a received instant, a bundle, a form
//! and the answers of agencies, officers and the citizen in order, run through the state
//! machine on a simulated clock with no network and no store. What `lienthong test` runs.
//!
//! Automated steps the case does not name complete at once with outputs made valid for
//! their `writes:` schemas; human steps the case does not name wait in their queue. The
//! case runs until every procedure is final, until `until`, or until nothing can happen.

mod expect;
mod model;
mod outputs;
mod run;

pub use model::{Answer, AnswerKind, Case, DocumentExpect, Expect, TestFile};
pub use run::{CaseReport, DocumentReport, ProcedureReport, StepReport, run_case};

/// Parses a test file; the error names the line and column.
pub fn parse(name: &str, text: &str) -> Result<TestFile, String> {
    serde_yaml::from_str::<TestFile>(text).map_err(|e| match e.location() {
        Some(l) => format!("{name}:{}:{}: {e}", l.line(), l.column()),
        None => format!("{name}: {e}"),
    })
}

#[cfg(test)]
mod tests;
