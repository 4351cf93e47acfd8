//! What operators read of inbound traffic: `unmatched_lines` and `drift_events`
//! (migrations/0003), paged by id. The inbound path's own writes are in `store::inbound`.

use serde::Deserialize;
use worker::D1Database;

use super::{all, int, opt_text, stmt, StoreResult};
use crate::stock::{Sku, Token};

/// An inbound order line that mapped to no listing.
#[derive(Deserialize)]
pub struct UnmatchedRow {
    pub id: i64,
    pub channel: String,
    pub order_id: String,
    pub line_id: String,
    pub kind: String,
    /// The line's identity (`inbound::LineIdentity`), as stored JSON.
    pub identity: String,
    pub qty: i64,
    pub received_at: i64,
}

/// A level a platform reported that StockEdge did not push, and what was done.
#[derive(Deserialize)]
pub struct DriftRow {
    pub id: i64,
    pub channel: String,
    pub sku: String,
    pub line_id: String,
    pub reported: i64,
    pub last_pushed: Option<i64>,
    pub listed: i64,
    pub action: String,
    pub occurred_at: i64,
    pub received_at: i64,
}

/// Up to `limit` unmatched lines with ids above `after` (only `channel`'s when given).
pub async fn unmatched(
    db: &D1Database,
    after: i64,
    channel: Option<&Token>,
    limit: i64,
) -> StoreResult<Vec<UnmatchedRow>> {
    all(stmt(
        db,
        "SELECT id, channel, order_id, line_id, kind, identity, qty, received_at FROM unmatched_lines \
         WHERE id > ?1 AND (?2 IS NULL OR channel = ?2) ORDER BY id LIMIT ?3",
        &[int(after), opt_text(channel.map(Token::as_str)), int(limit)],
    )?)
    .await
}

/// Up to `limit` drift records with ids above `after` (only `channel`'s, `sku`'s when given).
pub async fn drift(
    db: &D1Database,
    after: i64,
    (channel, sku): (Option<&Token>, Option<&Sku>),
    limit: i64,
) -> StoreResult<Vec<DriftRow>> {
    all(stmt(
        db,
        "SELECT id, channel, sku, line_id, reported, last_pushed, listed, action, occurred_at, received_at FROM drift_events \
         WHERE id > ?1 AND (?2 IS NULL OR channel = ?2) AND (?3 IS NULL OR sku = ?3) ORDER BY id LIMIT ?4",
        &[int(after), opt_text(channel.map(Token::as_str)), opt_text(sku.map(Sku::as_str)), int(limit)],
    )?)
    .await
}
