//! The 12-digit personal identification number (số định danh cá nhân), Decree 137/2015 Art. 13:
//! `PPP G YY RRRRRR` — province of birth registration, century-and-sex digit, the last two
//! digits of the birth year, six random digits. No check digit is documented. Digits 1–3 of
//! a birth registered abroad are a country code, whose list is not published: such numbers
//! are accepted with a [`PersonalId::warning`].

use super::provinces::province;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

/// What is wrong with a personal ID number; `field` names the form field it was read from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{field}: a personal ID number has exactly 12 digits, found {found:?}")]
    Format { field: String, found: String },
    #[error(
        "{field}: digit 4 is {digit}, which means {meaning}, but the declared sex is {declared}"
    )]
    Sex {
        field: String,
        digit: u8,
        meaning: &'static str,
        declared: &'static str,
    },
    #[error(
        "{field}: digit 4 ({digit}) gives the century {century}, but the date of birth {birth} is in another"
    )]
    Century {
        field: String,
        digit: u8,
        century: i32,
        birth: NaiveDate,
    },
    #[error("{field}: digits 5–6 ({yy:02}) should be the last two digits of the birth year {year}")]
    Year { field: String, yy: u8, year: i32 },
}

/// A personal ID number that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonalId(String);

impl PersonalId {
    /// Checks `text` against the declared sex and date of birth. `field` (e.g.
    /// `child.personal_id`) is named in the error.
    pub fn parse(field: &str, text: &str, sex: Sex, birth: NaiveDate) -> Result<Self, Error> {
        let structural = Self::parse_structure(field, text)?;
        let d = structural.0.as_bytes();
        let g = d[3] - b'0';
        let yy = (d[4] - b'0') * 10 + (d[5] - b'0');
        let digit_sex = if g.is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        };
        let century = 1900 + 100 * i32::from(g / 2);
        let name = |s: Sex| if s == Sex::Male { "male" } else { "female" };
        if digit_sex != sex {
            return Err(Error::Sex {
                field: field.into(),
                digit: g,
                meaning: name(digit_sex),
                declared: name(sex),
            });
        }
        let year = birth.year();
        if year.div_euclid(100) * 100 != century {
            return Err(Error::Century {
                field: field.into(),
                digit: g,
                century,
                birth,
            });
        }
        if i32::from(yy) != year.rem_euclid(100) {
            return Err(Error::Year {
                field: field.into(),
                yy,
                year,
            });
        }
        Ok(structural)
    }

    /// Checks only the shape and the province code (for numbers whose holder is not known).
    pub fn parse_structure(field: &str, text: &str) -> Result<Self, Error> {
        if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Format {
                field: field.into(),
                found: text.chars().take(20).collect(),
            });
        }
        // A code outside the province table is taken as a country code (a birth registered
        // abroad); no list of those codes is published, so it is accepted with a warning.
        Ok(PersonalId(text.to_string()))
    }

    /// Builds a number from its parts (used by simulators; `serial` is taken modulo 10⁶).
    pub fn compose(province_code: u16, sex: Sex, birth: NaiveDate, serial: u32) -> Option<Self> {
        province(province_code)?;
        let year = birth.year();
        let century = (year.div_euclid(100) - 19) * 2;
        if !(0..=8).contains(&century) {
            return None;
        }
        let g = century + i32::from(sex == Sex::Female);
        Some(PersonalId(format!(
            "{province_code:03}{g}{:02}{:06}",
            year.rem_euclid(100),
            serial % 1_000_000
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province where the birth was registered.
    pub fn province(&self) -> Option<&'static str> {
        self.0[..3].parse().ok().and_then(province)
    }

    /// A note for the officer when digits 1–3 are not a province code: the birth was
    /// registered abroad (a country code), or the number is mistyped.
    pub fn warning(&self, field: &str) -> Option<String> {
        self.province().is_none().then(|| {
            format!(
                "{field}: {} is not a province code; it should be the country code of a birth registered abroad",
                &self.0[..3]
            )
        })
    }

    /// The number with the middle hidden, for logs and screens: `001******345`.
    pub fn masked(&self) -> String {
        format!("{}******{}", &self.0[..3], &self.0[9..])
    }
}

impl fmt::Display for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn accepts_consistent_numbers() {
        let id = PersonalId::parse(
            "child.personal_id",
            "001326012345",
            Sex::Female,
            date(2026, 3, 1),
        )
        .unwrap();
        assert_eq!(id.province(), Some("Hà Nội"));
        assert_eq!(id.masked(), "001******345");
        assert!(PersonalId::parse("x", "079090123456", Sex::Male, date(1990, 5, 2)).is_ok());
    }

    #[test]
    fn names_the_field_and_the_fault() {
        let e = PersonalId::parse(
            "mother.personal_id",
            "00132601234",
            Sex::Female,
            date(2026, 1, 1),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("mother.personal_id: "), "{e}");
        let abroad = PersonalId::parse("f", "003326012345", Sex::Female, date(2026, 1, 1)).unwrap();
        assert!(abroad.warning("f").is_some_and(|w| w.contains("003")));
        let home = PersonalId::parse("f", "001326012345", Sex::Female, date(2026, 1, 1)).unwrap();
        assert_eq!(home.warning("f"), None);
        assert!(matches!(
            PersonalId::parse("f", "001226012345", Sex::Female, date(2026, 1, 1)),
            Err(Error::Sex { .. })
        ));
        assert!(matches!(
            PersonalId::parse("f", "001126012345", Sex::Female, date(2026, 1, 1)),
            Err(Error::Century { .. })
        ));
        assert!(matches!(
            PersonalId::parse("f", "001325012345", Sex::Female, date(2026, 1, 1)),
            Err(Error::Year { .. })
        ));
        assert!(matches!(
            PersonalId::parse("f", "00132601234x", Sex::Female, date(2026, 1, 1)),
            Err(Error::Format { .. })
        ));
    }

    #[test]
    fn composed_numbers_validate() {
        for (sex, birth) in [
            (Sex::Male, date(1958, 2, 1)),
            (Sex::Female, date(2001, 12, 31)),
            (Sex::Male, date(2100, 1, 1)),
        ] {
            let id = PersonalId::compose(48, sex, birth, 1_234_567).unwrap();
            assert!(
                PersonalId::parse("x", id.as_str(), sex, birth).is_ok(),
                "{id}"
            );
        }
        assert!(PersonalId::compose(3, Sex::Male, date(2000, 1, 1), 1).is_none());
    }
}
