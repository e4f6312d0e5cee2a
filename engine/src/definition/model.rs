//! The procedure definition format: the types a YAML definition decodes into.
//!
//! The JSON Schema in `workflows/schema/procedure.schema.json` is generated from these types
//! (see [`super::schema`]), so editors and the validator agree on one format.

use super::ids::{ActionId, RoleId, StepId};
use super::parsed::Parsed;
pub use crate::calendar::DayUnit;

mod step;
use chrono::{NaiveDate, NaiveTime};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use step::{Fee, Mode, OnChangedInputs, Outcome, Step, StepRule, Window};

/// Text in Vietnamese (authoritative) and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// Vietnamese text, shown to citizens and officers by default.
    #[schemars(length(min = 1))]
    pub vi: String,
    /// English text.
    #[schemars(length(min = 1))]
    pub en: String,
}

/// A reengineered, interlinked procedure group (nhóm thủ tục hành chính liên thông).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "lienthong procedure definition")]
pub struct Procedure {
    /// Stable identifier, lower case with `-` or `_` (e.g. `birth-residence-bhyt`).
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_-]{0,63}$"))]
    pub id: String,
    /// Version number of this definition; a published version is never changed.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub version: u32,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// The legal instruments the group rests on.
    #[schemars(length(min = 1))]
    pub legal_basis: Vec<LegalBasis>,
    /// Codes of the procedure on the national public-service portal (e.g. `2.002621`).
    #[serde(default)]
    pub procedure_codes: Vec<ProcedureCode>,
    /// Date from which new dossiers use this definition.
    pub effective_from: NaiveDate,
    /// Last date on which new dossiers may use it, if it is being retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_until: Option<NaiveDate>,
    /// The working-day calendar deadlines are counted in (`vn`: the national calendar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// How dossiers are received.
    #[serde(default)]
    pub intake: Intake,
    /// Deadline of the whole group, counted from the start day of the complete dossier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// Processing time before the reform, for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// What happens when an agency asks the citizen for missing papers.
    #[serde(default)]
    pub supplement: SupplementRule,
    /// JSON Schema (draft 2020-12) of the data the citizen submits.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub form: serde_json::Value,
    /// Procedures the citizen may choose to interlink (e.g. 2, 3 or 4 for a death).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundles: Option<Bundles>,
    /// The procedures (thủ tục) the group interlinks, each with its own result: a refusal
    /// ends its own procedure and the steps that depend on it, never a sibling. Without
    /// this list the whole group is one procedure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procedures: Vec<Member>,
    /// Agency roles this definition adds to the built-in catalogue, with their actions: a
    /// new agency needs no change to the engine, the generic HTTP adapter serves it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agencies: Vec<AgencyDecl>,
    /// The steps; `after:` gives the order, everything else runs in parallel.
    #[schemars(length(min = 1))]
    pub steps: Vec<Step>,
    /// Periodic jobs attached to this procedure.
    #[serde(default)]
    pub schedules: Vec<Schedule>,
}

/// One procedure of an interlinked group, with its own national code and result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Member {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,63}$"))]
    pub id: String,
    pub title: Text,
    /// The procedure's code on the national public-service portal, where it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ProcedureCode>,
    /// The steps that make up this procedure; every step belongs to exactly one procedure.
    #[schemars(length(min = 1))]
    pub steps: Vec<StepId>,
    /// True when the code or the composition is not confirmed in a source that was read.
    #[serde(default)]
    pub unconfirmed: bool,
}

/// An agency role declared by a definition (vai trò cơ quan khai báo trong quy trình).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyDecl {
    /// The role's id, as steps and the agencies file name it; not a built-in role.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,63}$"))]
    pub id: RoleId,
    pub name: Text,
    #[schemars(length(min = 1))]
    pub actions: Vec<ActionDecl>,
}

/// One action of a declared agency, and the modes it can run in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionDecl {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,63}$"))]
    pub id: ActionId,
    #[schemars(length(min = 1))]
    pub modes: Vec<Mode>,
}

/// A national procedure code such as `2.002621` or `1.004873`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ProcedureCode(
    #[schemars(regex(pattern = r"^[0-9]\.[0-9]{6}(\.[0-9A-Z.]+)?$"))] pub String,
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    /// Number and name of the instrument, e.g. `Nghị định 63/2024/NĐ-CP`.
    #[schemars(length(min = 1))]
    pub document: String,
    /// Article or clause, e.g. `Điều 5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    /// Date of signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Intake rules (tiếp nhận hồ sơ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    /// Dossiers received after this local time count from the next working day (`HH:MM`).
    #[serde(default = "default_cutoff")]
    #[schemars(with = "String", regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub cutoff: Parsed<NaiveTime>,
    /// Whether the one-stop desk receives on Saturday morning.
    #[serde(default)]
    pub saturday_morning: bool,
}

fn default_cutoff() -> Parsed<NaiveTime> {
    Parsed::new("15:00")
}

impl Default for Intake {
    fn default() -> Self {
        Intake {
            cutoff: default_cutoff(),
            saturday_morning: false,
        }
    }
}

/// A time limit, in working days unless `unit` says calendar days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// The legal limit (0: the start day itself).
    #[schemars(range(max = 365))]
    pub legal: u32,
    /// How the days are counted: `working_days` (the default) or `calendar_days` where the
    /// law gives the limit as "N ngày" (the last day moves to the next working day when it
    /// is a day off). The target and the verification limit count the same way.
    #[serde(default, skip_serializing_if = "DayUnit::is_working_days")]
    pub unit: DayUnit,
    /// The internal service target, at most the legal limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 365))]
    pub target: Option<u32>,
    /// The limit once verification is needed (e.g. 2 → 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 365))]
    pub verification: Option<u32>,
    /// The provision that sets the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    /// True when the value is not confirmed in law and is configuration to be checked.
    #[serde(default)]
    pub unconfirmed: bool,
}

