//! Personal data never leaves the server in clear through logs, traces or error bodies
//! (Law 91/2025 on personal data protection): every such text passes through [`text`].
//!
//! - A 12-digit personal ID number — a run of exactly twelve digits — keeps its first three
//!   (the province of birth registration) and last three digits: `001******345`.
//! - A JSON string under a name key (`full_name`, `family_name`, `middle_name`,
//!   `given_name`, `ho_ten`) keeps its first character: `"full_name":"N***"`.

/// Keys whose string values are personal names.
pub const NAME_KEYS: &[&str] = &[
    "full_name",
    "family_name",
    "middle_name",
    "given_name",
    "ho_ten",
];

/// `text` with personal ID numbers and names masked.
pub fn text(input: &str) -> String {
    names(&ids(input))
}

/// Masks every run of exactly twelve ASCII digits.
pub fn ids(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 12 {
                out.push_str(&input[copied..start]);
                out.push_str(&input[start..start + 3]);
                out.push_str("******");
                out.push_str(&input[start + 9..i]);
                copied = i;
            }
        } else {
            i += 1;
        }
    }
    out.push_str(&input[copied..]);
    out
}

/// Masks the values of name keys in JSON text (`"key":"value"` or `"key": "value"`, also
/// with escaped quotes as in a JSON log line's message field).
pub fn names(input: &str) -> String {
    let mut out = input.to_string();
    for key in NAME_KEYS {
        for quote in ["\"", "\\\""] {
            out = mask_key(&out, key, quote);
        }
    }
    out
}

fn mask_key(input: &str, key: &str, quote: &str) -> String {
    let needle = format!("{quote}{key}{quote}");
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find(&needle) {
        let after_key = at + needle.len();
        out.push_str(&rest[..after_key]);
        let tail = &rest[after_key..];
        let trimmed = tail.trim_start_matches([' ', ':']);
        let skipped = tail.len() - trimmed.len();
        if !tail[..skipped].contains(':') || !trimmed.starts_with(quote) {
            rest = tail;
            continue;
        }
        let value_start = skipped + quote.len();
        let Some(len) = value_len(&tail[value_start..], quote) else {
            rest = tail;
            continue;
        };
        let value = &tail[value_start..value_start + len];
        out.push_str(&tail[..value_start]);
        if let Some(first) = value.chars().next().filter(|c| *c != '\\') {
            out.push(first);
        }
        out.push_str("***");
        rest = &tail[value_start + len..];
    }
    out.push_str(rest);
    out
}

/// The length of a JSON string's body up to its closing `quote`.
fn value_len(s: &str, quote: &str) -> Option<usize> {
    if quote == "\"" {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => return Some(i),
                _ => i += 1,
            }
        }
        None
    } else {
        s.find(quote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_digits_are_masked_and_nothing_else() {
        assert_eq!(ids("id 001204012345 ok"), "id 001******345 ok");
        assert_eq!(ids("001204012345"), "001******345");
        assert_eq!(ids("a001204012345b"), "a001******345b");
        // 11 and 13 digits (a millisecond instant) are not ID numbers.
        assert_eq!(
            ids("00120401234 1764500000000"),
            "00120401234 1764500000000"
        );
        assert_eq!(
            ids("Nguyễn 079203000001, 079203000002"),
            "Nguyễn 079******001, 079******002"
        );
    }

    #[test]
    fn names_in_json_are_masked() {
        let j = r#"{"full_name":"Nguyễn Văn An","given_name": "An","x":"y"}"#;
        assert_eq!(
            names(j),
            r#"{"full_name":"N***","given_name": "A***","x":"y"}"#
        );
        let escaped = r#"{"message":"form {\"family_name\":\"Trần\"}"}"#;
        assert_eq!(
            names(escaped),
            r#"{"message":"form {\"family_name\":\"T***\"}"}"#
        );
        assert_eq!(names("full_name is required"), "full_name is required");
        assert_eq!(
            text(r#"{"full_name":"Lê 001204012345"}"#),
            r#"{"full_name":"L***"}"#
        );
    }
}
