//! Request routing (`api::routes::resolve`): the method, the path, its percent-encoded segments,
//! and the identifiers in them (SKU, location, token).
//!
//! Input: one byte choosing the method, then the path. Contract: an identifier is accepted
//! exactly when it meets its grammar (a SKU: 1–64 of `A-Z a-z 0-9 . _ - /` in `/`-separated
//! segments none of them empty, `.` or `..`), and its text is kept as given; a path that
//! resolves resolves to the same route once each segment is decoded and encoded again (percent
//! escapes are spelling, not meaning); a path that does not is a 404, 405 or 422 problem.
#![no_main]

use libfuzzer_sys::fuzz_target;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use stockedge::api::routes::resolve;
use stockedge::stock::{Location, Sku, Token};

/// What cannot stand unescaped in a path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"];

fn sku_grammar(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
        && s.split('/').all(|seg| !matches!(seg, "" | "." | ".."))
}

fuzz_target!(|data: &[u8]| {
    let Some((&m, rest)) = data.split_first() else { return };
    let Ok(path) = std::str::from_utf8(rest) else { return };
    let method = METHODS[usize::from(m) % METHODS.len()];

    // The identifiers, on the raw text.
    match Sku::parse(path) {
        Ok(s) => {
            assert!(sku_grammar(path), "accepted SKU {path:?}");
            assert_eq!(s.as_str(), path);
        }
        Err(_) => assert!(!sku_grammar(path), "refused SKU {path:?}"),
    }
    if let Ok(l) = Location::parse(path) {
        assert!(l.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'));
    }
    if let Ok(t) = Token::parse(path) {
        assert_eq!(t.as_str(), path);
    }

    // The route, and the same route through re-encoded segments.
    let resolved = resolve(method, path);
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let respelled: String = segs
        .iter()
        .map(|s| {
            let decoded = percent_decode_str(s).decode_utf8_lossy();
            format!("/{}", utf8_percent_encode(&decoded, SEGMENT))
        })
        .collect();
    match resolved {
        Ok(route) => {
            let again = resolve(method, &respelled);
            assert_eq!(again.as_ref(), Ok(&route), "{path:?} respelled {respelled:?}");
        }
        Err(p) => assert!(matches!(p.status(), 404 | 405 | 422), "{path:?} answered {}", p.status()),
    }
});
