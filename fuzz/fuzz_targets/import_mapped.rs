//! `PUT /v1/import-mappings/{name}` then `POST /v1/imports?mapping=…`: a saved column mapping (JSON)
//! and any CSV read through it.
//!
//! Input: one flag byte (bit 0 `mode=adjust`, bits 3–7 the read size of the trickled second read),
//! a line with the mapping's JSON body, then the file. Contract: an accepted mapping re-validates
//! from its own JSON form to the same mapping; the file read through it meets
//! [`check_import`](stockedge_fuzz::check_import).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::api::import_mappings::mapping_body;
use stockedge::import::{Mode, ReadOptions};
use stockedge_fuzz::lines_then_body;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (line, file) = lines_then_body(rest, 1);
    let Ok(mapping) = mapping_body(line[0].as_bytes()) else { return };
    let json = serde_json::to_vec(&mapping).expect("a mapping serialises");
    assert_eq!(mapping_body(&json).as_ref(), Ok(&mapping), "mapping JSON round trip");
    let mode = mapping.mode_for(if flags & 1 == 0 { None } else { Some(Mode::Adjust) });
    let delimiter = mapping.delimiter_for(file);
    let options = ReadOptions { mapping: Some((mapping, delimiter)), ..ReadOptions::new(None, mode) };
    stockedge_fuzz::check_import(flags, file, options);
});
