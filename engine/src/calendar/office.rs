//! Office hours of a receiving desk (bộ phận một cửa), in Vietnam's time zone.
//!
//! Vietnam keeps UTC+7 all year (Asia/Ho_Chi_Minh has no daylight saving), so a fixed
//! `+07:00` offset is exact and no time-zone database is needed.

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Weekday,
};
use chrono::{Datelike, offset::LocalResult};
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::error::{Error, Result};

/// UTC+7, Vietnam's time zone.
pub const VIETNAM_OFFSET: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"), // evaluated at compile time
};

/// One working session of the day, `start` inclusive, `end` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// When the session opens.
    pub start: NaiveTime,
    /// When it closes.
    pub end: NaiveTime,
}

impl Session {
    /// Length of the session.
    pub fn length(self) -> TimeDelta {
        self.end - self.start
    }

    /// Part of the session inside `[from, to)`, `to = None` meaning the end of the day.
    fn overlap(self, from: NaiveTime, to: Option<NaiveTime>) -> TimeDelta {
        let start = self.start.max(from);
        let end = to.map_or(self.end, |to| self.end.min(to));
        (end - start).max(TimeDelta::zero())
    }
}

/// Office hours and intake rules of a desk. All fields have defaults, so a configuration may
/// give only what differs; unknown fields are rejected. Times are local (UTC+7), written
/// `"HH:MM:SS"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfficeHours {
    /// Morning session; default 08:00–12:00.
    pub morning: Session,
    /// Afternoon session; default 13:00–17:00. Its end is the close of office hours, when
    /// deadlines fall due.
    pub afternoon: Session,
    /// Intake cut-off; default 15:00. A dossier received at or after it, on a working day,
    /// counts from the next working day.
    pub intake_cutoff: NaiveTime,
    /// Whether the desk receives dossiers on Saturday mornings; default false.
    ///
    /// Choice made: when true, a dossier received on a Saturday morning (a Saturday that is not
    /// a working day, nor a holiday) is *received* that day (its receipt instant is the real
    /// one and [`OfficeHours::accepts_intake`] says yes), but its SLA start day is still the
    /// next working day, because the limits are counted in working days and that Saturday is
    /// not one. The flag therefore never changes a deadline.
    pub saturday_morning_intake: bool,
}

impl Default for OfficeHours {
    fn default() -> Self {
        Self {
            morning: Session {
                start: hm(8, 0),
                end: hm(12, 0),
            },
            afternoon: Session {
                start: hm(13, 0),
                end: hm(17, 0),
            },
            intake_cutoff: hm(15, 0),
            saturday_morning_intake: false,
        }
    }
}

fn hm(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)
}

impl OfficeHours {
    /// Checks that the sessions are in order and the cut-off falls within office hours.
    pub fn validate(&self) -> Result<()> {
        let fail = |field, message: &str| {
            Err(Error::OfficeHours {
                field,
                message: message.into(),
            })
        };
        if self.morning.start >= self.morning.end {
            return fail("morning", "must start before it ends");
        }
        if self.afternoon.start >= self.afternoon.end {
            return fail("afternoon", "must start before it ends");
        }
        if self.afternoon.start < self.morning.end {
            return fail(
                "afternoon",
                "must start when or after the morning session ends",
            );
        }
        if self.intake_cutoff <= self.morning.start || self.intake_cutoff > self.afternoon.end {
            return fail(
                "intake_cutoff",
                "must fall after opening and not after closing",
            );
        }
        Ok(())
    }

    /// The time zone of all office times: UTC+7.
    pub fn offset(&self) -> FixedOffset {
        VIETNAM_OFFSET
    }

    /// Opening time (start of the morning session).
    pub fn opening(&self) -> NaiveTime {
        self.morning.start
    }

    /// Closing time (end of the afternoon session).
    pub fn closing(&self) -> NaiveTime {
        self.afternoon.end
    }

    /// Working time of a full working day.
    pub fn day_length(&self) -> TimeDelta {
        self.morning.length() + self.afternoon.length()
    }

    /// Working time within `[from, to)` of a working day; `to = None` means the end of the day.
    pub fn working_time_within(&self, from: NaiveTime, to: Option<NaiveTime>) -> TimeDelta {
        self.morning.overlap(from, to) + self.afternoon.overlap(from, to)
    }

    /// The local date and time of an instant.
    pub fn local(&self, instant: DateTime<FixedOffset>) -> NaiveDateTime {
        instant.with_timezone(&VIETNAM_OFFSET).naive_local()
    }

    /// The instant of a local date and time.
    pub fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<FixedOffset> {
        let local = date.and_time(time);
        match VIETNAM_OFFSET.from_local_datetime(&local) {
            LocalResult::Single(instant) => instant,
            // Only at the very ends of chrono's range: keep the wall-clock reading as UTC.
            _ => DateTime::from_naive_utc_and_offset(local, VIETNAM_OFFSET),
        }
    }

