//! Errors of the calendar module.

use chrono::{DateTime, FixedOffset};
use thiserror::Error;

use super::sla::ClockStatus;

/// Result with the calendar module's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the calendar module.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A notice file is not valid YAML or does not match the notice format (unknown or missing
    /// field, wrong type); the YAML message names the field and the line.
    #[error("{origin}: {source}")]
    NoticeSyntax {
        /// Where the text came from (a file name).
        origin: String,
        /// The parser's error.
        #[source]
        source: serde_yaml::Error,
    },
    /// A notice parsed but breaks a rule.
    #[error("{origin}: field `{field}`: {message}")]
    NoticeInvalid {
        /// Where the notice came from (a file name, or `notice <number> for <year>`).
        origin: String,
        /// Path of the offending field, e.g. `working_saturdays[0].replaces`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Two notices were given for the same year.
    #[error("two notices for {year}: {first} and {second}")]
    DuplicateNotice {
        /// The year.
        year: i32,
        /// Number of the first notice.
        first: String,
        /// Number of the second notice.
        second: String,
    },
    /// Office hours that are not in order (sessions overlapping or reversed, cut-off outside
    /// the day's sessions).
    #[error("office hours: field `{field}`: {message}")]
    OfficeHours {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// An SLA clock was asked for a transition its state does not allow.
    #[error("cannot {action} an SLA clock that is {state}")]
    InvalidTransition {
        /// The transition asked for (`pause`, `resume`, `extend`, `stop`).
        action: &'static str,
        /// The clock's state at the time.
        state: ClockStatus,
    },
    /// An SLA event is dated before the clock's previous event.
    #[error("SLA event at {at} is earlier than the clock's previous event at {previous}")]
    OutOfOrder {
        /// The instant of the rejected event.
        at: DateTime<FixedOffset>,
        /// The instant of the previous event.
        previous: DateTime<FixedOffset>,
    },
    /// An extension must raise the limit.
    #[error("an extension to {requested} working days must exceed the current {current}")]
    InvalidExtension {
        /// The limit in force.
        current: u32,
        /// The limit asked for.
        requested: u32,
    },
    /// The warning fraction of an SLA clock must lie in (0, 1].
    #[error("warning fraction {0} is not in (0, 1]")]
    WarnFraction(f64),
}
