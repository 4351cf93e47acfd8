//! The inbound tables: channels as webhooks and polls read them, the channel's listings that
//! inbound lines map to (with what was last pushed to each), `inbound_deliveries`,
//! `unmatched_lines`, `drift_events`, `inbound_polls` (state and lease) and `inbound_poll_seen`;
//! and what operators read of inbound traffic (unmatched lines and drift, paged by id).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use worker::D1Database;

use super::channels::{ChannelRow, CHANNEL_SELECT};
use super::listings::{self, ListingRow};
use super::{
    all, batch, first, int, opt_int, opt_text, placeholders, rows, run, stmt, text, StoreError, StoreResult, IN_CHUNK,
};
use crate::catalog::model::ChannelKind;
use crate::channels::polled_kinds;
use crate::inbound::apply::{DriftRecord, Listing, Lookups, UnmatchedLine};
use crate::inbound::delivery::{DELIVERY_RETENTION_MS, MAX_CANDIDATES};
use crate::inbound::poll::run::{LEASE_MS, MAX_CHANNELS, SEEN_RETENTION_MS};
use crate::inbound::poll::{PollRecord, PollRun, PollState};
use crate::inbound::InboundChannel;
use crate::stock::{Sku, Token};
use crate::time::Millis;

// ---------------------------------------------------------------------------------------------
// Channels

/// A channel whose order feed is polled.
pub struct PolledChannel {
    pub channel: InboundChannel,
    pub kind: ChannelKind,
    pub created_at: Millis,
}

/// A channel row as the inbound path reads it; `None` (skipped) when its id or kind is unreadable.
fn polled(r: ChannelRow) -> Option<PolledChannel> {
    let kind = r.kind().ok()?;
    let channel = InboundChannel::of(&r.channel, r.account, r.credentials_secret, &r.settings)?;
    Some(PolledChannel { channel, kind, created_at: Millis(r.created_at) })
}

/// The `kind` channels a webhook delivery may be for: by `account` when the delivery names it
/// (case-insensitive; Shopify's shop domain), else by `hint` (`?channel=`), else all, in channel
/// id order.
pub async fn webhook_channels(
    db: &D1Database,
    kind: ChannelKind,
    account: Option<&str>,
    hint: Option<&str>,
) -> StoreResult<Vec<InboundChannel>> {
    let k = text(kind.as_str());
    let s = match (account, hint) {
        (Some(shop), _) => {
            let sql = format!(
                "{CHANNEL_SELECT} WHERE kind = ?1 AND lower(account) = ?2 ORDER BY channel LIMIT {MAX_CANDIDATES}"
            );
            stmt(db, &sql, &[k, text(&shop.to_ascii_lowercase())])?
        }
        (_, Some(h)) => stmt(db, &format!("{CHANNEL_SELECT} WHERE kind = ?1 AND channel = ?2"), &[k, text(h)])?,
        (_, None) => stmt(db, &format!("{CHANNEL_SELECT} WHERE kind = ?1 ORDER BY channel LIMIT 200"), &[k])?,
    };
    Ok(all::<ChannelRow>(s).await?.into_iter().filter_map(polled).map(|p| p.channel).collect())
}

/// The channels whose feeds may be polled (or only `only`), at most [`MAX_CHANNELS`].
pub async fn polled_channels(db: &D1Database, only: Option<&Token>) -> StoreResult<Vec<PolledChannel>> {
    let kinds: Vec<String> = polled_kinds().map(|k| format!("'{}'", k.as_str())).collect();
    let sql = format!(
        "{CHANNEL_SELECT} WHERE kind IN ({}) AND (?1 IS NULL OR channel = ?1) ORDER BY channel LIMIT ?2",
        kinds.join(", ")
    );
    let s = stmt(db, &sql, &[opt_text(only.map(Token::as_str)), int(MAX_CHANNELS as i64)])?;
    Ok(all::<ChannelRow>(s).await?.into_iter().filter_map(polled).collect())
}

// ---------------------------------------------------------------------------------------------
// Listings

/// The channel's listings with one of the identities or SKUs, in one D1 batch.
pub async fn listings(db: &D1Database, channel: &Token, lookups: &Lookups) -> StoreResult<Vec<Listing>> {
    let mut stmts = listings::with_values(db, channel, "identity", &lookups.identities)?;
    stmts.extend(listings::with_values(db, channel, "sku", &lookups.skus)?);
    let mut out: BTreeMap<String, Listing> = BTreeMap::new();
    for r in batch(db, stmts).await? {
        for row in rows::<ListingRow>(&r)? {
            let listing = Listing {
                rule: row.stored_rule(),
                sku: row.sku,
                identity: row.identity,
                external: row.external,
                last_pushed: row.last_quantity,
            };
            out.insert(listing.sku.clone(), listing);
        }
    }
    Ok(out.into_values().collect())
}

