//! Administrative units since 1 July 2025: the 34 provinces and centrally run cities
//! (2-digit codes) and their communes, wards and special zones (5-digit codes), as listed
//! with the codes of Decision 19/2025/QĐ-TTg (`units/*.tsv`, committed with their source
//! and date). Addresses and the areas of keys and accounts use these codes.
//!
//! The 63 provinces before the merger (Resolution 202/2025/QH15) live on only in personal
//! ID numbers (`provinces.rs`); a code naming one of them where an area is expected is
//! refused with an error naming its successor. Several old codes now name another province
//! (15 was Yên Bái and is Lào Cai; 24 was Bắc Giang and is Bắc Ninh), so an old 3-digit ID
//! code is never read as an address code.

use std::collections::BTreeMap;
use std::sync::LazyLock;

const PROVINCES_TSV: &str = include_str!("units/provinces.tsv");
const COMMUNES_TSV: &str = include_str!("units/communes.tsv");

/// Each of the 63 former provinces (by the code its ID numbers carry) and the province it
/// became part of on 1 July 2025 (Resolution 202/2025/QH15).
const SUCCESSOR: &[(u16, &str)] = &[
    (1, "01"),
    (2, "08"),
    (4, "04"),
    (6, "19"),
    (8, "08"),
    (10, "15"),
    (11, "11"),
    (12, "12"),
    (14, "14"),
    (15, "15"),
    (17, "25"),
    (19, "19"),
    (20, "20"),
    (22, "22"),
    (24, "24"),
    (25, "25"),
    (26, "25"),
    (27, "24"),
    (30, "31"),
    (31, "31"),
    (33, "33"),
    (34, "33"),
    (35, "37"),
    (36, "37"),
    (37, "37"),
    (38, "38"),
    (40, "40"),
    (42, "42"),
    (44, "44"),
    (45, "44"),
    (46, "46"),
    (48, "48"),
    (49, "48"),
    (51, "51"),
    (52, "52"),
    (54, "66"),
    (56, "56"),
    (58, "56"),
    (60, "68"),
    (62, "51"),
    (64, "52"),
    (66, "66"),
    (67, "68"),
    (68, "68"),
    (70, "75"),
    (72, "80"),
    (74, "79"),
    (75, "75"),
    (77, "79"),
    (79, "79"),
    (80, "80"),
    (82, "82"),
    (83, "86"),
    (84, "86"),
    (86, "86"),
    (87, "82"),
    (89, "91"),
    (91, "91"),
    (92, "92"),
    (93, "92"),
    (94, "92"),
    (95, "96"),
    (96, "96"),
];

/// Why a unit code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// A province abolished on 1 July 2025.
    #[error(
        "province `{code}` ({name}) no longer exists since 1 July 2025: it is part of {successor} {successor_name} (Resolution 202/2025/QH15)"
    )]
    Abolished {
        code: String,
        name: String,
        successor: String,
        successor_name: String,
    },
    /// A 3-digit province code, as personal ID numbers carry: not an address code.
    #[error(
        "`{code}` is the personal-ID code of the former province {name}; areas use the 2-digit codes of Decision 19/2025/QĐ-TTg: {successor} {successor_name}"
    )]
    IdCode {
        code: String,
        name: String,
        successor: String,
        successor_name: String,
    },
    #[error("`{code}` is not a province code of Decision 19/2025/QĐ-TTg (2 digits)")]
    UnknownProvince { code: String },
    #[error("`{code}` is not a commune code of Decision 19/2025/QĐ-TTg (5 digits)")]
    UnknownCommune { code: String },
    #[error("commune `{code}` ({name}) lies in province {actual}, not {given}")]
    OutsideProvince {
        code: String,
        name: String,
        actual: String,
        given: String,
    },
}

/// The units in force.
#[derive(Debug)]
pub struct Units {
    /// Code → name.
    provinces: BTreeMap<&'static str, &'static str>,
    /// Code → (province code, name).
    communes: BTreeMap<&'static str, (&'static str, &'static str)>,
}

fn rows(tsv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    tsv.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
}

static UNITS: LazyLock<Units> = LazyLock::new(|| Units {
    provinces: rows(PROVINCES_TSV)
        .filter_map(|r| Some((*r.first()?, *r.get(1)?)))
        .collect(),
    communes: rows(COMMUNES_TSV)
        .filter_map(|r| Some((*r.get(1)?, (*r.first()?, *r.get(2)?))))
        .collect(),
});

/// The units in force (parsed once from the committed tables).
pub fn units() -> &'static Units {
    &UNITS
}

impl Units {
    pub fn province_count(&self) -> usize {
        self.provinces.len()
    }

    pub fn commune_count(&self) -> usize {
        self.communes.len()
    }

    /// The communes of a province, by code.
    pub fn communes_of<'a>(&'a self, province: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        self.communes
            .iter()
            .filter(move |(_, (p, _))| *p == province)
            .map(|(c, _)| *c)
    }

    /// The name of a province in force, or why `code` is not one.
    pub fn province(&self, code: &str) -> Result<&'static str, UnitError> {
        if let Some(name) = self.provinces.get(code) {
            return Ok(name);
        }
        let former = code
            .parse::<u16>()
            .ok()
            .filter(|_| code.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| {
                let name = super::provinces::province(n)?;
                let (_, to) = SUCCESSOR.iter().find(|(c, _)| *c == n)?;
                Some((name, *to))
            });
        match former {
            Some((name, to)) => {
                let successor_name = self.provinces.get(to).copied().unwrap_or(to).to_string();
                let (code, name, successor) = (code.to_string(), name.to_string(), to.to_string());
                Err(if code.len() == 3 {
                    UnitError::IdCode {
                        code,
                        name,
                        successor,
                        successor_name,
                    }
                } else {
                    UnitError::Abolished {
                        code,
                        name,
                        successor,
                        successor_name,
                    }
                })
            }
            None => Err(UnitError::UnknownProvince {
                code: code.to_string(),
            }),
        }
    }

    /// The name and province of a commune in force, checked against `province` if given.
    pub fn commune(
        &self,
        code: &str,
        province: Option<&str>,
    ) -> Result<(&'static str, &'static str), UnitError> {
        let (p, name) =
            self.communes
                .get(code)
                .copied()
                .ok_or_else(|| UnitError::UnknownCommune {
                    code: code.to_string(),
                })?;
        match province {
            Some(given) if given != p => Err(UnitError::OutsideProvince {
                code: code.to_string(),
                name: name.to_string(),
                actual: p.to_string(),
                given: given.to_string(),
            }),
            _ => Ok((name, p)),
        }
    }

    /// Checks an area (a province, a commune, or both): each in force, and the commune
    /// inside the province. The error names the field (`province: …`, `commune: …`).
    pub fn check_area(&self, province: Option<&str>, commune: Option<&str>) -> Result<(), String> {
        if let Some(p) = province {
            self.province(p).map_err(|e| format!("province: {e}"))?;
        }
        if let Some(c) = commune {
            self.commune(c, province)
                .map_err(|e| format!("commune: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
