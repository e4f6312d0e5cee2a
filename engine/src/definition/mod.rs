//! Procedure definitions: YAML text → validated [`Procedure`].
//!
//! The pipeline is: [`yaml::load`] (bounded, positions kept) → [`schema::check`] (the
//! generated JSON Schema: unknown fields, types, required fields, ranges) → typed decoding
//! into [`model`] → semantic checks (the step graph, references, agencies, deadlines,
//! bundles, schedules). Every stage reports all it finds; a later stage runs only on input
//! the earlier one accepted, so one mistake is not reported three times.

pub mod catalog;
mod check;
pub mod condition;
pub mod diagnostic;
pub mod expr;
pub mod fields;
pub mod ids;
pub mod model;
pub mod node;
pub mod parsed;
pub mod render;
pub mod schema;
pub mod yaml;

pub use catalog::Catalog;
pub use condition::Condition;
pub use diagnostic::{Code, Diagnostic, Pos, Severity};
pub use ids::{ActionId, RoleId, StepId};
pub use model::{Mode, Outcome, Procedure, Step};

use sha2::{Digest, Sha256};

/// What validating one file found.
#[derive(Debug)]
pub struct Validated {
    /// The definition, when it has no error (warnings allowed).
    pub procedure: Option<Procedure>,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Validated {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn is_valid(&self) -> bool {
        self.procedure.is_some()
    }
}

/// Validates one definition. `file` is only used to label diagnostics.
///
/// ```
/// use lienthong_engine::definition::{Catalog, validate_source};
///
/// let text = "id: demo\nversion: 1\ntitle: {vi: Thử, en: Demo}\n";
/// let checked = validate_source("demo.yaml", text.as_bytes(), &Catalog::builtin());
/// assert!(!checked.is_valid());
/// let first = checked.errors().next().expect("an error");
/// assert_eq!(first.to_string(), "demo.yaml:1:1: E012 missing required field `legal_basis`");
/// ```
pub fn validate_source(file: &str, bytes: &[u8], catalog: &Catalog) -> Validated {
    let loaded = yaml::load(bytes, yaml::Limits::default());
    let mut diagnostics = loaded.diagnostics;
    let mut procedure = None;
    if let Some(root) = loaded.root {
        let json = root.to_json();
        let structural = schema::check(&root, &json);
        let clean = structural.is_empty() && diagnostics.iter().all(|d| !d.is_error());
        diagnostics.extend(structural);
        if clean {
            match serde_json::from_value::<Procedure>(json) {
                Ok(p) => {
                    diagnostics.extend(check::run(&p, &root, catalog));
                    procedure = Some(p);
                }
                Err(e) => diagnostics.push(Diagnostic::new(
                    Code::E011,
                    root.pos,
                    format!("the definition does not decode: {e}"),
                )),
            }
        }
    }
    for d in &mut diagnostics {
        d.file = file.to_string();
    }
    diagnostics.sort_by_key(|a| (a.line, a.column, a.code));
    diagnostics.dedup();
    if diagnostics.iter().any(Diagnostic::is_error) {
        procedure = None;
    }
    Validated {
        procedure,
        diagnostics,
    }
}

impl Procedure {
    /// SHA-256 of the definition's canonical JSON: the identity of a published version.
    pub fn content_hash(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        let digest = Sha256::digest(&canonical);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}
