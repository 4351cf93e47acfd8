//! The query strings of docs/api.md, as the runtime hands them over (decoded `key=value` pairs):
//! availability, journal pages, imports (with saved mappings), exports, catalogue pages.
//!
//! Input: `key=value` pairs separated by `&` or new lines. Contract: an accepted query is within
//! its bounds (availability: 1–100 distinct valid SKUs in query order; journal: a limit within
//! the page bounds) and the query written back from the accepted value is accepted as the same
//! value; a refused one is a `422` naming its fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::api::availability_cache::Consistency;
use stockedge::api::{catalog_bodies, import_mappings, requests, Problem};
use stockedge::stock::limits::{MAX_AVAILABILITY_SKUS, MAX_PAGE};
use stockedge_fuzz::pairs;

fn refused(p: &Problem) {
    assert_eq!(p.status(), 422, "{p:?}");
    let errors = p.extra.get("errors").and_then(|e| e.as_array()).expect("a 422 lists its errors");
    assert!(!errors.is_empty());
}

fn pair(k: &str, v: impl ToString) -> (String, String) {
    (k.to_owned(), v.to_string())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let q = pairs(text);

    match requests::availability_query(&q) {
        Ok(a) => {
            assert!((1..=MAX_AVAILABILITY_SKUS).contains(&a.skus.len()));
            for (i, s) in a.skus.iter().enumerate() {
                assert!(!a.skus[..i].contains(s), "{s} twice");
            }
            let mut back: Vec<_> = a.skus.iter().map(|s| pair("sku", s)).collect();
            back.extend(a.channel.iter().map(|c| pair("channel", c)));
            back.push(pair("consistency", if a.consistency == Consistency::Strong { "strong" } else { "bounded" }));
            assert_eq!(requests::availability_query(&back).as_ref(), Ok(&a));
        }
        Err(p) => refused(&p),
    }
    match requests::journal_query(&q) {
        Ok((after, limit)) => {
            assert!((1..=MAX_PAGE).contains(&limit));
            let back = [pair("after", after), pair("limit", limit)];
            assert_eq!(requests::journal_query(&back), Ok((after, limit)));
        }
        Err(p) => refused(&p),
    }
    match requests::import_query(&q) {
        Ok((format, mode, dry_run)) => {
            let mut back = vec![pair("mode", mode.as_str()), pair("dry_run", dry_run)];
            back.extend(format.map(|f| pair("format", f.as_str())));
            assert_eq!(requests::import_query(&back), Ok((format, mode, dry_run)));
        }
        Err(p) => refused(&p),
    }
    match requests::export_query(&q) {
        Ok(f) => assert_eq!(requests::export_query(&[pair("format", f.as_str())]), Ok(f)),
        Err(p) => refused(&p),
    }
    if let Err(p) = import_mappings::import_query(&q) {
        refused(&p);
    }
    if let Err(p) = catalog_bodies::page_query(&q) {
        refused(&p);
    }
});
