//! `POST /v1/erp/snapshots?format=csv`: the snapshot's members in the query, its lines as CSV
//! (any column order and case, `,` `;` tab or `|`, a BOM).
//!
//! Input: a first line of `key=value` pairs (`&`-separated), then the CSV body. Contract: a
//! refused snapshot is a `422` naming its fields; an accepted one has valid SKUs and locations,
//! and written back as plain `sku,quantity,location` CSV with the same query it is accepted as
//! the same snapshot.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::api::erp_snapshot_csv::snapshot_csv;
use stockedge::erp::limits::MAX_SNAPSHOT_LINES;
use stockedge_fuzz::{lines_then_body, pairs};

fuzz_target!(|data: &[u8]| {
    let (query, body) = lines_then_body(data, 1);
    let q = pairs(&query[0]);
    match snapshot_csv(&q, body) {
        Ok(s) => {
            assert!(s.lines.len() <= MAX_SNAPSHOT_LINES);
            let mut csv = String::from("sku,quantity,location\n");
            for (sku, line) in &s.lines {
                csv.push_str(&format!("{sku},{},{}\n", line.figure.quantity, line.location));
            }
            assert_eq!(snapshot_csv(&q, csv.as_bytes()).as_ref(), Ok(&s), "rewritten as {csv}");
        }
        Err(p) => assert_eq!(p.status(), 422, "{p:?}"),
    }
});
