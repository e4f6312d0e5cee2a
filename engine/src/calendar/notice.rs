//! The yearly official notices of days off (thông báo nghỉ lễ, Tết), as data.
//!
//! Each year the ministry in charge of labour (Home Affairs since 2025, MOLISA before) publishes
//! the days chosen for Tết and National Day, and any swap of a bridge weekday for a Saturday.
//! One YAML file per year, under `workflows/calendar/<year>.yaml`:
//!
//! ```yaml
//! year: 2026
//! notice: "9441/TB-BNV"          # number of the notice; shown as the days' source
//! issued: 2025-10-16             # optional
//! references: ["..."]            # optional, free text: where the facts were checked
//! days_off:
//!   - {date: 2026-02-16, holiday: tet, kind: holiday, name_vi: "...", name_en: "..."}
//!   - {date: 2026-08-31, holiday: national_day, kind: compensatory, name_vi: "...", name_en: "..."}
//! working_saturdays:
//!   - {date: 2026-08-22, replaces: 2026-08-31, name_vi: "...", name_en: "..."}
//! ```
//!
//! `holiday` is one of `new_year`, `tet`, `hung_kings`, `victory_day`, `labour_day`,
//! `national_day`, `other`; `kind` is `holiday` or `compensatory` (a day off swapped for a
//! working Saturday is `compensatory`). Unknown fields are rejected. For every holiday the
//! notice mentions, its days replace the computed ones (see [`super::holidays`]), so a notice
//! lists all the days off it decides, including those on a weekend.
//!
//! Rules checked: the year is within 1900–2100; dates lie in the notice's year or in December
//! of the year before (a New Year bridge); no date is listed twice; a compensatory day is a
//! weekday; a working Saturday is a Saturday and `replaces` names one of the notice's days off.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::holidays::{Holiday, is_weekend};

/// First and last year a notice may be given for (the calendar's range).
pub const NOTICE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// The embedded notices: (file name, text).
const BUILTIN: [(&str, &str); 6] = [
    (
        "workflows/calendar/2019.yaml",
        include_str!("../../../workflows/calendar/2019.yaml"),
    ),
    (
        "workflows/calendar/2020.yaml",
        include_str!("../../../workflows/calendar/2020.yaml"),
    ),
    (
        "workflows/calendar/2023.yaml",
        include_str!("../../../workflows/calendar/2023.yaml"),
    ),
    (
        "workflows/calendar/2024.yaml",
        include_str!("../../../workflows/calendar/2024.yaml"),
    ),
    (
        "workflows/calendar/2025.yaml",
        include_str!("../../../workflows/calendar/2025.yaml"),
    ),
    (
        "workflows/calendar/2026.yaml",
        include_str!("../../../workflows/calendar/2026.yaml"),
    ),
];

/// The statutory holiday a date is by law, whatever any notice says: the fixed solar dates,
/// the first three days of Tết and Hùng Kings' day.
fn statutory_day(date: NaiveDate) -> Option<&'static str> {
    match (date.month(), date.day()) {
        (1, 1) => return Some("New Year's Day"),
        (4, 30) => return Some("Victory Day"),
        (5, 1) => return Some("Labour Day"),
        (9, 2) => return Some("National Day"),
        _ => {}
    }
    let lunar = super::lunar::solar_to_lunar(date);
    match (lunar.leap_month, lunar.month, lunar.day) {
        (false, 1, 1..=3) => Some("a day of Tết"),
        (false, 3, 10) => Some("Hùng Kings' Commemoration Day"),
        _ => None,
    }
}

/// One year's official notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearNotice {
    /// The year the notice governs.
    pub year: i32,
    /// The notice's number, e.g. `9441/TB-BNV`.
    pub notice: String,
    /// Date of issue, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<NaiveDate>,
    /// Where the facts were checked (free text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Days off the notice decides.
    #[serde(default)]
    pub days_off: Vec<NoticeDayOff>,
    /// Saturdays made working days.
    #[serde(default)]
    pub working_saturdays: Vec<WorkingSaturday>,
}

/// A day off decided by a notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeDayOff {
    /// The day.
    pub date: NaiveDate,
    /// The holiday it belongs to.
    pub holiday: Holiday,
    /// Holiday or compensatory (including a day swapped for a working Saturday).
    pub kind: OffKind,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
}

/// Kind of a day off in a notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffKind {
    /// A holiday.
    Holiday,
    /// A compensatory or swapped day off.
    Compensatory,
}

/// A Saturday made a working day in exchange for a day off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingSaturday {
    /// The Saturday.
    pub date: NaiveDate,
    /// The day off it makes up for (listed in `days_off`).
    pub replaces: NaiveDate,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
}

