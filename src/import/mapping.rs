//! Saved column mappings: reading any ERP's or spreadsheet's stock CSV without editing it.
//!
//! A [`Mapping`] (stored by name, `PUT /v1/import-mappings/{name}`, selected with
//! `POST /v1/imports?mapping=<name>`) says which header column holds the SKU, the quantity and
//! (optionally) the location, which character separates the columns, how the file's location
//! names translate to StockEdge locations, and the default mode.
//!
//! Contract:
//! - Columns are found by name, case-insensitive and ignoring surrounding and repeated white
//!   space (as [`Header`] does). A mapped column the file lacks stops the import before any row
//!   is read ([`ImportError::MappedColumnMissing`], `422` naming the column).
//! - The separator is the mapping's `delimiter` when it names one, else [`sniff_delimiter`] reads
//!   it from the header line. A UTF-8 byte-order mark, quoted fields and Windows line endings are
//!   read as the `csv` crate reads them (RFC 4180).
//! - Rows read like StockEdge's plain CSV (quantity is on hand for `set`, a change for `adjust`),
//!   except the location: an empty cell (or no location column) is `main`; with a `locations`
//!   table every other name must be in it (looked up trimmed, case-insensitive) — an unknown
//!   name is a row error naming the line and column; without one, the cell must already be a
//!   StockEdge location id.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::stock::Location;

use super::error::ImportError;
use super::header::{normalise, Header};
use super::mode::Mode;
use super::plain::stock_row;
use super::row::{quote, Context, Row, RowOutcome};

/// The column separators a mapping may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Delimiter {
    #[serde(rename = ",")]
    Comma,
    #[serde(rename = ";")]
    Semicolon,
    #[serde(rename = "\t")]
    Tab,
    #[serde(rename = "|")]
    Pipe,
}

impl Delimiter {
    /// Every separator, in the order ties are broken by [`sniff_delimiter`].
    pub const ALL: [Delimiter; 4] = [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab, Delimiter::Pipe];

    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
            Delimiter::Pipe => b'|',
        }
    }

    /// Parses the body's value: `,`, `;`, a tab character (or `\t`, `tab`) or `|`.
    pub fn parse(s: &str) -> Option<Delimiter> {
        match s {
            "," => Some(Delimiter::Comma),
            ";" => Some(Delimiter::Semicolon),
            "\t" | "\\t" | "tab" => Some(Delimiter::Tab),
            "|" => Some(Delimiter::Pipe),
            _ => None,
        }
    }
}

/// The separator of a file whose mapping names none: of `,`, `;`, tab and `|`, the one that
/// occurs most often outside quotes in the first line (a tie or none: `,`).
pub fn sniff_delimiter(file: &[u8]) -> Delimiter {
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &b in file {
        if b == b'\n' && !quoted {
            break;
        }
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(i) = Delimiter::ALL.iter().position(|d| d.byte() == b) {
                counts[i] += 1;
            }
        }
    }
    let mut best = 0;
    for i in 1..counts.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    Delimiter::ALL[best]
}

/// Which header column holds what (names as the file writes them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedColumns {
    pub sku: String,
    pub quantity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A saved column mapping (the body of `PUT /v1/import-mappings/{name}`, validated).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub columns: MappedColumns,
    /// `None`: read from the header line ([`sniff_delimiter`]).
    #[serde(default)]
    pub delimiter: Option<Delimiter>,
    /// The file's location names → StockEdge locations. Empty: cells are location ids.
    #[serde(default)]
    pub locations: BTreeMap<String, Location>,
    /// The mode when the request names none (`None`: `set`).
    #[serde(default)]
    pub mode: Option<Mode>,
}

impl Mapping {
    /// The separator to read `file` with.
    pub fn delimiter_for(&self, file: &[u8]) -> Delimiter {
        self.delimiter.unwrap_or_else(|| sniff_delimiter(file))
    }

    /// The mode of an import that names `requested` (or none).
    pub fn mode_for(&self, requested: Option<Mode>) -> Mode {
        requested.or(self.mode).unwrap_or_default()
    }
}

