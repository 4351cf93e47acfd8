//! Criterion benchmarks of the bulk import reader: `cargo bench --bench import`.
//!
//! `parse_100000_rows/<format>`: `StockReader` over a generated 100,000-row file, every row read
//! to a `RowOutcome` (throughput in rows/s). The files look like real exports: the Shopify product
//! file has the 36 columns of Shopify's product template, the Shopify inventory file the 19
//! columns of a current inventory export (3 location names), the WooCommerce file the 43 columns
//! of WooCommerce's exporter; the plain file is `sku,quantity,location`.
//!
//! Kept short (1 s warm-up, 3 s measurement, 10 samples). Under `cargo test --all-targets`
//! criterion runs each bench once, in a debug build, as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use stockedge::import::{Format, ReadOptions, RowOutcome, StockReader};

#[path = "../tests/support/columns.rs"]
mod columns;
use columns::{INVENTORY_COLUMNS, SHOPIFY_PRODUCT_COLUMNS, WOO_COLUMNS};

const ROWS: usize = 100_000;

fn csv_line(cells: &[String]) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(cells).expect("write");
    String::from_utf8(w.into_inner().expect("flush")).expect("utf8")
}

fn file(header: &[&str], row: impl Fn(usize) -> Vec<(&'static str, String)>) -> Vec<u8> {
    let mut out = csv_line(&header.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    for i in 0..ROWS {
        let cells = row(i);
        let line: Vec<String> = header
            .iter()
            .map(|h| cells.iter().find(|(c, _)| c == h).map(|(_, v)| v.clone()).unwrap_or_default())
            .collect();
        out.push_str(&csv_line(&line));
    }
    out.into_bytes()
}

fn files() -> Vec<(Format, Vec<u8>)> {
    let plain = file(&["sku", "quantity", "location"], |i| {
        vec![("sku", format!("SKU-{i}")), ("quantity", (i % 997).to_string()), ("location", format!("loc-{}", i % 3))]
    });
    let product = file(SHOPIFY_PRODUCT_COLUMNS, |i| {
        let p = i / 4;
        vec![
            ("Handle", format!("product-{p}")),
            ("Title", if i % 4 == 0 { format!("Product {p}, cotton") } else { String::new() }),
            ("Body (HTML)", if i % 4 == 0 { String::from("<p>Soft, breathable cotton.</p>") } else { String::new() }),
            ("Vendor", String::from("Acme")),
            ("Option1 Name", String::from("Size")),
            ("Option1 Value", ["S", "M", "L", "XL"][i % 4].to_string()),
            ("Variant SKU", format!("P{p}-{}", ["S", "M", "L", "XL"][i % 4])),
            ("Variant Grams", String::from("200")),
            ("Variant Inventory Tracker", String::from("shopify")),
            ("Variant Inventory Qty", (i % 997).to_string()),
            ("Variant Inventory Policy", String::from(if i % 5 == 0 { "continue" } else { "deny" })),
            ("Variant Fulfillment Service", String::from("manual")),
            ("Variant Price", String::from("25.00")),
            ("Variant Requires Shipping", String::from("TRUE")),
            ("Variant Taxable", String::from("TRUE")),
            ("Image Src", format!("https://cdn.example.com/p{p}.jpg")),
            ("Gift Card", String::from("FALSE")),
            ("Variant Weight Unit", String::from("kg")),
            ("Status", String::from("active")),
        ]
    });
    let inventory = file(INVENTORY_COLUMNS, |i| {
        let q = (i % 997).to_string();
        vec![
            ("Handle", format!("product-{}", i / 3)),
            ("Title", format!("Product {}", i / 3)),
            ("Option1 Name", String::from("Title")),
            ("Option1 Value", String::from("Default Title")),
            ("SKU", format!("SKU-{}", i / 3)),
            ("Location", ["Main Warehouse", "Pop-up Store #2", "Shop location"][i % 3].to_string()),
            ("Incoming (not editable)", String::from("0")),
            ("Unavailable (not editable)", String::from("0")),
            ("Committed (not editable)", String::from("0")),
            ("Available (not editable)", q.clone()),
            ("On hand (current)", q.clone()),
            ("On hand (new)", if i % 2 == 0 { q } else { String::new() }),
        ]
    });
    let woo = file(WOO_COLUMNS, |i| {
        vec![
            ("ID", (1000 + i).to_string()),
            ("Type", String::from(if i % 10 == 0 { "simple, downloadable, virtual" } else { "variation" })),
            ("SKU", format!("W-{i}")),
            ("Name", format!("Product {i}")),
            ("Published", String::from("1")),
            ("Visibility in catalog", String::from("visible")),
            ("Short description", String::from("Warm, heavy fleece.")),
            ("Tax status", String::from("taxable")),
            ("In stock?", String::from("1")),
            ("Stock", (i % 997).to_string()),
            ("Backorders allowed?", String::from(["0", "1", "notify"][i % 3])),
            ("Regular price", String::from("25")),
            ("Parent", if i % 10 == 0 { String::new() } else { format!("W-PARENT-{}", i / 10) }),
        ]
    });
    vec![
        (Format::Plain, plain),
        (Format::ShopifyProduct, product),
        (Format::ShopifyInventory, inventory),
        (Format::WooCommerce, woo),
    ]
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_100000_rows");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);
    for (format, bytes) in files() {
        g.bench_function(format.as_str(), |b| {
            b.iter(|| {
                let reader = StockReader::new(black_box(&bytes[..]), ReadOptions::default()).expect("header");
                assert_eq!(reader.format(), format);
                let mut stock = 0usize;
                for row in reader {
                    if let Ok(RowOutcome::Stock { .. }) = row {
                        stock += 1;
                    }
                }
                assert_eq!(stock, ROWS);
                stock
            })
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = parse }
criterion_main!(benches);