impl YearNotice {
    /// Parses and validates a notice; `origin` (a file name) prefixes every error.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self> {
        let notice: Self = serde_yaml::from_str(text).map_err(|source| Error::NoticeSyntax {
            origin: origin.to_owned(),
            source,
        })?;
        notice.validate(origin)?;
        Ok(notice)
    }

    /// Checks the rules listed in the module documentation.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let invalid = |field: String, message: String| Error::NoticeInvalid {
            origin: origin.to_owned(),
            field,
            message,
        };
        if !NOTICE_YEARS.contains(&self.year) {
            return Err(invalid(
                "year".into(),
                format!("{} is outside 1900–2100", self.year),
            ));
        }
        if self.notice.trim().is_empty() {
            return Err(invalid("notice".into(), "must not be empty".into()));
        }
        let in_scope = |date: NaiveDate| {
            date.year() == self.year || (date.year() == self.year - 1 && date.month() == 12)
        };
        let mut seen = BTreeSet::new();
        for (i, day) in self.days_off.iter().enumerate() {
            let field = |name: &str| format!("days_off[{i}].{name}");
            if !in_scope(day.date) {
                let message = format!(
                    "{} is not in {} (or December before it)",
                    day.date, self.year
                );
                return Err(invalid(field("date"), message));
            }
            if !seen.insert(day.date) {
                return Err(invalid(
                    field("date"),
                    format!("{} is listed twice", day.date),
                ));
            }
            if day.kind == OffKind::Compensatory && is_weekend(day.date) {
                let message = format!("a compensatory day must be a weekday, {} is not", day.date);
                return Err(invalid(field("kind"), message));
            }
            check_names(&day.name_vi, &day.name_en)
                .map_err(|n| invalid(field(n), "is empty".into()))?;
        }
        let days_off = seen.clone();
        for (i, saturday) in self.working_saturdays.iter().enumerate() {
            let field = |name: &str| format!("working_saturdays[{i}].{name}");
            if !in_scope(saturday.date) {
                return Err(invalid(
                    field("date"),
                    format!("{} is not in {}", saturday.date, self.year),
                ));
            }
            if saturday.date.weekday() != Weekday::Sat {
                return Err(invalid(
                    field("date"),
                    format!("{} is not a Saturday", saturday.date),
                ));
            }
            if !seen.insert(saturday.date) {
                return Err(invalid(
                    field("date"),
                    format!("{} is listed twice", saturday.date),
                ));
            }
            if let Some(name) = statutory_day(saturday.date) {
                return Err(invalid(
                    field("date"),
                    format!(
                        "{} is {name}, a public holiday by law; it cannot be a working day",
                        saturday.date
                    ),
                ));
            }
            if !days_off.contains(&saturday.replaces) {
                let message = format!("{} is not one of the notice's days_off", saturday.replaces);
                return Err(invalid(field("replaces"), message));
            }
            check_names(&saturday.name_vi, &saturday.name_en)
                .map_err(|n| invalid(field(n), "is empty".into()))?;
        }
        Ok(())
    }

    /// Canonical one-line-per-fact text of the notice, for the calendar's version hash.
    pub(crate) fn canonical(&self) -> String {
        let mut text = format!("year={};notice={};issued=", self.year, self.notice);
        if let Some(issued) = self.issued {
            text.push_str(&issued.to_string());
        }
        let mut days: Vec<String> = self
            .days_off
            .iter()
            .map(|d| {
                format!(
                    "\noff={};{:?};{:?};{};{}",
                    d.date, d.holiday, d.kind, d.name_vi, d.name_en
                )
            })
            .chain(self.working_saturdays.iter().map(|w| {
                format!(
                    "\nwork={};{};{};{}",
                    w.date, w.replaces, w.name_vi, w.name_en
                )
            }))
            .collect();
        days.sort();
        text.extend(days);
        text
    }
}

fn check_names(vi: &str, en: &str) -> std::result::Result<(), &'static str> {
    if vi.trim().is_empty() {
        Err("name_vi")
    } else if en.trim().is_empty() {
        Err("name_en")
    } else {
        Ok(())
    }
}

/// The notices shipped with the engine (`workflows/calendar/*.yaml`, embedded at build time).
///
/// Every embedded file is checked by the tests, so this list is complete; a file that failed to
/// parse would be left out rather than stop the engine (see [`try_builtin_notices`]).
pub fn builtin_notices() -> Vec<YearNotice> {
    BUILTIN
        .iter()
        .filter_map(|(origin, text)| YearNotice::from_yaml(text, origin).ok())
        .collect()
}

