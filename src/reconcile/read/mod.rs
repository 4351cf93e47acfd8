//! Reading a listing's live quantity from its platform, as values: a platform's [`Read`] builds
//! the request (given the credential the shell holds for the channel: its secret, or an access
//! token minted from it) and reads the answer into the quantity or a [`ReadError`].
//!
//! Statuses every platform shares ([`by_status`]): 401/403 → [`ReadError::Credentials`], 404/410 →
//! [`ReadError::Gone`], 429 → [`ReadError::Throttled`] (with `Retry-After` when given), 408 and
//! 5xx → [`ReadError::Unavailable`]. Each platform reads the rest itself.

pub mod amazon;
pub mod ebay;
pub mod shopify;
pub mod woocommerce;

use std::fmt;

use serde_json::{Map, Value};

use crate::catalog::model::External;
use crate::sync::adapter::snippet;
use crate::sync::{FailureKind, HttpRequest, HttpResponse, PushResult, TokenBucket};
use crate::time::Millis;

/// Why a listing's live quantity could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The platform refused the channel's credentials: nothing of the channel can be read.
    Credentials(String),
    /// The platform has no such listing (deleted product, item not stocked at the location).
    Gone(String),
    /// Throttled: wait this many seconds (when the platform says) before reading again.
    Throttled(Option<u64>),
    /// A transient failure (5xx, timeout, no answer).
    Unavailable(String),
    /// An answer that does not say the quantity (unexpected shape, stock not managed).
    Unreadable(String),
    /// The listing's identity is not one this platform reads (another platform's, or incomplete).
    NotReadable(String),
}

impl ReadError {
    /// Whether the rest of the channel's listings should not be read in this run (the platform
    /// refuses the credentials or asks to slow down).
    pub fn stops_channel(&self) -> bool {
        matches!(self, ReadError::Credentials(_) | ReadError::Throttled(_))
    }

    /// A push outcome met while reading (the Shopify level query shares the push adapter's
    /// reading): what it means for a read.
    pub fn from_push(outcome: PushResult) -> ReadError {
        match outcome {
            PushResult::RetryAfter(s) => ReadError::Throttled(Some(s)),
            PushResult::Backoff(why) => ReadError::Unavailable(why),
            PushResult::Permanent(f) => match f.kind {
                FailureKind::Credentials => ReadError::Credentials(f.message),
                FailureKind::UnknownListing => ReadError::Gone(f.message),
                FailureKind::Validation | FailureKind::Rejected => ReadError::Unreadable(f.message),
            },
            PushResult::Pushed | PushResult::Stale => ReadError::Unreadable(format!("unexpected outcome: {outcome}")),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Credentials(m) => write!(f, "credentials refused: {m}"),
            ReadError::Gone(m) => write!(f, "listing not found on the platform: {m}"),
            ReadError::Throttled(Some(s)) => write!(f, "throttled: retry after {s} s"),
            ReadError::Throttled(None) => f.write_str("throttled"),
            ReadError::Unavailable(m) => write!(f, "platform unavailable: {m}"),
            ReadError::Unreadable(m) => write!(f, "unreadable answer: {m}"),
            ReadError::NotReadable(m) => write!(f, "not readable: {m}"),
        }
    }
}

/// Builds the read of one listing: the credential (the channel's secret, or an access token), the
/// channel's settings, the listing's identity, and the time (for platforms that stamp requests).
pub type ReadRequestFn = fn(&str, &Map<String, Value>, &External, Millis) -> Result<HttpRequest, ReadError>;
/// Reads the platform's answer to that request: the listing's live quantity.
pub type ReadAnswerFn = fn(&HttpResponse, Millis) -> Result<i64, ReadError>;

/// How a platform's listing is read back (a registry entry's `read`).
#[derive(Clone, Copy)]
pub struct Read {
    pub request: ReadRequestFn,
    pub answer: ReadAnswerFn,
    /// The account's request rate, when reads must be paced: a full bucket at the given time
    /// (the shell shares it with the account's pushes, `sync::channel_push::pacing_key`).
    pub pacing: Option<fn(Millis) -> TokenBucket>,
}

/// The outcomes every platform shares, by status alone; `None` for a 2xx and for the statuses the
/// platform reads itself.
pub fn by_status(response: &HttpResponse, now: Millis) -> Option<ReadError> {
    let s = response.status;
    match s {
        401 | 403 => Some(ReadError::Credentials(format!("HTTP {s}: {}", snippet(&response.body)))),
        404 | 410 => Some(ReadError::Gone(format!("HTTP {s}: {}", snippet(&response.body)))),
        429 => Some(ReadError::Throttled(response.retry_after(now))),
        408 | 500..=599 => Some(ReadError::Unavailable(format!("HTTP {s}"))),
        200..=299 => None,
        _ => Some(ReadError::Unreadable(format!("HTTP {s}: {}", snippet(&response.body)))),
    }
}

/// The body of a 2xx answer as JSON, or what the status means.
pub fn json_answer(response: &HttpResponse, now: Millis) -> Result<Value, ReadError> {
    if let Some(e) = by_status(response, now) {
        return Err(e);
    }
    response.json().ok_or_else(|| ReadError::Unreadable(format!("not JSON: {}", snippet(&response.body))))
}

/// A quantity member: a whole number, else unreadable.
pub fn quantity(v: Option<&Value>, what: &str) -> Result<i64, ReadError> {
    v.and_then(Value::as_i64).ok_or_else(|| ReadError::Unreadable(format!("no whole-number {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_statuses() {
        let now = Millis(0);
        let r = |s: u16| by_status(&HttpResponse::new(s, "x"), now);
        assert!(matches!(r(401), Some(ReadError::Credentials(_))));
        assert!(matches!(r(403), Some(ReadError::Credentials(_))));
        assert!(matches!(r(404), Some(ReadError::Gone(_))));
        assert!(matches!(r(503), Some(ReadError::Unavailable(_))));
        assert!(matches!(r(400), Some(ReadError::Unreadable(_))));
        assert_eq!(r(200), None);
        let throttled = HttpResponse::new(429, "").header("Retry-After", "7");
        assert_eq!(by_status(&throttled, now), Some(ReadError::Throttled(Some(7))));
        assert_eq!(r(429), Some(ReadError::Throttled(None)));
        assert!(ReadError::Credentials(String::new()).stops_channel());
        assert!(ReadError::Throttled(None).stops_channel());
        assert!(!ReadError::Gone(String::new()).stops_channel());
        assert!(!ReadError::Unavailable(String::new()).stops_channel());
    }
}
