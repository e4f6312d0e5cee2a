//! A step of a definition: who performs it, when, what it reads and writes, its limit (and
//! the rules that change it from a date), its fee, and its window for the citizen.

use super::{DayUnit, Deadline, SupplementRule, Text};
use crate::definition::Condition;
use crate::definition::fields::FieldPath;
use crate::definition::ids::{ActionId, RoleId, StepId};
use crate::definition::parsed::Parsed;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One step, performed by one agency role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,63}$"))]
    pub id: StepId,
    pub name: Text,
    /// The agency role that performs it (see the catalogue: `civil_status`, `residence`, …).
    pub agency: RoleId,
    /// Automated (an adapter calls the agency's system) or human (a task in its work queue).
    pub mode: Mode,
    /// The agency action, from the catalogue.
    pub action: ActionId,
    /// Steps that must finish first. Several steps after one give a fork; one step after
    /// several gives a join, which waits for every prerequisite that is not skipped.
    #[serde(default)]
    pub after: Vec<StepId>,
    /// Condition over `form.…`, `steps.<id>.<output>` and `bundle`; the step is skipped when
    /// it is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub when: Option<Condition>,
    /// The only fields sent to the agency: `form.<path>` or `steps.<id>.<output>`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub reads: Vec<Parsed<FieldPath>>,
    /// Outputs the step writes back, each with a JSON Schema.
    #[serde(default)]
    #[schemars(
        with = "std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>>"
    )]
    pub writes: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// How the step may end. `done` is needed for the dossier to finish.
    #[schemars(length(min = 1))]
    pub outcomes: Vec<Outcome>,
    /// Overrides the group's supplement rule for this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplement: Option<SupplementRule>,
    /// What happens to this step's result, once done, when a later supplement changes form
    /// data it read: the agency is told to re-examine it (`flag`), or, for a lookup with no
    /// effect at the agency, the step runs again on the new data (`rerun`).
    #[serde(default, skip_serializing_if = "OnChangedInputs::is_flag")]
    pub on_changed_inputs: OnChangedInputs,
    /// A fee or charge the citizen pays at this step (the step ends when the payment is
    /// confirmed); while it waits the dossier shows portal code 6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Fee>,
    /// The step waits for the citizen in person (to sign, to collect a result) for at most
    /// this window from its start; when the window closes first, the step is refused with
    /// the window's reason and its procedure ends. The agency's clock does not run while
    /// the citizen is awaited, so a window step has no `deadline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Changes to the step's limit or condition from a date: a dossier received on or after
    /// `effective_from` uses the latest rule in force on its day of receipt, instead of the
    /// step's own `deadline` and `when`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<StepRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// How long a step waits for the citizen to appear (see [`Step::window`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// The length of the window, counted from the day the step starts.
    #[schemars(range(min = 1, max = 365))]
    pub days: u32,
    /// How the days are counted (the law usually gives such windows in calendar days).
    #[serde(default, skip_serializing_if = "DayUnit::is_working_days")]
    pub unit: DayUnit,
    /// Why the step is refused when the window closes, as the citizen reads it.
    pub reason: Text,
    /// The provision that sets the window.
    #[schemars(length(min = 1))]
    pub basis: String,
    /// True when the window is not confirmed in a source that was read.
    #[serde(default)]
    pub unconfirmed: bool,
}

/// A rule of a step in force from a date (see [`Step::rules`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRule {
    /// The first day of receipt the rule applies to.
    pub effective_from: NaiveDate,
    /// The step's limit from that day (the step's own when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// The step's condition from that day (the step's own when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub when: Option<Condition>,
}

/// A fee (lệ phí) or charge (phí) set by law.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    /// The amount in đồng.
    #[schemars(range(min = 1))]
    pub amount_vnd: u64,
    /// The instrument that sets it.
    #[schemars(length(min = 1))]
    pub basis: String,
    /// True when the amount is not confirmed in a source that was read.
    #[serde(default)]
    pub unconfirmed: bool,
}

/// See [`Step::on_changed_inputs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnChangedInputs {
    /// The agency is notified and the step is marked for re-examination.
    #[default]
    Flag,
    /// The step runs again (a new round, a new idempotency key) before the steps after it.
    Rerun,
}

impl OnChangedInputs {
    fn is_flag(&self) -> bool {
        *self == OnChangedInputs::Flag
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Automated,
    Human,
}

/// How a step may end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done, with its outputs.
    Done,
    /// Rejected, with a reason; the step's procedure ends, and the steps that depend on it.
    Rejected,
    /// Supplement requested: the clock pauses for the citizen's window.
    Supplement,
    /// Verification needed: the deadline extends to `deadline.verification`.
    Verification,
}

impl Step {
    /// The latest rule in force for a dossier received on `day`, if any.
    fn rule_on(&self, day: NaiveDate) -> Option<&StepRule> {
        self.rules
            .iter()
            .filter(|r| r.effective_from <= day)
            .max_by_key(|r| r.effective_from)
    }

    /// The step's limit for a dossier received on `day`.
    pub fn deadline_on(&self, day: NaiveDate) -> Option<&Deadline> {
        self.rule_on(day)
            .and_then(|r| r.deadline.as_ref())
            .or(self.deadline.as_ref())
    }

    /// The step's condition for a dossier received on `day`.
    pub fn when_on(&self, day: NaiveDate) -> Option<&Condition> {
        self.rule_on(day)
            .and_then(|r| r.when.as_ref())
            .or(self.when.as_ref())
    }

    /// Every limit the step may run under: its own and each dated rule's.
    pub fn deadlines(&self) -> impl Iterator<Item = &Deadline> {
        self.deadline
            .iter()
            .chain(self.rules.iter().filter_map(|r| r.deadline.as_ref()))
    }
}
