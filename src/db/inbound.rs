//! The inbound tables: channels as webhooks and polls read them, the channel's listings that
//! inbound lines map to (with what was last pushed to each), `inbound_deliveries`,
//! `unmatched_lines`, `drift_events`, `inbound_polls` (state and lease) and `inbound_poll_seen`;
//! and what operators read of inbound traffic (unmatched lines and drift, paged by id).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::channels::{ChannelRow, CHANNEL_SELECT};
use super::listings::{self, Column, ListingRow};
use super::{count, encode, flag, in_chunks, int, opt_int, opt_text, text, Query, StoreResult};
use crate::catalog::model::ChannelKind;
use crate::channels::polled_kinds;
use crate::inbound::apply::{DriftRecord, Listing, Lookups, UnmatchedLine};
use crate::inbound::delivery::{DELIVERY_RETENTION_MS, MAX_CANDIDATES};
use crate::inbound::poll::run::{LEASE_MS, MAX_CHANNELS, SEEN_RETENTION_MS};
use crate::inbound::poll::{PollRun, PollState};
use crate::inbound::InboundChannel;
use crate::stock::{Sku, Token};
use crate::time::Millis;

// ---------------------------------------------------------------------------------------------
// Channels

/// Webhook candidates when a delivery names neither an account nor a channel.
const ANY_CHANNEL_LIMIT: usize = 200;

/// A channel whose order feed is polled.
pub struct PolledChannel {
    pub channel: InboundChannel,
    pub kind: ChannelKind,
    pub created_at: Millis,
}

/// A channel row as the inbound path reads it; `None` (skipped) when its id or kind is unreadable.
pub fn polled(r: ChannelRow) -> Option<PolledChannel> {
    let kind = r.kind().ok()?;
    let channel = InboundChannel::of(&r.channel, r.account, r.credentials_secret, &r.settings)?;
    Some(PolledChannel { channel, kind, created_at: Millis(r.created_at) })
}

/// The inbound channels of [`ChannelRow`]s, unreadable ones skipped.
pub fn inbound_channels(rows: Vec<ChannelRow>) -> Vec<InboundChannel> {
    rows.into_iter().filter_map(polled).map(|p| p.channel).collect()
}

/// The read of the `kind` channels a webhook delivery may be for ([`ChannelRow`]s): by
/// `account` when the delivery names it (case-insensitive; Shopify's shop domain), else by
/// `hint` (`?channel=`), else all, in channel id order.
pub fn webhook_channels(kind: ChannelKind, account: Option<&str>, hint: Option<&str>) -> Query {
    let k = text(kind.as_str());
    match (account, hint) {
        (Some(shop), _) => Query::new(
            format!("{CHANNEL_SELECT} WHERE kind = ?1 AND lower(account) = ?2 ORDER BY channel LIMIT {MAX_CANDIDATES}"),
            vec![k, text(&shop.to_ascii_lowercase())],
        ),
        (_, Some(h)) => Query::new(format!("{CHANNEL_SELECT} WHERE kind = ?1 AND channel = ?2"), vec![k, text(h)]),
        (_, None) => {
            Query::new(format!("{CHANNEL_SELECT} WHERE kind = ?1 ORDER BY channel LIMIT {ANY_CHANNEL_LIMIT}"), vec![k])
        }
    }
}

/// `'a', 'b', …`: the kinds whose feeds are polled, as an SQL list (names from the registry,
/// never from input).
fn polled_kinds_list() -> String {
    polled_kinds().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ")
}

/// The read of the channels whose feeds may be polled (or only `only`), at most
/// [`MAX_CHANNELS`] ([`ChannelRow`]s; keep those [`polled`] reads).
pub fn polled_channels(only: Option<&Token>) -> Query {
    Query::new(
        format!(
            "{CHANNEL_SELECT} WHERE kind IN ({}) AND (?1 IS NULL OR channel = ?1) ORDER BY channel LIMIT ?2",
            polled_kinds_list()
        ),
        vec![opt_text(only.map(Token::as_str)), count(MAX_CHANNELS)],
    )
}

// ---------------------------------------------------------------------------------------------
// Listings

/// The reads, for one batch, of the channel's listings with one of the identities or SKUs
/// ([`ListingRow`]s).
pub fn listings(channel: &Token, lookups: &Lookups) -> Vec<Query> {
    let mut reads = listings::with_values(channel, Column::Identity, &lookups.identities);
    reads.extend(listings::with_values(channel, Column::Sku, &lookups.skus));
    reads
}

/// The inbound listings of [`listings`]' rows, one per SKU, in SKU order.
pub fn listings_of(rows: Vec<ListingRow>) -> Vec<Listing> {
    let mut out: BTreeMap<String, Listing> = BTreeMap::new();
    for row in rows {
        let listing = Listing {
            rule: row.stored_rule(),
            sku: row.sku,
            identity: row.identity,
            external: row.external,
            last_pushed: row.last_quantity,
        };
        out.insert(listing.sku.clone(), listing);
    }
    out.into_values().collect()
}

