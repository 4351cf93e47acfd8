//! D1 state of outbound sync, as the `stock-changes` consumer reads and writes it: the listings
//! of changed SKUs with their channels (`listings` ⨝ `channels`), each listing's sync record
//! (`listing_sync`: last pushed, pending, attempts, eBay's daily revisions), failures kept for an
//! operator (`sync_failures`) and wholesale interchange control numbers (`x12_control`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use worker::D1Database;

use super::{all, batch, first, int, opt_text, placeholders, stmt, text, StoreError, StoreResult, IN_CHUNK};
use crate::catalog::model::{ChannelKind, External, Listing};
use crate::catalog::StoredRule;
use crate::stock::{Sku, Token};
use crate::sync::x12::MAX_CONTROL_NUMBER;
use crate::sync::{CorruptListing, DailyRevisions, FailureRecord, LastPushed, ListingId, SyncWrite, Synced};

/// A listing joined with its (enabled) channel.
#[derive(Deserialize)]
struct ListingRow {
    channel: String,
    sku: String,
    external: String,
    buffer: i64,
    percent: i64,
    max_listed: Option<i64>,
    zero_at_or_below: Option<i64>,
    kind: String,
    account: String,
    credentials_secret: Option<String>,
    settings: String,
}

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
    let mut listings = Vec::new();
    let mut channels = BTreeMap::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT l.channel, l.sku, l.external, l.buffer, l.percent, l.max_listed, l.zero_at_or_below, \
             c.kind, c.account, c.credentials_secret, c.settings \
             FROM listings l JOIN channels c ON c.channel = l.channel WHERE c.enabled = 1 AND l.sku IN ({})",
            placeholders(chunk.len())
        );
        let args: Vec<_> = chunk.iter().map(|s| text(s.as_str())).collect();
        for r in all::<ListingRow>(stmt(db, &sql, &args)?).await? {
            let (Ok(channel), Ok(sku)) = (Token::parse(&r.channel), Sku::parse(&r.sku)) else { continue };
            let key = ListingId { channel: channel.clone(), sku: sku.clone() };
            let corrupt = |reason: String| Err(CorruptListing { key: key.clone(), reason });
            let Some(kind) = ChannelKind::parse(&r.kind) else {
                listings.push(corrupt(format!("unknown channel kind {:?}", r.kind)));
                continue;
            };
            let rule = StoredRule {
                buffer: r.buffer,
                percent: r.percent,
                max_listed: r.max_listed,
                zero_at_or_below: r.zero_at_or_below,
            };
            let external =
                serde_json::from_str::<Value>(&r.external).ok().and_then(|v| External::from_stored(kind, &v));
            listings.push(match (rule.rule(), external) {
                (Ok(rule), Some(external)) => Ok(Listing { channel: channel.clone(), sku, external, rule }),
                (Err(e), _) => corrupt(format!("listing rule: {e}")),
                (_, None) => corrupt(format!("unreadable {} listing identity", kind.as_str())),
            });
            channels.entry(channel).or_insert_with(|| ChannelRecord {
                kind,
                account: r.account,
                credentials_secret: r.credentials_secret,
                settings: serde_json::from_str(&r.settings).unwrap_or_default(),
            });
        }
    }
    Ok((listings, channels))
}

#[derive(Deserialize)]
struct SyncRow {
    channel: String,
    sku: String,
    last_version: Option<i64>,
    last_quantity: Option<i64>,
    attempts: i64,
    revisions_day: i64,
    revisions: i64,
}

/// The sync records of the listings of `skus`.
pub async fn synced(db: &D1Database, skus: &[Sku]) -> StoreResult<BTreeMap<ListingId, Synced>> {
    let mut out = BTreeMap::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT channel, sku, last_version, last_quantity, attempts, revisions_day, revisions \
             FROM listing_sync WHERE sku IN ({})",
            placeholders(chunk.len())
        );
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
