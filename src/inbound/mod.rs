//! Inbound marketplace events, the pure core: signature checks, freshness, de-duplication keys,
//! and parsing each platform's payloads into one [`InboundEvent`] shape. No `worker` types, no
//! clock, no I/O: the edge passes in headers, the raw body, secrets or keys, and `now`.
//!
//! The edge, for `POST /v1/webhooks/{platform}`:
//!
//! ```text
//! if body.len() > MAX_BODY_BYTES → 413 (don't read on)
//! let headers = Headers::from_pairs(req.headers().entries());
//! let received = match platform {
//!     shopify     => shopify::receive(&headers, &body, secret, now),
//!     woocommerce => woocommerce::receive(&headers, &body, secret, now),   // ping → InboundOutcome::Ping
//!     amazon      => amazon::receive(&headers, &body, forwarder_secret, now),
//!     ebay        => { let kid = ebay::parse_signature_header(&headers)?.kid;
//!                      if cache.needs_fetch(&kid, now) { fetch, EbayKey::from_response, cache.insert }
//!                      ebay::receive(&headers, &body, key, now) }
//! };
//! Err(e) → answer e.answer().status() (401 for every auth failure; 200 + sync failure for an
//!          unusable payload; 413)
//! Ok(r)  → if r.dedupe_key was seen → 200; else act on r.outcome, remember the key, 200:
//!          Events → map each line (InboundLine::identity.lookup_keys()) and apply
//!          Fetch   → Amazon getOrderItems pages → amazon::order_outcome;
//!                    eBay getOrders?orderIds= → ebay::parse_orders_page
//!          Ignored / Ping → nothing
//! ```
//!
//! Polling catch-up uses the same parsers: `woocommerce::parse_orders_page`,
//! `amazon::parse_orders_page` + `amazon::decide`, `ebay::parse_orders_page`.
//!
//! Layout, one concept per file:
//! - [`event`]: [`InboundEvent`], lines, listing identity and look-up keys, [`InboundOutcome`], [`Received`].
//! - [`shopify`], [`woocommerce`], [`amazon`], [`ebay`]: each platform's signature, headers and payloads.
//! - `signature`: HMAC-SHA256 helpers. [`key_cache`]: eBay keys by id, fresh for an hour.
//! - [`drift`]: telling StockEdge's own pushes (echoes) from drift.
//! - [`apply`]: the planner — loaded rows and events in, effects (order-desk calls, restocks,
//!   records, push-backs) and what to report out. [`channel`]: a channel's inbound settings.
//! - [`delivery`]: webhook delivery bounds and checks. [`fetch`]: what the platforms' APIs answer
//!   when a notification left the order out. [`poll`]: the order-feed polls.
//! - [`headers`], `json` (lenient readers), [`limits`], [`error`].

pub mod amazon;
pub mod apply;
pub mod channel;
pub mod delivery;
pub mod drift;
pub mod ebay;
pub mod error;
pub mod event;
pub mod fetch;
pub mod headers;
pub(crate) mod json;
pub mod key_cache;
pub mod limits;
pub mod po850;
pub mod poll;
pub mod purchase_orders;
pub mod shopify;
pub(crate) mod signature;
pub mod woocommerce;
pub mod x12_ack;
pub mod x12_read;
pub mod x12_reject;

pub use channel::{InboundChannel, OnDrift};
pub use drift::DriftVerdict;
pub use ebay::{EbayDigest, EbayKey};
pub use error::{Answer, ApplyError, AuthError, InboundError, PayloadError};
pub use event::{
    EventKind, FetchOrder, Ignored, InboundEvent, InboundLine, InboundOutcome, LineIdentity, LookupKey, PlatformIds,
    Received, RestockType,
};
pub use headers::Headers;
pub use key_cache::{KeyCache, Lookup};
pub use limits::{MAX_BODY_BYTES, MAX_LINES_PER_ORDER};
