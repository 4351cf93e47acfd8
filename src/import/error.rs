//! Errors that stop a whole import or export (a bad row is not one of them: it is a
//! [`RowOutcome::Error`](super::RowOutcome::Error) and the rest of the file goes on).

use crate::api::problem::{FieldError, Kind, Problem};

use super::format::Format;

/// Why a file could not be read at all, or not to the end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// `format=` names no format StockEdge reads.
    #[error("unknown format {given:?}: expected one of shopify, shopify-inventory, woocommerce, csv")]
    UnknownFormat { given: String },
    /// `mode=` names no mode.
    #[error("unknown mode {given:?}: expected set or adjust")]
    UnknownMode { given: String },
    /// The body is empty: not even a header row.
    #[error("the file is empty: a header row is required")]
    EmptyFile,
    /// A header cell is not UTF-8.
    #[error("header column {column} is not valid UTF-8: save the file as UTF-8 (CSV UTF-8 in Excel)")]
    HeaderNotUtf8 { column: usize },
    /// More header columns than [`MAX_COLUMNS`](super::limits::MAX_COLUMNS).
    #[error("the header has {found} columns; at most {max} are read")]
    TooManyColumns { found: usize, max: usize },
    /// No format was named and the header matches none. `closest` names the format whose
    /// signature columns are most nearly present, with what it lacks.
    #[error("{}", unknown_header(found, closest, hint))]
    UnknownHeader { found: Vec<String>, closest: Option<(Format, Vec<&'static str>)>, hint: Option<&'static str> },
    /// The format was named (or detected) but a column it needs is missing.
    #[error("{format} needs the column(s) {}; the header has none of that name", missing.join(", "))]
    MissingColumns { format: Format, missing: Vec<&'static str> },
    /// A saved mapping names a column (for `role`: sku, quantity or location) the file lacks.
    #[error("the mapping's {role} column {column:?} is not in the file; its header: {}", found.join(", "))]
    MappedColumnMissing { role: &'static str, column: String, found: Vec<String> },
    /// A column the importer reads appears twice, so which one counts is ambiguous.
    #[error("the column {name:?} appears more than once in the header")]
    DuplicateColumn { name: String },
    /// The file is larger than the limit.
    #[error("the file is larger than {max} bytes")]
    FileTooLarge { max: u64 },
    /// More data rows than a synchronous import takes.
    #[error("the file has more than {max} data rows; larger files are imported as a background job")]
    TooManyRows { max: usize },
    /// The body could not be read.
    #[error("could not read the file: {0}")]
    Io(String),
}

fn unknown_header(
    found: &[String],
    closest: &Option<(Format, Vec<&'static str>)>,
    hint: &Option<&'static str>,
) -> String {
    let mut s = String::from("unrecognised header row: expected ");
    let expected: Vec<String> = Format::ALL.iter().map(|f| format!("{f} ({})", f.signature_text())).collect();
    s.push_str(&expected.join(", or "));
    if let Some((format, missing)) = closest {
        s.push_str(&format!("; closest is {format}, which lacks {}", missing.join(", ")));
    }
    s.push_str("; found: ");
    if found.is_empty() {
        s.push_str("(no columns)");
    } else {
        s.push_str(&found.join(", "));
    }
    if let Some(h) = hint {
        s.push_str("; ");
        s.push_str(h);
    }
    s
}

impl ImportError {
    /// The problem document the edge answers with (see `src/api/problem.rs`).
    pub fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            ImportError::UnknownFormat { .. } => Problem::invalid(vec![FieldError::new("format", detail)]),
            ImportError::UnknownMode { .. } => Problem::invalid(vec![FieldError::new("mode", detail)]),
            ImportError::FileTooLarge { .. } | ImportError::TooManyRows { .. } => {
                Problem::new(Kind::PayloadTooLarge, detail)
            }
            ImportError::Io(_) => Problem::new(Kind::Internal, detail),
            ImportError::MappedColumnMissing { role, .. } => {
                Problem::invalid(vec![FieldError::new(format!("columns.{role}"), detail)])
            }
            ImportError::EmptyFile
            | ImportError::HeaderNotUtf8 { .. }
            | ImportError::TooManyColumns { .. }
            | ImportError::UnknownHeader { .. }
            | ImportError::MissingColumns { .. }
            | ImportError::DuplicateColumn { .. } => Problem::invalid(vec![FieldError::new("header", detail)]),
        }
    }
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not write the export: {0}")]
    Csv(#[from] csv::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_header_names_every_expected_format() {
        let e = ImportError::UnknownHeader {
            found: vec!["sku".into(), "qty".into()],
            closest: Some((Format::Plain, vec!["quantity"])),
            hint: None,
        };
        let s = e.to_string();
        for needle in
            ["Variant SKU", "Location", "Backorders allowed?", "quantity", "lacks quantity", "found: sku, qty"]
        {
            assert!(s.contains(needle), "{needle} missing from {s}");
        }
        assert_eq!(e.problem().status(), 422);
    }

    #[test]
    fn sizes_map_to_413() {
        assert_eq!(ImportError::FileTooLarge { max: 1 }.problem().status(), 413);
        assert_eq!(ImportError::TooManyRows { max: 1 }.problem().status(), 413);
    }
}
