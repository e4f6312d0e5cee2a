//! The Vietnamese working-day calendar: pure functions and data, no I/O, no clock.
//!
//! Legal time limits for administrative procedures are counted in working days. This module
//! answers which days are working days, when a limit falls due, and how SLA clocks move.
//!
//! # Semantics
//!
//! - **Working day**: Monday to Friday, minus public holidays and compensatory days, plus any
//!   Saturday that an official notice made a working day (làm bù).
//! - **Holidays** ([`holidays`]): the Labour Code 2019, Art. 112 — New Year (1 Jan), Tết (5
//!   days), Hùng Kings (10/3 lunar), Victory Day (30 Apr), Labour Day (1 May), National Day
//!   (2 Sep plus an adjacent day). Lunar dates come from the Vietnamese lunisolar calendar
//!   computed astronomically at UTC+7 ([`lunar`]).
//! - **Compensatory days** (Art. 111(3)): a holiday on a Saturday or Sunday gives the next
//!   weekday that is not already off.
//! - **Notices override computed days** ([`notice`]): the Prime Minister fixes the Tết days and
//!   the National-Day adjacent day each year, and the ministry publishes them with any swap of
//!   a bridge day for a working Saturday. A year's notice replaces the computed days of every
//!   holiday it mentions; the law's fixed dates stay.
//! - **Provisional years**: a year without a notice uses the default rule (Tết = the last day
//!   of the lunar year and the 1st–4th of the new one; National Day = 1–2 Sep) and
//!   [`Calendar::is_provisional`] says so. Deadlines computed in such a year carry the
//!   calendar's [`Calendar::version`] and can be recomputed ([`SlaClock::recompute`]) once the
//!   notice is published.
//! - **Start day** ([`deadline`]): the day of receipt when it is a working day and receipt is
//!   before the intake cut-off (15:00); otherwise the next working day.
//! - **N working days**: a limit of N working days ends at the close of office hours (17:00,
//!   UTC+7) on the N-th working day after the start day; N = 0 ends on the start day itself.
//!   A limit the law gives in calendar days ends on the N-th day after the start day, or
//!   the next working day when that one is off (Civil Code 2015, Art. 147–148).
//! - **SLA clocks** ([`sla`]): running, paused for a supplement (the deadline moves by the
//!   working days spent paused), extended for verification (a new limit on a legal basis),
//!   stopped; stored with their inputs and the calendar version.

#[allow(clippy::module_inception)] // `calendar::calendar` holds the `Calendar` type itself
mod calendar;
pub mod deadline;
mod error;
pub mod holidays;
pub mod lunar;
pub mod notice;
pub mod office;
pub mod sla;
pub mod unit;

pub use calendar::{Calendar, INDEXED_YEARS, RULES_REVISION};
pub use deadline::{Due, due, rewind_working_time, start_day, working_hours_between};
pub use error::{Error, Result};
pub use holidays::{DayEntry, DayKind, Holiday, Source};
pub use lunar::{LunarDate, lunar_new_year, lunar_to_solar, solar_to_lunar};
pub use notice::{
    NoticeDayOff, OffKind, WorkingSaturday, YearNotice, builtin_notices, try_builtin_notices,
};
pub use office::{OfficeHours, Session, VIETNAM_OFFSET};
pub use sla::{ClockStatus, Computed, DeadlineChange, Extension, Pause, Remaining, SlaClock};
pub use unit::{DayUnit, due_in};

/// A calendar shared by the tests (building one takes a while in debug builds).
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::LazyLock;

    use super::Calendar;

    pub(crate) static VIETNAM: LazyLock<Calendar> = LazyLock::new(Calendar::vietnam);
}
