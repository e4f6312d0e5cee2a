//! Deadlines counted in working days, and working time between two instants.
//!
//! The semantics, exactly:
//!
//! - **Start day.** The day of receipt if it is a working day and the dossier was received
//!   before the intake cut-off (strictly before 15:00 by default); otherwise the next working
//!   day. A dossier received at 02:00 on a working day starts that day; one received at 15:00,
//!   on a Saturday, or on a holiday starts on the next working day.
//! - **N working days.** A limit of N working days ends at the close of office hours (17:00)
//!   on the N-th working day after the start day. N = 0 ("same working day") ends at the close
//!   of the start day itself.
//! - **Working days between** `a` and `b` counts the working days in `(a, b]`, so that
//!   `working_days_between(a, add_working_days(a, n)) == n` for every date `a`.
//! - **Working time** between two instants counts only the office sessions of working days
//!   (08:00–12:00 and 13:00–17:00 by default); it is meant for reports.
//!
//! | received (UTC+7) | N | start day | due |
//! |---|---|---|---|
//! | Mon 2 Mar 2026 14:59 | 0 | Mon 2 Mar | Mon 2 Mar 17:00 |
//! | Mon 2 Mar 2026 15:00 | 0 | Tue 3 Mar | Tue 3 Mar 17:00 |
//! | Fri 6 Mar 2026 10:00 | 2 | Fri 6 Mar | Tue 10 Mar 17:00 |
//! | Sat 7 Mar 2026 10:00 | 2 | Mon 9 Mar | Wed 11 Mar 17:00 |
//! | Fri 13 Feb 2026 16:00 | 3 | Mon 23 Feb (after Tết) | Thu 26 Feb 17:00 |
//!
//! - **N calendar days** ([`super::unit::DayUnit::CalendarDays`], a limit the law gives as "N ngày"): the
//!   day the count starts from is not counted (Civil Code 2015, Art. 147(1)), so the limit
//!   ends at the close of office hours on the N-th day after the start day; when that day
//!   is a weekend day or a holiday, it ends at the close of the next working day instead
//!   (Art. 148(3)). Fri 6 Mar 2026 10:00 with 3 calendar days: due Mon 9 Mar 17:00.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::office::OfficeHours;

/// When a limit counted in working days falls due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Due {
    /// The day the count starts from (day 0).
    pub start_day: NaiveDate,
    /// Close of office hours on the last working day of the limit.
    pub due: DateTime<FixedOffset>,
}

/// The start day of a dossier received at `received` (see the module documentation).
pub fn start_day(
    received: DateTime<FixedOffset>,
    calendar: &Calendar,
    office: &OfficeHours,
) -> NaiveDate {
    let local = office.local(received);
    let date = local.date();
    if calendar.is_working_day(date) && local.time() < office.intake_cutoff {
        date
    } else {
        calendar.next_working_day(date)
    }
}

/// When a limit of `working_days` working days expires for a dossier received at `received`.
pub fn due(
    received: DateTime<FixedOffset>,
    working_days: u32,
    calendar: &Calendar,
    office: &OfficeHours,
) -> Due {
    super::unit::due_in(
        received,
        working_days,
        super::unit::DayUnit::WorkingDays,
        calendar,
        office,
    )
}

impl Calendar {
    /// The `n`-th working day after `date` (`date` itself for `n = 0`, whatever its kind).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let (mut day, mut left) = (date, n);
        while left > 0 {
            if let Some(through) = self.working_days_through(day) {
                if let Some(found) = through
                    .checked_add(left)
                    .and_then(|k| self.nth_working_day(k))
                {
                    return found;
                }
                // The target lies past the index: jump to its last working day.
                let total = self.working_days_indexed();
                if let Some(last) = self.nth_working_day(total).filter(|last| *last > day) {
                    left -= total - through;
                    day = last;
                    continue;
                }
            }
            let next = self.next_working_day(day);
            if next <= day {
                break; // the end of representable dates
            }
            day = next;
            left -= 1;
        }
        day
    }

    /// Number of working days in `(a, b]`; negative (minus those in `(b, a]`) when `b < a`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        match (self.working_days_through(a), self.working_days_through(b)) {
            (Some(x), Some(y)) => i64::from(y) - i64::from(x),
            _ => {
                let days = a.iter_days().skip(1).take_while(|d| *d <= b);
                days.filter(|d| self.is_working_day(*d)).count() as i64
            }
        }
    }
}