#[derive(Deserialize)]
struct MarketplaceRow {
    value: String,
}

/// The Amazon marketplaces the channel's listings name.
pub async fn marketplaces(db: &D1Database, channel: &Token) -> StoreResult<Vec<String>> {
    let s = stmt(
        db,
        "SELECT DISTINCT j.value AS value FROM listings l, json_each(l.external, '$.marketplace_ids') j \
         WHERE l.channel = ?1 ORDER BY 1 LIMIT 50",
        &[text(channel.as_str())],
    )?;
    Ok(all::<MarketplaceRow>(s).await?.into_iter().map(|r| r.value).collect())
}

// ---------------------------------------------------------------------------------------------
// Deliveries, unmatched lines, drift

#[derive(Deserialize)]
struct One {
    #[allow(dead_code)]
    n: i64,
}

/// Whether a delivery with this de-duplication key was handled.
pub async fn delivery_seen(db: &D1Database, key: &str) -> StoreResult<bool> {
    let s = stmt(db, "SELECT 1 AS n FROM inbound_deliveries WHERE dedupe_key = ?1", &[text(key)])?;
    Ok(first::<One>(s).await?.is_some())
}

/// Records a handled delivery (and forgets those older than the retention).
pub async fn record_delivery(
    db: &D1Database,
    key: &str,
    channel: &Token,
    topic: &str,
    outcome: &str,
    detail: &Value,
    t: Millis,
) -> StoreResult<()> {
    let insert = stmt(
        db,
        "INSERT OR IGNORE INTO inbound_deliveries (dedupe_key, channel, topic, outcome, detail, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[text(key), text(channel.as_str()), text(topic), text(outcome), text(&detail.to_string()), int(t.0)],
    )?;
    let prune = stmt(db, "DELETE FROM inbound_deliveries WHERE received_at < ?1", &[int(t.0 - DELIVERY_RETENTION_MS)])?;
    batch(db, vec![insert, prune]).await?;
    Ok(())
}

/// Records lines no listing maps to, once per (channel, order, line, kind).
pub async fn record_unmatched(db: &D1Database, lines: &[UnmatchedLine]) -> StoreResult<()> {
    let mut stmts = Vec::with_capacity(lines.len());
    for l in lines {
        let identity = serde_json::to_string(&l.identity).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        stmts.push(stmt(
            db,
            "INSERT OR IGNORE INTO unmatched_lines (channel, order_id, line_id, kind, identity, qty, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                text(l.channel.as_str()),
                text(&l.order_id),
                text(&l.line_id),
                text(l.kind.as_str()),
                text(&identity),
                int(l.qty),
                int(l.received_at.0),
            ],
        )?);
    }
    batch(db, stmts).await?;
    Ok(())
}

pub async fn record_drift(db: &D1Database, d: &DriftRecord) -> StoreResult<()> {
    let s = stmt(
        db,
        "INSERT INTO drift_events (channel, sku, line_id, reported, last_pushed, listed, action, dedupe_key, \
         occurred_at, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        &[
            text(d.channel.as_str()),
            text(d.sku.as_str()),
            text(&d.line_id),
            int(d.reported),
            opt_int(d.last_pushed),
            int(d.listed),
            text(d.action.as_str()),
            opt_text(d.dedupe_key.as_deref()),
            int(d.occurred_at.0),
            int(d.received_at.0),
        ],
    )?;
    run(s).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Polls

