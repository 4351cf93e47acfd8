//! D1 state of outbound sync, as the `stock-changes` consumer reads and writes it: the listings
//! of changed SKUs with their channels (`listings` ⨝ `channels`), each listing's sync record
//! (`listing_sync`: last pushed, pending, attempts, eBay's daily revisions), failures kept for an
//! operator (`sync_failures`) and wholesale interchange control numbers (`x12_control`); and
//! what operators read and do over it: every listing's sync status, the open failures, a
//! failure's retry, and setting a listing back so that it takes a SKU's state again.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::channels::{ChannelRow, CHANNEL_SELECT};
use super::listings::{ListingRow, LISTING_SELECT};
use super::{corrupt, count, encode, int, opt_int, opt_text, placeholders, text, Query, StoreResult, IN_CHUNK};
use crate::catalog::model::{ChannelKind, Listing};
use crate::stock::{Sku, Token};
use crate::sync::x12::MAX_CONTROL_NUMBER;
use crate::sync::{
    CorruptListing, DailyRevisions, FailureKind, FailureRecord, LastPushed, ListingId, StockChanged, SyncWrite, Synced,
};
use crate::time::Millis;

/// A channel's record as the consumer needs it (the secret by name; the shell reads its value).
#[derive(Clone, Debug)]
pub struct ChannelRecord {
    pub kind: ChannelKind,
    pub account: String,
    pub credentials_secret: Option<String>,
    pub settings: Map<String, Value>,
}

/// The reads, for one batch, of the listings of `skus` on enabled channels and of their
/// channels: pairs of a [`ListingRow`] read then a [`ChannelRow`] read, per [`IN_CHUNK`] SKUs.
pub fn listings(skus: &[Sku]) -> Vec<Query> {
    let mut reads = Vec::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let list = placeholders(chunk.len());
        let args: Vec<_> = chunk.iter().map(|s| text(s.as_str())).collect();
        let on_enabled = "JOIN channels c ON c.channel = l.channel WHERE c.enabled = 1 AND l.sku IN";
        reads.push(Query::new(format!("{LISTING_SELECT} {on_enabled} ({list})"), args.clone()));
        let of_listings =
            format!("WHERE enabled = 1 AND channel IN (SELECT channel FROM listings WHERE sku IN ({list}))");
        reads.push(Query::new(format!("{CHANNEL_SELECT} {of_listings}"), args));
    }
    reads
}

/// The listings and channels of [`listings`]' rows. A listing that cannot be read (a rule out
/// of bounds, an identity or channel kind this build does not know) comes back as a
/// [`CorruptListing`]; one whose channel or SKU id is unreadable, or whose channel is not among
/// `channel_rows`, is left out; a channel whose settings are not an object is pushed with none.
pub fn listings_of(
    listing_rows: Vec<ListingRow>,
    channel_rows: Vec<ChannelRow>,
) -> (Vec<Result<Listing, CorruptListing>>, BTreeMap<Token, ChannelRecord>) {
    let mut kinds = BTreeMap::new();
    let mut channels = BTreeMap::new();
    for c in channel_rows {
        let kind = c.kind().map_err(|_| c.kind.clone());
        kinds.insert(c.channel.clone(), kind.clone());
        let (Ok(id), Ok(kind)) = (c.id(), kind) else { continue };
        let settings = c.settings().unwrap_or_default();
        let record = ChannelRecord { kind, account: c.account, credentials_secret: c.credentials_secret, settings };
        channels.insert(id, record);
    }
    let mut listings = Vec::new();
    for r in listing_rows {
        let (Ok(channel), Ok(sku)) = (Token::parse(&r.channel), r.sku()) else { continue };
        let key = ListingId { channel: channel.clone(), sku: sku.clone() };
        let corrupt = |reason: String| Err(CorruptListing { key: key.clone(), reason });
        let kind = match kinds.get(&r.channel) {
            Some(Ok(kind)) => *kind,
            Some(Err(stored)) => {
                listings.push(corrupt(format!("unknown channel kind {stored:?}")));
                continue;
            }
            None => continue,
        };
        listings.push(match (r.stored_rule().rule(), r.external(kind)) {
            (Ok(rule), Ok(external)) => Ok(Listing { channel, sku, external, rule }),
            (Err(e), _) => corrupt(format!("listing rule: {e}")),
            (_, Err(_)) => corrupt(format!("unreadable {} listing identity", kind.as_str())),
        });
    }
    (listings, channels)
}

