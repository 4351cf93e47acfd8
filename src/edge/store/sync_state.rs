//! D1 state of outbound sync, as the `stock-changes` consumer reads and writes it: the listings
//! of changed SKUs with their channels (`listings` ⨝ `channels`), each listing's sync record
//! (`listing_sync`: last pushed, pending, attempts, eBay's daily revisions), failures kept for an
//! operator (`sync_failures`) and wholesale interchange control numbers (`x12_control`); and
//! what operators read and do over it: every listing's sync status, the open failures, a
//! failure's retry, and setting a listing back so that it takes a SKU's state again.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use worker::D1Database;

use super::channels::{ChannelRow, CHANNEL_SELECT};
use super::listings::{ListingRow, LISTING_SELECT};
use super::{
    all, batch, corrupt, first, int, opt_int, opt_text, placeholders, rows, run, stmt, text, StoreError, StoreResult,
    IN_CHUNK,
};
use crate::catalog::model::{ChannelKind, Listing};
use crate::stock::{Sku, Token};
use crate::sync::x12::MAX_CONTROL_NUMBER;
use crate::sync::{
    CorruptListing, DailyRevisions, FailureRecord, LastPushed, ListingId, StockChanged, SyncWrite, Synced,
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

/// The listings of `skus` on enabled channels — a row that cannot be read (a rule out of bounds,
/// an identity or kind this build does not know) comes back as a [`CorruptListing`] — and
/// their channels.
pub async fn listings(
    db: &D1Database,
    skus: &[Sku],
) -> StoreResult<(Vec<Result<Listing, CorruptListing>>, BTreeMap<Token, ChannelRecord>)> {
    let mut stmts = Vec::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let list = placeholders(chunk.len());
        let args: Vec<_> = chunk.iter().map(|s| text(s.as_str())).collect();
        let on_enabled = "JOIN channels c ON c.channel = l.channel WHERE c.enabled = 1 AND l.sku IN";
        stmts.push(stmt(db, &format!("{LISTING_SELECT} {on_enabled} ({list})"), &args)?);
        let of_listings =
            format!("WHERE enabled = 1 AND channel IN (SELECT channel FROM listings WHERE sku IN ({list}))");
        stmts.push(stmt(db, &format!("{CHANNEL_SELECT} {of_listings}"), &args)?);
    }
    let mut listing_rows = Vec::new();
    let mut kinds = BTreeMap::new();
    let mut channels = BTreeMap::new();
    for (i, r) in batch(db, stmts).await?.iter().enumerate() {
        if i % 2 == 0 {
            listing_rows.extend(rows::<ListingRow>(r)?);
            continue;
        }
        for c in rows::<ChannelRow>(r)? {
            let kind = c.kind().map_err(|_| c.kind.clone());
            kinds.insert(c.channel.clone(), kind.clone());
            let (Ok(id), Ok(kind)) = (c.id(), kind) else { continue };
            // Settings that are not an object are pushed with none (as before the fold).
            let settings = c.settings().unwrap_or_default();
            let record = ChannelRecord { kind, account: c.account, credentials_secret: c.credentials_secret, settings };
            channels.insert(id, record);
        }
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
    Ok((listings, channels))
}

/// The sync records of the listings of `skus`.
pub async fn synced(db: &D1Database, skus: &[Sku]) -> StoreResult<BTreeMap<ListingId, Synced>> {
    let mut out = BTreeMap::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let sql = format!("{SYNC_SELECT} WHERE sku IN ({})", placeholders(chunk.len()));
        let args: Vec<_> = chunk.iter().map(|s| text(s.as_str())).collect();
        for r in all::<SyncRow>(stmt(db, &sql, &args)?).await? {
            let (Ok(channel), Ok(sku)) = (Token::parse(&r.channel), Sku::parse(&r.sku)) else { continue };
            let last = match (r.last_version.and_then(|v| u64::try_from(v).ok()), r.last_quantity) {
                (Some(version), Some(quantity)) => Some(LastPushed { version, quantity }),
                _ => None,
            };
            let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
            let revisions = DailyRevisions { day: r.revisions_day, count: count(r.revisions) };
            out.insert(ListingId { channel, sku }, Synced { last, attempts: count(r.attempts), revisions });
        }
    }
    Ok(out)
}