/// Where the mapped columns are in one file, and the location table (normalised names).
#[derive(Clone, Debug)]
pub struct Columns {
    sku: usize,
    quantity: usize,
    location: Option<usize>,
    locations: BTreeMap<String, Location>,
}

fn find(header: &Header, role: &'static str, name: &str) -> Result<usize, ImportError> {
    header.find(&normalise(name))?.ok_or_else(|| ImportError::MappedColumnMissing {
        role,
        column: name.to_owned(),
        found: header.names().iter().take(12).cloned().collect(),
    })
}

impl Columns {
    /// Finds the mapped columns in the header.
    pub fn resolve(header: &Header, mapping: &Mapping) -> Result<Columns, ImportError> {
        let sku = find(header, "sku", &mapping.columns.sku)?;
        let quantity = find(header, "quantity", &mapping.columns.quantity)?;
        let location = match &mapping.columns.location {
            Some(name) => Some(find(header, "location", name)?),
            None => None,
        };
        let locations = mapping.locations.iter().map(|(k, v)| (normalise(k), v.clone())).collect();
        Ok(Columns { sku, quantity, location, locations })
    }

    pub fn quantity_column(&self, header: &Header) -> String {
        header.name(self.quantity).to_owned()
    }

    pub fn read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> RowOutcome {
        self.try_read(row, ctx).unwrap_or_else(|e| e)
    }

    /// A non-empty location cell.
    fn location(&self, row: &Row<'_>, text: &str) -> Result<Location, RowOutcome> {
        if self.locations.is_empty() {
            return Location::parse(text).map_err(|e| {
                row.error(
                    self.location,
                    format!("location {}: {e}; or map the file's names in the mapping's locations", quote(text)),
                )
            });
        }
        self.locations.get(&normalise(text)).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.locations.keys().map(String::as_str).take(12).collect();
            row.error(
                self.location,
                format!("location {} is not in the mapping's locations (it maps {})", quote(text), known.join(", ")),
            )
        })
    }

    fn try_read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> Result<RowOutcome, RowOutcome> {
        let location = |text: &str| self.location(row, text);
        stock_row(row, ctx, Some(self.sku), Some(self.quantity), location, self.location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_separator_from_the_header_line() {
        assert_eq!(sniff_delimiter(b"Item No.;Qty On Hand;Warehouse\r\nA;1;B"), Delimiter::Semicolon);
        assert_eq!(sniff_delimiter(b"sku\tqty\n"), Delimiter::Tab);
        assert_eq!(sniff_delimiter(b"\"a;b\",c\n"), Delimiter::Comma);
        assert_eq!(sniff_delimiter(b"sku|qty|loc"), Delimiter::Pipe);
        assert_eq!(sniff_delimiter(b"sku"), Delimiter::Comma);
    }

    #[test]
    fn delimiters_parse_and_round_trip() {
        for d in Delimiter::ALL {
            let json = serde_json::to_value(d).unwrap();
            assert_eq!(Delimiter::parse(json.as_str().unwrap()), Some(d));
        }
        assert_eq!(Delimiter::parse("tab"), Some(Delimiter::Tab));
        assert_eq!(Delimiter::parse(":"), None);
    }

    #[test]
    fn a_missing_mapped_column_is_named() {
        let mapping = Mapping {
            columns: MappedColumns { sku: "Item No.".into(), quantity: "Qty".into(), location: None },
            delimiter: None,
            locations: BTreeMap::new(),
            mode: None,
        };
        let header = Header::from_names(["item no.", "Quantity"]);
        match Columns::resolve(&header, &mapping) {
            Err(ImportError::MappedColumnMissing { role: "quantity", column, .. }) => assert_eq!(column, "Qty"),
            other => panic!("{other:?}"),
        }
        assert_eq!(mapping.mode_for(None), Mode::Set);
        assert_eq!(mapping.mode_for(Some(Mode::Adjust)), Mode::Adjust);
    }
}
