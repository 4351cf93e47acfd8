//! Runs `db::reconcile`: the channels and listings a reconciliation run reads, what it records,
//! the cron's cursor, and what operators list and repair.

use worker::D1Database;

pub use crate::db::reconcile::{ReadRecord, ReconcileListingRow, ReconcileRow};

use super::{batch_of, execute, read, read_first, StoreResult};
use crate::db::channels::ChannelRow;
use crate::db::reconcile::{self as sql, CursorRow};
use crate::db::Query;
use crate::reconcile::limits::WRITES_PER_BATCH;
use crate::stock::{Sku, Token};
use crate::time::Millis;

/// The enabled channels (or only `only`).
pub async fn channels(db: &D1Database, only: Option<&Token>) -> StoreResult<Vec<ChannelRow>> {
    read(db, sql::channels(only)).await
}

/// Up to `limit` listings of enabled channels after `after`, with their sync records.
pub async fn listings(
    db: &D1Database,
    only: Option<&Token>,
    after: Option<(&Token, &Sku)>,
    limit: usize,
) -> StoreResult<Vec<ReconcileListingRow>> {
    read(db, sql::listings(only, after, limit)).await
}

/// Records a channel's reads and the drift they found (or the repairs of drifted listings),
/// [`WRITES_PER_BATCH`] statements a batch.
pub async fn record(db: &D1Database, writes: Vec<Query>) -> StoreResult<()> {
    for chunk in writes.chunks(WRITES_PER_BATCH) {
        batch_of(db, chunk.to_vec()).await?;
    }
    Ok(())
}

/// The listing the cron's pass continues after.
pub async fn cursor(db: &D1Database) -> StoreResult<Option<(Token, Sku)>> {
    Ok(read_first::<CursorRow>(db, sql::cursor()).await?.and_then(|c| c.after()))
}

/// Keeps where the cron's pass stands (`None`: start over).
pub async fn save_cursor(db: &D1Database, after: Option<(&Token, &Sku)>, now: Millis) -> StoreResult<()> {
    execute(db, sql::save_cursor(after, now)).await.map(drop)
}

/// Recorded reads, paged by id.
pub async fn page(
    db: &D1Database,
    after: i64,
    filters: (Option<&Token>, Option<&Sku>),
    drifted: bool,
    limit: i64,
) -> StoreResult<Vec<ReconcileRow>> {
    read(db, sql::page(after, filters, drifted, limit)).await
}

/// A channel's drifted listings (or one SKU's), for a repair.
pub async fn drifted(
    db: &D1Database,
    channel: &Token,
    sku: Option<&Sku>,
    limit: usize,
) -> StoreResult<Vec<ReconcileRow>> {
    read(db, sql::drifted(channel, sku, limit)).await
}
