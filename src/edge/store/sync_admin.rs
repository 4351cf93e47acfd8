//! What operators read and do over the sync state (`listing_sync`, `sync_failures`,
//! migrations/0002): the status of every listing's sync, the open failures, a failure's retry,
//! and setting a listing back so that it takes a SKU's state again. The queue consumer's own
//! queries over these tables are in `store::sync_state`.

use serde::Deserialize;
use worker::D1Database;

use super::{all, corrupt, first, int, opt_int, run, stmt, text, StoreResult};
use crate::stock::{Sku, Token};
use crate::sync::StockChanged;
use crate::time::Millis;

/// One listing's sync state.
#[derive(Deserialize)]
pub struct StatusRow {
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
pub async fn status(db: &D1Database) -> StoreResult<Vec<StatusRow>> {
    all(stmt(
        db,
        "SELECT channel, sku, last_version, last_quantity, pushed_at, pending_version, pending_since, attempts, last_error, \
         revisions_day, revisions FROM listing_sync ORDER BY channel, sku",
        &[],
    )?)
    .await
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
