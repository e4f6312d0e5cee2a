//! The dossier code (mã hồ sơ), Circular 01/2018/TT-VPCP Art. 19: `<agency-code>-YYMMDD-<seq>`.
//! The agency code is the receiving agency's electronic ID (`000.00.00.G22`, or a shortened
//! `G22.99.08`); YYMMDD is the date of receipt; the sequence has 4 digits or more (real codes
//! show 6).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What is wrong with a dossier code; `field` names where it was read from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(
        "{field}: a dossier code has three parts, <agency-code>-YYMMDD-<sequence>, found {found:?}"
    )]
    Shape { field: String, found: String },
    #[error(
        "{field}: agency code {code:?} must be dot-separated groups of upper-case letters and digits"
    )]
    Agency { field: String, code: String },
    #[error("{field}: {date:?} is not a valid YYMMDD date")]
    Date { field: String, date: String },
    #[error("{field}: the sequence {seq:?} must have at least 4 digits")]
    Sequence { field: String, seq: String },
}

/// A dossier code that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DossierCode(String);

impl DossierCode {
    pub fn parse(field: &str, text: &str) -> Result<Self, Error> {
        let shape = || Error::Shape {
            field: field.into(),
            found: text.chars().take(60).collect(),
        };
        let mut parts = text.rsplitn(3, '-');
        let (Some(seq), Some(date), Some(agency)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(shape());
        };
        let group_ok = |g: &str| {
            !g.is_empty()
                && g.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        };
        if agency.len() > 40 || !agency.split('.').all(group_ok) {
            return Err(Error::Agency {
                field: field.into(),
                code: agency.chars().take(60).collect(),
            });
        }
        let date_ok = date.len() == 6
            && date.bytes().all(|b| b.is_ascii_digit())
            && NaiveDate::parse_from_str(&format!("20{date}"), "%Y%m%d").is_ok();
        if !date_ok {
            return Err(Error::Date {
                field: field.into(),
                date: date.chars().take(20).collect(),
            });
        }
        if seq.len() < 4 || seq.len() > 12 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Sequence {
                field: field.into(),
                seq: seq.chars().take(20).collect(),
            });
        }
        Ok(DossierCode(text.to_string()))
    }

    /// Builds the code of the `seq`-th dossier an agency received on `date`.
    pub fn compose(agency: &str, date: NaiveDate, seq: u64) -> Result<Self, Error> {
        Self::parse(
            "dossier_code",
            &format!("{agency}-{}-{seq:06}", date.format("%y%m%d")),
        )
    }

    /// The date of receipt.
    pub fn date(&self) -> Option<NaiveDate> {
        let mut parts = self.0.rsplitn(3, '-');
        parts.next();
        parts
            .next()
            .and_then(|d| NaiveDate::parse_from_str(&format!("20{d}"), "%Y%m%d").ok())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_shapes() {
        let c = DossierCode::parse("code", "G22.99.08-260921-896048").unwrap();
        assert_eq!(c.date(), NaiveDate::from_ymd_opt(2026, 9, 21));
        assert!(DossierCode::parse("code", "000.00.00.H41-240701-0001").is_ok());
        let made = DossierCode::compose(
            "000.00.00.G22",
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            42,
        )
        .unwrap();
        assert_eq!(made.as_str(), "000.00.00.G22-261122-000042");
    }

    #[test]
    fn refuses_with_the_reason() {
        assert!(matches!(
            DossierCode::parse("f", "G22-260921",),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            DossierCode::parse("f", "g22-260921-1234"),
            Err(Error::Agency { .. })
        ));
        assert!(matches!(
            DossierCode::parse("f", "G22-261321-1234"),
            Err(Error::Date { .. })
        ));
        assert!(matches!(
            DossierCode::parse("f", "G22-260921-123"),
            Err(Error::Sequence { .. })
        ));
        let e = DossierCode::parse("dossier.code", "x").unwrap_err();
        assert!(e.to_string().starts_with("dossier.code: "));
    }
}
