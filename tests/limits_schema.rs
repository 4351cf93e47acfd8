//! The D1 schema's numeric `CHECK`s (migrations/*.sql) agree with the Rust limits.
//!
//! The validators in `catalog` refuse out-of-bounds values before anything is written; the
//! `CHECK`s are the backstop and must say the same. Every numeric bound in every migration is
//! read from the SQL text and compared with the constant it repeats: a new numeric `CHECK` with
//! no entry below, or an entry whose `CHECK` has gone, fails the test.

use std::collections::BTreeMap;

use stockedge::catalog::ListingRule;
use stockedge::stock::limits::{
    MAX_BACKORDER_LIMIT, MAX_LINE_QTY, MAX_ON_HAND, MAX_RULE_BUFFER, MAX_RULE_LISTED, MAX_RULE_PERCENT,
    MAX_RULE_ZERO_AT_OR_BELOW,
};

/// (table, column) → the bounds Rust enforces, inclusive.
fn rust_bounds() -> BTreeMap<(&'static str, &'static str), (i64, i64)> {
    BTreeMap::from([
        (("products", "backorder_limit"), (0, MAX_BACKORDER_LIMIT)),
        (("products", "low_stock_threshold"), (0, MAX_ON_HAND)),
        (("sku_alerting", "low_stock_below"), (0, MAX_ON_HAND)),
        (("bundle_components", "qty"), (1, MAX_LINE_QTY)),
        (("listings", "buffer"), (0, MAX_RULE_BUFFER)),
        (("listings", "percent"), (0, i64::from(MAX_RULE_PERCENT))),
        (("listings", "max_listed"), (0, MAX_RULE_LISTED)),
        (("listings", "zero_at_or_below"), (0, MAX_RULE_ZERO_AT_OR_BELOW)),
    ])
}

/// A numeric bound read from a `CHECK`: inclusive lower bound, and upper bound if any.
#[derive(Debug, PartialEq, Eq)]
struct SqlBound {
    low: i64,
    high: Option<i64>,
}

/// Every migration's text, in the order they apply.
fn migrations() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no migrations found");
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("readable"))).collect()
}