fn state_json(state: &PollState) -> StoreResult<String> {
    serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Takes the channel's lease for [`LEASE_MS`]; `false` when another run holds it.
pub async fn lease(db: &D1Database, channel: &Token, initial: &PollState, t: Millis) -> StoreResult<bool> {
    let s = stmt(
        db,
        "INSERT INTO inbound_polls (channel, state, lease_until) VALUES (?1, ?2, ?3) ON CONFLICT (channel) \
         DO UPDATE SET lease_until = excluded.lease_until WHERE inbound_polls.lease_until < ?4",
        &[text(channel.as_str()), text(&state_json(initial)?), int(t.0 + LEASE_MS), int(t.0)],
    )?;
    Ok(run(s).await? > 0)
}

#[derive(Deserialize)]
struct StateRow {
    state: String,
}

/// The channel's poll state (a new one from `since` when none is stored or it is unreadable),
/// starting at `since` as configured now.
pub async fn poll_state(db: &D1Database, channel: &Token, since: Millis) -> StoreResult<PollState> {
    let s = stmt(db, "SELECT state FROM inbound_polls WHERE channel = ?1", &[text(channel.as_str())])?;
    let row = first::<StateRow>(s).await?;
    let mut state =
        row.and_then(|r| serde_json::from_str::<PollState>(&r.state).ok()).unwrap_or_else(|| PollState::new(since));
    state.since = since;
    Ok(state)
}

pub async fn save_state(db: &D1Database, channel: &Token, state: &PollState) -> StoreResult<()> {
    let s = stmt(
        db,
        "UPDATE inbound_polls SET state = ?1 WHERE channel = ?2",
        &[text(&state_json(state)?), text(channel.as_str())],
    )?;
    run(s).await?;
    Ok(())
}

/// Releases the lease and records the run.
pub async fn finish(db: &D1Database, r: &PollRun, t: Millis) -> StoreResult<()> {
    let s = stmt(
        db,
        "UPDATE inbound_polls SET lease_until = 0, last_run_at = ?1, \
         last_ok_at = CASE WHEN ?2 THEN ?1 ELSE last_ok_at END, last_error = ?3, \
         orders_read = orders_read + ?4, orders_applied = orders_applied + ?5 WHERE channel = ?6",
        &[
            int(t.0),
            r.error.is_none().into(),
            opt_text(r.error.as_deref()),
            int(r.orders_read as i64),
            int(r.orders_applied as i64),
            text(r.channel.as_str()),
        ],
    )?;
    run(s).await?;
    Ok(())
}

/// Forgets order fingerprints older than the retention.
pub async fn prune_seen(db: &D1Database, t: Millis) -> StoreResult<()> {
    run(stmt(db, "DELETE FROM inbound_poll_seen WHERE seen_at < ?1", &[int(t.0 - SEEN_RETENTION_MS)])?).await?;
    Ok(())
}

#[derive(Deserialize)]
struct SeenRow {
    order_id: String,
    fingerprint: String,
}

/// The fingerprints of the orders already applied, among `ids`, by order id.
pub async fn seen_fingerprints(
    db: &D1Database,
    channel: &Token,
    ids: &[String],
) -> StoreResult<BTreeMap<String, String>> {
    let mut stmts = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT order_id, fingerprint FROM inbound_poll_seen WHERE channel = ? AND order_id IN ({})",
            placeholders(chunk.len())
        );
        let mut args = vec![text(channel.as_str())];
        args.extend(chunk.iter().map(|v| text(v)));
        stmts.push(stmt(db, &sql, &args)?);
    }
    let mut out = BTreeMap::new();
    for r in batch(db, stmts).await? {
        out.extend(rows::<SeenRow>(&r)?.into_iter().map(|s| (s.order_id, s.fingerprint)));
    }
    Ok(out)
}

/// Remembers the fingerprints of the orders a page got through (`(order id, fingerprint)`), in
/// one D1 batch.
pub async fn remember(db: &D1Database, channel: &Token, done: &[(&str, &str)], t: Millis) -> StoreResult<()> {
    let mut stmts = Vec::with_capacity(done.len());
    for (order_id, fingerprint) in done {
        stmts.push(stmt(
            db,
            "INSERT INTO inbound_poll_seen (channel, order_id, fingerprint, seen_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (channel, order_id) DO UPDATE SET fingerprint = excluded.fingerprint, seen_at = excluded.seen_at",
            &[text(channel.as_str()), text(order_id), text(fingerprint), int(t.0)],
        )?);
    }
    batch(db, stmts).await?;
    Ok(())
}

/// Every pollable channel's poll record, in channel id order.
pub async fn poll_records(db: &D1Database) -> StoreResult<Vec<PollRecord>> {
    let s = stmt(
        db,
        "SELECT c.channel, c.kind, p.state, p.last_run_at, p.last_ok_at, p.last_error, p.orders_read, \
         p.orders_applied FROM channels c LEFT JOIN inbound_polls p ON p.channel = c.channel \
         WHERE c.kind IN ('woocommerce', 'amazon', 'ebay') ORDER BY c.channel",
        &[],
    )?;
    all(s).await
}

// ---------------------------------------------------------------------------------------------
// What operators read: unmatched lines and drift, paged by id

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
