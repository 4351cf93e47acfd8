//! The header row: column names as the file writes them, looked up by a normalised key.
//!
//! Matching is case-insensitive and ignores surrounding and repeated white space, so
//! `Variant SKU`, `variant sku` and ` Variant  SKU ` are one column. A UTF-8 byte-order mark
//! before the first name is removed before the `csv` crate reads the file
//! ([`SkipBom`](super::lines::SkipBom)).

use csv::ByteRecord;

use super::error::ImportError;
use super::limits::MAX_COLUMNS;

/// The columns of a file, in order.
#[derive(Clone, Debug)]
pub struct Header {
    names: Vec<String>,
    keys: Vec<String>,
}

/// The lookup key of a column name: trimmed, ASCII-lowercased, inner white space collapsed.
pub fn normalise(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()
}

impl Header {
    /// Reads the header record.
    pub fn from_record(record: &ByteRecord) -> Result<Header, ImportError> {
        if record.len() > MAX_COLUMNS {
            return Err(ImportError::TooManyColumns { found: record.len(), max: MAX_COLUMNS });
        }
        let mut names = Vec::with_capacity(record.len());
        for (i, raw) in record.iter().enumerate() {
            let name = std::str::from_utf8(raw).map_err(|_| ImportError::HeaderNotUtf8 { column: i + 1 })?;
            names.push(name.trim().to_owned());
        }
        Ok(Header::from_names(names))
    }

    /// A header from names (tests, detection).
    pub fn from_names<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Header {
        let names: Vec<String> = names.into_iter().map(|s| s.into().trim().to_owned()).collect();
        let keys = names.iter().map(|n| normalise(n)).collect();
        Header { names, keys }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The column's name as written in the file.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map(String::as_str).unwrap_or("")
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether a column with this (normalised) key is present.
    pub fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    /// The index of the column with this key; `Err` if it appears twice.
    pub fn find(&self, key: &str) -> Result<Option<usize>, ImportError> {
        let mut hits = self.keys.iter().enumerate().filter(|(_, k)| *k == key).map(|(i, _)| i);
        let first = hits.next();
        if let (Some(i), Some(_)) = (first, hits.next()) {
            return Err(ImportError::DuplicateColumn { name: self.names[i].clone() });
        }
        Ok(first)
    }

    /// The first of several alternative keys that is present (older and newer names of one column).
    pub fn find_any(&self, keys: &[&str]) -> Result<Option<usize>, ImportError> {
        for key in keys {
            if let Some(i) = self.find(key)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_ignores_case_and_spacing() {
        let h = Header::from_names([" Variant  SKU ", "QTY"]);
        assert_eq!(h.find("variant sku"), Ok(Some(0)));
        assert_eq!(h.name(0), "Variant  SKU");
        assert_eq!(h.find("qty"), Ok(Some(1)));
        assert_eq!(h.find("sku"), Ok(None));
    }

    #[test]
    fn duplicates_are_ambiguous() {
        let h = Header::from_names(["SKU", "sku"]);
        assert!(matches!(h.find("sku"), Err(ImportError::DuplicateColumn { .. })));
    }

    #[test]
    fn header_must_be_utf8() {
        let rec = ByteRecord::from(vec![&b"sku"[..], &b"q\xffty"[..]]);
        assert_eq!(Header::from_record(&rec).unwrap_err(), ImportError::HeaderNotUtf8 { column: 2 });
    }
}
