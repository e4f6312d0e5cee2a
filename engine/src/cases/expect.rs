//! A case's `expect:` checked against where it ended; each failure says what was expected
//! and what was found.

use super::model::Expect;
use super::run::CaseReport;
use serde_json::Value;

pub(super) fn check(e: &Expect, r: &CaseReport) -> Vec<String> {
    let mut out = Vec::new();
    let mut same = |what: &str, want: Option<String>, got: Option<String>| {
        if let Some(w) = want
            && got.as_deref() != Some(w.as_str())
        {
            out.push(format!(
                "{what}: expected {w}, got {}",
                got.unwrap_or_else(|| "nothing".into())
            ));
        }
    };
    same("status", e.status.clone(), r.status.clone());
    same(
        "portal_code",
        e.portal_code.map(|c| c.to_string()),
        r.portal_code.map(|c| c.to_string()),
    );
    same(
        "appointment",
        e.appointment.map(|t| t.to_rfc3339()),
        r.appointment.clone(),
    );
    for (id, want) in &e.procedures {
        let got = r.procedures.get(id);
        same(
            &format!("procedure `{id}` status"),
            want.status.clone(),
            got.map(|g| g.status.clone()),
        );
        same(
            &format!("procedure `{id}` portal_code"),
            want.portal_code.map(|c| c.to_string()),
            got.and_then(|g| g.portal_code).map(|c| c.to_string()),
        );
    }
    for (id, want) in &e.steps {
        let got = r.steps.get(id);
        same(
            &format!("step `{id}` status"),
            want.status.clone(),
            got.map(|g| g.status.clone()),
        );
        same(
            &format!("step `{id}` due"),
            want.due.map(|t| t.to_rfc3339()),
            got.and_then(|g| g.due.clone()),
        );
        same(
            &format!("step `{id}` start_day"),
            want.start_day.map(|d| d.to_string()),
            got.and_then(|g| g.start_day).map(|d| d.to_string()),
        );
    }
    for want in &e.documents {
        let matching = r
            .documents
            .iter()
            .filter(|d| d.kind == want.kind)
            .filter(|d| want.before.is_none_or(|b| d.at_ms < b.timestamp_millis()))
            .filter(|d| {
                want.contains
                    .as_ref()
                    .is_none_or(|c| d.vi.contains(c.as_str()))
            })
            .filter(|d| want.data.iter().all(|(k, v)| same_value(d.data.get(k), v)))
            .count();
        let ok = match want.count {
            Some(n) => matching == n,
            None => matching > 0,
        };
        if !ok {
            let issued: Vec<&str> = r.documents.iter().map(|d| d.kind.as_str()).collect();
            out.push(format!(
                "document `{}`{}: expected {}, found {matching} (issued: {})",
                want.kind,
                describe(want),
                want.count
                    .map_or("at least one".to_string(), |n| n.to_string()),
                if issued.is_empty() {
                    "none".to_string()
                } else {
                    issued.join(", ")
                }
            ));
        }
    }
    out
}

/// Values compare as written; instants compare as instants (any offset).
fn same_value(got: Option<&Value>, want: &Value) -> bool {
    let Some(got) = got else { return false };
    if got == want {
        return true;
    }
    match (got.as_str(), want.as_str()) {
        (Some(a), Some(b)) => match (
            chrono::DateTime::parse_from_rfc3339(a),
            chrono::DateTime::parse_from_rfc3339(b),
        ) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

fn describe(d: &super::model::DocumentExpect) -> String {
    let mut parts = Vec::new();
    if let Some(b) = d.before {
        parts.push(format!("before {}", b.to_rfc3339()));
    }
    if let Some(c) = &d.contains {
        parts.push(format!("containing {c:?}"));
    }
    for (k, v) in &d.data {
        parts.push(format!("{k} = {v}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}