/// Working time between two instants: the part of `[a, b)` that falls in office sessions of
/// working days. Negative when `b < a`.
pub fn working_hours_between(
    a: DateTime<FixedOffset>,
    b: DateTime<FixedOffset>,
    calendar: &Calendar,
    office: &OfficeHours,
) -> TimeDelta {
    if b < a {
        return -working_hours_between(b, a, calendar, office);
    }
    let (a, b) = (office.local(a), office.local(b));
    let within = |date: NaiveDate, from: NaiveTime, to: Option<NaiveTime>| {
        if calendar.is_working_day(date) {
            office.working_time_within(from, to)
        } else {
            TimeDelta::zero()
        }
    };
    if a.date() == b.date() {
        return within(a.date(), a.time(), Some(b.time()));
    }
    let first = within(a.date(), a.time(), None);
    let last = within(b.date(), NaiveTime::MIN, Some(b.time()));
    let full_days = calendar.working_days_between(a.date(), b.date())
        - i64::from(calendar.is_working_day(b.date()));
    let full = i32::try_from(full_days)
        .ok()
        .and_then(|days| office.day_length().checked_mul(days))
        .unwrap_or(TimeDelta::MAX);
    first
        .checked_add(&last)
        .and_then(|t| t.checked_add(&full))
        .unwrap_or(TimeDelta::MAX)
}

