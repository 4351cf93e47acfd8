//! Bulk import/export (`src/import`) against files built from the platforms' documented columns.
//!
//! Column sets: Shopify product CSV (help.shopify.com/en/manual/products/import-export/using-csv
//! and its product_template.csv), Shopify inventory CSV
//! (help.shopify.com/en/manual/products/inventory/inventory-csv; newer `(not editable)` /
//! `(current)` / `(new)` names as exported today), WooCommerce product CSV exporter columns
//! (github.com/woocommerce/woocommerce/wiki/Product-CSV-Import-Schema).
//!
//! The property test feeds 1,500 arbitrary byte strings (half of them behind a real header, so
//! that row parsing is reached) through the reader and the planner: nothing may panic, every
//! row's line is ≥ 2 and lines never go down.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

use proptest::prelude::*;

use stockedge::import::limits::{MAX_BATCH_CHANGES, MAX_SYNC_IMPORT_ROWS};
use stockedge::import::woocommerce::STOCK_NOT_MANAGED;
use stockedge::import::{
    plan, plan_rows, read_all, write_export, BackorderPolicy, Basis, ExportRow, Format, ImportError, Mode, ReadOptions,
    RowOutcome, Status, StockReader,
};
use stockedge::stock::{Location, Sku};

#[path = "support/columns.rs"]
mod columns;
use columns::{INVENTORY_COLUMNS, SHOPIFY_PRODUCT_COLUMNS, WOO_COLUMNS};

// ---------- helpers ----------

