//! NetSuite SuiteTalk REST web services as values (docs/erp.md, "NetSuite"): the account's host
//! is the connection's base URL (`https://<account>.suitetalk.api.netsuite.com`).
//!
//! - [`auth`]: OAuth 2.0 client credentials with a signed JWT assertion (ES256), the token
//!   endpoint's answer.
//! - [`suiteql`]: stock as SuiteQL over `inventorybalance`, paged with `limit`/`offset`.
//! - [`sales_order`]: a `salesOrder` created with `externalId` = the order's external reference
//!   ([`external_id`]: escaped to the characters NetSuite takes), and found again by it.
//!
//! Errors are RFC 9457-style bodies with NetSuite's details:
//! `{"type", "title", "status", "o:errorDetails": [{"detail", "o:errorCode"}]}`; [`error_codes`]
//! reads the codes (the account's concurrency limit is `CONCURRENCY_LIMIT_EXCEEDED`).

pub mod auth;
pub mod external_id;
pub mod inventory_adjustment;
pub mod sales_order;
pub mod suiteql;

use serde_json::Value;

use crate::erp::connectors::{classify, Answer, CallFailure};
use crate::sync::HttpResponse;
use crate::time::Millis;

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

/// The error code of a create whose `externalId` another record of its type already has
/// (NetSuite keeps `externalId` unique per record type).
pub const DUPLICATE_RECORD: &str = "DUP_RCRD";

/// What a record's create answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    /// Created under this internal id.
    Id(String),
    /// Refused because a record of the type already has the `externalId` (an earlier create
    /// whose answer was lost).
    Exists,
}

/// Fails unless `resp` is a success: a refusal (4xx) as [`CallFailure::Refused`], anything that
/// may pass (throttling, `5xx`, a `401` the caller did not renew) as [`CallFailure::Unavailable`].
pub(crate) fn answered(resp: &HttpResponse, now: Millis, what: &str) -> Result<(), CallFailure> {
    match classify(resp, now) {
        Answer::Ok => Ok(()),
        Answer::Refused(why) => Err(CallFailure::Refused(format!("{what} refused: {why}"))),
        Answer::Reauthenticate | Answer::Wait(_) | Answer::Retry(_) => {
            Err(CallFailure::Unavailable(format!("{what} answered {}", resp.status)))
        }
    }
}

/// What a `POST /services/rest/record/v1/<record>` answered (`record` names it in errors): `204`
/// with the new record's URL in `Location` (its internal id last), or [`Created::Exists`] when the
/// `externalId` is taken (`400` `DUP_RCRD`). A success without a readable `Location` is
/// unavailable (the next attempt looks the record up).
pub(crate) fn read_created(resp: &HttpResponse, now: Millis, record: &str) -> Result<Created, CallFailure> {
    if resp.status == 400 && error_codes(resp).iter().any(|c| c == DUPLICATE_RECORD) {
        return Ok(Created::Exists);
    }
    answered(resp, now, &format!("{record} create"))?;
    resp.header_value("location")
        .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
        .filter(|id| !id.is_empty() && !id.contains(':'))
        .map(|id| Created::Id(id.to_owned()))
        .ok_or_else(|| CallFailure::Unavailable(format!("{record} created without a Location")))
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