/// The latest instant `t` not after `to` such that the working time in `[t, to)` equals
/// `amount`: `to` moved back by `amount` of office time (used for warnings before a deadline).
pub fn rewind_working_time(
    to: DateTime<FixedOffset>,
    amount: TimeDelta,
    calendar: &Calendar,
    office: &OfficeHours,
) -> DateTime<FixedOffset> {
    if amount <= TimeDelta::zero() {
        return to;
    }
    let local = office.local(to);
    let (mut date, mut until, mut left) = (local.date(), Some(local.time()), amount);
    // At most about 1.4 calendar days per working day; the bound only guards against loops.
    for _ in 0..1_000_000 {
        if calendar.is_working_day(date) {
            for session in [office.afternoon, office.morning] {
                let end = until.map_or(session.end, |u| session.end.min(u));
                let available = (end - session.start).max(TimeDelta::zero());
                if available > TimeDelta::zero() && available >= left {
                    return office.at(date, end - left);
                }
                left -= available;
            }
        }
        let Some(previous) = date.pred_opt() else {
            break;
        };
        date = previous;
        until = None;
    }
    office.at(date, office.opening())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::calendar::test_support::VIETNAM;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn due_at(received: &str, n: u32) -> Due {
        due(at(received), n, &VIETNAM, &OfficeHours::default())
    }

    #[test]
    fn documented_examples() {
        let cases = [
            (
                "2026-03-02T14:59:59+07:00",
                0,
                d(2026, 3, 2),
                "2026-03-02T17:00:00+07:00",
            ),
            (
                "2026-03-02T15:00:00+07:00",
                0,
                d(2026, 3, 3),
                "2026-03-03T17:00:00+07:00",
            ),
            (
                "2026-03-06T10:00:00+07:00",
                2,
                d(2026, 3, 6),
                "2026-03-10T17:00:00+07:00",
            ),
            (
                "2026-03-07T10:00:00+07:00",
                2,
                d(2026, 3, 9),
                "2026-03-11T17:00:00+07:00",
            ),
            (
                "2026-02-13T16:00:00+07:00",
                3,
                d(2026, 2, 23),
                "2026-02-26T17:00:00+07:00",
            ),
        ];
        for (received, n, start, expected) in cases {
            assert_eq!(
                due_at(received, n),
                Due {
                    start_day: start,
                    due: at(expected)
                },
                "{received}"
            );
        }
    }

    #[test]
    fn cut_off_and_time_zones() {
        // 07:59 UTC is 14:59 in Hanoi: before the cut-off.
        assert_eq!(due_at("2026-03-02T07:59:00Z", 0).start_day, d(2026, 3, 2));
        assert_eq!(due_at("2026-03-02T08:00:00Z", 0).start_day, d(2026, 3, 3));
        // Received online at 02:00 on a working day: that day.
        assert_eq!(
            due_at("2026-03-02T02:00:00+07:00", 1).due,
            at("2026-03-03T17:00:00+07:00")
        );
        // Received at 23:30 UTC on Sunday = 06:30 Monday in Hanoi.
        assert_eq!(due_at("2026-03-01T23:30:00Z", 0).start_day, d(2026, 3, 2));
        // The due instant is expressed at +07:00 whatever the receipt's offset.
        assert_eq!(
            due_at("2026-03-02T01:00:00Z", 0)
                .due
                .offset()
                .local_minus_utc(),
            7 * 3600
        );
        // A later cut-off.
        let office = OfficeHours {
            intake_cutoff: NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
            ..Default::default()
        };
        assert_eq!(
            start_day(at("2026-03-02T15:30:00+07:00"), &VIETNAM, &office),
            d(2026, 3, 2)
        );
    }

    #[test]
    fn received_on_holidays_and_weekends() {
        // Tết 2026: received on the 1st (Tue 17 Feb) starts on Mon 23 Feb.
        assert_eq!(
            due_at("2026-02-17T09:00:00+07:00", 0).start_day,
            d(2026, 2, 23)
        );
        // Fri 28 Aug after the cut-off: Sat 29 Aug – Wed 2 Sep are off, start Thu 3 Sep.
        assert_eq!(
            due_at("2026-08-28T15:30:00+07:00", 2).due,
            at("2026-09-07T17:00:00+07:00")
        );
        // Working Saturday 22 Aug 2026 counts like any working day.
        assert_eq!(
            due_at("2026-08-22T10:00:00+07:00", 0).start_day,
            d(2026, 8, 22)
        );
        assert_eq!(
            due_at("2026-08-21T10:00:00+07:00", 1).due,
            at("2026-08-22T17:00:00+07:00")
        );
        // Saturday-morning intake does not move the start day.
        let office = OfficeHours {
            saturday_morning_intake: true,
            ..Default::default()
        };
        assert_eq!(
            start_day(at("2026-03-07T09:00:00+07:00"), &VIETNAM, &office),
            d(2026, 3, 9)
        );
        // The 7-working-day supplement window from Fri 13 Feb 2026 10:00 (Tết in between).
        assert_eq!(
            due_at("2026-02-13T10:00:00+07:00", 7).due,
            at("2026-03-03T17:00:00+07:00")
        );
    }

    #[test]
    fn add_and_count_across_the_index_edges() {
        let cal = &*VIETNAM;
        assert_eq!(cal.add_working_days(d(2026, 2, 14), 0), d(2026, 2, 14));
        // Fri 31 Dec 2100, then Sat 1 Jan 2101 is a holiday with Mon 3 Jan as compensatory day.
        assert_eq!(cal.add_working_days(d(2100, 12, 30), 2), d(2101, 1, 4));
        assert_eq!(cal.working_days_between(d(2100, 12, 30), d(2101, 1, 4)), 2);
        assert_eq!(cal.add_working_days(d(1899, 12, 28), 2), d(1900, 1, 2));
        assert_eq!(cal.working_days_between(d(1899, 12, 28), d(1900, 1, 2)), 2);
        // Only Mon 23 Feb lies in (13 Feb, 23 Feb]: the week between is Tết.
        assert_eq!(cal.working_days_between(d(2026, 2, 23), d(2026, 2, 13)), -1);
        assert_eq!(cal.add_working_days(NaiveDate::MAX, 3), NaiveDate::MAX);
    }

    #[test]
    fn working_hours() {
        let (cal, office) = (&*VIETNAM, OfficeHours::default());
        let hours = |a: &str, b: &str| working_hours_between(at(a), at(b), cal, &office);
        assert_eq!(
            hours("2026-03-02T10:00:00+07:00", "2026-03-02T14:00:00+07:00"),
            TimeDelta::hours(3)
        );
        assert_eq!(
            hours("2026-03-02T14:00:00+07:00", "2026-03-02T10:00:00+07:00"),
            TimeDelta::hours(-3)
        );
        // Fri 16:00 to Mon 09:00: one hour each side.
        assert_eq!(
            hours("2026-03-06T16:00:00+07:00", "2026-03-09T09:00:00+07:00"),
            TimeDelta::hours(2)
        );
        // Across Tết 2026: Fri 13 Feb 08:00 to Tue 24 Feb 08:00 = Fri 13 and Mon 23.
        assert_eq!(
            hours("2026-02-13T08:00:00+07:00", "2026-02-24T08:00:00+07:00"),
            TimeDelta::hours(16)
        );
        assert_eq!(
            hours("2026-02-17T08:00:00+07:00", "2026-02-17T17:00:00+07:00"),
            TimeDelta::zero()
        );
    }

    #[test]
    fn rewind() {
        let (cal, office) = (&*VIETNAM, OfficeHours::default());
        let back = |to: &str, minutes: i64| {
            rewind_working_time(at(to), TimeDelta::minutes(minutes), cal, &office)
        };
        assert_eq!(
            back("2026-03-03T17:00:00+07:00", 120),
            at("2026-03-03T15:00:00+07:00")
        );
        assert_eq!(
            back("2026-03-03T17:00:00+07:00", 240),
            at("2026-03-03T13:00:00+07:00")
        );
        assert_eq!(
            back("2026-03-03T17:00:00+07:00", 300),
            at("2026-03-03T11:00:00+07:00")
        );
        assert_eq!(
            back("2026-03-03T17:00:00+07:00", 8 * 60 + 30),
            at("2026-03-02T16:30:00+07:00")
        );
        assert_eq!(
            back("2026-02-23T09:00:00+07:00", 120),
            at("2026-02-13T16:00:00+07:00")
        );
        assert_eq!(
            back("2026-03-03T17:00:00+07:00", 0),
            at("2026-03-03T17:00:00+07:00")
        );
    }

    fn date_in_range() -> impl Strategy<Value = NaiveDate> {
        (0u64..365 * 15).prop_map(|offset| d(2017, 1, 1) + chrono::Days::new(offset))
    }

    fn instant_in_range() -> impl Strategy<Value = DateTime<FixedOffset>> {
        (
            0i64..86_400 * 365 * 15,
            prop_oneof![Just(7 * 3600), Just(0), Just(-5 * 3600)],
        )
            .prop_map(|(seconds, offset)| {
                let base = at("2017-01-01T00:00:00+07:00") + TimeDelta::seconds(seconds);
                base.with_timezone(&FixedOffset::east_opt(offset).unwrap())
            })
    }

    proptest! {
        #[test]
        fn adding_then_counting_gives_n_back(date in date_in_range(), n in 0u32..400) {
            let cal = &*VIETNAM;
            let later = cal.add_working_days(date, n);
            prop_assert_eq!(cal.working_days_between(date, later), i64::from(n));
            prop_assert_eq!(cal.working_days_between(later, date), -i64::from(n));
            if n > 0 {
                prop_assert!(cal.is_working_day(later));
            }
        }

        #[test]
        fn deadlines_fall_on_working_days_at_closing(received in instant_in_range(), n in 0u32..10) {
            let office = OfficeHours::default();
            let Due { start_day, due } = due(received, n, &VIETNAM, &office);
            let local = office.local(due);
            prop_assert!(VIETNAM.is_working_day(start_day));
            prop_assert!(VIETNAM.is_working_day(local.date()));
            prop_assert_eq!(local.time(), office.closing());
            prop_assert!(due > received);
            prop_assert_eq!(VIETNAM.working_days_between(start_day, local.date()), i64::from(n));
        }

        #[test]
        fn due_is_monotonic(a in instant_in_range(), b in instant_in_range(), n in 0u32..10) {
            let office = OfficeHours::default();
            let (early, late) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(due(early, n, &VIETNAM, &office).due <= due(late, n, &VIETNAM, &office).due);
            prop_assert!(due(a, n, &VIETNAM, &office).due < due(a, n + 1, &VIETNAM, &office).due);
        }

        #[test]
        fn rewind_inverts_working_hours(to in instant_in_range(), minutes in 1i64..(60 * 8 * 12)) {
            let (cal, office) = (&*VIETNAM, OfficeHours::default());
            let amount = TimeDelta::minutes(minutes);
            let from = rewind_working_time(to, amount, cal, &office);
            prop_assert!(from <= to);
            prop_assert_eq!(working_hours_between(from, to, cal, &office), amount);
        }
    }
}

