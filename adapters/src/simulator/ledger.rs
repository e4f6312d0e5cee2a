//! What a simulated agency has seen and done: every call, every answer by idempotency key
//! (a repeated key gets the first answer again, and files nothing), and every effect filed —
//! so duplicates can be counted the way an auditor would: by dossier, action and subject,
//! whatever keys the engine used.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Filings per (dossier, subject).
type PerSubject<'a> = HashMap<(&'a str, &'a str), u64>;

/// One filing.
#[derive(Debug, Clone, Serialize)]
pub struct Filed {
    pub key: String,
    pub dossier_code: String,
    pub action: String,
    /// Whom the filing is about when one dossier has several (a partner's ID number).
    pub subject: String,
}

/// One agency's memory.
#[derive(Debug, Default)]
pub struct Ledger {
    /// The answer given for each idempotency key.
    pub answers: HashMap<String, (u16, Value)>,
    /// Calls per idempotency key.
    pub calls: HashMap<String, u64>,
    /// Calls per action.
    pub calls_by_action: BTreeMap<String, u64>,
    /// Effects filed, in order.
    pub filed: Vec<Filed>,
    /// (dossier, action, subject) already asked for a supplement.
    pub supplements: HashSet<(String, String, String)>,
    /// Answers per outcome (`hoan_thanh`, `tu_choi`, …).
    pub outcomes: BTreeMap<String, u64>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
}

/// Figures for one action of one agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionFigures {
    pub agency: String,
    pub action: String,
    pub calls: u64,
    pub effects: u64,
    /// Effects beyond the first for the same (dossier, action, subject).
    pub duplicate_effects: u64,
}

impl Ledger {
    pub fn figures(&self, agency: &str) -> Vec<ActionFigures> {
        let mut per: BTreeMap<&str, (u64, PerSubject<'_>)> = BTreeMap::new();
        for (action, n) in &self.calls_by_action {
            per.entry(action.as_str()).or_default().0 = *n;
        }
        for f in &self.filed {
            *per.entry(f.action.as_str())
                .or_default()
                .1
                .entry((f.dossier_code.as_str(), f.subject.as_str()))
                .or_default() += 1;
        }
        per.into_iter()
            .map(|(action, (calls, subjects))| ActionFigures {
                agency: agency.to_string(),
                action: action.to_string(),
                calls,
                effects: subjects.values().sum(),
                duplicate_effects: subjects.values().map(|n| n.saturating_sub(1)).sum(),
            })
            .collect()
    }
}
