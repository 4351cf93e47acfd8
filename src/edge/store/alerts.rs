//! Runs `db::alerts`: alerts recorded once, listed by id, acknowledged once.

use worker::D1Database;

use super::{batch_of, changes, read, read_first, StoreResult};
use crate::alerts::AlertKind;
use crate::api::alerts::AlertRecord;
use crate::db::alerts as sql;
use crate::stock::Sku;
use crate::sync::StockChanged;
use crate::time::Millis;

/// Records the alert of every event in `raised` that carries one (an event already recorded
/// adds nothing); answers, per alert recorded, whether it was new.
pub async fn record(db: &D1Database, raised: &[&StockChanged]) -> StoreResult<Vec<bool>> {
    batch_of(db, sql::record(raised)).await?.iter().map(|r| Ok(changes(r)? > 0)).collect()
}

/// Records the `erp_behind` alerts of `raised` (once per SKU and version); answers, per alert,
/// whether it was new.
pub async fn record_erp_behind(db: &D1Database, raised: &[&StockChanged]) -> StoreResult<Vec<bool>> {
    batch_of(db, sql::record_erp_behind(raised)).await?.iter().map(|r| Ok(changes(r)? > 0)).collect()
}

/// Up to `limit` alerts with ids above `after` (only `sku`'s, only of `kind`, when given),
/// oldest first.
pub async fn page(
    db: &D1Database,
    after: i64,
    sku: Option<&Sku>,
    kind: Option<AlertKind>,
    limit: i64,
) -> StoreResult<Vec<AlertRecord>> {
    read(db, sql::page(after, sku, kind, limit)).await
}

/// Sets the alert's `acknowledged_at` to `now` unless it was set; `None` for an unknown id.
pub async fn acknowledge(db: &D1Database, id: i64, now: Millis) -> StoreResult<Option<AlertRecord>> {
    read_first(db, sql::acknowledge(id, now)).await
}
