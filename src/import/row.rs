//! One data row: what the reader makes of it ([`RowOutcome`]), and safe access to its cells.

use csv::ByteRecord;
use serde::{Deserialize, Serialize};

use crate::stock::{Location, Sku};

use super::header::Header;
use super::limits::{MAX_FIELD_LEN, MAX_QUOTED_VALUE_CHARS};
use super::location_map::LocationMap;
use super::mode::Mode;
use super::policy::BackorderPolicy;

/// What the per-format row readers need besides the row.
pub struct Context<'m> {
    pub mode: Mode,
    pub keep_untracked: bool,
    pub locations: &'m mut LocationMap,
}

/// What one data row of a file says.
///
/// `line` is the 1-based physical line where the row starts, as a spreadsheet or text editor
/// shows it (the header is line 1; a quoted cell with line breaks makes the next row start
/// further down).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RowOutcome {
    /// A stock level (or, in `adjust` mode, a change) for one SKU at one location.
    Stock {
        line: u64,
        sku: Sku,
        location: Location,
        /// The number in the file; `None` when the row says the SKU is not tracked (only with
        /// [`ReadOptions::keep_untracked`](super::ReadOptions::keep_untracked)).
        quantity: Option<i64>,
        /// What the row says about selling past zero, when it says anything.
        backorder: Option<BackorderPolicy>,
        /// Whether the channel tracks this SKU's stock.
        tracked: bool,
    },
    /// A row that carries no stock level, on purpose (an image row, a variable parent, stock
    /// not managed…). `reason` says which.
    Skipped { line: u64, reason: String },
    /// A row that should carry a stock level but cannot be read. `column` is the header name of
    /// the cell at fault, when one is.
    Error { line: u64, column: Option<String>, message: String },
}

impl RowOutcome {
    pub fn line(&self) -> u64 {
        match self {
            RowOutcome::Stock { line, .. } | RowOutcome::Skipped { line, .. } | RowOutcome::Error { line, .. } => *line,
        }
    }
}

/// A cell value quoted for a message, shortened to [`MAX_QUOTED_VALUE_CHARS`].
pub fn quote(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(MAX_QUOTED_VALUE_CHARS).collect();
    if chars.next().is_some() {
        format!("{:?}…", head)
    } else {
        format!("{head:?}")
    }
}

/// A data record with its header and line, handing out checked cells.
pub struct Row<'a> {
    pub record: &'a ByteRecord,
    pub header: &'a Header,
    pub line: u64,
    /// The last physical line of the record (differs from `line` when a quoted cell has line
    /// breaks, or a quote was left open).
    pub end_line: u64,
}

impl<'a> Row<'a> {
    /// A row error naming column `index` (if any).
    pub fn error(&self, index: Option<usize>, message: impl Into<String>) -> RowOutcome {
        RowOutcome::Error {
            line: self.line,
            column: index.map(|i| self.header.name(i).to_owned()),
            message: message.into(),
        }
    }

    pub fn skipped(&self, reason: impl Into<String>) -> RowOutcome {
        RowOutcome::Skipped { line: self.line, reason: reason.into() }
    }

    /// The trimmed text of column `index`; `""` for a column the file does not have.
    ///
    /// Refuses cells longer than [`MAX_FIELD_LEN`], not UTF-8, or holding a line break (which in
    /// an identifier or number means a quote was left open and swallowed the lines after it).
    pub fn text(&self, index: Option<usize>) -> Result<&'a str, RowOutcome> {
        let Some(i) = index else { return Ok("") };
        let raw = self.record.get(i).unwrap_or_default();
        if raw.len() > MAX_FIELD_LEN {
            return Err(
                self.error(index, format!("cell is {} bytes long; at most {MAX_FIELD_LEN} are read", raw.len()))
            );
        }
        let s = std::str::from_utf8(raw).map_err(|e| {
            self.error(
                index,
                format!(
                    "not valid UTF-8 (byte {} of the cell): save the file as UTF-8 (CSV UTF-8 in Excel)",
                    e.valid_up_to() + 1
                ),
            )
        })?;
        let s = s.trim();
        if s.contains(['\n', '\r']) {
            return Err(self.error(
                index,
                format!(
                    "cell holds a line break: a quote opened on line {} seems to run on to line {}; close it or remove it",
                    self.line, self.end_line
                ),
            ));
        }
        Ok(s)
    }

    /// The SKU in column `index` (trimmed), as a validated [`Sku`].
    pub fn sku(&self, index: Option<usize>, value: &str) -> Result<Sku, RowOutcome> {
        Sku::parse(value).map_err(|e| self.error(index, format!("SKU {}: {e}", quote(value))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_shortens() {
        assert_eq!(quote("abc"), "\"abc\"");
        let long = "x".repeat(100);
        assert!(quote(&long).ends_with('…'));
        assert!(quote(&long).chars().count() < 50);
    }

    #[test]
    fn cells_are_checked() {
        let header = Header::from_names(["sku", "quantity"]);
        let rec = ByteRecord::from(vec![&b" A-1 "[..], &b"\xff"[..]]);
        let row = Row { record: &rec, header: &header, line: 7, end_line: 7 };
        assert_eq!(row.text(Some(0)), Ok("A-1"));
        assert_eq!(row.text(None), Ok(""));
        assert_eq!(row.text(Some(5)), Ok(""));
        match row.text(Some(1)) {
            Err(RowOutcome::Error { line: 7, column: Some(c), message }) => {
                assert_eq!(c, "quantity");
                assert!(message.contains("UTF-8"));
            }
            other => panic!("{other:?}"),
        }
        assert!(row.sku(Some(0), "a b").is_err());
    }
}