    /// Close of office hours on `date`, when a deadline falling on that day expires.
    pub fn closing_on(&self, date: NaiveDate) -> DateTime<FixedOffset> {
        self.at(date, self.closing())
    }

    /// Whether the desk takes in dossiers at `instant`: during a session of a working day, or
    /// on a Saturday morning that is not a day off when `saturday_morning_intake` is set.
    /// (Online submissions are accepted at any time; this is for the physical desk.)
    pub fn accepts_intake(&self, calendar: &Calendar, instant: DateTime<FixedOffset>) -> bool {
        let local = self.local(instant);
        let (date, time) = (local.date(), local.time());
        let in_session = |s: Session| s.start <= time && time < s.end;
        if calendar.is_working_day(date) {
            in_session(self.morning) || in_session(self.afternoon)
        } else {
            self.saturday_morning_intake
                && date.weekday() == Weekday::Sat
                && !calendar.is_day_off(date)
                && in_session(self.morning)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::test_support::VIETNAM;

    fn instant(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn defaults() {
        let office = OfficeHours::default();
        office.validate().unwrap();
        assert_eq!(office.day_length(), TimeDelta::hours(8));
        assert_eq!(office.offset().local_minus_utc(), 7 * 3600);
        assert_eq!(
            office.closing_on(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()),
            instant("2026-03-02T17:00:00+07:00")
        );
    }

    #[test]
    fn partial_configuration_and_unknown_fields() {
        let office: OfficeHours =
            serde_json::from_str(r#"{"intake_cutoff":"16:00:00","saturday_morning_intake":true}"#)
                .unwrap();
        assert_eq!(office.intake_cutoff, hm(16, 0));
        assert_eq!(office.morning, OfficeHours::default().morning);
        let short: OfficeHours =
            serde_yaml::from_str("afternoon: {start: \"13:30\", end: \"16:30\"}").unwrap();
        assert_eq!(short.afternoon.end, hm(16, 30));
        assert!(serde_json::from_str::<OfficeHours>(r#"{"cutoff":"16:00:00"}"#).is_err());
        let round_trip: OfficeHours =
            serde_json::from_str(&serde_json::to_string(&office).unwrap()).unwrap();
        assert_eq!(round_trip, office);
    }

    #[test]
    fn invalid_hours_are_rejected() {
        let mut office = OfficeHours::default();
        office.afternoon.start = hm(11, 0);
        assert!(
            office
                .validate()
                .unwrap_err()
                .to_string()
                .contains("`afternoon`")
        );
        let office = OfficeHours {
            intake_cutoff: hm(18, 0),
            ..Default::default()
        };
        assert!(
            office
                .validate()
                .unwrap_err()
                .to_string()
                .contains("`intake_cutoff`")
        );
        let mut office = OfficeHours::default();
        office.morning.end = hm(7, 0);
        assert!(office.validate().is_err());
    }

    #[test]
    fn working_time_within_a_day() {
        let office = OfficeHours::default();
        assert_eq!(
            office.working_time_within(hm(10, 0), None),
            TimeDelta::hours(6)
        );
        assert_eq!(
            office.working_time_within(hm(12, 30), Some(hm(14, 0))),
            TimeDelta::hours(1)
        );
        assert_eq!(
            office.working_time_within(hm(18, 0), None),
            TimeDelta::zero()
        );
        assert_eq!(
            office.working_time_within(NaiveTime::MIN, Some(hm(9, 15))),
            TimeDelta::minutes(75)
        );
    }

    #[test]
    fn intake() {
        let cal = &*VIETNAM;
        let mut office = OfficeHours::default();
        assert!(office.accepts_intake(cal, instant("2026-03-02T09:00:00+07:00")));
        assert!(
            !office.accepts_intake(cal, instant("2026-03-02T12:30:00+07:00")),
            "lunch"
        );
        assert!(
            office.accepts_intake(cal, instant("2026-03-02T02:00:00Z")),
            "09:00 local"
        );
        assert!(
            !office.accepts_intake(cal, instant("2026-03-07T09:00:00+07:00")),
            "Saturday"
        );
        office.saturday_morning_intake = true;
        assert!(office.accepts_intake(cal, instant("2026-03-07T09:00:00+07:00")));
        assert!(
            !office.accepts_intake(cal, instant("2026-03-07T14:00:00+07:00")),
            "afternoon"
        );
        assert!(
            !office.accepts_intake(cal, instant("2026-03-08T09:00:00+07:00")),
            "Sunday"
        );
        // Saturday 2 May 2026 is no holiday, Saturday 14 Feb 2026 is not either, but
        // Saturday 30 Apr 2022 (Victory Day) is.
        assert!(!office.accepts_intake(cal, instant("2022-04-30T09:00:00+07:00")));
        assert!(
            office.accepts_intake(cal, instant("2026-08-22T14:00:00+07:00")),
            "working Saturday"
        );
    }
}
