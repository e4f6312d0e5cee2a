//! The JSON Schema of the definition format, generated from [`super::model`], and the first
//! validation pass: every structural error (unknown field, wrong type, missing field, value out
//! of range) at once, each placed on its line.

use super::diagnostic::{Code, Diagnostic};
use super::model::Procedure;
use super::yaml::Node;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Structural findings reported at most (a flood of one mistake helps nobody).
const MAX_FINDINGS: usize = 100;

/// The `$id` under which the schema is published in the repository.
pub const SCHEMA_ID: &str = "https://lienthong.example/schema/procedure.schema.json";

/// The JSON Schema of a procedure definition, as committed in
/// `workflows/schema/procedure.schema.json`.
pub fn procedure_schema() -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Procedure>();
    let mut value = schema.to_value();
    strip_null(&mut value);
    flatten_const_one_of(&mut value);
    if let Value::Object(map) = &mut value {
        map.insert("$id".into(), Value::String(SCHEMA_ID.into()));
    }
    value
}

/// The schema as pretty JSON with a trailing newline (the committed file's exact text).
pub fn procedure_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&procedure_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Optional fields are simply absent in a definition; `null` is not a value of the format.
/// Removing the generated `null` alternatives keeps errors inside optional objects precise
/// (an `anyOf` would hide them behind "not valid under any schema").
fn strip_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(alts)) = map.get("anyOf") {
                let non_null: Vec<Value> = alts
                    .iter()
                    .filter(|a| a.get("type") != Some(&Value::String("null".into())))
                    .cloned()
                    .collect();
                if non_null.len() == 1 && alts.len() == 2 {
                    map.remove("anyOf");
                    if let Some(Value::Object(inner)) = non_null.into_iter().next() {
                        for (k, v) in inner {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if map.get("default") == Some(&Value::Null) {
                map.remove("default");
            }
            map.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

/// Enums with documented variants come out as `oneOf` of `const`s, which validators report
/// as "not valid under any of the schemas". A plain `enum` gives "is not one of: …", with
/// the variants' documentation kept in the description.
fn flatten_const_one_of(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let consts: Option<Vec<(Value, Option<String>)>> =
                map.get("oneOf").and_then(Value::as_array).and_then(|alts| {
                    alts.iter()
                        .map(|a| {
                            a.get("const").cloned().map(|c| {
                                (
                                    c,
                                    a.get("description")
                                        .and_then(Value::as_str)
                                        .map(str::to_string),
                                )
                            })
                        })
                        .collect::<Option<Vec<_>>>()
                });
            if let Some(consts) = consts.filter(|c| !c.is_empty()) {
                map.remove("oneOf");
                let docs: Vec<String> = consts
                    .iter()
                    .filter_map(|(c, d)| {
                        d.as_ref()
                            .map(|d| format!("`{}`: {d}", c.as_str().unwrap_or("")))
                    })
                    .collect();
                map.insert(
                    "enum".into(),
                    Value::Array(consts.into_iter().map(|(c, _)| c).collect()),
                );
                if !docs.is_empty() {
                    let text = match map.get("description").and_then(Value::as_str) {
                        Some(d) => format!("{d}\n{}", docs.join("\n")),
                        None => docs.join("\n"),
                    };
                    map.insert("description".into(), Value::String(text));
                }
                map.insert("type".into(), Value::String("string".into()));
            }
            map.values_mut().for_each(flatten_const_one_of);
        }
        Value::Array(items) => items.iter_mut().for_each(flatten_const_one_of),
        _ => {}
    }
}

struct Compiled {
    validator: jsonschema::Validator,
    names: BTreeSet<String>,
}

fn compiled() -> Option<&'static Compiled> {
    static COMPILED: OnceLock<Option<Compiled>> = OnceLock::new();
    COMPILED
        .get_or_init(|| {
            let schema = procedure_schema();
            let mut names = BTreeSet::new();
            collect_property_names(&schema, &mut names);
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .ok()?;
            Some(Compiled { validator, names })
        })
        .as_ref()
}

fn collect_property_names(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                out.extend(props.keys().cloned());
            }
            map.values().for_each(|c| collect_property_names(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| collect_property_names(c, out)),
        _ => {}
    }
}

/// Levenshtein distance, for "did you mean" hints on short field names.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= 2 && *d < c.len())
        .min()
        .map(|(_, c)| c)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn expected(kind: &TypeKind) -> String {
    let one = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "integer" => "an integer".to_string(),
        other => format!("a {other}"),
    };
    match kind {
        TypeKind::Single(t) => one(t),
        TypeKind::Multiple(ts) => ts.iter().map(|t| one(&t)).collect::<Vec<_>>().join(" or "),
    }
}

/// Checks the decoded YAML against the format's schema; one diagnostic per violation.
pub fn check(root: &Node, json: &Value) -> Vec<Diagnostic> {
    let Some(compiled) = compiled() else {
        return vec![Diagnostic::new(
            Code::E011,
            root.pos,
            "internal: the format schema does not compile",
        )];
    };
    let mut out = Vec::new();
    for error in compiled.validator.iter_errors(json).take(MAX_FINDINGS) {
        let path = error.instance_path().to_string();
        let pos = root.locate(&path);
        let instance = error.instance();
        let d = match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    let mut d = Diagnostic::new(
                        Code::E010,
                        root.locate_key(&path, key),
                        format!("unknown field `{key}`"),
                    );
                    if let Some(s) = suggest(key, compiled.names.iter().map(String::as_str)) {
                        d = d.hint(format!("did you mean `{s}`?"));
                    }
                    if let Some(step) = step_at(json, &path) {
                        d = d.step(step);
                    }
                    out.push(d);
                }
                continue;
            }
            ValidationErrorKind::Type { kind } => Diagnostic::new(
                Code::E011,
                pos,
                format!("expected {}, found {}", expected(kind), type_name(instance)),
            ),
            ValidationErrorKind::Required { property } => Diagnostic::new(
                Code::E012,
                pos,
                format!(
                    "missing required field `{}`",
                    property.as_str().unwrap_or("?")
                ),
            ),
            ValidationErrorKind::Enum { options } => {
                let allowed: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| o.as_str().unwrap_or("?").to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                let mut d = Diagnostic::new(
                    Code::E013,
                    pos,
                    format!("{instance} is not one of: {}", allowed.join(", ")),
                );
                if let Some(s) = instance
                    .as_str()
                    .and_then(|v| suggest(v, allowed.iter().map(String::as_str)))
                {
                    d = d.hint(format!("did you mean `{s}`?"));
                }
                d
            }
            _ => Diagnostic::new(Code::E013, pos, error.to_string()),
        };
        out.push(match step_at(json, &path) {
            Some(step) => d.step(step),
            None => d,
        });
    }
    out
}

/// The id of the step a JSON pointer lies in (`/steps/3/...`), if any.
pub(crate) fn step_at(json: &Value, pointer: &str) -> Option<String> {
    let rest = pointer.strip_prefix("/steps/")?;
    let index = rest.split('/').next()?;
    json.pointer(&format!("/steps/{index}/id"))?
        .as_str()
        .map(str::to_string)
}
