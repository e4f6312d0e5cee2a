//! Outputs an automated step writes when a case does not name them: for each declared
//! output, a value its JSON Schema accepts (the machine checks it as it checks an agency's).

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

/// A value for `schema`, or `None` when this small generator cannot make one (the case
/// must then give the outputs itself). `n` varies the numbers made.
pub(super) fn sample(schema: &Value, now: DateTime<FixedOffset>, n: u64) -> Option<Value> {
    if let Some(v) = schema.get("const") {
        return Some(v.clone());
    }
    if let Some(list) = schema.get("enum").and_then(Value::as_array) {
        return list.first().cloned();
    }
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object");
    match kind {
        "string" => string(schema, now, n),
        "integer" | "number" => {
            let min = schema.get("minimum").and_then(Value::as_i64).unwrap_or(0);
            Some(Value::from(
                min.max(0) + i64::try_from(n % 1_000).unwrap_or(0),
            ))
        }
        "boolean" => Some(Value::Bool(true)),
        "array" => Some(Value::Array(Vec::new())),
        "object" => {
            let mut out = Map::new();
            let required = schema.get("required").and_then(Value::as_array);
            let props = schema.get("properties").and_then(Value::as_object);
            for name in required.into_iter().flatten().filter_map(Value::as_str) {
                let sub = props
                    .and_then(|p| p.get(name))
                    .cloned()
                    .unwrap_or(Value::Null);
                out.insert(name.to_string(), sample(&sub, now, n)?);
            }
            Some(Value::Object(out))
        }
        _ => None,
    }
}

fn string(schema: &Value, now: DateTime<FixedOffset>, n: u64) -> Option<Value> {
    match schema.get("format").and_then(Value::as_str) {
        Some("date") => return Some(Value::String(now.date_naive().to_string())),
        Some("date-time") => return Some(Value::String(now.to_rfc3339())),
        _ => {}
    }
    let Some(pattern) = schema.get("pattern").and_then(Value::as_str) else {
        let min = schema
            .get("minLength")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .max(1);
        let base = format!("TEST-{n}");
        let text = if (base.len() as u64) < min {
            format!(
                "{base}{}",
                "0".repeat(usize::try_from(min).unwrap_or(0) - base.len())
            )
        } else {
            base
        };
        return Some(Value::String(text));
    };
    digits(pattern, n).map(Value::String)
}

/// Digits for the patterns identifiers use: `^[0-9]{N}$` (or `\d{N}`).
fn digits(pattern: &str, n: u64) -> Option<String> {
    let body = pattern.strip_prefix('^')?.strip_suffix('$')?;
    let count = body
        .strip_prefix("[0-9]{")
        .or_else(|| body.strip_prefix("\\d{"))?
        .strip_suffix('}')?
        .parse::<usize>()
        .ok()?;
    let seed = format!("{:0>width$}", n, width = count);
    Some(seed[seed.len() - count..].to_string())
}
