//! NetSuite SuiteTalk REST web services as values (docs/erp.md, "NetSuite"): the account's host
//! is the connection's base URL (`https://<account>.suitetalk.api.netsuite.com`).
//!
//! - [`auth`]: OAuth 2.0 client credentials with a signed JWT assertion (ES256), the token
//!   endpoint's answer.
//! - [`suiteql`]: stock as SuiteQL over `inventorybalance`, paged with `limit`/`offset`.
//! - [`sales_order`]: a `salesOrder` created with `externalId` = the order's external reference,
//!   and found again by it.
//!
//! Errors are RFC 9457-style bodies with NetSuite's details:
//! `{"type", "title", "status", "o:errorDetails": [{"detail", "o:errorCode"}]}`; [`error_codes`]
//! reads the codes (the account's concurrency limit is `CONCURRENCY_LIMIT_EXCEEDED`).

pub mod auth;
pub mod sales_order;
pub mod suiteql;

use serde_json::Value;

use crate::sync::HttpResponse;

/// The error code NetSuite answers when the account's concurrent-request limit is reached (with
/// `429`, and on some endpoints `400`).
pub const CONCURRENCY_LIMIT_EXCEEDED: &str = "CONCURRENCY_LIMIT_EXCEEDED";

/// The `o:errorCode`s of an error answer (none when the body is not NetSuite's error shape).
pub fn error_codes(resp: &HttpResponse) -> Vec<String> {
    let Some(body) = resp.json() else { return Vec::new() };
    body.get("o:errorDetails")
        .and_then(Value::as_array)
        .map(|details| {
            details.iter().filter_map(|d| d.get("o:errorCode").and_then(Value::as_str)).map(str::to_owned).collect()
        })
        .unwrap_or_default()
}

/// True when `resp` says the account's concurrency limit was reached.
pub fn concurrency_limited(resp: &HttpResponse) -> bool {
    error_codes(resp).iter().any(|c| c == CONCURRENCY_LIMIT_EXCEEDED)
}

/// A figure NetSuite answers as a number or as text (SuiteQL answers every column as text);
/// `None` when absent, `null` or unreadable.
pub(crate) fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn concurrency_limit_is_read_from_the_error_details() {
        let body = json!({"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.30","title":"Too Many Requests",
            "status":429,"o:errorDetails":[{"detail":"Concurrent request limit exceeded.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]});
        assert!(concurrency_limited(&HttpResponse::new(429, body.to_string())));
        let other = json!({"o:errorDetails":[{"detail":"x","o:errorCode":"INVALID_PARAMETER"}]});
        assert!(!concurrency_limited(&HttpResponse::new(400, other.to_string())));
        assert_eq!(error_codes(&HttpResponse::new(400, other.to_string())), vec!["INVALID_PARAMETER".to_owned()]);
        // The code in free text is not an error detail.
        assert!(!concurrency_limited(&HttpResponse::new(400, "CONCURRENCY_LIMIT_EXCEEDED")));
    }

    #[test]
    fn numbers_come_as_numbers_or_text() {
        assert_eq!(number(Some(&json!(3))), Some(3.0));
        assert_eq!(number(Some(&json!("2.5"))), Some(2.5));
        assert_eq!(number(Some(&json!(null))), None);
        assert_eq!(number(Some(&json!("NaN"))), None);
        assert_eq!(number(None), None);
    }
}
