//! Compiled JSON Schemas, kept for the life of the process: definitions never change once
//! published, and compiling a schema costs far more than validating against it.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

type Cache = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

/// The compiled validator of `schema` (with format checks), or why it does not compile.
pub(crate) fn validator(schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = schema.to_string();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(v);
    }
    let compiled = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| e.to_string())?;
    let compiled = Arc::new(compiled);
    if let Ok(mut c) = cache.lock() {
        // Bounded: a process serves a handful of published definitions.
        if c.len() < 4_096 {
            c.insert(key, compiled.clone());
        }
    }
    Ok(compiled)
}
