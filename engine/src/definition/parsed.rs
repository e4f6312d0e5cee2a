//! Text fields of a definition that the engine reads as values — a cron expression, a time
//! zone, a cut-off time — kept as written (what the definition, its hash and its drawings
//! carry) beside their value, parsed once when the definition is read: from YAML by the
//! validator, or from JSON by the store. Nothing parses them again on the hot path.

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// What a text field parses to.
pub trait FromText: Sized {
    fn from_text(s: &str) -> Result<Self, String>;
}

impl FromText for cron::Schedule {
    fn from_text(s: &str) -> Result<Self, String> {
        cron::Schedule::from_str(s).map_err(|e| e.to_string())
    }
}

impl FromText for chrono_tz::Tz {
    fn from_text(s: &str) -> Result<Self, String> {
        s.parse::<chrono_tz::Tz>()
            .map_err(|_| format!("unknown time zone `{s}`"))
    }
}

/// A path a step reads (`form.child.birth_date`, `steps.register_birth.number`).
impl FromText for super::fields::FieldPath {
    fn from_text(s: &str) -> Result<Self, String> {
        super::fields::FieldPath::parse(s)
    }
}

/// A local time written `HH:MM`.
impl FromText for NaiveTime {
    fn from_text(s: &str) -> Result<Self, String> {
        NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("`{s}` is not a time HH:MM"))
    }
}

/// A text field with its parsed value (or why it does not parse: the validator reports it,
/// and a published definition has none).
#[derive(Clone)]
pub struct Parsed<T> {
    source: String,
    value: Result<T, String>,
}

impl<T: FromText> Parsed<T> {
    pub fn new(source: impl Into<String>) -> Self {
        let source = source.into();
        let value = T::from_text(&source);
        Parsed { source, value }
    }
}

impl<T> Parsed<T> {
    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The value, or why the text does not parse.
    pub fn value(&self) -> Result<&T, &str> {
        self.value.as_ref().map_err(String::as_str)
    }
}

impl<T> PartialEq for Parsed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl<T> Eq for Parsed<T> {}

impl<T> fmt::Debug for Parsed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.source, f)
    }
}

impl<T> fmt::Display for Parsed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl<T> Serialize for Parsed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de, T: FromText> Deserialize<'de> for Parsed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Parsed::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_parses_once_and_is_written_back_as_read() {
        let cron: Parsed<cron::Schedule> =
            serde_json::from_str(r#""0 0 7 * * MON-FRI""#).expect("json");
        assert!(cron.value().is_ok());
        assert_eq!(
            serde_json::to_string(&cron).expect("json"),
            r#""0 0 7 * * MON-FRI""#
        );
        assert!(Parsed::<cron::Schedule>::new("every day").value().is_err());
        assert!(
            Parsed::<chrono_tz::Tz>::new("Asia/Ho_Chi_Minh")
                .value()
                .is_ok()
        );
        let zone = Parsed::<chrono_tz::Tz>::new("Asia/Sai_Gon_Old");
        assert_eq!(
            zone.value().err(),
            Some("unknown time zone `Asia/Sai_Gon_Old`")
        );
        let cut = Parsed::<NaiveTime>::new("15:00");
        assert_eq!(cut.value().ok(), NaiveTime::from_hms_opt(15, 0, 0).as_ref());
        assert!(Parsed::<NaiveTime>::new("3pm").value().is_err());
    }
}