/// A CSV text from a header and rows given as (column, value) pairs; cells are quoted as a
/// spreadsheet would (only where needed), lines end with `eol`.
fn build(header: &[&str], rows: &[Vec<(&str, &str)>], eol: &str) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(if eol == "\r\n" { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
        .from_writer(Vec::new());
    w.write_record(header).unwrap();
    for row in rows {
        for (col, _) in row {
            assert!(header.contains(col), "test bug: no column {col}");
        }
        let cells: Vec<&str> =
            header.iter().map(|h| row.iter().find(|(c, _)| c == h).map(|(_, v)| *v).unwrap_or("")).collect();
        w.write_record(&cells).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn read(text: impl AsRef<[u8]>, format: Option<Format>, mode: Mode) -> (Format, Vec<RowOutcome>) {
    read_all(text.as_ref(), ReadOptions::new(format, mode)).unwrap()
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn loc(s: &str) -> Location {
    Location::parse(s).unwrap()
}

/// (line, sku, location, quantity, backorder) of one stock row.
type StockLine = (u64, String, String, Option<i64>, Option<BackorderPolicy>);

fn stock(rows: &[RowOutcome]) -> Vec<StockLine> {
    rows.iter()
        .filter_map(|r| match r {
            RowOutcome::Stock { line, sku, location, quantity, backorder, .. } => {
                Some((*line, sku.to_string(), location.to_string(), *quantity, *backorder))
            }
            _ => None,
        })
        .collect()
}

fn skipped(rows: &[RowOutcome]) -> Vec<(u64, String)> {
    rows.iter()
        .filter_map(|r| match r {
            RowOutcome::Skipped { line, reason } => Some((*line, reason.clone())),
            _ => None,
        })
        .collect()
}

fn errors(rows: &[RowOutcome]) -> Vec<(u64, Option<String>, String)> {
    rows.iter()
        .filter_map(|r| match r {
            RowOutcome::Error { line, column, message } => Some((*line, column.clone(), message.clone())),
            _ => None,
        })
        .collect()
}

// ---------- Shopify product CSV ----------

fn shopify_products() -> String {
    let variant =
        |size: &'static str, sku: &'static str, tracker: &'static str, qty: &'static str, policy: &'static str| {
            vec![
                ("Handle", "classic-tee"),
                ("Option1 Value", size),
                ("Variant SKU", sku),
                ("Variant Grams", "200"),
                ("Variant Inventory Tracker", tracker),
                ("Variant Inventory Qty", qty),
                ("Variant Inventory Policy", policy),
                ("Variant Fulfillment Service", "manual"),
                ("Variant Price", "25.00"),
                ("Variant Requires Shipping", "TRUE"),
                ("Variant Taxable", "TRUE"),
                ("Variant Weight Unit", "kg"),
            ]
        };
    let mut first = variant("S", "TEE-S", "shopify", "10", "deny");
    first.extend([
        ("Title", "Classic Tee, organic"),
        ("Body (HTML)", "<p>Soft, breathable\ncotton.</p>"),
        ("Vendor", "Acme"),
        ("Type", "Shirts"),
        ("Tags", "cotton, summer"),
        ("Published", "TRUE"),
        ("Option1 Name", "Size"),
        ("Image Src", "https://cdn.example.com/tee-front.jpg"),
        ("Image Position", "1"),
        ("Gift Card", "FALSE"),
        ("Status", "active"),
    ]);
    let rows = vec![
        first,                                             // lines 2–3 (body has a line break)
        variant("M", "TEE-M", "shopify", "0", "continue"), // line 4
        variant("L", "TEE-L", "", "", "deny"),             // line 5: not tracked
        vec![("Handle", "classic-tee"), ("Image Src", "https://cdn.example.com/tee-back.jpg"), ("Image Position", "2")],
        vec![("Handle", "classic-tee"), ("Image Src", "https://cdn.example.com/tee-side.jpg"), ("Image Position", "3")],
        vec![
            ("Handle", "gift-card"),
            ("Title", "Gift card"),
            ("Option1 Name", "Denominations"),
            ("Option1 Value", "$10"),
            ("Variant Price", "10.00"),
            ("Gift Card", "TRUE"),
        ], // line 8: variant without SKU
        vec![
            ("Handle", "mug"),
            ("Title", "Mug"),
            ("Option1 Name", "Title"),
            ("Option1 Value", "Default Title"),
            ("Variant SKU", "MUG-1"),
            ("Variant Inventory Tracker", "shopify"),
            ("Variant Inventory Qty", "-2"),
            ("Variant Inventory Policy", "continue"),
        ], // line 9
        vec![
            ("Handle", "poster"),
            ("Title", "Poster"),
            ("Variant SKU", "POSTER 1"),
            ("Variant Inventory Tracker", "shopify"),
            ("Variant Inventory Qty", "3"),
        ], // line 10: bad SKU
        vec![
            ("Handle", "pin"),
            ("Title", "Pin"),
            ("Variant SKU", "PIN-1"),
            ("Variant Inventory Tracker", "shopify"),
            ("Variant Inventory Qty", "4"),
            ("Variant Inventory Policy", "sometimes"),
        ], // line 11: bad policy
    ];
    build(SHOPIFY_PRODUCT_COLUMNS, &rows, "\n")
}

#[test]
fn shopify_product_csv_with_variants_and_image_rows() {
    let (format, rows) = read(shopify_products(), None, Mode::Set);
    assert_eq!(format, Format::ShopifyProduct);
    assert_eq!(rows.len(), 9);
    let main = "main".to_string();
    assert_eq!(
        stock(&rows),
        vec![
            (2, "TEE-S".into(), main.clone(), Some(10), Some(BackorderPolicy::Deny)),
            (4, "TEE-M".into(), main.clone(), Some(0), Some(BackorderPolicy::Allow)),
        ]
    );
    let s = skipped(&rows);
    assert_eq!(s.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![5, 6, 7, 8]);
    assert!(s[0].1.contains("TEE-L") && s[0].1.contains("not tracked"), "{}", s[0].1);
    assert!(s[1].1.contains("image-only"), "{}", s[1].1);
    assert!(s[3].1.contains("has no SKU"), "{}", s[3].1);
    let e = errors(&rows);
    assert_eq!(e.len(), 3);
    assert_eq!((e[0].0, e[0].1.as_deref()), (9, Some("Variant Inventory Qty")));
    assert!(e[0].2.contains("negative"));
    assert_eq!((e[1].0, e[1].1.as_deref()), (10, Some("Variant SKU")));
    assert_eq!((e[2].0, e[2].1.as_deref()), (11, Some("Variant Inventory Policy")));

    // In adjust mode the -2 is a decrease.
    let (_, rows) = read(shopify_products(), None, Mode::Adjust);
    assert!(stock(&rows).iter().any(|r| r.1 == "MUG-1" && r.3 == Some(-2)));

    // Asked to keep untracked rows, TEE-L comes back with no quantity.
    let opts = ReadOptions { keep_untracked: true, ..ReadOptions::default() };
    let (_, rows) = read_all(shopify_products().as_bytes(), opts).unwrap();
    assert!(rows.iter().any(|r| matches!(r, RowOutcome::Stock { line: 5, quantity: None, tracked: false, .. })));
}

#[test]
fn shopify_product_csv_with_current_column_names() {
    let header = [
        "Title",
        "URL handle",
        "Option1 name",
        "Option1 value",
        "SKU",
        "Inventory tracker",
        "Inventory quantity",
        "Continue selling when out of stock",
    ];
    let text = build(
        &header,
        &[
            vec![
                ("Title", "Tee"),
                ("URL handle", "tee"),
                ("Option1 name", "Size"),
                ("Option1 value", "S"),
                ("SKU", "TEE-S"),
                ("Inventory tracker", "shopify"),
                ("Inventory quantity", "4"),
                ("Continue selling when out of stock", "DENY"),
            ],
            vec![
                ("URL handle", "tee"),
                ("Option1 value", "M"),
                ("SKU", "TEE-M"),
                ("Inventory tracker", "shopify"),
                ("Inventory quantity", "6"),
                ("Continue selling when out of stock", "CONTINUE"),
            ],
        ],
        "\n",
    );
    let (format, rows) = read(text, None, Mode::Set);
    assert_eq!(format, Format::ShopifyProduct);
    assert_eq!(
        stock(&rows),
        vec![
            (2, "TEE-S".into(), "main".into(), Some(4), Some(BackorderPolicy::Deny)),
            (3, "TEE-M".into(), "main".into(), Some(6), Some(BackorderPolicy::Allow)),
        ]
    );
}

// ---------- WooCommerce product CSV ----------

fn woo_products() -> String {
    let p = |id: &'static str,
             kind: &'static str,
             sku: &'static str,
             name: &'static str,
             in_stock: &'static str,
             stock: &'static str,
             back: &'static str,
             parent: &'static str| {
        vec![
            ("ID", id),
            ("Type", kind),
            ("SKU", sku),
            ("Name", name),
            ("Published", "1"),
            ("In stock?", in_stock),
            ("Stock", stock),
            ("Backorders allowed?", back),
            ("Parent", parent),
            ("Tax status", "taxable"),
        ]
    };
    let mut hoodie = p("10", "variable", "HOODIE", "Hoodie", "1", "", "0", "");
    hoodie.extend([
        ("Description", "Warm, heavy\nfleece hoodie."),
        ("Attribute 1 name", "Color"),
        ("Attribute 1 value(s)", "Blue, Red, Green"),
    ]);
    let rows = vec![
        hoodie,                                                                                   // lines 2–3
        p("11", "variation", "HOODIE-BLUE", "Hoodie - Blue", "1", "5", "0", "HOODIE"),            // 4
        p("12", "variation", "HOODIE-RED", "Hoodie - Red", "backorder", "0", "notify", "HOODIE"), // 5
        p("13", "variation", "HOODIE-GREEN", "Hoodie - Green", "1", "parent", "0", "HOODIE"),     // 6
        p("14", "simple", "POSTER", "Poster", "1", "", "0", ""),                                  // 7
        p("15", "simple, downloadable, virtual", "EBOOK", "E-book", "1", "7", "1", ""),           // 8
        p("16", "grouped", "BUNDLE", "Bundle", "1", "", "0", ""),                                 // 9
        p("17", "external", "AFF-1", "Affiliate thing", "1", "", "0", ""),                        // 10
        p("18", "simple", "CAP", "Cap", "0", "'-2", "0", ""),                                     // 11
        p("19", "simple", "", "Sticker, no SKU", "1", "3", "0", ""),                              // 12
        p("20", "simple", "MAT", "Mat", "1", "2.5", "0", ""),                                     // 13
        p("21", "simple", "SOCK", "Sock", "1", "12.0", "2", ""),                                  // 14
    ];
    build(WOO_COLUMNS, &rows, "\n")
}

#[test]
fn woocommerce_csv_with_variable_parent_and_variations() {
    let (format, rows) = read(woo_products(), None, Mode::Set);
    assert_eq!(format, Format::WooCommerce);
    assert_eq!(rows.len(), 12);
    let main = "main".to_string();
    assert_eq!(
        stock(&rows),
        vec![
            (4, "HOODIE-BLUE".into(), main.clone(), Some(5), Some(BackorderPolicy::Deny)),
            (5, "HOODIE-RED".into(), main.clone(), Some(0), Some(BackorderPolicy::Notify)),
            (8, "EBOOK".into(), main.clone(), Some(7), Some(BackorderPolicy::Allow)),
        ]
    );
    let s: HashMap<u64, String> = skipped(&rows).into_iter().collect();
    assert!(s[&2].contains("variable"), "{}", s[&2]);
    assert!(s[&6].contains("parent product \"HOODIE\""), "{}", s[&6]);
    assert_eq!(s[&7], STOCK_NOT_MANAGED);
    assert!(s[&9].contains("grouped"));
    assert!(s[&10].contains("external"));
    assert!(s[&12].contains("no SKU") && s[&12].contains("ID 19"), "{}", s[&12]);
    let e = errors(&rows);
    assert_eq!(
        e.iter().map(|(l, c, _)| (*l, c.clone().unwrap_or_default())).collect::<Vec<_>>(),
        vec![(11, "Stock".to_string()), (13, "Stock".to_string()), (14, "Backorders allowed?".to_string()),]
    );
    assert!(e[0].2.contains("negative"));
    assert!(e[1].2.contains("not a whole number"));

    // Adjust: the escaped '-2 is a decrease of 2.
    let (_, rows) = read(woo_products(), None, Mode::Adjust);
    assert!(stock(&rows).iter().any(|r| r.1 == "CAP" && r.3 == Some(-2)));
}

#[test]
fn woocommerce_empty_stock_is_not_zero() {
    let (_, rows) = read(woo_products(), None, Mode::Set);
    let plan = plan_rows(rows, Mode::Set, |_, _| Some(9));
    let poster = plan.rows.iter().find(|r| r.line == 7).unwrap();
    assert_eq!(poster.status, Status::Skipped);
    assert_eq!(poster.message.as_deref(), Some(STOCK_NOT_MANAGED));
    assert!(plan.batches.iter().all(|b| b.sku.as_str() != "POSTER"));
}

// ---------- Shopify inventory CSV ----------

#[test]
fn shopify_inventory_csv_with_two_locations() {
    let r = |sku: &'static str,
             size: &'static str,
             location: &'static str,
             avail: &'static str,
             current: &'static str,
             new: &'static str| {
        vec![
            ("Handle", "classic-tee"),
            ("Title", "Classic Tee"),
            ("Option1 Name", "Size"),
            ("Option1 Value", size),
            ("SKU", sku),
            ("Location", location),
            ("Incoming (not editable)", "0"),
            ("Unavailable (not editable)", "0"),
            ("Committed (not editable)", "1"),
            ("Available (not editable)", avail),
            ("On hand (current)", current),
            ("On hand (new)", new),
        ]
    };
    let text = build(
        INVENTORY_COLUMNS,
        &[
            r("TEE-S", "S", "Main Warehouse", "9", "10", "12"), // 2: new wins
            r("TEE-S", "S", "Pop-up Store #2", "4", "5", ""),   // 3: current when new is empty
            r("TEE-M", "M", "Main Warehouse", "not stocked", "not stocked", "not stocked"), // 4
            r("TEE-M", "M", "Pop-up Store #2", "", "", ""),     // 5: nothing to set
            r("TEE-L", "L", "東京", "1", "1", "2"),             // 6: no usable name
            r("", "XL", "Main Warehouse", "1", "1", "1"),       // 7: no SKU
        ],
        "\r\n",
    );
    let mut reader = StockReader::new(text.as_bytes(), ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), Format::ShopifyInventory);
    assert_eq!(reader.basis(), Basis::OnHand);
    assert_eq!(reader.quantity_column(), "On hand (new) / On hand (current)");
    let rows: Vec<RowOutcome> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(
        stock(&rows),
        vec![
            (2, "TEE-S".into(), "main-warehouse".into(), Some(12), None),
            (3, "TEE-S".into(), "pop-up-store-2".into(), Some(5), None),
        ]
    );
    let s = skipped(&rows);
    assert_eq!(s.iter().map(|x| x.0).collect::<Vec<_>>(), vec![4, 5, 7]);
    assert!(s[0].1.contains("not stocked at \"Main Warehouse\""), "{}", s[0].1);
    let e = errors(&rows);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].0, e[0].1.as_deref()), (6, Some("Location")));
    let m = reader.location_mappings();
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].name.as_str(), m[0].location.as_str(), m[0].first_line), ("Main Warehouse", "main-warehouse", 2));
    assert_eq!((m[1].name.as_str(), m[1].location.as_str(), m[1].first_line), ("Pop-up Store #2", "pop-up-store-2", 3));
    assert!(reader.location_map().collisions().is_empty());
}

