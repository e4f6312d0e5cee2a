//! The test-file format.

use crate::definition::StepId;
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One `*.test.yaml` file: cases against one procedure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// A procedure id (looked up beside the test file, the version in force on each
    /// case's received day), or a path to a definition relative to the test file.
    pub procedure: String,
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// When the dossier was received, with its zone (e.g. `2026-02-13T15:30:00+07:00`).
    pub received: DateTime<FixedOffset>,
    #[serde(default)]
    pub bundle: Option<String>,
    pub form: Value,
    /// What agencies, officers and the citizen do, in order.
    #[serde(default)]
    pub answers: Vec<Answer>,
    /// Stop here even if some procedure is not final.
    #[serde(default)]
    pub until: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub expect: Option<Expect>,
}

/// What one answer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// The agency finishes the step (`outputs`, or valid ones made for it).
    Done,
    /// The agency refuses (`reason`).
    Rejected,
    /// The agency asks the citizen for a supplement (`reason`).
    Supplement,
    /// The agency starts verification (`basis`).
    Verification,
    /// The agency reports a delay (`reason`, `working_days`).
    Delay,
    /// The citizen supplies what was asked (`data`).
    SupplementProvided,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub step: StepId,
    /// When it happens (default: as soon as the step can be answered).
    #[serde(default)]
    pub at: Option<DateTime<FixedOffset>>,
    pub answer: AnswerKind,
    #[serde(default)]
    pub outputs: Option<Map<String, Value>>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub basis: Option<String>,
    #[serde(default)]
    pub working_days: Option<u32>,
    #[serde(default)]
    pub data: Option<Map<String, Value>>,
}

/// Assertions on where the case ended.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub portal_code: Option<u8>,
    #[serde(default)]
    pub appointment: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub procedures: BTreeMap<String, ProcedureExpect>,
    #[serde(default)]
    pub steps: BTreeMap<String, StepExpect>,
    /// Each entry must match at least one document issued (or exactly `count` of them).
    #[serde(default)]
    pub documents: Vec<DocumentExpect>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureExpect {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub portal_code: Option<u8>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepExpect {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub due: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub start_day: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentExpect {
    /// receipt, supplement_requested, refused, procedure_refused, apology_slip, decided, …
    pub kind: String,
    /// How many documents of this kind (default: at least one that matches).
    #[serde(default)]
    pub count: Option<usize>,
    /// Issued strictly before this instant.
    #[serde(default)]
    pub before: Option<DateTime<FixedOffset>>,
    /// Its Vietnamese text contains this.
    #[serde(default)]
    pub contains: Option<String>,
    /// Its data has these values (e.g. `new_appointment`).
    #[serde(default)]
    pub data: Map<String, Value>,
}
