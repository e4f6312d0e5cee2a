//! A step's `when:` condition, compiled once: the text as written (what the definition,
//! its hash and its drawings carry) beside its parse, made when the definition is read —
//! from YAML by the validator or from JSON by the store. The machine evaluates the parse
//! and never parses again.

use super::expr::{self, Expr, ParseError, Scope};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone)]
pub struct Condition {
    source: String,
    parsed: Result<Expr, ParseError>,
    /// True when it reads only `form.…` and `bundle` (it can be decided at filing).
    form_only: bool,
}

impl Condition {
    pub fn new(source: impl Into<String>) -> Self {
        let source = source.into();
        let parsed = expr::parse(&source);
        let form_only = parsed.as_ref().is_ok_and(|e| {
            e.paths()
                .iter()
                .all(|p| p.segments.first().is_none_or(|s| s != "steps"))
        });
        Condition {
            source,
            parsed,
            form_only,
        }
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parse, or why the text does not parse (the validator reports it; a published
    /// definition has none).
    pub fn parsed(&self) -> Result<&Expr, &ParseError> {
        self.parsed.as_ref()
    }

    /// Whether it reads nothing but the form and the bundle.
    pub fn form_only(&self) -> bool {
        self.form_only
    }

    /// Its value in `scope`; a condition that does not parse holds nowhere (validation
    /// refuses such a definition before it can be published).
    pub fn holds(&self, scope: &dyn Scope) -> bool {
        self.parsed.as_ref().is_ok_and(|e| e.eval(scope))
    }
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Condition::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_once_and_written_back_as_it_was_read() {
        let c: Condition =
            serde_json::from_str(r#""form.deceased.insured == true""#).expect("json");
        assert!(c.parsed().is_ok());
        assert!(c.form_only());
        assert_eq!(
            serde_json::to_string(&c).expect("json"),
            r#""form.deceased.insured == true""#
        );
        let steps = Condition::new("steps.check.found == true");
        assert!(!steps.form_only());
        let bad = Condition::new("form.a ==");
        assert!(bad.parsed().is_err());
        assert!(!bad.form_only());
    }
}
