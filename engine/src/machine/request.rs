//! What an agency receives: only the fields its step reads, and a stable idempotency key.

use super::state::{Dossier, DossierId};
use crate::definition::Step;
use crate::definition::fields::FieldPath;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The key an agency deduplicates on: the same for every retry of one round of one step of
/// one dossier (a supplement starts a new round, because the request changes).
pub fn idempotency_key(dossier: &DossierId, step: &str, round: u32) -> String {
    let digest = Sha256::digest(format!("{}/{step}/{round}", dossier.0).as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn lookup<'v>(root: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(root, |v, seg| v.get(seg.as_str()))
}

fn insert(target: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = target;
    for seg in parents {
        let entry = map
            .entry((*seg).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        map = next;
    }
    map.insert((*last).to_string(), value);
}

/// The request for a step: `{"dossier": {...}, "form": {…read fields…}, "steps": {…read
/// outputs…}}`. Fields the step does not declare in `reads:` never leave the engine.
pub fn request_for(d: &Dossier, step: &Step) -> Value {
    let mut out = Map::new();
    // Paths were split when the definition was read; one that does not parse is refused by
    // validation and never published.
    for read in step.reads.iter().filter_map(|r| r.value().ok()) {
        let value = match read {
            FieldPath::Form(rest) => lookup(&d.form, rest).cloned(),
            FieldPath::Output { step, output, rest } => d
                .steps
                .get(step)
                .and_then(|s| s.outputs.as_ref())
                .and_then(|o| o.get(output))
                .and_then(|v| lookup(v, rest))
                .cloned(),
        };
        if let Some(v) = value {
            insert(&mut out, &read.segments(), v);
        }
    }
    out.insert(
        "dossier".into(),
        serde_json::json!({"code": d.code, "procedure": d.procedure.id, "step": step.id}),
    );
    Value::Object(out)
}
