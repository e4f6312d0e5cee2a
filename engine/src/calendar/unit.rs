//! Limits in working days or in calendar days ([`DayUnit`]); see [`super::deadline`] for how
//! each is counted.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::deadline::{Due, start_day};
use super::office::OfficeHours;

/// How the days of a limit are counted.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DayUnit {
    /// Working days of the calendar ("N ngày làm việc").
    #[default]
    WorkingDays,
    /// Calendar days ("N ngày"): the start day is not counted, and a last day off work moves
    /// to the next working day.
    CalendarDays,
}

impl DayUnit {
    /// True for the default unit (so that definitions that do not say keep their shape).
    pub fn is_working_days(&self) -> bool {
        *self == DayUnit::WorkingDays
    }

    /// Vietnamese name of the unit, as in "3 ngày làm việc".
    pub fn label_vi(self) -> &'static str {
        match self {
            DayUnit::WorkingDays => "ngày làm việc",
            DayUnit::CalendarDays => "ngày",
        }
    }

    /// English name of the unit.
    pub fn label_en(self) -> &'static str {
        match self {
            DayUnit::WorkingDays => "working days",
            DayUnit::CalendarDays => "calendar days",
        }
    }
}

/// When a limit of `n` days in `unit` expires for a dossier received at `received`.
pub fn due_in(
    received: DateTime<FixedOffset>,
    n: u32,
    unit: DayUnit,
    calendar: &Calendar,
    office: &OfficeHours,
) -> Due {
    let start = start_day(received, calendar, office);
    Due {
        start_day: start,
        due: office.closing_on(calendar.add_days(start, n, unit)),
    }
}

impl Calendar {
    /// The last day of a limit of `n` days in `unit` counted from `date` (day 0): the `n`-th
    /// working day after it, or the `n`-th calendar day moved to the next working day when
    /// it is a day off.
    pub fn add_days(&self, date: NaiveDate, n: u32, unit: DayUnit) -> NaiveDate {
        match unit {
            DayUnit::WorkingDays => self.add_working_days(date, n),
            DayUnit::CalendarDays => {
                let last = date
                    .checked_add_days(chrono::Days::new(u64::from(n)))
                    .unwrap_or(date);
                if self.is_working_day(last) {
                    last
                } else {
                    self.next_working_day(last)
                }
            }
        }
    }

    /// Days in `(a, b]` counted in `unit` (negative when `b < a`).
    pub fn days_between(&self, a: NaiveDate, b: NaiveDate, unit: DayUnit) -> i64 {
        match unit {
            DayUnit::WorkingDays => self.working_days_between(a, b),
            DayUnit::CalendarDays => (b - a).num_days(),
        }
    }
}
