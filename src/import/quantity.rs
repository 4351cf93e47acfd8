//! Reading a quantity cell.
//!
//! Accepted: an optional sign and decimal digits, surrounded by white space, optionally followed
//! by a fraction of zeros only (`12.0`, as spreadsheets and some WooCommerce exports write whole
//! numbers). A leading `'` before `-`, `+`, `=` or `@` is removed first: WooCommerce's exporter
//! prefixes such cells with it against formula injection and its importer strips it again
//! (`unescape_data` in `class-wc-product-csv-importer.php`).
//!
//! Refused, each with its own message: empty, not a whole number (`1.5`, `1,000`, `1e3`, `ten`),
//! negative in `set` mode (StockEdge's on-hand cannot go below zero), and out of range
//! (`set`: at most [`MAX_ON_HAND`]; `adjust`: |Δ| at most [`MAX_ADJUST_DELTA`]).

use crate::stock::limits::{MAX_ADJUST_DELTA, MAX_ON_HAND};

use super::mode::Mode;
use super::row::quote;

/// Removes the `'` WooCommerce puts before cells that start with `-`, `+`, `=` or `@`.
pub fn unescape_formula_guard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['-', '+', '=', '@']) => rest,
        _ => s,
    }
}

/// Parses a whole number; `None` when it is not one (or does not fit an `i64`).
pub fn parse_whole(s: &str) -> Option<i64> {
    let s = unescape_formula_guard(s.trim());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b == b'0') {
            return None;
        }
    }
    let digits = int.strip_prefix(['+', '-']).unwrap_or(int);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    int.parse::<i64>().ok()
}

/// Parses and range-checks a quantity for `mode`. `Err` is the message for the row report.
pub fn parse_quantity(s: &str, mode: Mode) -> Result<i64, String> {
    if s.trim().is_empty() {
        return Err(String::from("quantity is empty"));
    }
    let q = parse_whole(s).ok_or_else(|| format!("{} is not a whole number", quote(s)))?;
    match mode {
        Mode::Set if q < 0 => Err(format!(
            "negative quantity {q}: on-hand stock cannot be below zero (use mode=adjust to take units away)"
        )),
        Mode::Set if q > MAX_ON_HAND => Err(format!("quantity {q} is larger than {MAX_ON_HAND}")),
        Mode::Adjust if q.unsigned_abs() > MAX_ADJUST_DELTA.unsigned_abs() => {
            Err(format!("adjustment {q} is larger than ±{MAX_ADJUST_DELTA}"))
        }
        _ => Ok(q),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers() {
        assert_eq!(parse_whole("12"), Some(12));
        assert_eq!(parse_whole(" +7 "), Some(7));
        assert_eq!(parse_whole("-3"), Some(-3));
        assert_eq!(parse_whole("'-3"), Some(-3));
        assert_eq!(parse_whole("100.0"), Some(100));
        assert_eq!(parse_whole("100.00"), Some(100));
        for bad in ["1.5", "1,000", "1e3", "ten", "", "-", "+", ".0", "1.", "'5", "1 2", "99999999999999999999", "٣"] {
            assert_eq!(parse_whole(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn range_depends_on_mode() {
        assert_eq!(parse_quantity("5", Mode::Set), Ok(5));
        assert!(parse_quantity("-5", Mode::Set).unwrap_err().contains("negative"));
        assert_eq!(parse_quantity("-5", Mode::Adjust), Ok(-5));
        assert!(parse_quantity("1000000001", Mode::Set).is_err());
        assert!(parse_quantity("-1000000001", Mode::Adjust).is_err());
        assert_eq!(parse_quantity("", Mode::Set), Err(String::from("quantity is empty")));
        assert!(parse_quantity("1.5", Mode::Set).unwrap_err().contains("not a whole number"));
    }
}
