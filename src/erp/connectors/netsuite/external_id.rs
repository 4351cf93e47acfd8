//! StockEdge's references as NetSuite external ids.
//!
//! NetSuite's REST web services take an external id (`externalId` in a record, `eid:<id>` in a
//! URL) made of letters, digits, `_` and `-` only; a `|` in one is even read as a multi-select
//! delimiter. StockEdge's order references (`amazon/A-9|TEE-1`, `…+<ms>` for an addition) hold
//! `/`, `|` and `+`, so they are escaped one-to-one: letters, digits and `-` stay, `_` becomes
//! `__`, and every other byte of the reference's UTF-8 becomes `_` and two upper-case hex digits
//! (`amazon_2FA-9_7CTEE-1`). Distinct references give distinct ids (the tests read every id back
//! to its reference); the readable reference also goes in the record's `memo`.

/// The external id standing for `reference`.
pub fn external_id(reference: &str) -> String {
    let mut out = String::with_capacity(reference.len());
    for b in reference.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => out.push(char::from(b)),
            b'_' => out.push_str("__"),
            _ => out.push_str(&format!("_{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference `id` stands for, when it is one [`external_id`] writes: the escape read back,
    /// which shows it is one-to-one.
    fn reference_of(id: &str) -> Option<String> {
        let bytes = id.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'_' if bytes.get(i + 1) == Some(&b'_') => {
                    out.push(b'_');
                    i += 2;
                }
                b'_' => {
                    let hex = id.get(i + 1..i + 3)?;
                    if !hex.bytes().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c)) {
                        return None;
                    }
                    out.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 3;
                }
                c if c.is_ascii_alphanumeric() || c == b'-' => {
                    out.push(c);
                    i += 1;
                }
                _ => return None,
            }
        }
        String::from_utf8(out).ok()
    }

    #[test]
    fn references_become_ids_netsuite_accepts() {
        assert_eq!(external_id("amazon/A-9|TEE-1"), "amazon_2FA-9_7CTEE-1");
        assert_eq!(external_id("web/1001|TEE_1+1765000000000"), "web_2F1001_7CTEE__1_2B1765000000000");
        assert_eq!(external_id("direct/ü"), "direct_2F_C3_BC");
        assert_eq!(reference_of("amazon_2FA-9_7CTEE-1").as_deref(), Some("amazon/A-9|TEE-1"));
        for bad in ["a_2", "a_2f", "a_ZZ", "a b", "a|b", "_C3"] {
            assert_eq!(reference_of(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn ids_use_only_netsuite_characters_and_read_back(reference in "\\PC{0,40}") {
            let id = external_id(&reference);
            prop_assert!(id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'), "{}", id);
            prop_assert_eq!(reference_of(&id), Some(reference));
        }
    }
}