/// An Amazon marketplace id.
#[derive(Debug, Deserialize)]
pub struct ValueRow {
    pub value: String,
}

/// The read of the Amazon marketplaces the channel's listings name ([`ValueRow`]s).
pub fn marketplaces(channel: &Token) -> Query {
    Query::new(
        "SELECT DISTINCT j.value AS value FROM listings l, json_each(l.external, '$.marketplace_ids') j \
         WHERE l.channel = ?1 ORDER BY 1 LIMIT 50",
        vec![text(channel.as_str())],
    )
}

// ---------------------------------------------------------------------------------------------
// Deliveries, unmatched lines, drift

/// The read answering one row ([`super::Exists`]) when a delivery with this de-duplication key
/// was handled.
pub fn delivery_seen(key: &str) -> Query {
    Query::new("SELECT 1 AS n FROM inbound_deliveries WHERE dedupe_key = ?1", vec![text(key)])
}

/// A handled delivery, as [`record_delivery`] stores it.
pub struct Delivery<'a> {
    pub key: &'a str,
    pub channel: &'a Token,
    pub topic: &'a str,
    pub outcome: &'a str,
    pub detail: &'a Value,
}

/// The statements, for one batch, that record a handled delivery at `t` and forget those older
/// than the retention.
pub fn record_delivery(d: &Delivery, t: Millis) -> [Query; 2] {
    [
        Query::new(
            "INSERT OR IGNORE INTO inbound_deliveries (dedupe_key, channel, topic, outcome, detail, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            vec![
                text(d.key),
                text(d.channel.as_str()),
                text(d.topic),
                text(d.outcome),
                text(&d.detail.to_string()),
                int(t.0),
            ],
        ),
        Query::new("DELETE FROM inbound_deliveries WHERE received_at < ?1", vec![int(t.0 - DELIVERY_RETENTION_MS)]),
    ]
}

/// The inserts, for one batch, of lines no listing maps to, once per (channel, order, line, kind).
pub fn record_unmatched(lines: &[UnmatchedLine]) -> StoreResult<Vec<Query>> {
    lines
        .iter()
        .map(|l| {
            Ok(Query::new(
                "INSERT OR IGNORE INTO unmatched_lines (channel, order_id, line_id, kind, identity, qty, received_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                vec![
                    text(l.channel.as_str()),
                    text(&l.order_id),
                    text(&l.line_id),
                    text(l.kind.as_str()),
                    text(&encode(&l.identity)?),
                    int(l.qty),
                    int(l.received_at.0),
                ],
            ))
        })
        .collect()
}

/// The insert of a drift record.
pub fn record_drift(d: &DriftRecord) -> Query {
    Query::new(
        "INSERT INTO drift_events (channel, sku, line_id, reported, last_pushed, listed, action, dedupe_key, \
         occurred_at, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        vec![
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
    )
}

// ---------------------------------------------------------------------------------------------
// Polls

/// The write taking the channel's lease for [`LEASE_MS`] at `t` (storing `initial` when the
/// channel has no poll row); it changes no row when another run holds the lease.
pub fn lease(channel: &Token, initial: &PollState, t: Millis) -> StoreResult<Query> {
    Ok(Query::new(
        "INSERT INTO inbound_polls (channel, state, lease_until) VALUES (?1, ?2, ?3) ON CONFLICT (channel) \
         DO UPDATE SET lease_until = excluded.lease_until WHERE inbound_polls.lease_until < ?4",
        vec![text(channel.as_str()), text(&encode(initial)?), int(t.0 + LEASE_MS), int(t.0)],
    ))
}

/// A channel's stored poll state.
#[derive(Debug, Deserialize)]
pub struct StateRow {
    state: String,
}

/// The read of the channel's poll state ([`StateRow`]).
pub fn poll_state(channel: &Token) -> Query {
    Query::new("SELECT state FROM inbound_polls WHERE channel = ?1", vec![text(channel.as_str())])
}

/// The poll state of a [`StateRow`] (a new one from `since` when none is stored or it is
/// unreadable), starting at `since` as configured now.
pub fn poll_state_of(row: Option<StateRow>, since: Millis) -> PollState {
    let mut state =
        row.and_then(|r| serde_json::from_str::<PollState>(&r.state).ok()).unwrap_or_else(|| PollState::new(since));
    state.since = since;
    state
}

/// The write of the channel's poll state.
pub fn save_state(channel: &Token, state: &PollState) -> StoreResult<Query> {
    Ok(Query::new(
        "UPDATE inbound_polls SET state = ?1 WHERE channel = ?2",
        vec![text(&encode(state)?), text(channel.as_str())],
    ))
}