/// The processing time before the reform, for before/after reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Working days the group took (or was allowed) before the reform.
    #[schemars(range(min = 1, max = 365))]
    pub working_days: u32,
    /// Where the figure comes from.
    #[schemars(length(min = 1))]
    pub source: String,
    /// Figures published by a ministry, kept apart from the legal baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported: Option<Reported>,
    /// True when the figure is not confirmed in a source that was read.
    #[serde(default)]
    pub unconfirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reported {
    pub before: u32,
    pub after: u32,
    pub source: String,
    #[serde(default)]
    pub unconfirmed: bool,
}

/// Supplement requests (yêu cầu bổ sung hồ sơ): the clock pauses while the citizen supplements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplementRule {
    /// Working days the citizen has to supplement.
    #[serde(default = "default_window")]
    #[schemars(range(min = 1, max = 60))]
    pub window: u32,
    /// What happens when the window passes.
    #[serde(default)]
    pub on_expiry: OnExpiry,
    #[serde(default)]
    pub unconfirmed: bool,
}

fn default_window() -> u32 {
    7
}

impl Default for SupplementRule {
    fn default() -> Self {
        SupplementRule {
            window: default_window(),
            on_expiry: OnExpiry::Refuse,
            unconfirmed: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnExpiry {
    /// The dossier is refused (từ chối) with the reason.
    #[default]
    Refuse,
    /// Only the step is rejected; other branches go on.
    RejectStep,
}

/// The procedures the citizen may choose to interlink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bundles {
    /// The bundle used when the submission names none.
    pub default: String,
    #[schemars(length(min = 1))]
    pub options: Vec<Bundle>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,63}$"))]
    pub id: String,
    pub title: Text,
    /// The steps this choice runs; the others are skipped.
    pub steps: Vec<StepId>,
    /// The group's limit for this choice, when it differs from the group's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
}

/// A periodic job, in cron syntax with seconds (`sec min hour day month weekday`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,63}$"))]
    pub id: String,
    /// Six or seven fields, seconds first; weekdays by name (`MON-FRI`), never by number.
    #[schemars(with = "String")]
    pub cron: Parsed<cron::Schedule>,
    /// IANA time zone the schedule runs in.
    #[serde(default = "default_timezone")]
    #[schemars(with = "String")]
    pub timezone: Parsed<chrono_tz::Tz>,
    pub job: Job,
    /// Skip ticks that fall on a non-working day of the procedure's calendar.
    #[serde(default)]
    pub working_days_only: bool,
}

fn default_timezone() -> Parsed<chrono_tz::Tz> {
    Parsed::new("Asia/Ho_Chi_Minh")
}

/// Jobs the engine knows how to run on a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    /// Find steps and dossiers past their deadline; escalate and issue apology slips.
    OverdueSweep,
    /// Warn agencies of deadlines coming due.
    DeadlineWarnings,
    /// Remind citizens whose supplement window is running out.
    SupplementReminders,
    /// Compute the daily processing-time figures.
    DailyFigures,
}

impl Procedure {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The bundle chosen, or the default one.
    pub fn bundle(&self, bundle: Option<&str>) -> Option<&Bundle> {
        let bundles = self.bundles.as_ref()?;
        let id = bundle.unwrap_or(&bundles.default);
        bundles.options.iter().find(|b| b.id == id)
    }

    /// The group's limit for a bundle: the bundle's own, else the group's.
    pub fn group_deadline(&self, bundle: Option<&str>) -> Option<&Deadline> {
        self.bundle(bundle)
            .and_then(|b| b.deadline.as_ref())
            .or(self.deadline.as_ref())
    }

    /// The index of the procedure a step belongs to (0 when the group declares none).
    pub fn member_of(&self, step: &str) -> usize {
        self.procedures
            .iter()
            .position(|m| m.steps.iter().any(|s| s == step))
            .unwrap_or(0)
    }

    /// For each step, in definition order, the day its limit ends if every agency takes its
    /// whole legal limit: its own limit after the longest chain of its prerequisites. The one
    /// critical-path computation (the validator's E032 and the reports' legal limit). Units
    /// are added as written: a caller comparing sums checks they share one. A cycle (refused
    /// by the validator) stops after as many passes as there are steps.
    pub fn chain_days(&self) -> Vec<u32> {
        let mut finish = vec![0u32; self.steps.len()];
        for _ in 0..self.steps.len() {
            let mut changed = false;
            for (i, s) in self.steps.iter().enumerate() {
                let start = s
                    .after
                    .iter()
                    .filter_map(|a| self.steps.iter().position(|x| x.id == *a))
                    .map(|j| finish[j])
                    .max()
                    .unwrap_or(0);
                let end = start.saturating_add(s.deadline.as_ref().map_or(0, |d| d.legal));
                if end != finish[i] {
                    finish[i] = end;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        finish
    }

    /// The group's legal limit in days: the declared one, else the longest chain of its
    /// steps' limits.
    pub fn legal_limit(&self) -> u32 {
        match &self.deadline {
            Some(d) => d.legal,
            None => self.chain_days().into_iter().max().unwrap_or(0),
        }
    }

    /// Whether a step runs in the given bundle (every step runs when there are no bundles).
    pub fn in_bundle(&self, bundle: Option<&str>, step: &str) -> bool {
        let Some(bundles) = &self.bundles else {
            return true;
        };
        let id = bundle.unwrap_or(&bundles.default);
        bundles
            .options
            .iter()
            .find(|b| b.id == id)
            .is_some_and(|b| b.steps.iter().any(|s| s == step))
    }
}