/// The columns of [`SyncRow`], from `listing_sync`.
const SYNC_SELECT: &str =
    "SELECT channel, sku, last_version, last_quantity, pushed_at, pending_version, pending_since, \
     attempts, last_error, revisions_day, revisions FROM listing_sync";

/// One listing's sync record (`listing_sync`).
#[derive(Debug, Deserialize)]
pub struct SyncRow {
    pub channel: String,
    pub sku: String,
    pub last_version: Option<i64>,
    pub last_quantity: Option<i64>,
    pub pushed_at: Option<i64>,
    pub pending_version: Option<i64>,
    pub pending_since: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// The day (days since the epoch) `revisions` counts.
    pub revisions_day: i64,
    pub revisions: i64,
}

/// The reads of the sync records of the listings of `skus` ([`SyncRow`]s).
pub fn synced(skus: &[Sku]) -> Vec<Query> {
    super::in_chunks(skus, &[], |list| format!("{SYNC_SELECT} WHERE sku IN ({list})"), |s| text(s.as_str()))
}

/// The sync records of [`SyncRow`]s by listing; a row whose ids are unreadable is left out, and
/// a negative or oversized count reads as 0 or the largest.
pub fn synced_of(rows: Vec<SyncRow>) -> BTreeMap<ListingId, Synced> {
    let mut out = BTreeMap::new();
    for r in rows {
        let (Ok(channel), Ok(sku)) = (Token::parse(&r.channel), Sku::parse(&r.sku)) else { continue };
        let last = match (r.last_version.and_then(|v| u64::try_from(v).ok()), r.last_quantity) {
            (Some(version), Some(quantity)) => Some(LastPushed { version, quantity }),
            _ => None,
        };
        let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        let revisions = DailyRevisions { day: r.revisions_day, count: count(r.revisions) };
        let pending = r.pending_version.and_then(|v| u64::try_from(v).ok());
        out.insert(ListingId { channel, sku }, Synced { last, attempts: count(r.attempts), pending, revisions });
    }
    out
}

/// The writes, for one batch, of today's revision count of each eBay listing about to be pushed.
pub fn count_revisions(counts: &[(ListingId, DailyRevisions)], now: i64) -> Vec<Query> {
    counts
        .iter()
        .map(|(key, r)| {
            Query::new(
                "INSERT INTO listing_sync (channel, sku, attempts, updated_at, revisions_day, revisions) \
                 VALUES (?1, ?2, 0, ?3, ?4, ?5) \
                 ON CONFLICT (channel, sku) DO UPDATE SET revisions_day = ?4, revisions = ?5",
                vec![text(key.channel.as_str()), text(key.sku.as_str()), int(now), int(r.day), int(i64::from(r.count))],
            )
        })
        .collect()
}

/// The writes, for one batch (one transaction), of the listings' sync records and the failures
/// of a consumer batch.
pub fn settle(writes: &[SyncWrite], failures: &[FailureRecord]) -> StoreResult<Vec<Query>> {
    let mut out = Vec::new();
    for w in writes {
        out.push(match w {
            SyncWrite::Pushed { key, version, quantity, at } => Query::new(
                "INSERT INTO listing_sync (channel, sku, last_version, last_quantity, pushed_at, pending_version, \
                 pending_since, attempts, last_error, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL, 0, NULL, ?5) \
                 ON CONFLICT (channel, sku) DO UPDATE SET last_version = ?3, last_quantity = ?4, pushed_at = ?5, \
                 pending_version = NULL, pending_since = NULL, attempts = 0, last_error = NULL, updated_at = ?5 \
                 WHERE listing_sync.last_version IS NULL OR listing_sync.last_version < ?3",
                vec![text(key.channel.as_str()), text(key.sku.as_str()), count(*version), int(*quantity), int(at.0)],
            ),
            SyncWrite::Failed { key, version, since, attempts, error, at } => Query::new(
                "INSERT INTO listing_sync (channel, sku, pending_version, pending_since, attempts, last_error, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (channel, sku) DO UPDATE SET pending_version = ?3, \
                 pending_since = COALESCE(listing_sync.pending_since, ?4), attempts = ?5, last_error = ?6, \
                 updated_at = ?7",
                vec![
                    text(key.channel.as_str()),
                    text(key.sku.as_str()),
                    count(*version),
                    int(since.0),
                    int(i64::from(*attempts)),
                    text(error),
                    int(at.0),
                ],
            ),
        });
    }
    for f in failures {
        out.push(Query::new(
            "INSERT INTO sync_failures (channel, sku, version, reason, event, kind, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                opt_text(f.channel.as_ref().map(Token::as_str)),
                text(f.event.sku.as_str()),
                count(f.event.version),
                text(&f.reason),
                text(&encode(&f.event)?),
                opt_text(f.kind.map(FailureKind::as_str)),
                int(f.at.0),
            ],
        ));
    }
    Ok(out)
}

