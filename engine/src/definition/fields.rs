//! Dotted field paths: what a step reads (`form.child.birth_date`,
//! `steps.register_birth.birth_registration_number`), split once when the definition is
//! read, and resolved against the form's JSON Schema by the validator.

use super::ids::StepId;
use serde_json::Value;

/// A path a step reads, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldPath {
    /// `form.<field>.<field>…`: a field of the citizen's form (at least one segment).
    Form(Vec<String>),
    /// `steps.<step>.<output>.<field>…`: an output an earlier step wrote.
    Output {
        step: StepId,
        output: String,
        rest: Vec<String>,
    },
}

impl FieldPath {
    /// Splits `text`; the error says what is wrong (the validator places it on its line).
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<String> = text.split('.').map(str::to_string).collect();
        if parts.iter().any(String::is_empty) {
            return Err(format!("`{text}` has an empty segment"));
        }
        match parts.split_first() {
            Some((root, rest)) if root == "form" && !rest.is_empty() => {
                Ok(FieldPath::Form(rest.to_vec()))
            }
            Some((root, rest)) if root == "steps" && rest.len() >= 2 => Ok(FieldPath::Output {
                step: StepId::from(&rest[0]),
                output: rest[1].clone(),
                rest: rest[2..].to_vec(),
            }),
            _ => Err(format!(
                "`{text}` is neither `form.<field>` nor `steps.<step>.<output>`"
            )),
        }
    }

    /// Every segment, the root (`form` or `steps`) first.
    pub fn segments(&self) -> Vec<&str> {
        match self {
            FieldPath::Form(rest) => std::iter::once("form")
                .chain(rest.iter().map(String::as_str))
                .collect(),
            FieldPath::Output { step, output, rest } => ["steps", step.as_str(), output]
                .into_iter()
                .chain(rest.iter().map(String::as_str))
                .collect(),
        }
    }
}

/// Most `$ref` hops followed while resolving one path (guards against reference loops).
const MAX_REFS: usize = 32;

/// Follows local `$ref`s (`#/$defs/person`) from `node`, within `root`.
fn deref<'a>(root: &'a Value, mut node: &'a Value) -> Option<&'a Value> {
    for _ in 0..MAX_REFS {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => node = root.pointer(r.strip_prefix('#')?)?,
            None => return Some(node),
        }
    }
    None
}

/// Most subschemas looked at on one level (guards against combinator blow-ups).
const MAX_ALTERNATIVES: usize = 64;

/// The schema itself and every subschema it combines with (`allOf`, `anyOf`, `oneOf`,
/// `then`, `else`, and a list's `items`): a field defined in any of them exists.
fn alternatives<'a>(root: &'a Value, node: &'a Value) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        if out.len() >= MAX_ALTERNATIVES {
            break;
        }
        let Some(n) = deref(root, n) else { continue };
        out.push(n);
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(list) = n.get(key).and_then(Value::as_array) {
                todo.extend(list.iter());
            }
        }
        for key in ["then", "else", "items"] {
            if let Some(sub) = n.get(key) {
                todo.push(sub);
            }
        }
    }
    out
}

/// The schema of the field at `segments` inside the form schema `root`, or the index of the
/// first segment that does not exist.
pub fn resolve<'a>(root: &'a Value, segments: &[String]) -> Result<&'a Value, usize> {
    let mut node = deref(root, root).ok_or(0usize)?;
    for (i, seg) in segments.iter().enumerate() {
        node = alternatives(root, node)
            .into_iter()
            .find_map(|n| n.get("properties").and_then(|p| p.get(seg.as_str())))
            .and_then(|next| deref(root, next))
            .ok_or(i)?;
    }
    Ok(node)
}

/// The field names available at a level, for "did you mean" hints.
pub fn names_at<'a>(root: &'a Value, segments: &[String]) -> Vec<&'a str> {
    let node = if segments.is_empty() {
        deref(root, root)
    } else {
        resolve(root, segments).ok()
    };
    let Some(node) = node else { return Vec::new() };
    let mut names: Vec<&str> = alternatives(root, node)
        .into_iter()
        .filter_map(|n| n.get("properties").and_then(Value::as_object))
        .flat_map(|m| m.keys().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The JSON type names a schema allows (`"string"`, …); empty when it does not say.
pub fn types_of(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => match schema.get("enum").and_then(Value::as_array) {
            Some(values) => values
                .iter()
                .map(|v| match v {
                    Value::String(_) => "string",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    _ => "null",
                })
                .collect(),
            None => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn segs(p: &str) -> Vec<String> {
        p.split('.').map(str::to_string).collect()
    }

    #[test]
    fn resolves_through_refs_and_lists() {
        let form = json!({
            "type": "object",
            "$defs": {"person": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "properties": {
                "mother": {"$ref": "#/$defs/person"},
                "documents": {"type": "array", "items": {"type": "object", "properties": {"uri": {"type": "string"}}}}
            }
        });
        assert_eq!(
            types_of(resolve(&form, &segs("mother.name")).unwrap()),
            ["string"]
        );
        assert!(resolve(&form, &segs("documents.uri")).is_ok());
        assert_eq!(resolve(&form, &segs("mother.age")), Err(1));
        assert_eq!(names_at(&form, &segs("mother")), ["name"]);
    }

    #[test]
    fn fields_of_combined_and_conditional_schemas_exist() {
        let form = json!({
            "type": "object",
            "properties": {"kind": {"enum": ["one_off", "monthly"]}},
            "allOf": [{"properties": {"bank": {"type": "string"}}}],
            "if": {"properties": {"kind": {"const": "monthly"}}},
            "then": {"properties": {"survivors": {"type": "array", "items": {"properties": {"age": {"type": "integer"}}}}}}
        });
        assert!(resolve(&form, &segs("bank")).is_ok());
        assert_eq!(
            types_of(resolve(&form, &segs("survivors.age")).unwrap()),
            ["integer"]
        );
        assert_eq!(names_at(&form, &[]), ["bank", "kind", "survivors"]);
    }

    #[test]
    fn reference_loops_end() {
        let form = json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "properties": {"x": {"$ref": "#/$defs/a"}}});
        assert!(resolve(&form, &segs("x")).is_err());
    }
}
