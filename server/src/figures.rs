//! The figures the API, the dashboard, its exports and the demo's report show: the engine's
//! reporting model (`lienthong_engine::report`) through the runtime's `report` use case.
//! Nothing is computed here.

use std::collections::BTreeMap;

pub use lienthong_engine::report::{
    AgencyHeld, AreaRow, GroupReport, Late, Report, Summary, Trend,
};
pub use lienthong_engine::runtime::status_name;

/// `key value, key value, …` for a map of counts.
pub fn pairs<K: std::fmt::Display, V: std::fmt::Display>(m: &BTreeMap<K, V>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Receipt days `[from, to]` (either end optional) as the report's `[from, to)`; an error
/// names the field.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Option<(chrono::NaiveDate, chrono::NaiveDate)>, String> {
    use chrono::NaiveDate;
    let day = |name: &str, s: Option<&str>| -> Result<Option<NaiveDate>, String> {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| format!("{name}: yyyy-mm-dd")),
        }
    };
    let (a, b) = (day("from", from)?, day("to", to)?);
    if a.is_none() && b.is_none() {
        return Ok(None);
    }
    let a = a.unwrap_or(NaiveDate::MIN);
    let b = b.and_then(|d| d.succ_opt()).unwrap_or(NaiveDate::MAX);
    if a >= b {
        return Err("from: after to".into());
    }
    Ok(Some((a, b)))
}
