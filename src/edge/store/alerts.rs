//! D1 `alerts` (migrations/0007): alerts recorded once per (kind, sku, version), listed by id,
//! acknowledged once.

use worker::D1Database;

use super::{all, batch, changes, first, int, opt_text, stmt, text, StoreResult};
use crate::api::alerts::AlertRecord;
use crate::stock::Sku;
use crate::sync::StockChanged;
use crate::time::Millis;

const COLUMNS: &str =
    "id, kind, sku, version, units, oversold_total, op, channel, order_id, raised_at, acknowledged_at";

/// Records the alert of every event in `raised` that carries one (an event already recorded
/// adds nothing); answers, per event, whether its alert was new.
pub async fn record(db: &D1Database, raised: &[&StockChanged]) -> StoreResult<Vec<bool>> {
    let mut statements = Vec::with_capacity(raised.len());
    for e in raised {
        let Some(a) = &e.alert else { continue };
        let op = serde_json::to_value(a.op).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        statements.push(stmt(
            db,
            "INSERT OR IGNORE INTO alerts (kind, sku, version, units, oversold_total, op, channel, order_id, raised_at) \
             VALUES ('oversold', ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                text(e.sku.as_str()),
                int(e.version as i64),
                int(a.units),
                int(a.oversold),
                text(&op),
                opt_text(a.channel.as_deref()),
                opt_text(a.order_id.as_deref()),
                int(e.at.0),
            ],
        )?);
    }
    batch(db, statements).await?.iter().map(|r| Ok(changes(r)? > 0)).collect()
}

/// Up to `limit` alerts with ids above `after` (only `sku`'s when given), oldest first.
pub async fn page(db: &D1Database, after: i64, sku: Option<&Sku>, limit: i64) -> StoreResult<Vec<AlertRecord>> {
    all(stmt(
        db,
        &format!("SELECT {COLUMNS} FROM alerts WHERE id > ?1 AND (?2 IS NULL OR sku = ?2) ORDER BY id LIMIT ?3"),
        &[int(after), opt_text(sku.map(Sku::as_str)), int(limit)],
    )?)
    .await
}

/// Sets the alert's `acknowledged_at` to `now` unless it was set; `None` for an unknown id.
pub async fn acknowledge(db: &D1Database, id: i64, now: Millis) -> StoreResult<Option<AlertRecord>> {
    first(stmt(
        db,
        &format!("UPDATE alerts SET acknowledged_at = COALESCE(acknowledged_at, ?1) WHERE id = ?2 RETURNING {COLUMNS}"),
        &[int(now.0), int(id)],
    )?)
    .await
}
