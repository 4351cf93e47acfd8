//! What a push did, per listing.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::update::ListingId;

/// Why a push can never succeed as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The platform refused our credentials (401/403, rejected token).
    Credentials,
    /// The listing's identity is unknown on the platform (deleted product, wrong location, …).
    UnknownListing,
    /// The platform refused the request's content (bad quantity, missing field, …).
    Validation,
    /// Any other refusal the platform says is final.
    Rejected,
}

impl FailureKind {
    /// The stored word (`sync_failures.kind`), as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Credentials => "credentials",
            FailureKind::UnknownListing => "unknown_listing",
            FailureKind::Validation => "validation",
            FailureKind::Rejected => "rejected",
        }
    }
}

/// A permanent failure: its kind and the platform's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure { kind, message: message.into() }
    }
}

/// What one listing's push came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushResult {
    /// The platform took the quantity.
    Pushed,
    /// Throttled: try again after this many seconds (`Retry-After`, or what the platform's
    /// throttle state implies).
    RetryAfter(u64),
    /// A transient failure (5xx, timeout, unreadable answer): back off and retry.
    Backoff(String),
    /// The compare-and-set failed: the platform's quantity is not what we expected. Re-read it,
    /// then retry.
    Stale,
    /// Retrying the same request cannot help.
    Permanent(Failure),
}

impl PushResult {
    pub fn permanent(kind: FailureKind, message: impl Into<String>) -> PushResult {
        PushResult::Permanent(Failure::new(kind, message))
    }

    pub fn backoff(reason: impl Into<String>) -> PushResult {
        PushResult::Backoff(reason.into())
    }

    pub fn is_pushed(&self) -> bool {
        matches!(self, PushResult::Pushed)
    }
}

impl fmt::Display for PushResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushResult::Pushed => f.write_str("pushed"),
            PushResult::RetryAfter(s) => write!(f, "throttled: retry after {s} s"),
            PushResult::Backoff(reason) => write!(f, "transient failure: {reason}"),
            PushResult::Stale => f.write_str("stale: the platform's quantity changed since we last pushed"),
            PushResult::Permanent(Failure { kind, message }) => write!(f, "permanent failure ({kind:?}): {message}"),
        }
    }
}

/// A listing's outcome for the version and quantity that were sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingResult {
    pub key: ListingId,
    pub version: u64,
    pub quantity: i64,
    pub outcome: PushResult,
}
