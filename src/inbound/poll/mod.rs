//! Polling the marketplaces' order feeds: the catch-up for what webhooks miss (WooCommerce never
//! retries a failed delivery, Amazon's notifications go to SQS, eBay's may be lost). Pure: the
//! edge's cron handler (`src/edge/inbound_poll.rs`) stores the [`PollState`], performs the
//! requests and applies the orders through the same path as webhooks.
//!
//! - [`window`]: which stretch of a feed a run reads, and the watermark.
//! - [`feeds`]: each platform's page request and page reader, and which orders are applied.
//! - [`run`]: one channel's run — its bounds, each order's triage, and its report.

pub mod feeds;
pub mod run;
pub mod window;

pub use feeds::{admit, page_request, read_page, FeedError, FeedOf, FeedPage, PolledOrder};
pub use run::{page_budget, triage, PollRecord, PollRun, Triage};
pub use window::{is_polled, PollState, Window};
