//! Bounds on what an inbound delivery may be, and the time windows the checks use.
//!
//! Durations are in milliseconds, like [`Millis`](crate::time::Millis).

/// Largest body read. The edge answers `413` above it without reading further (and before any
/// signature check: an HMAC over an unbounded body is itself a cost an attacker could impose).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Most lines one order may carry. A larger order is refused as a whole
/// ([`PayloadError::TooManyLines`](super::PayloadError::TooManyLines)) rather than applied in part.
pub const MAX_LINES_PER_ORDER: usize = 250;

/// Largest quantity on one line: the core's bound, the same for a delivered order as for a sale
/// posted to the API.
pub use crate::stock::limits::MAX_LINE_QTY;

/// Largest absolute level a drift report may carry (a Shopify `available` may be negative).
pub const MAX_LEVEL: i64 = 1_000_000_000;

/// Longest platform identifier kept (order ids, line ids, SKUs, shop domains).
pub const MAX_ID_LEN: usize = 255;

/// A Shopify delivery whose `X-Shopify-Triggered-At` is older than this is stale and ignored.
/// Shopify retries a failed delivery 8 times over 4 hours (docs/channels.md), so a day leaves room for
/// slow retries while still refusing replays of old, validly signed payloads.
pub const SHOPIFY_MAX_AGE_MS: i64 = 24 * 60 * 60 * 1000;

/// The Amazon forwarder's `X-StockEdge-Timestamp` may differ from `now` by at most this much
/// (either way): 5 minutes.
pub const FORWARDER_MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// How long a fetched eBay public key is fresh. eBay's getPublicKey page recommends caching the
/// key "for a temporary — but reasonable — amount of time (e.g., one-hour is recommended.)".
pub const EBAY_KEY_TTL_MS: i64 = 60 * 60 * 1000;

/// Most eBay keys the [`KeyCache`](super::KeyCache) keeps (the oldest fetch is evicted first).
/// `kid` comes from an unauthenticated header, so the cache must not grow with what callers send.
pub const EBAY_KEY_CACHE_CAPACITY: usize = 16;

/// Longest `X-EBAY-SIGNATURE` header value decoded.
pub const MAX_SIGNATURE_HEADER_BYTES: usize = 4096;

/// Longest eBay key id accepted (it becomes a URL path segment of the key fetch).
pub const MAX_KID_LEN: usize = 128;
