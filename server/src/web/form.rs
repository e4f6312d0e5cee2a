//! The completion form of a human step, generated from the step's `writes:` (each output's
//! JSON Schema): a date picker for `format: date`, a list for `enum`, yes/no for booleans,
//! a number field for numbers, a text field otherwise. The posted text is turned back into
//! JSON values by the same schema; an error is reported on its field, in the page's
//! language. The engine checks the values against the schema again when it applies them.

use super::Text;
use chrono::NaiveDate;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How a field is entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Text {
        max: Option<u64>,
    },
    Date,
    Integer,
    Number,
    Boolean,
    Choice(Vec<String>),
    /// Anything else (objects, arrays): JSON typed by the officer.
    Json,
}

/// One field of the form, with what was entered and its error.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub label: String,
    pub kind: Kind,
    pub value: String,
    pub error: Option<&'static str>,
}

impl Field {
    pub fn id(&self) -> String {
        format!("out-{}", self.name)
    }

    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Date => "date",
            Kind::Integer | Kind::Number => "number",
            _ => "text",
        }
    }

    pub fn is_choice(&self) -> bool {
        matches!(self.kind, Kind::Choice(_))
    }

    pub fn is_boolean(&self) -> bool {
        self.kind == Kind::Boolean
    }

    pub fn is_json(&self) -> bool {
        self.kind == Kind::Json
    }

    pub fn choices(&self) -> &[String] {
        match &self.kind {
            Kind::Choice(c) => c,
            _ => &[],
        }
    }

    pub fn max_length(&self) -> u64 {
        match self.kind {
            Kind::Text { max: Some(m) } => m,
            _ => 4_000,
        }
    }
}

fn kind_of(schema: &Value) -> Kind {
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        return Kind::Choice(
            options
                .iter()
                .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string))
                .collect(),
        );
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") if schema.get("format").and_then(Value::as_str) == Some("date") => {
            Kind::Date
        }
        Some("string") => Kind::Text {
            max: schema.get("maxLength").and_then(Value::as_u64),
        },
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        _ => Kind::Json,
    }
}

/// The label of an output: its schema's `title`, else its name in words.
fn label_of(name: &str, schema: &Value) -> String {
    schema
        .get("title")
        .and_then(Value::as_str)
        .map_or_else(|| name.replace('_', " "), str::to_string)
}

/// The empty form of a step's `writes:`.
pub fn fields(writes: &Map<String, Value>) -> Vec<Field> {
    writes
        .iter()
        .map(|(name, schema)| Field {
            name: name.clone(),
            label: label_of(name, schema),
            kind: kind_of(schema),
            value: String::new(),
            error: None,
        })
        .collect()
}

/// The posted form (`out.<name>` fields) as the step's outputs, or the form again with an
/// error on each field that is wrong.
pub fn parse(
    writes: &Map<String, Value>,
    posted: &BTreeMap<String, String>,
    t: &Text,
) -> Result<Map<String, Value>, Vec<Field>> {
    let mut out = Map::new();
    let mut form = fields(writes);
    let mut failed = false;
    for f in &mut form {
        let raw = posted
            .get(&format!("out.{}", f.name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default();
        f.value.clone_from(&raw);
        match value_of(&f.kind, &raw, t) {
            Ok(v) => {
                out.insert(f.name.clone(), v);
            }
            Err(e) => {
                f.error = Some(e);
                failed = true;
            }
        }
    }
    if failed { Err(form) } else { Ok(out) }
}

fn value_of(kind: &Kind, raw: &str, t: &Text) -> Result<Value, &'static str> {
    if raw.is_empty() {
        return Err(t.field_required);
    }
    match kind {
        Kind::Text { max } => {
            if max.is_some_and(|m| raw.chars().count() as u64 > m) || raw.len() > 4_000 {
                return Err(t.field_too_long);
            }
            Ok(Value::String(raw.to_string()))
        }
        Kind::Date => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(|_| Value::String(raw.to_string()))
            .map_err(|_| t.field_bad_date),
        Kind::Integer => raw
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| t.field_bad_integer),
        Kind::Number => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or(t.field_bad_number),
        Kind::Boolean => match raw {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(t.field_bad_choice),
        },
        Kind::Choice(options) => options
            .iter()
            .find(|o| o.as_str() == raw)
            .map(|o| Value::String(o.clone()))
            .ok_or(t.field_bad_choice),
        Kind::Json => serde_json::from_str(raw).map_err(|_| t.field_bad_choice),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn writes() -> Map<String, Value> {
        json!({
            "number": {"type": "string", "maxLength": 5},
            "on": {"type": "string", "format": "date"},
            "deferred": {"type": "boolean"},
            "kind": {"enum": ["a", "b"]},
            "count": {"type": "integer"}
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    fn posted(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (format!("out.{k}"), v.to_string()))
            .collect()
    }

    #[test]
    fn the_form_follows_the_schema() {
        let f = fields(&writes());
        let kinds: Vec<_> = f
            .iter()
            .map(|f| (f.name.as_str(), f.input_type()))
            .collect();
        assert!(kinds.contains(&("on", "date")));
        assert!(kinds.contains(&("count", "number")));
        assert!(f.iter().any(|f| f.name == "deferred" && f.is_boolean()));
        assert!(
            f.iter()
                .any(|f| f.name == "kind" && f.choices() == ["a", "b"])
        );
    }

    #[test]
    fn values_are_typed_and_errors_land_on_their_field() {
        let t = &super::super::i18n::VI;
        let ok = parse(
            &writes(),
            &posted(&[
                ("number", "12"),
                ("on", "2026-12-07"),
                ("deferred", "false"),
                ("kind", "b"),
                ("count", "3"),
            ]),
            t,
        )
        .expect("valid");
        assert_eq!(ok["deferred"], json!(false));
        assert_eq!(ok["count"], json!(3));
        let bad = parse(
            &writes(),
            &posted(&[
                ("number", "123456"),
                ("on", "07/12/2026"),
                ("deferred", "true"),
                ("kind", "c"),
            ]),
            t,
        )
        .expect_err("invalid");
        let error = |n: &str| bad.iter().find(|f| f.name == n).and_then(|f| f.error);
        assert_eq!(error("number"), Some(t.field_too_long));
        assert_eq!(error("on"), Some(t.field_bad_date));
        assert_eq!(error("deferred"), None);
        assert_eq!(error("kind"), Some(t.field_bad_choice));
        assert_eq!(error("count"), Some(t.field_required));
        // What was typed stays in the form.
        assert!(
            bad.iter()
                .any(|f| f.name == "on" && f.value == "07/12/2026")
        );
    }
}
