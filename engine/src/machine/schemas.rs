//! Compiled JSON Schemas, kept for the life of the process: definitions never change once
//! published, and compiling a schema costs far more than validating against it.
//!
//! Forms may use two formats of the administrative units in force since 1 July 2025
//! (Decision 19/2025/QĐ-TTg): `vn-province` (a 2-digit province code) and `vn-commune` (a
//! 5-digit commune code). A code that is not in force is refused with the reason, naming
//! the successor of a former province; and an address — an object with both
//! `province_code` and `commune_code` — must name a commune of its province.

use crate::ident::units::units;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

type Cache = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

/// The format of a province code in force.
pub const PROVINCE: &str = "vn-province";
/// The format of a commune code in force.
pub const COMMUNE: &str = "vn-commune";

/// The validator options every schema of a definition is compiled with.
pub(crate) fn options() -> jsonschema::ValidationOptions<'static> {
    jsonschema::options()
        .should_validate_formats(true)
        .with_format(PROVINCE, |s: &str| units().province(s).is_ok())
        .with_format(COMMUNE, |s: &str| units().commune(s, None).is_ok())
}

/// The compiled validator of `schema` (with format checks), or why it does not compile.
pub(crate) fn validator(schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = schema.to_string();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(v);
    }
    let compiled = options().build(schema).map_err(|e| e.to_string())?;
    let compiled = Arc::new(compiled);
    if let Ok(mut c) = cache.lock() {
        // Bounded: a process serves a handful of published definitions.
        if c.len() < 4_096 {
            c.insert(key, compiled.clone());
        }
    }
    Ok(compiled)
}

/// A form's errors against the form schema as (field, reason), at most `most`; when the
/// schema is satisfied, the addresses whose commune lies outside their province.
pub(crate) fn form_errors(schema: &Value, form: &Value, most: usize) -> Vec<(String, String)> {
    let v = match validator(schema) {
        Ok(v) => v,
        Err(e) => {
            let why = format!("the procedure's form schema does not compile: {e}");
            return vec![("/".into(), why)];
        }
    };
    let mut out: Vec<(String, String)> = v
        .iter_errors(form)
        .take(most)
        .map(|e| {
            let path = e.instance_path().to_string();
            let path = if path.is_empty() { "/".into() } else { path };
            let unit = match e.kind() {
                ValidationErrorKind::Format { format } => {
                    unit_error(format, e.instance().as_str().unwrap_or_default())
                }
                _ => None,
            };
            (path, unit.unwrap_or_else(|| e.masked().to_string()))
        })
        .collect();
    if out.is_empty() {
        addresses(form, "", &mut out);
        out.truncate(most);
    }
    out
}

/// Why a code of a unit format is not in force, in the units table's words.
fn unit_error(format: &str, code: &str) -> Option<String> {
    match format {
        PROVINCE => units().province(code).err().map(|e| e.to_string()),
        COMMUNE => units().commune(code, None).err().map(|e| e.to_string()),
        _ => None,
    }
}

/// Every address (an object with `province_code` and `commune_code`) whose commune is not
/// in its province.
fn addresses(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if let (Some(Value::String(p)), Some(Value::String(c))) =
                (m.get("province_code"), m.get("commune_code"))
                && let Err(e) = units().commune(c, Some(p))
            {
                out.push((format!("{path}/commune_code"), e.to_string()));
            }
            for (k, child) in m {
                let key = k.replace('~', "~0").replace('/', "~1");
                addresses(child, &format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                addresses(child, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {"home": {
                "type": "object",
                "properties": {
                    "province_code": {"type": "string", "format": "vn-province"},
                    "commune_code": {"type": "string", "format": "vn-commune"}
                }
            }}
        })
    }

    #[test]
    fn unit_codes_in_force_pass_and_others_name_their_successor() {
        let ok = json!({"home": {"province_code": "01", "commune_code": "00004"}});
        assert!(form_errors(&schema(), &ok, 10).is_empty());
        // Hà Giang (02) is part of Tuyên Quang (08) since 1 July 2025.
        let old = json!({"home": {"province_code": "02", "commune_code": "00004"}});
        let errors = form_errors(&schema(), &old, 10);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "/home/province_code");
        assert!(errors[0].1.contains("08"), "{errors:?}");
        // A 3-digit code of a personal ID number is not a province code of an address.
        let id_code = json!({"home": {"province_code": "079", "commune_code": "00004"}});
        let errors = form_errors(&schema(), &id_code, 10);
        assert!(errors[0].1.contains("personal-ID code"), "{errors:?}");
        let unknown = json!({"home": {"province_code": "01", "commune_code": "99999"}});
        assert_eq!(
            form_errors(&schema(), &unknown, 10)[0].0,
            "/home/commune_code"
        );
    }

    #[test]
    fn an_address_names_a_commune_of_its_province() {
        // 00004 (Phường Ba Đình) is in Hà Nội (01), not in Hồ Chí Minh City (79).
        let wrong = json!({"home": {"province_code": "79", "commune_code": "00004"}});
        let errors = form_errors(&schema(), &wrong, 10);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "/home/commune_code");
    }
}