/// A wholesale channel's interchange control number.
#[derive(Debug, Deserialize)]
pub struct InterchangeRow {
    interchange: i64,
}

/// The write that takes the next interchange control number of a wholesale channel (1, 2, … up
/// to nine digits, then 1 again), answering it ([`InterchangeRow`]).
pub fn next_interchange(channel: &Token) -> Query {
    Query::new(
        "INSERT INTO x12_control (channel, interchange) VALUES (?1, 1) \
         ON CONFLICT (channel) DO UPDATE SET interchange = interchange % ?2 + 1 RETURNING interchange",
        vec![text(channel.as_str()), int(i64::from(MAX_CONTROL_NUMBER))],
    )
}

/// The control number [`next_interchange`] answered (1 when it answered none or nonsense).
pub fn interchange_of(row: Option<InterchangeRow>) -> u32 {
    row.and_then(|r| u32::try_from(r.interchange).ok()).unwrap_or(1)
}

// ---------------------------------------------------------------------------------------------
// What operators read and do

/// A failure not yet retried.
#[derive(Debug, Deserialize)]
pub struct FailureRow {
    pub id: i64,
    pub channel: Option<String>,
    pub sku: String,
    pub version: i64,
    pub reason: String,
    pub created_at: i64,
}

/// The read of every listing's sync state, by channel and SKU ([`SyncRow`]s).
pub fn status() -> Query {
    Query::new(format!("{SYNC_SELECT} ORDER BY channel, sku"), Vec::new())
}

/// The read of the failures not yet retried, oldest first ([`FailureRow`]s).
pub fn open_failures() -> Query {
    Query::new(
        "SELECT id, channel, sku, version, reason, created_at FROM sync_failures WHERE retried_at IS NULL ORDER BY id",
        Vec::new(),
    )
}

/// A failure's event, as stored JSON.
#[derive(Debug, Deserialize)]
pub struct EventRow {
    event: String,
}

/// The read of the event of the open failure `id` ([`EventRow`]).
pub fn failed_event(id: i64) -> Query {
    Query::new("SELECT event FROM sync_failures WHERE id = ?1 AND retried_at IS NULL", vec![int(id)])
}

/// The event of the failure `id`'s [`EventRow`].
pub fn failed_event_of(id: i64, row: Option<EventRow>) -> StoreResult<Option<StockChanged>> {
    row.map(|r| serde_json::from_str(&r.event).map_err(|e| corrupt(format!("sync failure {id} event: {e}"))))
        .transpose()
}

/// The write giving the listings of `sku` their attempts back (before its failed event is sent
/// again).
pub fn reset_attempts(sku: &Sku) -> Query {
    Query::new("UPDATE listing_sync SET attempts = 0 WHERE sku = ?1", vec![text(sku.as_str())])
}

/// The write marking the failure `id` retried at `now`.
pub fn mark_retried(id: i64, now: Millis) -> Query {
    Query::new("UPDATE sync_failures SET retried_at = ?1 WHERE id = ?2", vec![int(now.0), int(id)])
}

/// The write setting `channel`'s listing of `state.sku` back to the version before `state`'s,
/// so that the consumer pushes `state` to it again; `seen` (the level the platform holds, when
/// known) becomes the compare-and-set's starting point.
pub fn rewind(channel: &Token, state: &StockChanged, seen: Option<i64>, now: Millis) -> Query {
    Query::new(
        "UPDATE listing_sync SET last_version = ?1, last_quantity = COALESCE(?2, last_quantity), updated_at = ?3 \
         WHERE channel = ?4 AND sku = ?5 AND last_version >= ?6",
        vec![
            count(state.version.saturating_sub(1)),
            opt_int(seen),
            int(now.0),
            text(channel.as_str()),
            text(state.sku.as_str()),
            count(state.version),
        ],
    )
}
