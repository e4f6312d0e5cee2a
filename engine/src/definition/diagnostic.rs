//! Validation diagnostics: what went wrong, where, in which step, and how to fix it.
//!
//! Codes are stable: tools and tests match on them, so a code is never reused for another
//! rule. New rules get new codes.

use serde::Serialize;
use std::fmt;

/// How bad a finding is. Errors make a definition invalid; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The stable catalogue of diagnostic codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Code {
    /// The file is larger than the size cap.
    E001,
    /// The file is not valid UTF-8.
    E002,
    /// YAML syntax error.
    E003,
    /// Nesting deeper than the limit.
    E004,
    /// Alias expansion beyond the node budget ("billion laughs"), or an unknown alias.
    E005,
    /// A mapping repeats a key.
    E006,
    /// A tag, a complex key, or several documents: features the format does not use.
    E007,
    /// A field the format does not know.
    E010,
    /// A value of the wrong type.
    E011,
    /// A required field is missing.
    E012,
    /// A value outside what the field allows (enum, pattern, range, format).
    E013,
    /// Two steps share an id.
    E020,
    /// `after:` names a step that does not exist.
    E021,
    /// The `after:` relation has a cycle.
    E022,
    /// A step depends on itself or lists the same prerequisite twice.
    E023,
    /// A step can never run (its condition is always false, or no bundle includes it).
    E030,
    /// A step is unreachable: every prerequisite can never run.
    E031,
    /// A step can never finish the dossier (it admits no completing outcome, or it cannot
    /// finish within the group's legal limit even if every agency is on time).
    E032,
    /// The definition has no step, or no step without prerequisites.
    E033,
    /// Unknown agency role.
    E040,
    /// Unknown action for the agency, or the action cannot run in the step's mode.
    E041,
    /// An agency declaration conflicts: a built-in role declared again, or a role or one
    /// of its actions declared twice.
    E042,
    /// A condition does not parse.
    E050,
    /// A condition names a field the form does not have, or an output no earlier step writes.
    E051,
    /// A condition compares values of incompatible types.
    E052,
    /// A step reads a field the form does not have, or an output no earlier step writes.
    E060,
    /// A declared output's schema is not a valid JSON Schema.
    E061,
    /// The form is not a valid JSON Schema.
    E062,
    /// Deadlines are declared but no calendar is named, or the calendar is unknown.
    E070,
    /// A deadline is inconsistent (target above the legal limit, verification below it).
    E071,
    /// A window for the citizen on a step that is not a human task, or beside a deadline.
    E072,
    /// A dated step rule outside the definition's effective dates, or two on one date.
    E073,
    /// A cron expression does not parse.
    E080,
    /// A cron expression uses a numeric day of week (ambiguous: the cron crate reads 1 as Sunday).
    E081,
    /// Unknown time zone in a schedule.
    E082,
    /// A bundle names no step, or a step that does not exist.
    E090,
    /// Two bundles share an id, or the default bundle does not exist.
    E091,
    /// The intake cut-off lies outside office hours (08:00–17:00).
    E100,
    /// Inconsistent identity: `effective_until` before `effective_from`, a procedure code twice,
    /// or two schedules with one id.
    E101,
    /// A procedure of the group names an unknown step, or two procedures share an id.
    E110,
    /// A step belongs to no procedure of the group, or to more than one.
    E111,
    /// Warning: a limit the law leaves unconfirmed is used (marked `unconfirmed: true`).
    W001,
}

impl Code {
    /// The code as printed, e.g. `E021`.
    pub fn as_str(self) -> &'static str {
        CODE_NAMES
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("E???", |(_, n)| n)
    }

    /// Warnings start with `W`, everything else is an error.
    pub fn severity(self) -> Severity {
        match self {
            Code::W001 => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

const CODE_NAMES: &[(Code, &str)] = &[
    (Code::E001, "E001"),
    (Code::E002, "E002"),
    (Code::E003, "E003"),
    (Code::E004, "E004"),
    (Code::E005, "E005"),
    (Code::E006, "E006"),
    (Code::E007, "E007"),
    (Code::E010, "E010"),
    (Code::E011, "E011"),
    (Code::E012, "E012"),
    (Code::E013, "E013"),
    (Code::E020, "E020"),
    (Code::E021, "E021"),
    (Code::E022, "E022"),
    (Code::E023, "E023"),
    (Code::E030, "E030"),
    (Code::E031, "E031"),
    (Code::E032, "E032"),
    (Code::E033, "E033"),
    (Code::E040, "E040"),
    (Code::E041, "E041"),
    (Code::E042, "E042"),
    (Code::E050, "E050"),
    (Code::E051, "E051"),
    (Code::E052, "E052"),
    (Code::E060, "E060"),
    (Code::E061, "E061"),
    (Code::E062, "E062"),
    (Code::E070, "E070"),
    (Code::E071, "E071"),
    (Code::E080, "E080"),
    (Code::E081, "E081"),
    (Code::E082, "E082"),
    (Code::E090, "E090"),
    (Code::E091, "E091"),
    (Code::E100, "E100"),
    (Code::E101, "E101"),
    (Code::E072, "E072"),
    (Code::E073, "E073"),
    (Code::E110, "E110"),
    (Code::E111, "E111"),
    (Code::W001, "W001"),
];

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A position in a source file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// One finding of the validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub code: Code,
    pub severity: Severity,
    /// The step the finding is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: String::new(),
            line: pos.line,
            column: pos.column,
            code,
            severity: code.severity(),
            step: None,
            message: message.into(),
            hint: None,
        }
    }

    #[must_use]
    pub fn step(mut self, step: impl Into<String>) -> Self {
        self.step = Some(step.into());
        self
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:column: CODE message [step: id] (hint: …)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} {}",
            self.file, self.line, self.column, self.code, self.message
        )?;
        if let Some(step) = &self.step {
            write!(f, " [step: {step}]")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}
