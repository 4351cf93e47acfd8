//! The SKU grammar (`stock::ids::Sku`) as properties: what it accepts never climbs out of a
//! hierarchy, and it refuses exactly the dot and empty segments it is meant to refuse.
//!
//! The same grammar is the `Sku` pattern of openapi.json; tests/e2e/hostile.test.mjs checks the
//! running Worker against that pattern.

use proptest::prelude::*;

use stockedge::stock::{IdError, Sku};

/// Resolves `.` and `..` segments and drops empty ones, as a file system or URL normaliser would.
fn normalise(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    /// Strings over a small alphabet heavy in `.` and `/`, the characters the rule is about.
    #[test]
    fn an_accepted_sku_is_its_own_normal_form(s in "[a./_-]{0,70}") {
        if let Ok(sku) = Sku::parse(&s) {
            prop_assert_eq!(normalise(sku.as_str()), sku.as_str());
            prop_assert!(!sku.as_str().starts_with('/') && !sku.as_str().ends_with('/'));
        }
    }

    #[test]
    fn refused_only_for_a_reason(s in "[a./_-]{0,70}") {
        let segments_ok = s.split('/').all(|seg| !matches!(seg, "" | "." | ".."));
        match Sku::parse(&s) {
            Ok(_) => prop_assert!(segments_ok && (1..=64).contains(&s.len())),
            Err(IdError::Empty) => prop_assert!(s.is_empty()),
            Err(IdError::TooLong { max }) => prop_assert!(s.len() > max),
            Err(IdError::BadSegment) => prop_assert!(!segments_ok && (1..=64).contains(&s.len())),
            Err(e) => prop_assert!(false, "unexpected {e:?} for {s:?}"),
        }
    }

    /// Joining two SKUs with `/` gives a SKU (within the length bound); slipping a `.` or `..`
    /// segment, or an empty one, between them never does.
    #[test]
    fn segments_compose(a in "[A-Za-z0-9._-]{1,20}", b in "[A-Za-z0-9._-]{1,20}", bad in prop::sample::select(vec!["", ".", ".."])) {
        prop_assume!(Sku::parse(&a).is_ok() && Sku::parse(&b).is_ok());
        let joined = format!("{a}/{b}");
        prop_assert!(Sku::parse(&joined).is_ok(), "{}", joined);
        prop_assert_eq!(Sku::parse(&format!("{a}/{bad}/{b}")), Err(IdError::BadSegment));
        prop_assert_eq!(Sku::parse(&format!("{bad}/{a}")), Err(IdError::BadSegment));
        prop_assert_eq!(Sku::parse(&format!("{a}/{bad}")), Err(IdError::BadSegment));
    }
}

#[test]
fn the_reported_cases() {
    assert_eq!(Sku::parse("../../etc/passwd"), Err(IdError::BadSegment));
    assert_eq!(Sku::parse("A/../../B"), Err(IdError::BadSegment));
    assert!(Sku::parse("TSHIRT-RED/M_1.0").is_ok());
}