#[test]
fn shopify_inventory_csv_older_and_available_only_exports() {
    // "All quantity types" export as the help page documents it.
    let older = "Handle,Title,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,SKU,HS Code,COO,Location,Incoming,Unavailable,Committed,Available,On hand\n\
                 mug,Mug,Title,Default Title,,,,,MUG-1,,,Shop location,0,0,2,8,10\n";
    let mut reader = StockReader::new(older.as_bytes(), ReadOptions::default()).unwrap();
    assert_eq!(reader.basis(), Basis::OnHand);
    let rows: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(stock(&rows), vec![(2, "MUG-1".into(), "shop-location".into(), Some(10), None)]);

    // "Only Available quantities" export.
    let available = "Handle,Title,SKU,Location,Available\nmug,Mug,MUG-1,Shop location,8\n";
    let mut reader = StockReader::new(available.as_bytes(), ReadOptions::default()).unwrap();
    assert_eq!(reader.basis(), Basis::Available);
    let rows: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(stock(&rows), vec![(2, "MUG-1".into(), "shop-location".into(), Some(8), None)]);
}

// ---------- plain CSV and the file-level edge cases ----------

#[test]
fn plain_csv_with_bom_crlf_quotes_blank_and_ragged_rows() {
    let mut text = Vec::from(&b"\xEF\xBB\xBF"[..]);
    text.extend_from_slice(
        b"SKU,Quantity,Location,Note\r\n\
          A-1,5,,plain\r\n\
          A-2,7,east,\"comma, and\r\nline break\"\r\n\
          \r\n\
          ,,,\r\n\
          A-3,1,east\r\n\
          A-4,2,Main,x\r\n\
          A\xff5,2,east,x\r\n\
          A-6,3,east,caf\xe9\r\n\
          A-7,,east,x\r\n\
          A-8,8,east,\"last\"",
    );
    let (format, rows) = read(&text, None, Mode::Set);
    assert_eq!(format, Format::Plain);
    assert_eq!(
        stock(&rows),
        vec![
            (2, "A-1".into(), "main".into(), Some(5), None),
            (3, "A-2".into(), "east".into(), Some(7), None),
            (10, "A-6".into(), "east".into(), Some(3), None),
            (12, "A-8".into(), "east".into(), Some(8), None),
        ]
    );
    let e = errors(&rows);
    assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), vec![7, 8, 9, 11]);
    assert!(e[0].1.is_none() && e[0].2.contains("3 cells but the header has 4"), "{:?}", e[0]);
    assert_eq!(e[1].1.as_deref(), Some("Location"));
    assert_eq!(e[2].1.as_deref(), Some("SKU"));
    assert!(e[2].2.contains("UTF-8"));
    assert!(e[3].2.contains("empty"));
}

