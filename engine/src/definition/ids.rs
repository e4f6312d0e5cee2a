//! The names a definition gives: a step ([`StepId`]), an agency role ([`RoleId`]) and an
//! agency action ([`ActionId`]).
//!
//! Each is its own type, so a role cannot be passed where a step is expected, and a map of
//! steps cannot be looked up by an action. They serialise as plain strings (journals written
//! before the types existed read back unchanged), compare with `&str`, and borrow as `str`
//! so that maps keyed by them answer `get("register_birth")`. The validator checks their
//! spelling (E013), that step ids are unique and named prerequisites exist (E020–E023), and
//! that roles and actions are in the catalogue (E040–E042); the types carry no check of their
//! own, so a bad name is reported on its line rather than as a decoding failure.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

/// The id of a step, unique in its definition (`register_birth`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(String);

/// An agency role (`civil_status`, `residence`, …): who performs a step; its instances are
/// the agencies of the configured communes and provinces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleId(String);

/// An action of an agency role (`register_birth`, `issue_card`, …), from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(String);

/// The conversions and comparisons the three names share. A macro keeps the three sets of
/// impls identical; each impl is one line of plain delegation to the inner `String`.
macro_rules! name_impls {
    ($($t:ident),*) => {$(
        impl $t {
            pub fn new(name: impl Into<String>) -> Self {
                $t(name.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }
        /// A plain string in the definition's schema, inlined so that a field's own
        /// pattern applies to it.
        impl JsonSchema for $t {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($t))
            }
            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                String::json_schema(generator)
            }
        }
        impl Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl Borrow<str> for $t {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<&str> for $t {
            fn from(name: &str) -> Self {
                $t(name.to_string())
            }
        }
        impl From<String> for $t {
            fn from(name: String) -> Self {
                $t(name)
            }
        }
        impl From<&String> for $t {
            fn from(name: &String) -> Self {
                $t(name.clone())
            }
        }
        impl From<&$t> for String {
            fn from(name: &$t) -> Self {
                name.0.clone()
            }
        }
        impl From<$t> for String {
            fn from(name: $t) -> Self {
                name.0
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
        impl PartialEq<String> for $t {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
        impl PartialEq<$t> for str {
            fn eq(&self, other: &$t) -> bool {
                self == other.0
            }
        }
        impl PartialEq<$t> for &str {
            fn eq(&self, other: &$t) -> bool {
                *self == other.0
            }
        }
    )*};
}

name_impls!(StepId, RoleId, ActionId);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn names_read_and_write_as_plain_strings() {
        let step: StepId = serde_json::from_str("\"register_birth\"").expect("a string");
        assert_eq!(step, "register_birth");
        assert_eq!(
            serde_json::to_string(&step).expect("json"),
            "\"register_birth\""
        );
        let schema = serde_json::to_value(schemars::schema_for!(RoleId)).expect("schema");
        assert_eq!(schema["type"], "string");
    }

    #[test]
    fn maps_keyed_by_a_name_answer_a_str() {
        let mut held = BTreeMap::new();
        held.insert(StepId::from("register_birth"), 1);
        assert_eq!(held.get("register_birth"), Some(&1));
        assert_eq!(held.get("issue_card"), None);
        assert_eq!(ActionId::new("issue_card").to_string(), "issue_card");
    }
}
