//! Reading platform JSON leniently where the platforms vary (ids as numbers or strings) and
//! strictly where StockEdge needs a value (quantities, bounds). Never panics on any input.

use serde_json::{Map, Value};

use super::error::PayloadError;
use super::limits::{MAX_ID_LEN, MAX_LINES_PER_ORDER, MAX_LINE_QTY};
use crate::time::Millis;

pub(crate) type Object = Map<String, Value>;

/// The body as a JSON object.
pub(crate) fn object(body: &[u8]) -> Result<Object, PayloadError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(PayloadError::NotAnObject { field: "the body".into() }),
        Err(e) => Err(PayloadError::NotJson(e.to_string())),
    }
}

fn path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `obj[key]`, treating `null` as absent.
pub(crate) fn get<'a>(obj: &'a Object, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// A nested object, required.
pub(crate) fn child<'a>(obj: &'a Object, key: &str, prefix: &str) -> Result<&'a Object, PayloadError> {
    match get(obj, key) {
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(PayloadError::NotAnObject { field: path(prefix, key) }),
        None => Err(PayloadError::missing(path(prefix, key))),
    }
}

/// An array, required, of at most [`MAX_LINES_PER_ORDER`] elements.
pub(crate) fn lines<'a>(obj: &'a Object, key: &str, prefix: &str) -> Result<&'a Vec<Value>, PayloadError> {
    match get(obj, key) {
        Some(Value::Array(a)) if a.len() > MAX_LINES_PER_ORDER => {
            Err(PayloadError::TooManyLines { found: a.len(), max: MAX_LINES_PER_ORDER })
        }
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(PayloadError::invalid(path(prefix, key), "must be an array")),
        None => Err(PayloadError::missing(path(prefix, key))),
    }
}

/// An array element as an object.
pub(crate) fn element<'a>(v: &'a Value, field: &str) -> Result<&'a Object, PayloadError> {
    v.as_object().ok_or_else(|| PayloadError::NotAnObject { field: field.to_string() })
}

fn clean_id(s: &str, field: &str) -> Result<String, PayloadError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(PayloadError::invalid(field, "is empty"));
    }
    if s.len() > MAX_ID_LEN {
        return Err(PayloadError::invalid(field, format!("is longer than {MAX_ID_LEN} bytes")));
    }
    if s.chars().any(char::is_control) {
        return Err(PayloadError::invalid(field, "contains control characters"));
    }
    Ok(s.to_string())
}

/// An identifier sent as a JSON number (Shopify, WooCommerce) or string (Amazon, eBay), as text.
pub(crate) fn id_opt(obj: &Object, key: &str, prefix: &str) -> Result<Option<String>, PayloadError> {
    let field = path(prefix, key);
    match get(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => clean_id(s, &field).map(Some),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        Some(_) => Err(PayloadError::invalid(field, "must be a string or an integer")),
    }
}

pub(crate) fn id(obj: &Object, key: &str, prefix: &str) -> Result<String, PayloadError> {
    id_opt(obj, key, prefix)?.ok_or_else(|| PayloadError::missing(path(prefix, key)))
}

/// A numeric id (number or numeric string); `None` when absent, null, or 0 (WooCommerce's "none").
pub(crate) fn num_id_opt(obj: &Object, key: &str, prefix: &str) -> Result<Option<i64>, PayloadError> {
    let field = path(prefix, key);
    let n = match get(obj, key) {
        None => return Ok(None),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match n {
        Some(0) => Ok(None),
        Some(n) if n > 0 => Ok(Some(n)),
        _ => Err(PayloadError::invalid(field, "must be a positive integer id")),
    }
}

pub(crate) fn num_id(obj: &Object, key: &str, prefix: &str) -> Result<i64, PayloadError> {
    num_id_opt(obj, key, prefix)?.ok_or_else(|| PayloadError::missing(path(prefix, key)))
}

/// A string field, trimmed; `None` when absent, null or empty. Non-strings are refused.
pub(crate) fn text_opt(obj: &Object, key: &str, prefix: &str) -> Result<Option<String>, PayloadError> {
    match get(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => clean_id(s, &path(prefix, key)).map(Some),
        Some(_) => Err(PayloadError::invalid(path(prefix, key), "must be a string")),
    }
}

pub(crate) fn text(obj: &Object, key: &str, prefix: &str) -> Result<String, PayloadError> {
    text_opt(obj, key, prefix)?.ok_or_else(|| PayloadError::missing(path(prefix, key)))
}

/// A line quantity: an integer in 0..=[`MAX_LINE_QTY`] (0 means the line is left out).
pub(crate) fn qty(obj: &Object, key: &str, prefix: &str) -> Result<i64, PayloadError> {
    let field = path(prefix, key);
    let n = match get(obj, key) {
        None => return Err(PayloadError::missing(field)),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if (0..=MAX_LINE_QTY).contains(&n) => Ok(n),
        Some(_) => Err(PayloadError::invalid(field, format!("must be between 0 and {MAX_LINE_QTY}"))),
        None => Err(PayloadError::invalid(field, "must be an integer")),
    }
}

/// A timestamp: RFC 3339 (`2024-11-10T10:30:00-05:00`, `…Z`, any fraction), or WooCommerce's
/// `*_gmt` form without an offset (`2017-03-22T19:28:08`, UTC). `None` when absent or unreadable:
/// a time is never a reason to refuse an event.
pub(crate) fn time_opt(obj: &Object, key: &str) -> Option<Millis> {
    match get(obj, key) {
        Some(Value::String(s)) => parse_time(s),
        _ => None,
    }
}

pub(crate) fn parse_time(s: &str) -> Option<Millis> {
    let s = s.trim();
    if let Some(t) = Millis::parse_rfc3339(s) {
        return Some(t);
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| Millis(t.and_utc().timestamp_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_platform_form() {
        let t = |s| parse_time(s).map(Millis::to_rfc3339);
        // Shopify: offsets; X-Shopify-Triggered-At with nanoseconds.
        assert_eq!(t("2008-01-10T11:00:00-05:00").as_deref(), Some("2008-01-10T16:00:00.000Z"));
        assert_eq!(t("2026-11-29T11:59:58.123456789Z").as_deref(), Some("2026-11-29T11:59:58.123Z"));
        // WooCommerce *_gmt: UTC without an offset.
        assert_eq!(t("2017-03-22T19:28:08").as_deref(), Some("2017-03-22T19:28:08.000Z"));
        // Amazon / eBay.
        assert_eq!(t("2022-11-29T19:42:04.284Z").as_deref(), Some("2022-11-29T19:42:04.284Z"));
        assert_eq!(t("yesterday"), None);
        assert_eq!(t(""), None);
    }

    #[test]
    fn ids_and_quantities() {
        let o = object(br#"{"a": 12, "b": "x-1", "c": 1.5, "d": "", "q": "3", "n": -1, "z": 0}"#).unwrap();
        assert_eq!(id(&o, "a", "").unwrap(), "12");
        assert_eq!(id(&o, "b", "").unwrap(), "x-1");
        assert!(id(&o, "c", "").is_err());
        assert!(id(&o, "d", "").is_err());
        assert_eq!(num_id_opt(&o, "z", "").unwrap(), None);
        assert!(num_id_opt(&o, "n", "").is_err());
        assert_eq!(qty(&o, "q", "").unwrap(), 3);
        assert!(qty(&o, "n", "").is_err());
        assert!(matches!(qty(&o, "missing", "p"), Err(PayloadError::Missing { field }) if field == "p.missing"));
    }
}
