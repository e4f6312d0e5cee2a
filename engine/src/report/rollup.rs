//! Tallies stored per receipt day, procedure and area (nationwide, each province, each
//! commune), built by the daily job from the dossiers closed before a watermark. A report
//! merges the stored tallies of its period with the live facts of the dossiers still open
//! or closed since the watermark, so it reads a few thousand rows where the store holds
//! millions of dossiers.
//!
//! Invariant: a closed dossier is in the stored tallies if and only if it closed before the
//! watermark; the watermark moves in the transaction that adds those dossiers. A closed
//! dossier's facts never change, so stored tallies are final.

use super::facts::Facts;
use super::tally::{AreaCounts, Tally};
use crate::calendar::VIETNAM_OFFSET;
use crate::clock::Millis;
use crate::machine::Dossier;
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;

/// A dossier with the area it was filed in.
#[derive(Debug, Clone)]
pub struct Located {
    pub dossier: Dossier,
    pub province: Option<String>,
    pub commune: Option<String>,
}

/// How wide a stored tally's area is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Nation = 0,
    Province = 1,
    Commune = 2,
    /// A province's communes' counts over a month of receipt (`day` is the month's first
    /// day; no tally): what a nationwide report reads for its whole months.
    ProvinceMonth = 3,
    /// The same over every procedure (`procedure` is `""`): a report of all groups reads these.
    ProvinceMonthAll = 4,
}

impl Level {
    pub fn code(self) -> i64 {
        self as i64
    }
}

/// One stored tally: the dossiers of `procedure` received on `day` in `area` (`""`
/// nationwide, else a province or commune code). A province's row also counts its communes
/// (`""`: filed without one), for the breakdowns and the worst communes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RollupRow {
    pub level: i64,
    pub area: String,
    pub procedure: String,
    pub day: String,
    pub tally: Tally,
    pub communes: BTreeMap<String, AreaCounts>,
}

/// The local (Vietnam) day of an instant, as stored (`yyyy-mm-dd`).
pub fn receipt_day(at: Millis) -> String {
    day_of(at).map_or_else(String::new, |d| d.to_string())
}

pub(crate) fn day_of(at: Millis) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.with_timezone(&VIETNAM_OFFSET).date_naive())
}

/// Vietnam's midnight opening `day`.
pub fn midnight(day: NaiveDate) -> Millis {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(VIETNAM_OFFSET).single())
        .map_or(0, |t| t.timestamp_millis())
}

/// Stored tallies being built (keyed like their rows).
#[derive(Debug, Default)]
pub struct Rollup {
    rows: BTreeMap<(i64, String, String, String), RollupRow>,
}

impl Rollup {
    fn row(&mut self, level: Level, area: &str, f: &Facts, day: &str) -> &mut RollupRow {
        let key = (
            level.code(),
            area.to_string(),
            f.procedure.clone(),
            day.to_string(),
        );
        self.rows.entry(key).or_insert_with(|| RollupRow {
            level: level.code(),
            area: area.to_string(),
            procedure: f.procedure.clone(),
            day: day.to_string(),
            ..RollupRow::default()
        })
    }

    /// Adds one closed dossier's facts at each level of its area.
    pub fn add(&mut self, f: &Facts, province: Option<&str>, commune: Option<&str>) {
        let day = receipt_day(f.received_at);
        self.row(Level::Nation, "", f, &day).tally.add(f);
        if let Some(p) = province {
            let commune = commune.unwrap_or_default().to_string();
            let row = self.row(Level::Province, p, f, &day);
            row.tally.add(f);
            row.communes.entry(commune.clone()).or_default().add(f);
            let month = format!("{}-01", day.get(..7).unwrap_or_default());
            let row = self.row(Level::ProvinceMonth, p, f, &month);
            row.communes.entry(commune.clone()).or_default().add(f);
            let key = (
                Level::ProvinceMonthAll.code(),
                p.to_string(),
                String::new(),
                month,
            );
            let row = self.rows.entry(key.clone()).or_insert_with(|| RollupRow {
                level: key.0,
                area: key.1,
                procedure: key.2,
                day: key.3,
                ..RollupRow::default()
            });
            row.communes.entry(commune).or_default().add(f);
        }
        if let Some(c) = commune {
            self.row(Level::Commune, c, f, &day).tally.add(f);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn into_rows(self) -> Vec<RollupRow> {
        self.rows.into_values().collect()
    }
}

/// Adds `more` into `row` (same key).
pub fn merge_row(row: &mut RollupRow, more: &RollupRow) {
    row.tally.merge(&more.tally);
    for (c, n) in &more.communes {
        row.communes.entry(c.clone()).or_default().merge(n);
    }
}

/// Receipt days `[from, to)`, `yyyy-mm-dd`.
pub type Days = (String, String);

/// How a period of receipt days `[from, to)` (`yyyy-mm-dd`) is read for the communes: the
/// whole months inside it from the month rows (`[first, end)` of their first days), and the
/// days at its edges from the day rows.
pub fn month_split(from: &str, to: &str) -> (Option<Days>, Vec<Days>) {
    let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let (Some(a), Some(b)) = (parse(from), parse(to)) else {
        // Open-ended: every month.
        return (Some((String::new(), "9999-12-31".into())), Vec::new());
    };
    let first_of = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let next_month = |d: NaiveDate| {
        first_of(d)
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(d)
    };
    let start = if first_of(a) == a { a } else { next_month(a) };
    let end = first_of(b);
    if start >= end {
        return (None, vec![(from.to_string(), to.to_string())]);
    }
    let mut edges = Vec::new();
    if a < start {
        edges.push((a.to_string(), start.to_string()));
    }
    if end < b {
        edges.push((end.to_string(), b.to_string()));
    }
    (Some((start.to_string(), end.to_string())), edges)
}

#[cfg(test)]
mod tests {
    use super::month_split;

    #[test]
    fn a_period_is_whole_months_and_edge_days() {
        let (months, edges) = month_split("2026-01-15", "2026-04-10");
        assert_eq!(months, Some(("2026-02-01".into(), "2026-04-01".into())));
        assert_eq!(
            edges,
            vec![
                ("2026-01-15".into(), "2026-02-01".into()),
                ("2026-04-01".into(), "2026-04-10".into())
            ]
        );
        let (months, edges) = month_split("2026-03-03", "2026-03-20");
        assert_eq!(months, None);
        assert_eq!(edges, vec![("2026-03-03".into(), "2026-03-20".into())]);
        let (months, edges) = month_split("2026-03-01", "2026-05-01");
        assert_eq!(months, Some(("2026-03-01".into(), "2026-05-01".into())));
        assert!(edges.is_empty());
    }
}
