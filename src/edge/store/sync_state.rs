//! Runs `db::sync_state`: what the `stock-changes` consumer reads and writes of outbound sync,
//! and what operators read and do over it.

use std::collections::BTreeMap;

use worker::{D1Database, D1Result};

pub use crate::db::sync_state::{ChannelRecord, FailureRow, SyncRow};

use super::{batch_groups, batch_of, execute, read, read_first, rows, Query, StoreResult};
use crate::catalog::model::Listing;
use crate::db::groups::{Answered, Group, Groups};
use crate::db::sync_state as sql;
use crate::stock::{Sku, Token};
use crate::sync::{CorruptListing, DailyRevisions, FailureRecord, ListingId, StockChanged, SyncWrite, Synced};
use crate::time::Millis;

/// The listings of some SKUs on enabled channels (a row that cannot be read is a
/// [`CorruptListing`]), their channels, and the listings' sync records.
#[derive(Default)]
pub struct ListingFacts {
    pub listings: Vec<Result<Listing, CorruptListing>>,
    pub channels: BTreeMap<Token, ChannelRecord>,
    pub synced: BTreeMap<ListingId, Synced>,
}

impl ListingFacts {
    /// Adds the facts of other SKUs (a batch's bundles, read after its components).
    pub fn extend(&mut self, other: ListingFacts) {
        self.listings.extend(other.listings);
        self.channels.extend(other.channels);
        self.synced.extend(other.synced);
    }
}

/// [`listing_facts`]' read as groups of a larger batch (the sync consumer sends it with its
/// other reads in one round trip).
pub struct ListingFactsRead {
    /// Per chunk of SKUs, its listings then their channels (`sql::listings`).
    listings: Group,
    synced: Group,
}

impl ListingFactsRead {
    pub fn add(groups: &mut Groups, skus: &[Sku]) -> ListingFactsRead {
        ListingFactsRead { listings: groups.add(sql::listings(skus)), synced: groups.add(sql::synced(skus)) }
    }

    pub fn decode(self, answered: &mut Answered<D1Result>) -> StoreResult<ListingFacts> {
        let (mut listing_rows, mut channel_rows) = (Vec::new(), Vec::new());
        for (i, r) in answered.take(self.listings).iter().enumerate() {
            if i % 2 == 0 {
                listing_rows.extend(rows(r)?);
            } else {
                channel_rows.extend(rows(r)?);
            }
        }
        let (listings, channels) = sql::listings_of(listing_rows, channel_rows);
        let mut synced_rows = Vec::new();
        for r in answered.take(self.synced) {
            synced_rows.extend(rows(&r)?);
        }
        Ok(ListingFacts { listings, channels, synced: sql::synced_of(synced_rows) })
    }
}

/// The listings of `skus`, their channels and sync records, in one batch.
pub async fn listing_facts(db: &D1Database, skus: &[Sku]) -> StoreResult<ListingFacts> {
    let mut groups = Groups::new();
    let read = ListingFactsRead::add(&mut groups, skus);
    read.decode(&mut batch_groups(db, groups).await?)
}

/// Keeps today's revision count of each eBay listing about to be pushed (one batch).
pub async fn count_revisions(db: &D1Database, counts: &[(ListingId, DailyRevisions)], now: i64) -> StoreResult<()> {
    batch_of(db, sql::count_revisions(counts, now)).await.map(drop)
}

/// Writes the listings' sync records and the failures of one queue batch, with `counts` (the
/// batch's change counters, `edge::metrics::change_counts`), in one transaction.
pub async fn settle(
    db: &D1Database,
    writes: &[SyncWrite],
    failures: &[FailureRecord],
    counts: Vec<Query>,
) -> StoreResult<()> {
    batch_of(db, sql::settle(writes, failures)?.into_iter().chain(counts)).await.map(drop)
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
