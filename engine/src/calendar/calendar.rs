//! The working-day calendar: holidays and notices turned into an O(1) lookup index.
//!
//! A working day is a Monday–Friday that is not a holiday or compensatory day, or a Saturday
//! that a notice made a working day. Every year from 1900 to 2100 is precomputed when the
//! calendar is built (a bitset of working days plus running counts), so that
//! [`Calendar::is_working_day`], [`Calendar::next_working_day`] and the working-day arithmetic
//! in [`super::deadline`] are constant-time. Dates outside that range are still answered, from
//! the computed rules, one year at a time and slowly.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};

use super::error::{Error, Result};
use super::holidays::{self, DayEntry, DayKind};
use super::notice::{YearNotice, builtin_notices};

/// First and last year of the precomputed index.
pub const INDEXED_YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// Revision of the rules coded in this module; part of [`Calendar::version`]. Bump it whenever a
/// code change alters which days are off, so stored deadlines can tell.
pub const RULES_REVISION: &str = "vn-r1";

/// The Vietnamese working-day calendar for a given set of yearly notices.
#[derive(Clone)]
pub struct Calendar {
    notices: BTreeMap<i32, YearNotice>,
    version: String,
    /// Every listed day of the indexed years, sorted by date.
    entries: Vec<DayEntry>,
    index: Index,
}

/// Working days of the indexed range, by day offset from its first day.
#[derive(Clone)]
struct Index {
    /// `num_days_from_ce` of 1 Jan of the first indexed year.
    first: i32,
    /// Number of days indexed.
    len: u32,
    /// Bit `i` set when day `i` is a working day.
    working: Vec<u64>,
    /// `through[i]`: number of working days in days `0..=i`.
    through: Vec<u32>,
    /// `nth[k]`: offset of the (k+1)-th working day.
    nth: Vec<u32>,
}

impl Calendar {
    /// The calendar with the notices shipped with the engine ([`builtin_notices`]).
    pub fn vietnam() -> Self {
        let mut notices = BTreeMap::new();
        for notice in builtin_notices() {
            notices.entry(notice.year).or_insert(notice);
        }
        Self::build(notices)
    }

    /// A calendar with these notices (at most one per year), each validated.
    pub fn with_notices(notices: Vec<YearNotice>) -> Result<Self> {
        let mut by_year: BTreeMap<i32, YearNotice> = BTreeMap::new();
        for notice in notices {
            notice.validate(&format!("notice {} for {}", notice.notice, notice.year))?;
            if let Some(first) = by_year.get(&notice.year) {
                return Err(Error::DuplicateNotice {
                    year: notice.year,
                    first: first.notice.clone(),
                    second: notice.notice,
                });
            }
            by_year.insert(notice.year, notice);
        }
        Ok(Self::build(by_year))
    }

    fn build(notices: BTreeMap<i32, YearNotice>) -> Self {
        let mut entries: Vec<DayEntry> = INDEXED_YEARS
            .flat_map(|year| holidays::year_entries(year, notices.get(&year)))
            .collect();
        // A notice may date a day in December of the year before; it then wins over that
        // year's own entry for the same date.
        entries.sort_by_key(|e| (e.date, holidays::source_rank(&e.source)));
        entries.dedup_by_key(|e| e.date);
        let index = Index::new(&entries);
        let version = version_of(&notices);
        Self {
            notices,
            version,
            entries,
            index,
        }
    }

    /// A stable identifier of the data this calendar was built from: the rules revision, the
    /// years that have notices, and a hash of their content. Store it with every deadline.
    pub fn version(&self) -> String {
        self.version.clone()
    }

    /// True when no notice was given for `year`: its Tết and National-Day days are the computed
    /// defaults and may still change when the notice is published.
    pub fn is_provisional(&self, year: i32) -> bool {
        !self.notices.contains_key(&year)
    }

