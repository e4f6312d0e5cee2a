//! Which days of a year are public holidays, compensatory days or working Saturdays.
//!
//! **Statutory holidays** (Labour Code 2019, Art. 112, in force from 2021):
//!
//! | holiday | days | date | source |
//! |---|---|---|---|
//! | New Year (Tết Dương lịch) | 1 | 1 Jan | law |
//! | Tết Nguyên đán | 5 | fixed yearly by the Prime Minister; default below | computed |
//! | Hùng Kings' Commemoration | 1 | 10th day of the 3rd lunar month | law |
//! | Victory Day | 1 | 30 Apr | law |
//! | International Labour Day | 1 | 1 May | law |
//! | National Day | 2 | 2 Sep, plus one adjacent day chosen yearly; default below | law / computed |
//!
//! **Defaults when no notice fixes the days** (marked [`Source::Computed`]):
//! - Tết: the last day of the lunar year (the 29th or 30th of the 12th month) and the 1st to
//!   4th days of the 1st month. This is what the notices chose for 2019 and 2026 (in 2026 the
//!   12th month has 29 days, so 16–20 Feb 2026 = the 29th to the 4th); other years differ
//!   (2020 took two days before the New Year), which is why the yearly notice overrides it.
//! - National Day: 1 Sep as the adjacent day (a notice may choose 3 Sep instead).
//!
//! **Compensatory days** (Art. 111(3)): a holiday that falls on Saturday or Sunday gives the next
//! weekday that is not already a day off. Weekend holidays are processed in date order, so two
//! weekend holidays in a row give two compensatory days.
//!
//! **Before 2021** the Labour Code 2012 (Art. 115) applied: the same list with a one-day
//! National Day. It is used for every year before 2021; before 2013 that is an approximation
//! (Tết had 4 days before 2013, and Hùng Kings became a holiday in 2007).
//!
//! **Notices** (see [`super::notice`]): for each holiday that a year's notice mentions, the
//! notice's days replace the computed days of that holiday and its computed compensatory days;
//! the law's fixed dates (1 Jan, 10/3 lunar, 30 Apr, 1 May, 2 Sep) always stay days off. A notice
//! also adds working Saturdays.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::lunar::{self, LunarDate};
use super::notice::{OffKind, YearNotice};

/// The statutory holiday a day belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    /// New Year's Day, 1 Jan.
    NewYear,
    /// Lunar New Year, Tết Nguyên đán.
    Tet,
    /// Hùng Kings' Commemoration, 10th day of the 3rd lunar month.
    HungKings,
    /// Victory (Reunification) Day, 30 Apr.
    VictoryDay,
    /// International Labour Day, 1 May.
    LabourDay,
    /// National Day, 2 Sep and an adjacent day.
    NationalDay,
    /// A day off that belongs to no statutory holiday (an exceptional day announced by notice).
    Other,
}

impl Holiday {
    /// Vietnamese name.
    pub fn name_vi(self) -> &'static str {
        match self {
            Self::NewYear => "Tết Dương lịch",
            Self::Tet => "Tết Nguyên đán",
            Self::HungKings => "Giỗ Tổ Hùng Vương",
            Self::VictoryDay => "Ngày Chiến thắng",
            Self::LabourDay => "Ngày Quốc tế Lao động",
            Self::NationalDay => "Quốc khánh",
            Self::Other => "Ngày nghỉ",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::NewYear => "New Year's Day",
            Self::Tet => "Lunar New Year (Tết)",
            Self::HungKings => "Hùng Kings' Commemoration Day",
            Self::VictoryDay => "Victory Day (Reunification Day)",
            Self::LabourDay => "International Labour Day",
            Self::NationalDay => "National Day",
            Self::Other => "Day off",
        }
    }
}

/// What a listed day is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (also listed when it falls on a weekend).
    Holiday,
    /// A day off given instead of a holiday on a weekend, or swapped for a working Saturday.
    Compensatory,
    /// A Saturday made a working day (làm bù) in exchange for a day off.
    WorkingSaturday,
}

impl DayKind {
    /// The name used in JSON: `holiday`, `compensatory` or `working_saturday`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holiday => "holiday",
            Self::Compensatory => "compensatory",
            Self::WorkingSaturday => "working_saturday",
        }
    }
}