#[test]
fn quotes_left_open() {
    // At the end of the file.
    let (_, rows) = read("sku,quantity\nA,1\nB,\"2\n", None, Mode::Set);
    assert_eq!(stock(&rows).len(), 1);
    let e = errors(&rows);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0, 3);
    assert!(e[0].2.contains("never closed"), "{}", e[0].2);

    // In the middle: the open quote swallows lines until the next quote.
    let (_, rows) = read("sku,quantity\nA,\"5\nB,3\nC,\"4\nD,6\n", None, Mode::Set);
    let e = errors(&rows);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0, 2);
    assert!(e[0].2.contains("line break") && e[0].2.contains("line 2") && e[0].2.contains("line 4"), "{}", e[0].2);
    assert_eq!(stock(&rows), vec![(5, "D".into(), "main".into(), Some(6), None)]);

    // Swallowing that changes the number of cells.
    let (_, rows) = read("sku,quantity,location\nA,\"5,main\nB,3,main\nC\",4,main\n", None, Mode::Set);
    let e = errors(&rows);
    assert_eq!(e.len(), 1);
    assert!(e[0].2.contains("spans lines 2–4"), "{}", e[0].2);
}

#[test]
fn header_problems() {
    let err = |text: &str, format: Option<Format>| {
        StockReader::new(text.as_bytes(), ReadOptions::new(format, Mode::Set)).err().unwrap()
    };
    assert_eq!(err("", None), ImportError::EmptyFile);
    assert_eq!(err("\n\n", None), ImportError::EmptyFile);
    let e = err("product,stock level\nA,1\n", None);
    let msg = e.to_string();
    for needle in [
        "Shopify product CSV",
        "Shopify inventory CSV",
        "WooCommerce product CSV",
        "plain CSV",
        "found: product, stock level",
    ] {
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
    assert!(err("sku;quantity\nA;1\n", None).to_string().contains("';'"));
    assert_eq!(
        err("sku,qty\n", Some(Format::Plain)),
        ImportError::MissingColumns { format: Format::Plain, missing: vec!["quantity"] }
    );
    assert!(matches!(err("sku,quantity,SKU\n", None), ImportError::DuplicateColumn { .. }));
    // Header only: a valid, empty import.
    let (_, rows) = read("sku,quantity\n", None, Mode::Set);
    assert!(rows.is_empty());
}

#[test]
fn file_size_limit_stops_the_stream() {
    let mut text = String::from("sku,quantity\n");
    for i in 0..10_000 {
        text.push_str(&format!("S-{i},{i}\n"));
    }
    let opts = ReadOptions { max_bytes: 40_000, ..ReadOptions::default() };
    let reader = StockReader::new(text.as_bytes(), opts).unwrap();
    let mut ok = 0;
    let mut last = None;
    for r in reader {
        match r {
            Ok(_) => ok += 1,
            Err(e) => last = Some(e),
        }
    }
    assert!(ok > 1_000 && ok < 10_000, "{ok}");
    assert_eq!(last, Some(ImportError::FileTooLarge { max: 40_000 }));
}

/// Produces `sku,quantity,location` rows on demand, counting how many it has handed out.
struct Generated {
    next: usize,
    total: usize,
    pending: Vec<u8>,
    pos: usize,
    produced: Rc<Cell<usize>>,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            self.pending.clear();
            self.pos = 0;
            if self.next == 0 {
                self.pending.extend_from_slice(b"sku,quantity,location\n");
            }
            while self.pending.len() < 512 && self.next < self.total {
                self.pending.extend_from_slice(
                    format!("SKU-{},{},loc-{}\n", self.next, self.next % 997, self.next % 3).as_bytes(),
                );
                self.next += 1;
                self.produced.set(self.next);
            }
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn generated(total: usize) -> (Generated, Rc<Cell<usize>>) {
    let produced = Rc::new(Cell::new(0));
    (Generated { next: 0, total, pending: Vec::new(), pos: 0, produced: produced.clone() }, produced)
}

#[test]
fn hundred_thousand_rows_stream() {
    let (input, _) = generated(100_000);
    let reader = StockReader::new(input, ReadOptions::default()).unwrap();
    let mut count = 0u64;
    for r in reader {
        match r.unwrap() {
            RowOutcome::Stock { line, sku, location, quantity, .. } => {
                let i = count as usize;
                assert_eq!(line, count + 2);
                assert_eq!(sku.as_str(), format!("SKU-{i}"));
                assert_eq!(location.as_str(), format!("loc-{}", i % 3));
                assert_eq!(quantity, Some((i % 997) as i64));
            }
            other => panic!("{other:?}"),
        }
        count += 1;
    }
    assert_eq!(count, 100_000);

    // The planner stops reading as soon as the synchronous limit is passed.
    let (input, produced) = generated(100_000);
    let mut reader = StockReader::new(input, ReadOptions::default()).unwrap();
    let e = plan(&mut reader, Mode::Set, |_, _| None).unwrap_err();
    assert_eq!(e, ImportError::TooManyRows { max: MAX_SYNC_IMPORT_ROWS });
    assert!(produced.get() < MAX_SYNC_IMPORT_ROWS + 1_000, "read {} rows", produced.get());
}

// ---------- planning ----------

fn row(line: u64, s: &str, l: &str, q: i64) -> Result<RowOutcome, ImportError> {
    Ok(RowOutcome::Stock { line, sku: sku(s), location: loc(l), quantity: Some(q), backorder: None, tracked: true })
}

#[test]
fn set_mode_last_row_wins() {
    let mut calls = 0;
    let p = plan(
        vec![row(2, "A", "main", 5), row(3, "B", "main", 4), row(4, "A", "main", 9), row(5, "A", "main", 7)],
        Mode::Set,
        |s, _| {
            calls += 1;
            if s.as_str() == "B" {
                Some(4)
            } else {
                Some(1)
            }
        },
    )
    .unwrap();
    assert_eq!(calls, 2);
    let st: Vec<_> = p.rows.iter().map(|r| (r.line, r.status, r.superseded_by)).collect();
    assert_eq!(
        st,
        vec![
            (2, Status::Skipped, Some(5)),
            (3, Status::Unchanged, None),
            (4, Status::Skipped, Some(5)),
            (5, Status::Applied, None),
        ]
    );
    assert_eq!((p.rows[3].before, p.rows[3].after), (Some(1), Some(7)));
    assert_eq!(p.summary.superseded, 2);
    assert_eq!(p.batches.len(), 1);
    let c = &p.batches[0].changes[0];
    assert_eq!((c.before, c.after, c.delta, c.lines.clone()), (Some(1), 7, 6, vec![5]));
}

#[test]
fn adjust_mode_adds_up() {
    let p = plan(
        vec![
            row(2, "A", "main", 5),
            row(3, "A", "main", -2),
            row(4, "A", "main", -10),
            row(5, "A", "main", 0),
            row(6, "A", "east", 3),
        ],
        Mode::Adjust,
        |_, l| if l.as_str() == "main" { Some(1) } else { None },
    )
    .unwrap();
    let st: Vec<_> = p.rows.iter().map(|r| (r.line, r.status, r.before, r.after)).collect();
    assert_eq!(
        st,
        vec![
            (2, Status::Applied, Some(1), Some(6)),
            (3, Status::Applied, Some(6), Some(4)),
            (4, Status::Error, Some(4), None),
            (5, Status::Unchanged, Some(4), Some(4)),
            (6, Status::Applied, None, Some(3)),
        ]
    );
    assert!(p.rows[2].message.as_deref().unwrap_or("").contains("below zero"));
    let b = &p.batches[0];
    assert_eq!(b.changes.len(), 2);
    assert_eq!((b.changes[0].before, b.changes[0].after, b.changes[0].delta), (Some(1), 4, 3));
    assert_eq!(b.changes[0].lines, vec![2, 3]);
    assert_eq!((b.changes[1].before, b.changes[1].after, b.changes[1].delta), (None, 3, 3));

    // Changes that cancel out leave nothing to send.
    let p = plan(vec![row(2, "A", "main", 3), row(3, "A", "main", -3)], Mode::Adjust, |_, _| Some(0)).unwrap();
    assert_eq!(p.summary.applied, 2);
    assert!(p.batches.is_empty());
}

#[test]
fn batches_per_sku_are_bounded_and_carry_policy() {
    let mut rows: Vec<Result<RowOutcome, ImportError>> =
        (0..(MAX_BATCH_CHANGES + 5) as u64).map(|i| row(i + 2, "MANY", &format!("l{i}"), 1)).collect();
    rows.push(Ok(RowOutcome::Stock {
        line: 500,
        sku: sku("POLICY"),
        location: Location::main(),
        quantity: Some(2),
        backorder: Some(BackorderPolicy::Allow),
        tracked: true,
    }));
    rows.push(Ok(RowOutcome::Stock {
        line: 501,
        sku: sku("MANY"),
        location: loc("l0"),
        quantity: Some(1),
        backorder: Some(BackorderPolicy::Deny),
        tracked: true,
    }));
    let p = plan(rows, Mode::Set, |s, _| if s.as_str() == "POLICY" { Some(2) } else { None }).unwrap();
    let shape: Vec<_> = p.batches.iter().map(|b| (b.sku.as_str().to_owned(), b.changes.len(), b.backorder)).collect();
    assert_eq!(
        shape,
        vec![
            ("MANY".into(), MAX_BATCH_CHANGES, Some(BackorderPolicy::Deny)),
            ("MANY".into(), 5, None),
            ("POLICY".into(), 0, Some(BackorderPolicy::Allow)),
        ]
    );
    assert!(p.batches.iter().all(|b| b.changes.len() <= MAX_BATCH_CHANGES));
    // New SKU set to 0 is still created.
    let p = plan(vec![row(2, "NEW", "main", 0)], Mode::Set, |_, _| None).unwrap();
    assert_eq!(p.rows[0].status, Status::Applied);
    assert_eq!(p.batches[0].changes[0].after, 0);
}

#[test]
fn report_serialises_for_the_api() {
    let (_, rows) = read("sku,quantity\nA,3\nB,x\n", None, Mode::Set);
    let p = plan_rows(rows, Mode::Set, |_, _| Some(1));
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["mode"], "set");
    assert_eq!(v["rows"][0]["status"], "applied");
    assert_eq!(v["rows"][0]["before"], 1);
    assert_eq!(v["rows"][0]["after"], 3);
    assert_eq!(v["rows"][1]["status"], "error");
    assert_eq!(v["rows"][1]["column"], "quantity");
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["batches"][0]["sku"], "A");
}

