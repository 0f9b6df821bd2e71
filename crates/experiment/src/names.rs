//! Names in reports and file names: what a method or poison-level name may be, and its
//! file-name form.

/// The file-name form of a name: ASCII letters and digits lowercased, every other character
/// `_`, runs of `_` collapsed and trimmed at both ends (`random 10%` → `random_10`).
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_collapsed_and_trimmed() {
        assert_eq!(slug("random 10%"), "random_10");
        assert_eq!(slug("Floral"), "floral");
        assert_eq!(slug("a--b  c"), "a_b_c");
        assert_eq!(slug("%%"), "");
    }
}
