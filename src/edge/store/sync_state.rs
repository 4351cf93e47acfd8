//! Runs `db::sync_state`: what the `stock-changes` consumer reads and writes of outbound sync,
//! and what operators read and do over it.

use std::collections::BTreeMap;

use worker::D1Database;

pub use crate::db::sync_state::{ChannelRecord, FailureRow, SyncRow};

use super::{batch_of, execute, read, read_first, rows, StoreResult};
use crate::catalog::model::Listing;
use crate::db::sync_state as sql;
use crate::stock::{Sku, Token};
use crate::sync::{CorruptListing, DailyRevisions, FailureRecord, ListingId, StockChanged, SyncWrite, Synced};
use crate::time::Millis;

/// The listings of `skus` on enabled channels (a row that cannot be read comes back as a
/// [`CorruptListing`]) and their channels.
pub async fn listings(
    db: &D1Database,
    skus: &[Sku],
) -> StoreResult<(Vec<Result<Listing, CorruptListing>>, BTreeMap<Token, ChannelRecord>)> {
    let (mut listing_rows, mut channel_rows) = (Vec::new(), Vec::new());
    for (i, r) in batch_of(db, sql::listings(skus)).await?.iter().enumerate() {
        if i % 2 == 0 {
            listing_rows.extend(rows(r)?);
        } else {
            channel_rows.extend(rows(r)?);
        }
    }
    Ok(sql::listings_of(listing_rows, channel_rows))
}

/// The sync records of the listings of `skus`.
pub async fn synced(db: &D1Database, skus: &[Sku]) -> StoreResult<BTreeMap<ListingId, Synced>> {
    let mut rows = Vec::new();
    for q in sql::synced(skus) {
        rows.extend(read(db, q).await?);
    }
    Ok(sql::synced_of(rows))
}

/// Keeps today's revision count of each eBay listing about to be pushed (one batch).
pub async fn count_revisions(db: &D1Database, counts: &[(ListingId, DailyRevisions)], now: i64) -> StoreResult<()> {
    batch_of(db, sql::count_revisions(counts, now)).await.map(drop)
}

/// Writes the listings' sync records and the failures of one batch (one transaction).
pub async fn settle(db: &D1Database, writes: &[SyncWrite], failures: &[FailureRecord]) -> StoreResult<()> {
    batch_of(db, sql::settle(writes, failures)?).await.map(drop)
}

/// The next interchange control number of a wholesale channel.
pub async fn next_interchange(db: &D1Database, channel: &Token) -> StoreResult<u32> {
    Ok(sql::interchange_of(read_first(db, sql::next_interchange(channel)).await?))
}

/// Every listing's sync state, by channel and SKU.
pub async fn status(db: &D1Database) -> StoreResult<Vec<SyncRow>> {
    read(db, sql::status()).await
}

/// The failures not yet retried, oldest first.
pub async fn open_failures(db: &D1Database) -> StoreResult<Vec<FailureRow>> {
    read(db, sql::open_failures()).await
}

/// The event of the open failure `id`.
pub async fn failed_event(db: &D1Database, id: i64) -> StoreResult<Option<StockChanged>> {
    sql::failed_event_of(id, read_first(db, sql::failed_event(id)).await?)
}

/// Gives the listings of `sku` their attempts back (before its failed event is sent again).
pub async fn reset_attempts(db: &D1Database, sku: &Sku) -> StoreResult<()> {
    execute(db, sql::reset_attempts(sku)).await.map(drop)
}

/// Marks the failure `id` retried at `now`.
pub async fn mark_retried(db: &D1Database, id: i64, now: Millis) -> StoreResult<()> {
    execute(db, sql::mark_retried(id, now)).await.map(drop)
}

/// Sets `channel`'s listing of `state.sku` back so that the consumer pushes `state` to it again.
pub async fn rewind(
    db: &D1Database,
    channel: &Token,
    state: &StockChanged,
    seen: Option<i64>,
    now: Millis,
) -> StoreResult<()> {
    execute(db, sql::rewind(channel, state, seen, now)).await.map(drop)
}
