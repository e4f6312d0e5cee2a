//! Staff user names: normalised (Unicode NFKC, trimmed) before they are stored or looked up,
//! and a new name refused when it looks like an existing one — the same letters from
//! another script (Cyrillic `а` for Latin `a`), another case, or full-width forms.

use unicode_normalization::UnicodeNormalization as _;

/// The stored form of a name: NFKC, trimmed; an error names the rule broken.
pub fn normalise(name: &str) -> Result<String, String> {
    let n: String = name.nfkc().collect::<String>().trim().to_string();
    if n.is_empty() || n.chars().count() > 200 {
        return Err("name: 1 to 200 characters".into());
    }
    if n.chars()
        .any(|c| c.is_control() || c == ':' || c.is_whitespace())
    {
        return Err("name: no spaces, control characters or `:`".into());
    }
    Ok(n)
}

/// Letters of other scripts that look like Latin ones.
const LOOK_ALIKES: &[(char, char)] = &[
    ('а', 'a'),
    ('в', 'b'),
    ('е', 'e'),
    ('к', 'k'),
    ('м', 'm'),
    ('н', 'h'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('т', 't'),
    ('у', 'y'),
    ('х', 'x'),
    ('ј', 'j'),
    ('ѕ', 's'),
    ('ԁ', 'd'),
    ('ɡ', 'g'),
    ('α', 'a'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('ν', 'v'),
    ('τ', 't'),
    ('υ', 'u'),
    ('κ', 'k'),
    ('ε', 'e'),
    ('0', 'o'),
    // One vertical stroke: l, I (lower-cased to i), 1, |, and their look-alikes.
    ('i', 'l'),
    ('1', 'l'),
    ('|', 'l'),
    ('ı', 'l'),
    ('і', 'l'),
    ('ι', 'l'),
];

/// What a name looks like: lower case, look-alike letters folded to Latin.
pub fn skeleton(name: &str) -> String {
    name.nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| {
            LOOK_ALIKES
                .iter()
                .find(|(from, _)| *from == c)
                .map_or(c, |(_, to)| *to)
        })
        .collect()
}

/// The existing name `name` would be confused with, if any.
pub fn confusable<'a>(name: &str, existing: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let s = skeleton(name);
    existing.into_iter().find(|e| skeleton(e) == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_look_alikes_refused() {
        assert_eq!(normalise("  lan ").as_deref(), Ok("lan"));
        // Full-width letters become plain ones.
        assert_eq!(normalise("ｌａｎ").as_deref(), Ok("lan"));
        assert!(normalise("a b").is_err());
        assert!(normalise("user:x").is_err());
        let existing = ["admin", "lân"];
        // Cyrillic а, another case, a digit for a letter: all look like `admin`.
        assert_eq!(confusable("аdmin", existing), Some("admin"));
        assert_eq!(confusable("ADMIN", existing), Some("admin"));
        assert_eq!(confusable("adm1n", existing), Some("admin"));
        // Vietnamese letters are letters: `lan` is not `lân`.
        assert_eq!(confusable("lan", existing), None);
        // A composed and a decomposed `lân` are one name.
        assert_eq!(confusable("la\u{302}n", existing), Some("lân"));
    }
}
