//! `POST /v1/imports?format=csv`: StockEdge's own `sku,quantity[,location]`, through the
//! streaming reader and the plan, and back out through the export writer.
//!
//! Input: one flag byte (bit 0 `mode=adjust`, bit 1 detect the format, bit 2 keep untracked
//! rows, bits 3–7 the read size of the trickled second read), then the file.
//! Contract: [`check_import`](stockedge_fuzz::check_import), and every stock level read in `set`
//! mode, written by `GET /v1/exports?format=csv`, reads back as the same SKU, location and level.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::import::{read_all, write_export, BackorderPolicy, ExportRow, Format, Mode, ReadOptions, RowOutcome};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, file)) = data.split_first() else { return };
    let mode = if flags & 1 == 0 { Mode::Set } else { Mode::Adjust };
    let mut options = ReadOptions::new(if flags & 2 == 0 { Some(Format::Plain) } else { None }, mode);
    options.keep_untracked = flags & 4 != 0;
    let Some(rows) = stockedge_fuzz::check_import(flags, file, options.clone()) else { return };
    if mode != Mode::Set || options.format.is_none() {
        return;
    }
    let levels: Vec<ExportRow> = rows
        .iter()
        .filter_map(|r| match r {
            RowOutcome::Stock { sku, location, quantity: Some(q), .. } => Some(ExportRow {
                sku: sku.clone(),
                location: location.clone(),
                on_hand: *q,
                available: *q,
                backorder: BackorderPolicy::Deny,
                tracked: true,
            }),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    write_export(Format::Plain, &mut out, levels.clone()).expect("the export writes");
    let (_, back) =
        read_all(out.as_slice(), ReadOptions::new(Some(Format::Plain), Mode::Set)).expect("the export reads");
    let back: Vec<_> = back
        .into_iter()
        .map(|r| match r {
            RowOutcome::Stock { sku, location, quantity: Some(q), .. } => (sku, location, q),
            other => panic!("an exported row read back as {other:?}"),
        })
        .collect();
    let sent: Vec<_> = levels.into_iter().map(|r| (r.sku, r.location, r.on_hand)).collect();
    assert_eq!(back, sent, "export → import round trip");
});
