//! D1 `alerts` (migrations/0007): alerts recorded once per (kind, sku, version), listed by id,
//! acknowledged once. The rows are `api::alerts::AlertRecord`s.

use super::{count, int, opt_text, text, Query};
use crate::stock::Sku;
use crate::sync::StockChanged;
use crate::time::Millis;

const COLUMNS: &str =
    "id, kind, sku, version, units, oversold_total, op, channel, order_id, raised_at, acknowledged_at";

/// The inserts of the alerts the events in `raised` carry (an event already recorded adds
/// nothing), in order; an event without an alert has none.
pub fn record(raised: &[&StockChanged]) -> Vec<Query> {
    raised
        .iter()
        .filter_map(|e| {
            let a = e.alert.as_ref()?;
            let op = serde_json::to_value(a.op).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let q = Query::new(
                "INSERT OR IGNORE INTO alerts (kind, sku, version, units, oversold_total, op, channel, order_id, raised_at) \
                 VALUES ('oversold', ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    text(e.sku.as_str()),
                    count(e.version),
                    int(a.units),
                    int(a.oversold),
                    text(&op),
                    opt_text(a.channel.as_deref()),
                    opt_text(a.order_id.as_deref()),
                    int(e.at.0),
                ],
            );
            Some(q)
        })
        .collect()
}

/// The read of up to `limit` alerts with ids above `after` (only `sku`'s when given), oldest
/// first (`AlertRecord`s).
pub fn page(after: i64, sku: Option<&Sku>, limit: i64) -> Query {
    Query::new(
        format!("SELECT {COLUMNS} FROM alerts WHERE id > ?1 AND (?2 IS NULL OR sku = ?2) ORDER BY id LIMIT ?3"),
        vec![int(after), opt_text(sku.map(Sku::as_str)), int(limit)],
    )
}

/// The update setting the alert's `acknowledged_at` to `now` unless it was set, answering the
/// alert (`AlertRecord`; none for an unknown id).
pub fn acknowledge(id: i64, now: Millis) -> Query {
    Query::new(
        format!("UPDATE alerts SET acknowledged_at = COALESCE(acknowledged_at, ?1) WHERE id = ?2 RETURNING {COLUMNS}"),
        vec![int(now.0), int(id)],
    )
}