/// Where a listed day comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Fixed by the Labour Code itself (including the lunar dates it names).
    Law,
    /// Fixed by the yearly official notice with this number.
    Notice(String),
    /// Chosen by this module's default rule where the law leaves the choice to the yearly
    /// notice, or where Art. 111(3) gives a compensatory day.
    Computed,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Law => f.write_str("law"),
            Self::Notice(number) => write!(f, "notice {number}"),
            Self::Computed => f.write_str("computed"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One listed day of the calendar.
///
/// Serialises as `{"date":"2026-02-16","kind":"holiday","name":"…","name_en":"…",
/// "source":"notice 9441/TB-BNV"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DayEntry {
    /// The day.
    pub date: NaiveDate,
    /// Holiday, compensatory day or working Saturday.
    pub kind: DayKind,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Law, notice or computed.
    pub source: Source,
}

impl DayEntry {
    /// True for holidays and compensatory days, false for working Saturdays.
    pub fn is_day_off(&self) -> bool {
        self.kind != DayKind::WorkingSaturday
    }
}

impl Serialize for DayEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("DayEntry", 5)?;
        s.serialize_field("date", &self.date)?;
        s.serialize_field("kind", self.kind.as_str())?;
        s.serialize_field("name", &self.name_vi)?;
        s.serialize_field("name_en", &self.name_en)?;
        s.serialize_field("source", &self.source)?;
        s.end()
    }
}

/// A listed day with the holiday it belongs to.
#[derive(Clone, Debug)]
struct Tagged {
    holiday: Holiday,
    entry: DayEntry,
}

/// All listed days that year `year`'s rules and notice produce, sorted by date. Days that a
/// notice dates in December of the previous year are included.
pub(crate) fn year_entries(year: i32, notice: Option<&YearNotice>) -> Vec<DayEntry> {
    let covered: BTreeSet<Holiday> = notice
        .map(|n| n.days_off.iter().map(|d| d.holiday).collect())
        .unwrap_or_default();
    let mut days: Vec<Tagged> = statutory_days(year);
    days.extend(
        default_days(year)
            .into_iter()
            .filter(|t| !covered.contains(&t.holiday)),
    );
    if let Some(notice) = notice {
        let source = Source::Notice(notice.notice.clone());
        days.extend(notice.days_off.iter().map(|d| Tagged {
            holiday: d.holiday,
            entry: DayEntry {
                date: d.date,
                kind: match d.kind {
                    OffKind::Holiday => DayKind::Holiday,
                    OffKind::Compensatory => DayKind::Compensatory,
                },
                name_vi: d.name_vi.clone(),
                name_en: d.name_en.clone(),
                source: source.clone(),
            },
        }));
    }
    // A notice entry replaces a law entry of the same date (it restates it).
    days.sort_by_key(|t| (t.entry.date, source_rank(&t.entry.source)));
    days.dedup_by_key(|t| t.entry.date);
    let compensatory = compensatory_days(&days, &covered);
    let mut entries: Vec<DayEntry> = days
        .into_iter()
        .chain(compensatory)
        .map(|t| t.entry)
        .collect();
    if let Some(notice) = notice {
        entries.extend(notice.working_saturdays.iter().map(|w| DayEntry {
            date: w.date,
            kind: DayKind::WorkingSaturday,
            name_vi: w.name_vi.clone(),
            name_en: w.name_en.clone(),
            source: Source::Notice(notice.notice.clone()),
        }));
    }
    entries.sort_by_key(|e| (e.date, e.kind));
    entries
}

/// Order of precedence when two entries share a date: notice, then law, then computed.
pub(crate) fn source_rank(source: &Source) -> u8 {
    match source {
        Source::Notice(_) => 0,
        Source::Law => 1,
        Source::Computed => 2,
    }
}

fn tagged(holiday: Holiday, date: NaiveDate, vi: String, en: String, source: Source) -> Tagged {
    let entry = DayEntry {
        date,
        kind: DayKind::Holiday,
        name_vi: vi,
        name_en: en,
        source,
    };
    Tagged { holiday, entry }
}