    /// The notices in use, by year.
    pub fn notices(&self) -> impl Iterator<Item = &YearNotice> {
        self.notices.values()
    }

    /// Holidays, compensatory days and working Saturdays of `year`, sorted by date.
    pub fn entries(&self, year: i32) -> Vec<DayEntry> {
        if !INDEXED_YEARS.contains(&year) {
            return holidays::year_entries(year, None)
                .into_iter()
                .filter(|e| e.date.year() == year)
                .collect();
        }
        let from = self.entries.partition_point(|e| e.date.year() < year);
        let to = self.entries.partition_point(|e| e.date.year() <= year);
        self.entries[from..to].to_vec()
    }

    /// The listed entry of a date (holiday, compensatory day or working Saturday), if any.
    pub fn entry(&self, date: NaiveDate) -> Option<DayEntry> {
        if !INDEXED_YEARS.contains(&date.year()) {
            return self
                .entries(date.year())
                .into_iter()
                .find(|e| e.date == date);
        }
        let i = self.entries.partition_point(|e| e.date < date);
        self.entries.get(i).filter(|e| e.date == date).cloned()
    }

    /// True when `date` is a holiday or compensatory day (whatever its weekday).
    pub fn is_day_off(&self, date: NaiveDate) -> bool {
        self.entry(date).is_some_and(|e| e.is_day_off())
    }

    /// True when offices work on `date`.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.index.offset(date) {
            Some(i) => self.index.is_working(i),
            None => self.slow_is_working_day(date),
        }
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        if let Some(i) = self.index.offset(date)
            && let Some(next) = self.nth_working_day(self.index.through[i as usize] + 1)
        {
            return next;
        }
        let mut days = date.iter_days().skip(1);
        days.find(|d| self.is_working_day(*d)).unwrap_or(date)
    }

    /// Number of working days from the start of the index up to and including `date`; `None`
    /// outside the index.
    pub(super) fn working_days_through(&self, date: NaiveDate) -> Option<u32> {
        self.index
            .offset(date)
            .map(|i| self.index.through[i as usize])
    }

    /// Number of working days in the index.
    pub(super) fn working_days_indexed(&self) -> u32 {
        u32::try_from(self.index.nth.len()).unwrap_or(u32::MAX)
    }

    /// The `ordinal`-th working day of the index (1-based); `None` past its end.
    pub(super) fn nth_working_day(&self, ordinal: u32) -> Option<NaiveDate> {
        let k = ordinal.checked_sub(1)?;
        let offset = *self.index.nth.get(k as usize)?;
        NaiveDate::from_num_days_from_ce_opt(self.index.first + offset as i32)
    }

    /// Outside the index: weekdays minus the computed days off of the date's year.
    fn slow_is_working_day(&self, date: NaiveDate) -> bool {
        let listed = self.entry(date);
        match listed {
            Some(entry) => entry.kind == DayKind::WorkingSaturday,
            None => !holidays::is_weekend(date),
        }
    }
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("version", &self.version)
            .field("notice_years", &self.notices.keys().collect::<Vec<_>>())
            .field("indexed_years", &INDEXED_YEARS)
            .finish_non_exhaustive()
    }
}

impl Index {
    fn new(entries: &[DayEntry]) -> Self {
        let first = first_day().num_days_from_ce();
        let last = last_day().num_days_from_ce();
        let len = u32::try_from(last - first + 1).unwrap_or(0);
        let mut working = vec![0u64; (len as usize).div_ceil(64)];
        let mut through = Vec::with_capacity(len as usize);
        let mut nth = Vec::new();
        let mut listed = entries.iter().peekable();
        let mut count = 0u32;
        for (offset, date) in (0..len).zip(first_day().iter_days()) {
            while listed.next_if(|e| e.date < date).is_some() {}
            let entry = listed.next_if(|e| e.date == date);
            let is_working = match entry {
                Some(e) => e.kind == DayKind::WorkingSaturday,
                None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
            };
            if is_working {
                working[offset as usize / 64] |= 1 << (offset % 64);
                nth.push(offset);
                count += 1;
            }
            through.push(count);
        }
        Self {
            first,
            len,
            working,
            through,
            nth,
        }
    }

