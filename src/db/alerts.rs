//! D1 `alerts` (migrations/0007, rebuilt by 0011): alerts recorded once per (kind, subject,
//! version), listed by id, acknowledged once. The rows are `api::alerts::AlertRecord`s.

use super::{count, int, opt_text, text, Query};
use crate::alerts::{AlertKind, AlertMessage};
use crate::stock::Sku;
use crate::sync::StockChanged;
use crate::time::Millis;

const COLUMNS: &str = "id, kind, subject, sku, version, units, oversold_total, op, channel, order_id, detail, \
                       raised_at, acknowledged_at";

/// The inserts of the alerts the events in `raised` carry (an event already recorded adds
/// nothing), in order; an event without an alert has none.
pub fn record(raised: &[&StockChanged]) -> Vec<Query> {
    raised
        .iter()
        .filter_map(|e| {
            let a = e.alert.as_ref()?;
            let op = serde_json::to_value(a.op).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let q = Query::new(
                "INSERT OR IGNORE INTO alerts (kind, subject, sku, version, units, oversold_total, op, channel, order_id, raised_at) \
                 VALUES ('oversold', ?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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

/// The inserts of the `erp_behind` alerts the events in `raised` carry, once per (SKU, version);
/// `detail` lists the locations that fell behind with their unconfirmed documents.
pub fn record_erp_behind(raised: &[&StockChanged]) -> Vec<Query> {
    raised
        .iter()
        .filter(|e| !e.erp_behind.is_empty())
        .map(|e| {
            let detail = serde_json::json!({ "locations": e.erp_behind }).to_string();
            Query::new(
                "INSERT OR IGNORE INTO alerts (kind, subject, sku, version, detail, raised_at) \
                 VALUES ('erp_behind', ?1, ?1, ?2, ?3, ?4)",
                vec![text(e.sku.as_str()), count(e.version), text(&detail), int(e.at.0)],
            )
        })
        .collect()
}

/// The read of up to `limit` alerts with ids above `after` (only `sku`'s, only of `kind`, when
/// given), oldest first (`AlertRecord`s).
pub fn page(after: i64, sku: Option<&Sku>, kind: Option<AlertKind>, limit: i64) -> Query {
    Query::new(
        format!(
            "SELECT {COLUMNS} FROM alerts WHERE id > ?1 AND (?2 IS NULL OR sku = ?2) AND (?3 IS NULL OR kind = ?3) \
             ORDER BY id LIMIT ?4"
        ),
        vec![int(after), opt_text(sku.map(Sku::as_str)), opt_text(kind.map(AlertKind::as_str)), int(limit)],
    )
}

/// The insert of the alert a problem raises when it opens (kinds other than `oversold`, whose
/// alerts are the changes' own): once per (kind, subject, version).
pub fn raise(m: &AlertMessage, version: u64) -> Query {
    Query::new(
        "INSERT OR IGNORE INTO alerts (kind, subject, sku, version, channel, detail, raised_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            text(m.kind.as_str()),
            text(&m.subject),
            opt_text(m.sku.as_deref()),
            count(version),
            opt_text(m.channel.as_deref()),
            text(&m.detail.to_string()),
            int(m.at.0),
        ],
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
