//! Figures for the API's `/figures` and the demo's report: the engine's reporting model
//! (`lienthong_engine::report`) over a set of dossiers. Nothing is computed here: this file
//! only pairs each dossier with the definition it runs on.

use lienthong_engine::calendar::Calendar;
use lienthong_engine::clock::Millis;
use lienthong_engine::definition::Procedure;
use lienthong_engine::machine::Dossier;
use lienthong_engine::report::{self, Facts};
pub use lienthong_engine::report::{AgencyHeld, GroupReport, Summary};
pub use lienthong_engine::store::status_name;
use std::collections::BTreeMap;

/// `key value, key value, …` for a map of counts.
pub fn pairs<K: std::fmt::Display, V: std::fmt::Display>(m: &BTreeMap<K, V>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The figures of `dossiers` at `now`. `definitions` holds every definition they run on, by
/// content hash (a dossier whose definition is missing is left out); each group's row uses
/// the newest version among them.
pub fn build(
    dossiers: &[Dossier],
    definitions: &BTreeMap<String, Procedure>,
    calendar: &Calendar,
    now: Millis,
) -> Summary {
    let facts: Vec<Facts> = dossiers
        .iter()
        .filter_map(|d| {
            let p = definitions.get(&d.procedure.hash)?;
            Some(Facts::of(d, p, calendar, now))
        })
        .collect();
    let mut newest: BTreeMap<String, Procedure> = BTreeMap::new();
    for p in definitions.values() {
        if newest.get(&p.id).is_none_or(|q| q.version < p.version) {
            newest.insert(p.id.clone(), p.clone());
        }
    }
    report::summarize(&facts, &newest)
}