    fn offset(&self, date: NaiveDate) -> Option<u32> {
        let offset = u32::try_from(date.num_days_from_ce() - self.first).ok()?;
        (offset < self.len).then_some(offset)
    }

    fn is_working(&self, offset: u32) -> bool {
        self.working[offset as usize / 64] & (1 << (offset % 64)) != 0
    }
}

fn first_day() -> NaiveDate {
    NaiveDate::from_yo_opt(*INDEXED_YEARS.start(), 1).unwrap_or(NaiveDate::MIN)
}

fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(*INDEXED_YEARS.end(), 12, 31).unwrap_or(NaiveDate::MIN)
}

/// `RULES_REVISION/years/hash`, e.g. `vn-r1/2019,2020,2026/5c0e…`, the hash being FNV-1a 64 of
/// the notices' canonical text (stable across platforms and serde settings).
fn version_of(notices: &BTreeMap<i32, YearNotice>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in RULES_REVISION.bytes().chain(notices.values().flat_map(|n| {
        let mut text = n.canonical().into_bytes();
        text.push(0);
        text
    })) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let years: Vec<String> = notices.keys().map(i32::to_string).collect();
    format!("{RULES_REVISION}/{}/{hash:016x}", years.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::holidays::Source;
    use crate::calendar::test_support::VIETNAM;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn notice_2026() {
        let cal = &*VIETNAM;
        for day in 16..=20 {
            assert!(!cal.is_working_day(d(2026, 2, day)), "Feb {day}");
        }
        assert!(cal.is_working_day(d(2026, 2, 13)) && cal.is_working_day(d(2026, 2, 23)));
        assert!(
            cal.is_working_day(d(2026, 8, 22)),
            "Sat 22 Aug is a working day"
        );
        assert!(
            !cal.is_working_day(d(2026, 8, 29)),
            "other Saturdays are not"
        );
        for date in [d(2026, 8, 31), d(2026, 9, 1), d(2026, 9, 2)] {
            assert!(!cal.is_working_day(date), "{date}");
        }
        assert!(cal.is_working_day(d(2026, 9, 3)));
        assert!(!cal.is_provisional(2026) && cal.is_provisional(2027));
        let entries = cal.entries(2026);
        let saturday = entries.iter().find(|e| e.date == d(2026, 8, 22)).unwrap();
        assert_eq!(saturday.kind, DayKind::WorkingSaturday);
        assert_eq!(saturday.source, Source::Notice("9441/TB-BNV".into()));
        // Hùng Kings on Sun 26 Apr (law) and Mon 27 Apr (computed compensatory) stay.
        assert!(!cal.is_working_day(d(2026, 4, 27)));
        assert_eq!(cal.entry(d(2026, 4, 26)).unwrap().source, Source::Law);
    }

    #[test]
    fn notice_2020_compensatory_days() {
        let cal = &*VIETNAM;
        let january: Vec<(NaiveDate, DayKind)> = cal
            .entries(2020)
            .into_iter()
            .filter(|e| e.date.month() == 1 && e.date.day() > 1)
            .map(|e| (e.date, e.kind))
            .collect();
        let expected: Vec<(NaiveDate, DayKind)> = (23..=29)
            .map(|day| {
                let kind = if day >= 28 {
                    DayKind::Compensatory
                } else {
                    DayKind::Holiday
                };
                (d(2020, 1, day), kind)
            })
            .collect();
        assert_eq!(january, expected);
        assert!(cal.is_working_day(d(2020, 1, 22)) && cal.is_working_day(d(2020, 1, 30)));
        // Without the notice the default rule gives 24–30 Jan.
        let computed = Calendar::with_notices(vec![]).unwrap();
        assert!(
            computed.is_working_day(d(2020, 1, 23)) && !computed.is_working_day(d(2020, 1, 30))
        );
    }

    #[test]
    fn notice_2019_swap() {
        let cal = &*VIETNAM;
        assert!(!cal.is_working_day(d(2019, 4, 29)), "Mon 29 Apr off");
        assert!(cal.is_working_day(d(2019, 5, 4)), "Sat 4 May worked");
        assert!(
            !cal.is_working_day(d(2019, 4, 15)),
            "Hùng Kings compensatory"
        );
        // Tết 2019 is the computed default: Mon 4 – Fri 8 Feb.
        let tet: Vec<u32> = (1..=11)
            .filter(|&day| !cal.is_working_day(d(2019, 2, day)))
            .collect();
        assert_eq!(tet, [2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(cal.next_working_day(d(2019, 4, 26)), d(2019, 5, 2));
        assert_eq!(cal.next_working_day(d(2019, 5, 3)), d(2019, 5, 4));
    }

    #[test]
    fn entries_are_sorted_and_list_weekend_holidays() {
        let entries = VIETNAM.entries(2023);
        assert!(entries.windows(2).all(|w| w[0].date < w[1].date));
        assert!(
            entries
                .iter()
                .any(|e| e.date == d(2023, 4, 30) && e.kind == DayKind::Holiday)
        );
        assert_eq!(
            VIETNAM.entries(2101).first().map(|e| e.date),
            Some(d(2101, 1, 1))
        );
    }

    #[test]
    fn version_is_stable_and_content_sensitive() {
        let a = Calendar::vietnam();
        assert_eq!(a.version(), VIETNAM.version());
        assert!(
            a.version()
                .starts_with("vn-r1/2019,2020,2023,2024,2025,2026/"),
            "{}",
            a.version()
        );
        let mut notices = builtin_notices();
        notices[2].days_off[0].name_en.push('!');
        let b = Calendar::with_notices(notices).unwrap();
        assert_ne!(a.version(), b.version());
        let none = Calendar::with_notices(vec![]).unwrap();
        assert!(none.version().starts_with("vn-r1//"));
    }

    #[test]
    fn duplicate_and_invalid_notices_are_rejected() {
        let mut notices = builtin_notices();
        notices.push(notices[0].clone());
        let error = Calendar::with_notices(notices).unwrap_err().to_string();
        assert!(error.contains("two notices for 2019"), "{error}");
        let mut invalid = builtin_notices();
        invalid[0].working_saturdays[0].date = d(2019, 5, 5);
        let error = Calendar::with_notices(invalid).unwrap_err().to_string();
        assert!(error.contains("working_saturdays[0].date"), "{error}");
    }

    #[test]
    fn outside_the_index_uses_computed_rules() {
        let cal = &*VIETNAM;
        // 1 Jan 2101 is a Saturday: Monday 3 Jan is its compensatory day.
        assert!(!cal.is_working_day(d(2101, 1, 1)) && !cal.is_working_day(d(2101, 1, 3)));
        assert!(cal.is_working_day(d(2101, 1, 4)));
        assert!(!cal.is_working_day(d(1899, 12, 31)), "a Sunday");
        assert_eq!(cal.next_working_day(d(2100, 12, 31)), d(2101, 1, 4));
        assert_eq!(cal.next_working_day(d(1899, 12, 29)), d(1900, 1, 2));
    }

    #[test]
    fn index_agrees_with_the_entries() {
        let cal = &*VIETNAM;
        for date in d(2018, 1, 1).iter_days().take(365 * 12) {
            let expected = match cal.entry(date) {
                Some(e) => !e.is_day_off(),
                None => !holidays::is_weekend(date),
            };
            assert_eq!(cal.is_working_day(date), expected, "{date}");
            assert_eq!(cal.slow_is_working_day(date), expected, "{date}");
        }
    }
}
