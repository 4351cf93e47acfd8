//! Saved column mappings (`src/import/mapping.rs`): a golden file as an ERP exports it —
//! `;`-separated, UTF-8 with a byte-order mark, Windows line endings, quoted cells holding the
//! separator and quotes — read through a mapping without editing the file.

use std::collections::BTreeMap;

use stockedge::import::mapping::{sniff_delimiter, Delimiter, MappedColumns, Mapping};
use stockedge::import::{read_all, ImportError, Mode, ReadOptions, RowOutcome};
use stockedge::stock::Location;

const ERP_FILE: &[u8] = include_bytes!("fixtures/import/erp_semicolon_bom_crlf.csv");

fn mapping(location_names: &[(&str, &str)]) -> Mapping {
    Mapping {
        columns: MappedColumns {
            sku: "Item No.".into(),
            quantity: "Qty On Hand".into(),
            location: Some("Warehouse".into()),
        },
        delimiter: None,
        locations: location_names
            .iter()
            .map(|(name, loc)| ((*name).to_owned(), Location::parse(loc).expect("location")))
            .collect::<BTreeMap<_, _>>(),
        mode: Some(Mode::Set),
    }
}

fn read(file: &[u8], m: Mapping) -> Result<Vec<RowOutcome>, ImportError> {
    let d = m.delimiter_for(file);
    let options = ReadOptions { mapping: Some((m, d)), ..ReadOptions::default() };
    read_all(file, options).map(|(_, rows)| rows)
}

fn stock(line: u64, sku: &str, location: &str, quantity: i64) -> String {
    format!("{line} {sku}@{location}={quantity}")
}

fn render(rows: &[RowOutcome]) -> Vec<String> {
    rows.iter()
        .map(|r| match r {
            RowOutcome::Stock { line, sku, location, quantity, .. } => {
                stock(*line, sku.as_str(), location.as_str(), quantity.unwrap_or(-1))
            }
            RowOutcome::Skipped { line, reason } => format!("{line} skipped {reason}"),
            RowOutcome::Error { line, column, message } => {
                format!("{line} error [{}] {message}", column.clone().unwrap_or_default())
            }
        })
        .collect()
}

#[test]
fn the_golden_erp_file_imports_through_a_mapping() {
    assert!(ERP_FILE.starts_with(b"\xef\xbb\xbf") && ERP_FILE.windows(2).any(|w| w == b"\r\n"));
    assert_eq!(sniff_delimiter(ERP_FILE), Delimiter::Semicolon);
    let rows = read(ERP_FILE, mapping(&[("Main WH", "main"), ("overflow", "overflow")])).expect("read");
    assert_eq!(
        render(&rows),
        vec![
            stock(2, "10-100", "main", 120),
            stock(3, "10-101", "overflow", 0),
            // line 4 is blank
            stock(5, "10-102", "main", 7),
            "6 error [Warehouse] location \"Atlantis\" is not in the mapping's locations (it maps main wh, overflow)"
                .to_owned(),
            "7 error [Qty On Hand] \"abc\" is not a whole number".to_owned(),
        ]
    );
}

#[test]
fn without_a_location_table_cells_must_be_location_ids() {
    let rows = read(ERP_FILE, mapping(&[])).expect("read");
    let out = render(&rows);
    assert!(out[0].starts_with("2 error [Warehouse] location \"Main WH\""), "{out:?}");
    assert_eq!(out[2], stock(5, "10-102", "main", 7));
}

#[test]
fn a_mapped_column_the_file_lacks_stops_the_import() {
    let mut m = mapping(&[]);
    m.columns.quantity = "On Hand".into();
    match read(ERP_FILE, m) {
        Err(e @ ImportError::MappedColumnMissing { role: "quantity", .. }) => {
            let p = e.problem();
            assert_eq!(p.status(), 422);
            let text = p.to_json().to_string();
            assert!(text.contains("columns.quantity") && text.contains("On Hand"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_named_delimiter_wins_over_sniffing_and_tabs_read() {
    let tabbed = b"sku\tqty\r\nA-1\t4\r\n";
    let mut m = mapping(&[]);
    m.columns = MappedColumns { sku: "SKU".into(), quantity: "QTY".into(), location: None };
    assert_eq!(render(&read(tabbed, m.clone()).expect("read")), vec![stock(2, "A-1", "main", 4)]);
    m.delimiter = Some(Delimiter::Comma);
    assert!(matches!(read(tabbed, m), Err(ImportError::MappedColumnMissing { role: "sku", .. })));
}

#[test]
fn adjust_mode_reads_signed_changes() {
    let file = b"Item No.;Qty On Hand\n A-1 ;-3\n";
    let mut m = mapping(&[]);
    m.columns.location = None;
    let d = m.delimiter_for(file);
    let options = ReadOptions { mode: m.mode_for(Some(Mode::Adjust)), mapping: Some((m, d)), ..ReadOptions::default() };
    let (_, rows) = read_all(&file[..], options).expect("read");
    assert_eq!(render(&rows), vec![stock(2, "A-1", "main", -3)]);
}
