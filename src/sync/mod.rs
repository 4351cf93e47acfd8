//! Outbound channel sync, the pure core: what to push to which listing, how each platform wants
//! it said, and what its answer means. No `worker` types, no clock, no I/O, no randomness —
//! time comes in as [`Millis`](crate::time::Millis), requests go out as values, responses come
//! back as values.
//!
//! The flow of one queue consumer batch, planned by [`BatchPlan`] and driven by the Workers
//! shell:
//! 1. [`StockChanged`] events arrive from the `stock-changes` queue (at least once, any order).
//! 2. [`coalesce`] keeps, per listing, only the newest version not yet pushed and turns its
//!    availability into the listed quantity with the listing's rule; eBay listings past their
//!    daily revisions wait for the next day ([`admit_revisions`]).
//! 3. A [`ChannelPush`] per channel asks for what it needs (an access token, a control number),
//!    has its [`ChannelAdapter`] build the calls, reads each answer into one [`PushResult`] per
//!    listing, renews a refused cached token once and re-reads a lost compare-and-set.
//! 4. [`BatchPlan::settle`] turns each result with the [`RetryPolicy`] into the listing's
//!    [`SyncWrite`], a [`FailureRecord`] per dead letter, and the messages to deliver again.
//!
//! State the shell keeps between batches: the OAuth [`TokenCache`] per [`TokenSource`] (Amazon
//! LWA and eBay refresh-token credentials), the SP-API [`TokenBucket`], and eBay's per-listing
//! [`DailyRevisions`] counter (in the sync record).

pub mod adapter;
pub mod amazon;
pub mod bundle_event;
pub mod channel_push;
pub mod coalesce;
pub mod connection;
pub mod ebay;
pub mod ebay_auth;
pub mod event;
pub mod http;
pub mod lwa;
pub mod oauth;
pub mod plan;
pub mod push_result;
pub mod retry;
pub mod revisions;
pub mod shopify;
pub mod target_url;
pub mod token_bucket;
pub mod update;
pub mod wholesale;
pub mod woocommerce;
pub mod x12;

pub use adapter::{Built, ChannelAdapter, PushCall};
pub use amazon::{AmazonAdapter, PatchOp};
pub use channel_push::{Answer, Channel, ChannelPush, Step, REREAD_ATTEMPTS};
pub use coalesce::coalesce;
pub use ebay::EbayAdapter;
pub use ebay_auth::{EbayCredentials, EbayCredentialsError, EbayRefresh};
pub use event::{EventError, OpCount, StockChanged, MAX_MESSAGE_BYTES};
pub use http::{HttpRequest, HttpResponse, Method};
pub use lwa::{LwaCredentials, LwaToken};
pub use oauth::{AccessToken, Bearer, TokenCache, TokenSource};
pub use plan::{dead_letters, BatchPlan, CorruptListing, FailureRecord, Loaded, Settlement, SyncWrite, Synced};
pub use push_result::{Failure, FailureKind, ListingResult, PushResult};
pub use retry::{Decision, RetryPolicy};
pub use revisions::{admit_revisions, DailyRevisions, EBAY_DAILY_REVISION_LIMIT};
pub use shopify::{QueryCost, ShopifyAdapter, ThrottleStatus};
pub use token_bucket::TokenBucket;
pub use update::{LastPushed, ListingId, ListingUpdate};
pub use wholesale::{TradingPartner, WholesaleAdapter};
pub use woocommerce::WooCommerceAdapter;
pub use x12::{inventory_advice, ControlNumbers, Envelope, InventoryLine, Usage, X12Error};