/// The write that releases the lease and records the run at `t`.
pub fn finish(r: &PollRun, t: Millis) -> Query {
    Query::new(
        "UPDATE inbound_polls SET lease_until = 0, last_run_at = ?1, \
         last_ok_at = CASE WHEN ?2 THEN ?1 ELSE last_ok_at END, last_error = ?3, \
         orders_read = orders_read + ?4, orders_applied = orders_applied + ?5 WHERE channel = ?6",
        vec![
            int(t.0),
            flag(r.error.is_none()),
            opt_text(r.error.as_deref()),
            count(r.orders_read),
            count(r.orders_applied),
            text(r.channel.as_str()),
        ],
    )
}

/// The delete of order fingerprints older than the retention at `t`.
pub fn prune_seen(t: Millis) -> Query {
    Query::new("DELETE FROM inbound_poll_seen WHERE seen_at < ?1", vec![int(t.0 - SEEN_RETENTION_MS)])
}

/// An applied order's fingerprint.
#[derive(Debug, Deserialize)]
pub struct SeenRow {
    order_id: String,
    fingerprint: String,
}

/// The reads, for one batch, of the fingerprints of the orders already applied among `ids`
/// ([`SeenRow`]s).
pub fn seen_fingerprints(channel: &Token, ids: &[String]) -> Vec<Query> {
    let sql = |list: &str| {
        format!("SELECT order_id, fingerprint FROM inbound_poll_seen WHERE channel = ? AND order_id IN ({list})")
    };
    in_chunks(ids, &[text(channel.as_str())], sql, |v| text(v))
}

/// The fingerprints of [`SeenRow`]s, by order id.
pub fn fingerprints_of(rows: Vec<SeenRow>) -> BTreeMap<String, String> {
    rows.into_iter().map(|s| (s.order_id, s.fingerprint)).collect()
}

/// The writes, for one batch, that remember the fingerprints of the orders a page got through
/// (`(order id, fingerprint)`) at `t`.
pub fn remember(channel: &Token, done: &[(&str, &str)], t: Millis) -> Vec<Query> {
    done.iter()
        .map(|(order_id, fingerprint)| {
            Query::new(
                "INSERT INTO inbound_poll_seen (channel, order_id, fingerprint, seen_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (channel, order_id) DO UPDATE SET fingerprint = excluded.fingerprint, seen_at = excluded.seen_at",
                vec![text(channel.as_str()), text(order_id), text(fingerprint), int(t.0)],
            )
        })
        .collect()
}

/// The read of every pollable channel's poll record, in channel id order (`PollRecord`s).
pub fn poll_records() -> Query {
    Query::new(
        format!(
            "SELECT c.channel, c.kind, p.state, p.last_run_at, p.last_ok_at, p.last_error, p.orders_read, \
             p.orders_applied FROM channels c LEFT JOIN inbound_polls p ON p.channel = c.channel \
             WHERE c.kind IN ({}) ORDER BY c.channel",
            polled_kinds_list()
        ),
        Vec::new(),
    )
}

// ---------------------------------------------------------------------------------------------
// What operators read: unmatched lines and drift, paged by id

/// An inbound order line that mapped to no listing.
#[derive(Debug, Deserialize)]
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
#[derive(Debug, Deserialize)]
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

/// The read of up to `limit` unmatched lines not yet mapped (`POST
/// /v1/inbound/unmatched/{id}/map`) with ids above `after` (only `channel`'s when given)
/// ([`UnmatchedRow`]s).
pub fn unmatched(after: i64, channel: Option<&Token>, limit: i64) -> Query {
    Query::new(
        "SELECT id, channel, order_id, line_id, kind, identity, qty, received_at FROM unmatched_lines \
         WHERE id > ?1 AND (?2 IS NULL OR channel = ?2) AND mapped_at IS NULL ORDER BY id LIMIT ?3",
        vec![int(after), opt_text(channel.map(Token::as_str)), int(limit)],
    )
}

/// The read of up to `limit` drift records with ids above `after` (only `channel`'s, `sku`'s
/// when given) ([`DriftRow`]s).
pub fn drift(after: i64, (channel, sku): (Option<&Token>, Option<&Sku>), limit: i64) -> Query {
    Query::new(
        "SELECT id, channel, sku, line_id, reported, last_pushed, listed, action, occurred_at, received_at FROM drift_events \
         WHERE id > ?1 AND (?2 IS NULL OR channel = ?2) AND (?3 IS NULL OR sku = ?3) ORDER BY id LIMIT ?4",
        vec![int(after), opt_text(channel.map(Token::as_str)), opt_text(sku.map(Sku::as_str)), int(limit)],
    )
}