/// The days the law itself dates.
fn statutory_days(year: i32) -> Vec<Tagged> {
    let solar = |holiday: Holiday, month: u32, day: u32| {
        NaiveDate::from_ymd_opt(year, month, day).map(|date| {
            let (vi, en) = (holiday.name_vi().to_owned(), holiday.name_en().to_owned());
            tagged(holiday, date, vi, en, Source::Law)
        })
    };
    let hung_kings = lunar::lunar_to_solar(LunarDate::new(10, 3, year)).map(|date| {
        let vi = format!("{} (10/3 âm lịch)", Holiday::HungKings.name_vi());
        let en = format!(
            "{} (10th day of the 3rd lunar month)",
            Holiday::HungKings.name_en()
        );
        tagged(Holiday::HungKings, date, vi, en, Source::Law)
    });
    [
        solar(Holiday::NewYear, 1, 1),
        hung_kings,
        solar(Holiday::VictoryDay, 4, 30),
        solar(Holiday::LabourDay, 5, 1),
        solar(Holiday::NationalDay, 9, 2),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The days the law leaves to the yearly notice, by this module's default rule.
fn default_days(year: i32) -> Vec<Tagged> {
    let mut days = Vec::new();
    if let Some(new_year) = lunar::lunar_new_year(year) {
        if let Some(eve) = new_year.pred_opt() {
            let last = lunar::solar_to_lunar(eve).day;
            let vi = format!("{} (ngày {last} tháng Chạp)", Holiday::Tet.name_vi());
            let en = format!(
                "{}, {last}th day of the 12th lunar month",
                Holiday::Tet.name_en()
            );
            days.push(tagged(Holiday::Tet, eve, vi, en, Source::Computed));
        }
        for (n, date) in (1u8..=4).zip(new_year.iter_days()) {
            let vi = format!("{} (mùng {n} tháng Giêng)", Holiday::Tet.name_vi());
            let en = format!(
                "{}, {} day of the 1st lunar month",
                Holiday::Tet.name_en(),
                ordinal(n)
            );
            days.push(tagged(Holiday::Tet, date, vi, en, Source::Computed));
        }
    }
    if year >= 2021
        && let Some(date) = NaiveDate::from_ymd_opt(year, 9, 1)
    {
        let vi = format!("{} (ngày liền kề)", Holiday::NationalDay.name_vi());
        let en = format!("{} (adjacent day)", Holiday::NationalDay.name_en());
        days.push(tagged(Holiday::NationalDay, date, vi, en, Source::Computed));
    }
    days
}

fn ordinal(n: u8) -> &'static str {
    match n {
        1 => "1st",
        2 => "2nd",
        3 => "3rd",
        _ => "4th",
    }
}

pub(crate) fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Art. 111(3): each holiday on a weekend gives the next weekday that is not a day off, for the
/// holidays whose days no notice fixed. `days` is sorted by date.
fn compensatory_days(days: &[Tagged], covered: &BTreeSet<Holiday>) -> Vec<Tagged> {
    let mut off: BTreeSet<NaiveDate> = days.iter().map(|t| t.entry.date).collect();
    let mut out = Vec::new();
    let on_weekend = days.iter().filter(|t| {
        t.entry.kind == DayKind::Holiday
            && is_weekend(t.entry.date)
            && !covered.contains(&t.holiday)
    });
    for holiday in on_weekend {
        let Some(date) = holiday
            .entry
            .date
            .iter_days()
            .skip(1)
            .find(|d| !is_weekend(*d) && !off.contains(d))
        else {
            continue;
        };
        off.insert(date);
        let (vi, en) = (holiday.holiday.name_vi(), holiday.holiday.name_en());
        out.push(Tagged {
            holiday: holiday.holiday,
            entry: DayEntry {
                date,
                kind: DayKind::Compensatory,
                name_vi: format!("Nghỉ bù {vi}"),
                name_en: format!("Compensatory day off for {en}"),
                source: Source::Computed,
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn off(entries: &[DayEntry]) -> Vec<(NaiveDate, DayKind)> {
        entries.iter().map(|e| (e.date, e.kind)).collect()
    }

    #[test]
    fn computed_2026_matches_the_default_rule() {
        let entries = year_entries(2026, None);
        use DayKind::{Compensatory as C, Holiday as H};
        assert_eq!(
            off(&entries),
            [
                (d(2026, 1, 1), H),
                (d(2026, 2, 16), H),
                (d(2026, 2, 17), H),
                (d(2026, 2, 18), H),
                (d(2026, 2, 19), H),
                (d(2026, 2, 20), H),
                (d(2026, 4, 26), H), // Hùng Kings on a Sunday
                (d(2026, 4, 27), C),
                (d(2026, 4, 30), H),
                (d(2026, 5, 1), H),
                (d(2026, 9, 1), H),
                (d(2026, 9, 2), H),
            ]
        );
        assert_eq!(entries[1].name_vi, "Tết Nguyên đán (ngày 29 tháng Chạp)");
        assert_eq!(entries[2].name_vi, "Tết Nguyên đán (mùng 1 tháng Giêng)");
        assert_eq!(entries[7].name_vi, "Nghỉ bù Giỗ Tổ Hùng Vương");
        assert_eq!(entries[0].source, Source::Law);
        assert_eq!(entries[1].source, Source::Computed);
        assert_eq!(entries[7].source, Source::Computed);
    }

    #[test]
    fn computed_2020_tet_differs_from_the_notice() {
        // Default rule: 30th of the 12th month to the 4th (24–28 Jan); the 1st and 2nd fall on
        // Sat 25 and Sun 26, so Wed 29 and Thu 30 are compensatory. (The notice chose 23–29.)
        let tet: Vec<_> = year_entries(2020, None)
            .into_iter()
            .filter(|e| e.date.month() == 1)
            .collect();
        use DayKind::{Compensatory as C, Holiday as H};
        assert_eq!(
            off(&tet),
            [
                (d(2020, 1, 1), H),
                (d(2020, 1, 24), H),
                (d(2020, 1, 25), H),
                (d(2020, 1, 26), H),
                (d(2020, 1, 27), H),
                (d(2020, 1, 28), H),
                (d(2020, 1, 29), C),
                (d(2020, 1, 30), C),
            ]
        );
        assert_eq!(
            tet[1].name_en,
            "Lunar New Year (Tết), 30th day of the 12th lunar month"
        );
    }

    #[test]
    fn labour_code_2012_has_a_one_day_national_day() {
        let september: Vec<_> = year_entries(2019, None)
            .into_iter()
            .filter(|e| e.date.month() == 9)
            .collect();
        assert_eq!(off(&september), [(d(2019, 9, 2), DayKind::Holiday)]);
    }

    #[test]
    fn consecutive_weekend_holidays_chain_compensatory_days() {
        // 2023: Hùng Kings Sat 29 Apr, Victory Day Sun 30 Apr, Labour Day Mon 1 May: the two
        // weekend holidays give Tue 2 and Wed 3 May (as the 2023 schedule did).
        let spring: Vec<_> = year_entries(2023, None)
            .into_iter()
            .filter(|e| (d(2023, 4, 1)..=d(2023, 5, 31)).contains(&e.date))
            .collect();
        use DayKind::{Compensatory as C, Holiday as H};
        assert_eq!(
            off(&spring),
            [
                (d(2023, 4, 29), H),
                (d(2023, 4, 30), H),
                (d(2023, 5, 1), H),
                (d(2023, 5, 2), C),
                (d(2023, 5, 3), C),
            ]
        );
        // 2022: Sat 30 Apr and Sun 1 May give Mon 2 and Tue 3 May.
        let may: Vec<_> = year_entries(2022, None)
            .into_iter()
            .filter(|e| e.kind == C && e.date.month() == 5)
            .map(|e| e.date)
            .collect();
        assert_eq!(may, [d(2022, 5, 2), d(2022, 5, 3)]);
    }

    #[test]
    fn day_entry_json_shape() {
        let entry = DayEntry {
            date: d(2026, 2, 16),
            kind: DayKind::Holiday,
            name_vi: "Tết Nguyên đán".into(),
            name_en: "Lunar New Year".into(),
            source: Source::Notice("9441/TB-BNV".into()),
        };
        assert_eq!(
            serde_json::to_string(&entry).unwrap(),
            r#"{"date":"2026-02-16","kind":"holiday","name":"Tết Nguyên đán","name_en":"Lunar New Year","source":"notice 9441/TB-BNV"}"#
        );
        let saturday = DayEntry {
            kind: DayKind::WorkingSaturday,
            source: Source::Computed,
            ..entry
        };
        let json = serde_json::to_string(&saturday).unwrap();
        assert!(
            json.contains(r#""kind":"working_saturday""#)
                && json.contains(r#""source":"computed""#)
        );
        assert_eq!(Source::Law.to_string(), "law");
    }

    #[test]
    fn every_year_has_eleven_holidays_under_the_2019_code() {
        for year in 2021..=2100 {
            let holidays = year_entries(year, None)
                .iter()
                .filter(|e| e.kind == DayKind::Holiday)
                .count();
            assert_eq!(holidays, 11, "{year}");
        }
    }
}