/// Drops `-- …` comments.
fn without_comments(sql: &str) -> String {
    sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The text between the `(` at `open` and its matching `)`.
fn parenthesised(text: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses after byte {open}");
}

/// The table a statement creates or alters (`CREATE TABLE t (`, `ALTER TABLE t ADD COLUMN`).
fn table_of(statement: &str) -> Option<String> {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let at = words.iter().position(|w| w.eq_ignore_ascii_case("TABLE"))?;
    let skip = if words.get(at + 1).is_some_and(|w| w.eq_ignore_ascii_case("IF")) { 4 } else { 1 };
    Some(words.get(at + skip)?.trim_end_matches('(').to_lowercase())
}

/// Reads the numeric bound a `CHECK` body states, if it states one on a single column:
/// `col BETWEEN a AND b`, `col >= a`, `col > a`, `col <= b`, `col < b`.
fn numeric_bound(check: &str) -> Option<(String, SqlBound)> {
    let words: Vec<&str> = check.split_whitespace().collect();
    let int = |s: &str| s.parse::<i64>().ok();
    match words.as_slice() {
        [col, between, a, and, b] if between.eq_ignore_ascii_case("BETWEEN") && and.eq_ignore_ascii_case("AND") => {
            Some((col.to_lowercase(), SqlBound { low: int(a)?, high: Some(int(b)?) }))
        }
        [col, ">=", a] => Some((col.to_lowercase(), SqlBound { low: int(a)?, high: None })),
        [col, ">", a] => Some((col.to_lowercase(), SqlBound { low: int(a)? + 1, high: None })),
        [col, "<=", b] => Some((col.to_lowercase(), SqlBound { low: i64::MIN, high: Some(int(b)?) })),
        [col, "<", b] => Some((col.to_lowercase(), SqlBound { low: i64::MIN, high: Some(int(b)? - 1) })),
        _ => None,
    }
}

/// Every numeric `CHECK` in the migrations, keyed by (table, column); a later migration's
/// `CHECK` on the same column replaces an earlier one (a table rebuild).
fn sql_bounds() -> BTreeMap<(String, String), SqlBound> {
    let mut out = BTreeMap::new();
    for (file, text) in migrations() {
        for statement in without_comments(&text).split(';') {
            let mut from = 0;
            while let Some(at) = statement[from..].find("CHECK") {
                let open = from + at + statement[from + at..].find('(').expect("CHECK (");
                let body = parenthesised(statement, open);
                from = open + body.len() + 2;
                let looks_numeric = body
                    .split_whitespace()
                    .any(|w| w.eq_ignore_ascii_case("BETWEEN") || [">=", "<=", ">", "<"].contains(&w));
                if !looks_numeric {
                    continue;
                }
                let table = table_of(statement).unwrap_or_else(|| panic!("{file}: CHECK outside a table: {body}"));
                let (column, bound) =
                    numeric_bound(body).unwrap_or_else(|| panic!("{file}: {table}: unread numeric CHECK ({body})"));
                out.insert((table, column), bound);
            }
        }
    }
    out
}

#[test]
fn every_numeric_check_repeats_its_rust_limit() {
    let sql = sql_bounds();
    let rust = rust_bounds();
    for ((table, column), bound) in &sql {
        let Some(&(low, high)) = rust.get(&(table.as_str(), column.as_str())) else {
            panic!("{table}.{column}: CHECK {bound:?} has no Rust limit in this test; name the constant it repeats");
        };
        assert_eq!(bound.low, low, "{table}.{column}: the CHECK's lower bound differs from Rust's");
        if let Some(h) = bound.high {
            assert_eq!(h, high, "{table}.{column}: the CHECK's upper bound differs from Rust's");
        }
    }
    for (table, column) in rust.keys() {
        assert!(
            sql.contains_key(&(table.to_string(), column.to_string())),
            "{table}.{column}: no CHECK in the migrations any more; drop it from this test or restore it"
        );
    }
}

#[test]
fn the_parser_reads_the_forms_it_claims() {
    assert_eq!(
        numeric_bound("qty BETWEEN 1 AND 1000000"),
        Some(("qty".into(), SqlBound { low: 1, high: Some(1_000_000) }))
    );
    assert_eq!(numeric_bound("n >= 0"), Some(("n".into(), SqlBound { low: 0, high: None })));
    assert_eq!(numeric_bound("n > 0"), Some(("n".into(), SqlBound { low: 1, high: None })));
    assert_eq!(numeric_bound("kind IN ('a', 'b')"), None);
    assert_eq!(table_of("\nCREATE TABLE IF NOT EXISTS listings (\n a INTEGER"), Some("listings".into()));
    assert_eq!(table_of("ALTER TABLE listing_sync ADD COLUMN n INTEGER"), Some("listing_sync".into()));
}

/// The listing rule validator refuses just past each bound the `listings` table checks.
#[test]
fn the_rule_validator_enforces_the_same_bounds() {
    let ok = ListingRule {
        buffer: MAX_RULE_BUFFER,
        percent: MAX_RULE_PERCENT,
        max_listed: Some(MAX_RULE_LISTED),
        zero_at_or_below: Some(MAX_RULE_ZERO_AT_OR_BELOW),
    };
    assert!(ok.validate().is_ok());
    assert!(ListingRule { buffer: MAX_RULE_BUFFER + 1, ..ok }.validate().is_err());
    assert!(ListingRule { buffer: -1, ..ok }.validate().is_err());
    assert!(ListingRule { percent: MAX_RULE_PERCENT + 1, ..ok }.validate().is_err());
    assert!(ListingRule { max_listed: Some(MAX_RULE_LISTED + 1), ..ok }.validate().is_err());
    assert!(ListingRule { zero_at_or_below: Some(MAX_RULE_ZERO_AT_OR_BELOW + 1), ..ok }.validate().is_err());
}
