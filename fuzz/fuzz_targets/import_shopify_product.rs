//! `POST /v1/imports?format=…`: the Shopify product CSV, through the streaming reader and the plan.
//!
//! Input: one flag byte (bit 0 `mode=adjust`, bit 1 detect the format from the header, bit 2
//! keep untracked rows, bits 3–7 the read size of the trickled second read), then the file.
//! Contract: [`check_import`](stockedge_fuzz::check_import).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::import::Format;

fuzz_target!(|data: &[u8]| stockedge_fuzz::fuzz_format(data, Format::ShopifyProduct));