// ---------- export round trips ----------

fn export_rows() -> Vec<ExportRow> {
    let r = |s: &str, l: &str, on_hand: i64, available: i64, backorder: BackorderPolicy, tracked: bool| ExportRow {
        sku: sku(s),
        location: loc(l),
        on_hand,
        available,
        backorder,
        tracked,
    };
    vec![
        r("TEE-S", "main", 10, 7, BackorderPolicy::Deny, true),
        r("TEE-S", "east", 5, 5, BackorderPolicy::Deny, true),
        r("MUG/1.0", "main", 0, 0, BackorderPolicy::Allow, true),
        r("EBOOK", "main", 0, 0, BackorderPolicy::Notify, false),
    ]
}

fn export(format: Format) -> String {
    let mut out = Vec::new();
    write_export(format, &mut out, export_rows()).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn plain_and_inventory_exports_round_trip_on_hand_per_location() {
    for format in [Format::Plain, Format::ShopifyInventory] {
        let text = export(format);
        let mut reader = StockReader::new(text.as_bytes(), ReadOptions::default()).unwrap();
        assert_eq!(reader.format(), format);
        assert_eq!(reader.basis(), Basis::OnHand);
        let rows: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
        let got: Vec<_> = stock(&rows).into_iter().map(|(_, s, l, q, _)| (s, l, q)).collect();
        assert_eq!(
            got,
            vec![
                ("TEE-S".into(), "main".into(), Some(10)),
                ("TEE-S".into(), "east".into(), Some(5)),
                ("MUG/1.0".into(), "main".into(), Some(0)),
            ],
            "{format}"
        );
        assert_eq!(errors(&rows), vec![], "{format}");
    }
}

#[test]
fn channel_product_exports_round_trip_available_per_sku() {
    for format in [Format::ShopifyProduct, Format::WooCommerce] {
        let text = export(format);
        let mut reader = StockReader::new(text.as_bytes(), ReadOptions::default()).unwrap();
        assert_eq!(reader.format(), format, "{text}");
        assert_eq!(reader.basis(), Basis::Available);
        let rows: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
        let got: Vec<_> = stock(&rows).into_iter().map(|(_, s, l, q, b)| (s, l, q, b)).collect();
        assert_eq!(
            got,
            vec![
                ("TEE-S".into(), "main".into(), Some(12), Some(BackorderPolicy::Deny)),
                ("MUG/1.0".into(), "main".into(), Some(0), Some(BackorderPolicy::Allow)),
            ],
            "{format}"
        );
        // The untracked SKU comes back as untracked.
        let s = skipped(&rows);
        assert_eq!(s.len(), 1, "{format}");
        assert!(s[0].1.contains("not tracked") || s[0].1 == STOCK_NOT_MANAGED, "{}", s[0].1);
    }
    assert!(export(Format::WooCommerce).contains("MUG/1.0,backorder,0,1\r\n"));
    assert!(export(Format::WooCommerce).contains("EBOOK,1,,notify\r\n"));
    assert!(export(Format::ShopifyProduct).contains("mug-1-0,MUG/1.0,MUG/1.0,shopify,0,continue\r\n"));
}

// ---------- never panics ----------

const HEADERS: &[&str] = &[
    "",
    "sku,quantity,location\n",
    "Handle,Variant SKU,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Image Src\n",
    "Handle,SKU,Location,On hand (current),On hand (new)\n",
    "ID,Type,SKU,Name,In stock?,Stock,Backorders allowed?,Parent\n",
];

fn bytes_behind_a_header() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        Just(b"".to_vec()),
        Just(b"\"".to_vec()),
        Just(b",".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"-5".to_vec()),
        Just(b"'-3".to_vec()),
        Just(b"12".to_vec()),
        Just(b"A-1".to_vec()),
        Just(b"variable".to_vec()),
        Just(b"not stocked".to_vec()),
        Just(b"Main Warehouse".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..6),
    ];
    (0..HEADERS.len(), proptest::collection::vec(cell, 0..60)).prop_map(|(h, cells)| {
        let mut v = HEADERS[h].as_bytes().to_vec();
        for c in cells {
            v.extend(c);
        }
        v
    })
}

fn exercise(data: &[u8], format: Option<Format>, mode: Mode, keep_untracked: bool) {
    let opts = ReadOptions { format, mode, keep_untracked, max_bytes: 4_096, mapping: None };
    let Ok(mut reader) = StockReader::new(data, opts) else { return };
    let mut last_line = 1;
    let mut rows = Vec::new();
    for r in reader.by_ref() {
        let Ok(r) = r else { break };
        assert!(r.line() >= 2 && r.line() >= last_line, "line {} after {}", r.line(), last_line);
        last_line = r.line();
        rows.push(r);
    }
    let _ = reader.location_map().collisions();
    let p = plan_rows(rows, mode, |_, _| Some(3));
    assert_eq!(p.summary.rows, p.rows.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 750, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400), f in 0usize..5, adjust in any::<bool>(), keep in any::<bool>()) {
        let format = Format::ALL.get(f).copied();
        exercise(&data, format, if adjust { Mode::Adjust } else { Mode::Set }, keep);
    }

    #[test]
    fn rows_behind_a_real_header_never_panic(data in bytes_behind_a_header(), adjust in any::<bool>(), keep in any::<bool>()) {
        exercise(&data, None, if adjust { Mode::Adjust } else { Mode::Set }, keep);
    }
}
