//! Outbound channel sync, the pure core: what to push to which listing, how each platform wants
//! it said, and what its answer means. No `worker` types, no clock, no I/O, no randomness —
//! time comes in as [`Millis`](crate::time::Millis), requests go out as values, responses come
//! back as values.
//!
//! The flow the Workers shell drives (one queue consumer batch):
//! 1. [`StockChanged`] events arrive from the `stock-changes` queue (at least once, any order).
//! 2. [`coalesce`] keeps, per (channel, listing), only the newest version not yet pushed and
//!    turns its availability into the listed quantity with the listing's rule.
//! 3. A [`ChannelAdapter`] per channel builds the HTTP calls ([`ChannelAdapter::build`], at most
//!    the platform's batch size each) and reads each answer into one [`Outcome`] per listing
//!    ([`ChannelAdapter::interpret`]).
//! 4. [`RetryPolicy::decide`] turns each outcome into done / retry after a delay / re-read and
//!    retry / dead letter, and [`SyncStatus::record`] keeps the per-listing record.
//!
//! Platform helpers that are state the shell persists: the OAuth [`TokenCache`] (Amazon LWA and
//! eBay refresh-token credentials), the
//! SP-API [`TokenBucket`], and eBay's per-listing [`DailyRevisions`] counter.

pub mod adapter;
pub mod amazon;
pub mod bundle_event;
pub mod coalesce;
pub mod connection;
pub mod ebay;
pub mod ebay_auth;
pub mod event;
pub mod http;
pub mod lwa;
pub mod oauth;
pub mod outcome;
pub mod retry;
pub mod revisions;
pub mod shopify;
pub mod status;
pub mod token_bucket;
pub mod update;
pub mod wholesale;
pub mod woocommerce;
pub mod x12;
pub mod x12_check;

pub use adapter::{Built, ChannelAdapter, PushCall};
pub use amazon::{AmazonAdapter, PatchOp};
pub use coalesce::coalesce;
pub use ebay::EbayAdapter;
pub use ebay_auth::{EbayCredentials, EbayCredentialsError, EbayRefresh};
pub use event::{EventError, StockChanged, MAX_MESSAGE_BYTES};
pub use http::{HttpRequest, HttpResponse, Method};
pub use lwa::{LwaCredentials, LwaToken};
pub use oauth::{AccessToken, TokenCache};
pub use outcome::{Failure, FailureKind, ListingOutcome, Outcome};
pub use retry::{Decision, RetryPolicy};
pub use revisions::{admit_revisions, DailyRevisions, EBAY_DAILY_REVISION_LIMIT};
pub use shopify::{QueryCost, ShopifyAdapter, ThrottleStatus};
pub use status::SyncStatus;
pub use token_bucket::TokenBucket;
pub use update::{LastPushed, ListingKey, ListingUpdate};
pub use wholesale::{TradingPartner, WholesaleAdapter};
pub use woocommerce::WooCommerceAdapter;
pub use x12::{inventory_advice, ControlNumbers, Envelope, InventoryLine, Usage, X12Error};
pub use x12_check::{check_846, parse, EnvelopeSummary, Segment};