/// Keeps today's revision count of each eBay listing about to be pushed (one batch).
pub async fn count_revisions(db: &D1Database, counts: &[(ListingId, DailyRevisions)], now: i64) -> StoreResult<()> {
    let mut stmts = Vec::new();
    for (key, r) in counts {
        stmts.push(stmt(
            db,
            "INSERT INTO listing_sync (channel, sku, attempts, updated_at, revisions_day, revisions) \
             VALUES (?1, ?2, 0, ?3, ?4, ?5) \
             ON CONFLICT (channel, sku) DO UPDATE SET revisions_day = ?4, revisions = ?5",
            &[text(key.channel.as_str()), text(key.sku.as_str()), int(now), int(r.day), int(i64::from(r.count))],
        )?);
    }
    batch(db, stmts).await.map(drop)
}

/// Writes the listings' sync records and the failures of one batch (one transaction).
pub async fn settle(db: &D1Database, writes: &[SyncWrite], failures: &[FailureRecord]) -> StoreResult<()> {
    let mut stmts = Vec::new();
    for w in writes {
        stmts.push(match w {
            SyncWrite::Pushed { key, version, quantity, at } => stmt(
                db,
                "INSERT INTO listing_sync (channel, sku, last_version, last_quantity, pushed_at, pending_version, \
                 pending_since, attempts, last_error, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL, 0, NULL, ?5) \
                 ON CONFLICT (channel, sku) DO UPDATE SET last_version = ?3, last_quantity = ?4, pushed_at = ?5, \
                 pending_version = NULL, pending_since = NULL, attempts = 0, last_error = NULL, updated_at = ?5 \
                 WHERE listing_sync.last_version IS NULL OR listing_sync.last_version < ?3",
                &[text(key.channel.as_str()), text(key.sku.as_str()), version_arg(*version), int(*quantity), int(at.0)],
            )?,
            SyncWrite::Failed { key, version, since, attempts, error, at } => stmt(
                db,
                "INSERT INTO listing_sync (channel, sku, pending_version, pending_since, attempts, last_error, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (channel, sku) DO UPDATE SET pending_version = ?3, \
                 pending_since = COALESCE(listing_sync.pending_since, ?4), attempts = ?5, last_error = ?6, \
                 updated_at = ?7",
                &[
                    text(key.channel.as_str()),
                    text(key.sku.as_str()),
                    version_arg(*version),
                    int(since.0),
                    int(i64::from(*attempts)),
                    text(error),
                    int(at.0),
                ],
            )?,
        });
    }
    for f in failures {
        let event = serde_json::to_string(&f.event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        stmts.push(stmt(
            db,
            "INSERT INTO sync_failures (channel, sku, version, reason, event, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            &[
                opt_text(f.channel.as_ref().map(Token::as_str)),
                text(f.event.sku.as_str()),
                version_arg(f.event.version),
                text(&f.reason),
                text(&event),
                int(f.at.0),
            ],
        )?);
    }
    batch(db, stmts).await.map(drop)
}

/// The next interchange control number of a wholesale channel (1, 2, … up to nine digits, then
/// 1 again).
pub async fn next_interchange(db: &D1Database, channel: &Token) -> StoreResult<u32> {
    #[derive(Deserialize)]
    struct Row {
        interchange: i64,
    }
    let row: Option<Row> = first(stmt(
        db,
        "INSERT INTO x12_control (channel, interchange) VALUES (?1, 1) \
         ON CONFLICT (channel) DO UPDATE SET interchange = interchange % ?2 + 1 RETURNING interchange",
        &[text(channel.as_str()), int(i64::from(MAX_CONTROL_NUMBER))],
    )?)
    .await?;
    Ok(row.and_then(|r| u32::try_from(r.interchange).ok()).unwrap_or(1))
}

