//! Why an inbound delivery is refused, and what the edge answers for it.
//!
//! Every authentication failure — forged, missing, malformed, stale, wrong key — is one
//! [`InboundError::Unauthorized`] and one answer (`401`): the details are for logs, never for the
//! caller. A body too large is `413`. A body that is signed correctly but cannot be understood is
//! answered `200` and recorded as a sync failure: the platform resending the same payload cannot
//! fix it, Shopify retries a failed delivery 8 times and WooCommerce disables a webhook after 5
//! consecutive failures (docs/channels.md), so refusing it would only lose the later, good deliveries.

/// A failed signature or freshness check. All variants mean "not from the platform".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The header that carries the signature (or the timestamp) is absent.
    #[error("the {header} header is missing")]
    MissingHeader { header: &'static str },
    /// The header is present but not of the documented form.
    #[error("the {header} header is malformed: {reason}")]
    MalformedHeader { header: &'static str, reason: &'static str },
    /// The signature is well formed but does not match the body.
    #[error("the signature does not match the body")]
    Mismatch,
    /// The forwarder's timestamp is too far from now (a replay, or a clock far off).
    #[error("the timestamp is {skew_ms} ms away from now; at most {max_ms} ms is accepted")]
    OutsideWindow { skew_ms: i64, max_ms: i64 },
    /// No secret is configured (fail closed rather than accept anything).
    #[error("no secret is configured for this channel")]
    NoSecret,
    /// The eBay public key could not be read, or names another algorithm.
    #[error("the public key is not usable: {0}")]
    BadKey(&'static str),
}

/// A delivery whose signature checked out but whose content StockEdge cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The body is not JSON (the message is serde's, naming line and column).
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// The body, or a part of it, is JSON but not an object.
    #[error("{field} must be a JSON object")]
    NotAnObject { field: String },
    /// A field the platform documents as always present is absent (or null).
    #[error("{field} is missing")]
    Missing { field: String },
    /// A field is present but unusable.
    #[error("{field} {reason}")]
    Invalid { field: String, reason: String },
    /// A header the platform always sends with a signed delivery is absent or unusable.
    #[error("the {header} header is missing or malformed")]
    BadHeader { header: &'static str },
    /// More lines than [`MAX_LINES_PER_ORDER`](super::limits::MAX_LINES_PER_ORDER).
    #[error("the order has {found} lines; at most {max} are accepted")]
    TooManyLines { found: usize, max: usize },
}

impl PayloadError {
    pub(crate) fn missing(field: impl Into<String>) -> PayloadError {
        PayloadError::Missing { field: field.into() }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> PayloadError {
        PayloadError::Invalid { field: field.into(), reason: reason.into() }
    }
}

/// Everything [`receive`](super::shopify::receive) and its siblings can refuse a delivery for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// The body is larger than [`MAX_BODY_BYTES`](super::limits::MAX_BODY_BYTES).
    #[error("the body has {size} bytes; at most {max} are read")]
    TooLarge { size: usize, max: usize },
    /// The delivery is not authentic (or not fresh enough to tell).
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] AuthError),
    /// Authentic, but not usable.
    #[error("unusable payload: {0}")]
    Payload(#[from] PayloadError),
}

/// What the edge answers, as an HTTP status and whether to record a sync failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `200`: processed, ignored, a duplicate, or a ping.
    Ok,
    /// `200`, and the delivery is recorded as a sync failure for an operator to look at.
    AcceptedUnusable,
    /// `401`: every authentication failure, whatever its cause.
    Unauthorized,
    /// `413`: the body is larger than the limit.
    PayloadTooLarge,
}

impl Answer {
    pub fn status(self) -> u16 {
        match self {
            Answer::Ok | Answer::AcceptedUnusable => 200,
            Answer::Unauthorized => 401,
            Answer::PayloadTooLarge => 413,
        }
    }
}

impl InboundError {
    /// The one answer for this refusal (see the module docs).
    pub fn answer(&self) -> Answer {
        match self {
            InboundError::TooLarge { .. } => Answer::PayloadTooLarge,
            InboundError::Unauthorized(_) => Answer::Unauthorized,
            InboundError::Payload(_) => Answer::AcceptedUnusable,
        }
    }
}

/// Why an inbound order could not be applied now: the webhook answers 503 (a D1 failure: what
/// `api::problem::from_fault` says) and records nothing; the poll keeps its cursor. Either way the
/// order is applied again later, and what was done is not redone (every effect is idempotent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// D1, an order desk or a SKU ledger, or the runtime (the sync queue) failed.
    #[error(transparent)]
    Fault(#[from] crate::fault::Fault),
    /// The platform's API gave no usable answer for what the delivery left out.
    #[error(transparent)]
    Platform(#[from] super::fetch::FetchError),
}

impl From<crate::fault::StoreError> for ApplyError {
    fn from(e: crate::fault::StoreError) -> ApplyError {
        ApplyError::Fault(e.into())
    }
}

impl From<crate::fault::ObjectError> for ApplyError {
    fn from(e: crate::fault::ObjectError) -> ApplyError {
        ApplyError::Fault(e.into())
    }
}
