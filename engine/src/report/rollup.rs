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
use chrono::NaiveDate;
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
            let row = self.row(Level::Province, p, f, &day);
            row.tally.add(f);
            row.communes
                .entry(commune.unwrap_or_default().to_string())
                .or_default()
                .add(f);
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