#[cfg(test)]
mod notice_years {
    use super::*;
    use crate::calendar::test_support::VIETNAM;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<FixedOffset> {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .and_then(|t| {
                t.and_local_timezone(crate::calendar::VIETNAM_OFFSET)
                    .single()
            })
            .expect("valid instant")
    }

    /// Published schedules of 2023–2025, which the computed default gets wrong.
    #[test]
    fn notices_of_2023_to_2025_are_applied() {
        let office = OfficeHours::default();
        let due_day = |received, n| due(received, n, &VIETNAM, &office).due.date_naive();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        // Tết 2025: Mon 27 – Fri 31 Jan.
        assert_eq!(due_day(at(2025, 1, 24, 10), 1), d(2025, 2, 3));
        // Tết 2023: Fri 20 – Thu 26 Jan.
        assert_eq!(due_day(at(2023, 1, 19, 10), 1), d(2023, 1, 27));
        // Tết 2024: Thu 8 – Wed 14 Feb.
        assert_eq!(due_day(at(2024, 2, 7, 10), 1), d(2024, 2, 15));
        // 2024: Mon 29 Apr off, Sat 4 May worked.
        assert!(!VIETNAM.is_working_day(d(2024, 4, 29)));
        assert!(VIETNAM.is_working_day(d(2024, 5, 4)));
        // 2025: Fri 2 May off, Sat 26 Apr worked; National Day Mon 1 – Tue 2 Sep.
        assert!(!VIETNAM.is_working_day(d(2025, 5, 2)));
        assert!(VIETNAM.is_working_day(d(2025, 4, 26)));
        assert!(!VIETNAM.is_working_day(d(2025, 9, 1)));
        for year in 2023..=2026 {
            assert!(!VIETNAM.is_provisional(year), "{year} has a notice");
        }
        assert!(VIETNAM.is_provisional(2027));
    }
}