/// A version as a bound parameter (versions stay far below 2^53).
fn version_arg(v: u64) -> wasm_bindgen::JsValue {
    int(i64::try_from(v).unwrap_or(i64::MAX))
}

// ---------------------------------------------------------------------------------------------
// What operators read and do

/// The columns of [`SyncRow`], from `listing_sync`.
const SYNC_SELECT: &str =
    "SELECT channel, sku, last_version, last_quantity, pushed_at, pending_version, pending_since, \
     attempts, last_error, revisions_day, revisions FROM listing_sync";

/// One listing's sync record (`listing_sync`).
#[derive(Deserialize)]
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

/// A failure not yet retried.
#[derive(Deserialize)]
pub struct FailureRow {
    pub id: i64,
    pub channel: Option<String>,
    pub sku: String,
    pub version: i64,
    pub reason: String,
    pub created_at: i64,
}

/// Every listing's sync state, by channel and SKU.
pub async fn status(db: &D1Database) -> StoreResult<Vec<SyncRow>> {
    all(stmt(db, &format!("{SYNC_SELECT} ORDER BY channel, sku"), &[])?).await
}

/// The failures not yet retried, oldest first.
pub async fn open_failures(db: &D1Database) -> StoreResult<Vec<FailureRow>> {
    all(stmt(
        db,
        "SELECT id, channel, sku, version, reason, created_at FROM sync_failures WHERE retried_at IS NULL ORDER BY id",
        &[],
    )?)
    .await
}

/// The event of the open failure `id`.
pub async fn failed_event(db: &D1Database, id: i64) -> StoreResult<Option<StockChanged>> {
    #[derive(Deserialize)]
    struct Row {
        event: String,
    }
    let row =
        first::<Row>(stmt(db, "SELECT event FROM sync_failures WHERE id = ?1 AND retried_at IS NULL", &[int(id)])?)
            .await?;
    row.map(|r| serde_json::from_str(&r.event).map_err(|e| corrupt(format!("sync failure {id} event: {e}"))))
        .transpose()
}

/// Gives the listings of `sku` their attempts back (before its failed event is sent again).
pub async fn reset_attempts(db: &D1Database, sku: &Sku) -> StoreResult<()> {
    run(stmt(db, "UPDATE listing_sync SET attempts = 0 WHERE sku = ?1", &[text(sku.as_str())])?).await?;
    Ok(())
}

/// Marks the failure `id` retried at `now`.
pub async fn mark_retried(db: &D1Database, id: i64, now: Millis) -> StoreResult<()> {
    run(stmt(db, "UPDATE sync_failures SET retried_at = ?1 WHERE id = ?2", &[int(now.0), int(id)])?).await?;
    Ok(())
}

/// Sets `channel`'s listing of `state.sku` back to the version before `state`'s, so that the
/// consumer pushes `state` to it again; `seen` (the level the platform holds, when known)
/// becomes the compare-and-set's starting point.
pub async fn rewind(
    db: &D1Database,
    channel: &Token,
    state: &StockChanged,
    seen: Option<i64>,
    now: Millis,
) -> StoreResult<()> {
    run(stmt(
        db,
        "UPDATE listing_sync SET last_version = ?1, last_quantity = COALESCE(?2, last_quantity), updated_at = ?3 \
         WHERE channel = ?4 AND sku = ?5 AND last_version >= ?6",
        &[
            int(state.version.saturating_sub(1) as i64),
            opt_int(seen),
            int(now.0),
            text(channel.as_str()),
            text(state.sku.as_str()),
            int(state.version as i64),
        ],
    )?)
    .await?;
    Ok(())
}