/// The embedded notices, failing on the first that does not parse or validate.
pub fn try_builtin_notices() -> Result<Vec<YearNotice>> {
    BUILTIN
        .iter()
        .map(|(origin, text)| YearNotice::from_yaml(text, origin))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const MINIMAL: &str = r#"
year: 2026
notice: "9441/TB-BNV"
days_off:
  - {date: 2026-08-31, holiday: national_day, kind: compensatory, name_vi: "Nghỉ hoán đổi", name_en: "Swapped day off"}
working_saturdays:
  - {date: 2026-08-22, replaces: 2026-08-31, name_vi: "Làm bù", name_en: "Make-up working day"}
"#;

    fn error(text: &str) -> String {
        YearNotice::from_yaml(text, "test.yaml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn builtin_notices_all_parse() {
        let notices = try_builtin_notices().unwrap();
        let years: Vec<i32> = notices.iter().map(|n| n.year).collect();
        assert_eq!(years, [2019, 2020, 2023, 2024, 2025, 2026]);
        assert_eq!(builtin_notices(), notices);
        assert_eq!(notices[5].notice, "9441/TB-BNV");
        assert_eq!(notices[5].issued, Some(d(2025, 10, 16)));
    }

    #[test]
    fn minimal_notice_parses() {
        let notice = YearNotice::from_yaml(MINIMAL, "test.yaml").unwrap();
        assert_eq!(notice.working_saturdays[0].replaces, d(2026, 8, 31));
        assert_eq!(notice.days_off[0].kind, OffKind::Compensatory);
        assert_eq!(notice.issued, None);
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let unknown = error(&MINIMAL.replace("notice: ", "notise: "));
        assert!(
            unknown.contains("test.yaml") && unknown.contains("notise"),
            "{unknown}"
        );
        let nested = error(&MINIMAL.replace("replaces:", "replace:"));
        assert!(nested.contains("replace"), "{nested}");
        let missing = error("year: 2026\n");
        assert!(missing.contains("missing field `notice`"), "{missing}");
        let kind = error(&MINIMAL.replace("kind: compensatory", "kind: bridge"));
        assert!(kind.contains("bridge"), "{kind}");
    }

    #[test]
    fn rule_violations_name_the_field() {
        let cases = [
            (MINIMAL.replace("year: 2026", "year: 1850"), "`year`"),
            (MINIMAL.replace("\"9441/TB-BNV\"", "\" \""), "`notice`"),
            (
                MINIMAL.replace("date: 2026-08-31", "date: 2025-08-31"),
                "`days_off[0].date`",
            ),
            (
                MINIMAL.replace("date: 2026-08-31", "date: 2026-08-30"),
                "`days_off[0].kind`",
            ),
            (
                MINIMAL.replace("date: 2026-08-22", "date: 2026-08-23"),
                "`working_saturdays[0].date`",
            ),
            (
                MINIMAL.replace("replaces: 2026-08-31", "replaces: 2026-09-01"),
                "`working_saturdays[0].replaces`",
            ),
            (
                MINIMAL.replace("name_vi: \"Làm bù\"", "name_vi: \"\""),
                "`working_saturdays[0].name_vi`",
            ),
        ];
        for (text, field) in cases {
            let message = error(&text);
            assert!(message.contains(field), "{field}: {message}");
        }
        let twice = MINIMAL.replace(
            "working_saturdays:",
            "  - {date: 2026-08-31, holiday: other, kind: holiday, name_vi: a, name_en: b}\nworking_saturdays:",
        );
        assert!(error(&twice).contains("`days_off[1].date`: 2026-08-31 is listed twice"));
    }

    #[test]
    fn december_of_the_previous_year_is_allowed() {
        let text = MINIMAL
            .replace("date: 2026-08-31", "date: 2025-12-31")
            .replace("replaces: 2026-08-31", "replaces: 2025-12-31");
        assert!(YearNotice::from_yaml(&text, "t").is_ok());
    }

    #[test]
    fn canonical_text_ignores_list_order() {
        let mut notice = YearNotice::from_yaml(MINIMAL, "t").unwrap();
        let before = notice.canonical();
        notice.days_off.push(NoticeDayOff {
            date: d(2026, 9, 1),
            holiday: Holiday::NationalDay,
            kind: OffKind::Holiday,
            name_vi: "Quốc khánh".into(),
            name_en: "National Day".into(),
        });
        let mut reversed = notice.clone();
        reversed.days_off.reverse();
        assert_ne!(notice.canonical(), before);
        assert_eq!(notice.canonical(), reversed.canonical());
    }
}

#[cfg(test)]
mod statutory {
    use super::*;

    #[test]
    fn a_working_saturday_cannot_fall_on_a_public_holiday() {
        // Saturday 30 April 2022 is Victory Day.
        let text = "year: 2022\nnotice: \"x\"\ndays_off:\n  - {date: 2022-05-02, holiday: labour_day, kind: compensatory, name_vi: \"a\", name_en: \"b\"}\nworking_saturdays:\n  - {date: 2022-04-30, replaces: 2022-05-02, name_vi: \"a\", name_en: \"b\"}\n";
        let e = YearNotice::from_yaml(text, "n.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("working_saturdays[0].date") && e.contains("Victory Day"),
            "{e}"
        );
        assert!(statutory_day(NaiveDate::from_ymd_opt(2026, 2, 17).unwrap()).is_some());
        assert!(statutory_day(NaiveDate::from_ymd_opt(2026, 8, 22).unwrap()).is_none());
    }
}
