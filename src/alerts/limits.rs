//! The alerts' limits, named once.

/// While a problem stays open, at most one reminder per this interval (1 h).
pub const REMINDER_INTERVAL_MS: i64 = 3_600_000;

/// A polled channel whose watermark (everything modified before it has been read) is older
/// than this is falling behind (30 min: the cron polls every 2 min, each run reads up to a
/// few minutes back).
pub const POLL_BEHIND_MS: i64 = 30 * 60_000;

/// A channel's drift problem is open while it has `drift_events` this recent (1 h).
pub const DRIFT_WINDOW_MS: i64 = 3_600_000;

/// Alert destinations per installation.
pub const MAX_DESTINATIONS: usize = 20;

/// A destination URL, at most this long (every URL StockEdge sends to: `sync::target_url`).
pub use crate::sync::target_url::MAX_URL_LEN;

/// Delivery attempts of one message to one destination before it is recorded `failed`.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 8;

/// Backoff before delivery attempt n + 1: `BASE × 2^(n−1)` seconds, at most `MAX`.
pub const DELIVERY_BACKOFF_BASE_S: u32 = 2;
pub const DELIVERY_BACKOFF_MAX_S: u32 = 600;

/// A destination's error text kept in the delivery record, at most this many characters.
pub const MAX_ERROR_CHARS: usize = 300;
