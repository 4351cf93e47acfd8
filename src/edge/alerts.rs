//! D1 `alerts` (migrations/0007_alerts.sql): the queue consumer records the alerts that
//! `StockChanged` events carry; operators list them (`GET /v1/alerts`) and acknowledge them
//! (`POST /v1/alerts/{id}/acknowledge`). What raises an alert is decided in the SKU object by
//! `stock::oversold_alert`; what a query or an answer looks like is `api::alerts`.

use wasm_bindgen::JsValue;
use worker::{console_warn, D1Database, Env, Response, Result};

use crate::api::alerts::{alert_page, alerts_query, AlertRecord, AlertView};
use crate::api::{Kind, Problem};
use crate::sync::StockChanged;

use super::clock::now;
use super::http;

const DB: &str = "CATALOG";
const COLUMNS: &str =
    "id, kind, sku, version, units, oversold_total, op, channel, order_id, raised_at, acknowledged_at";

/// Records the alert of every event that carries one, once per (kind, sku, version): a
/// redelivered or re-queued event adds nothing. Warns in the log for each alert newly recorded.
pub async fn record(db: &D1Database, events: &[StockChanged]) -> Result<()> {
    let raised: Vec<&StockChanged> = events.iter().filter(|e| e.alert.is_some()).collect();
    let mut statements = Vec::with_capacity(raised.len());
    for e in &raised {
        let Some(a) = &e.alert else { continue };
        let op = serde_json::to_value(a.op).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        statements.push(
            db.prepare(
                "INSERT OR IGNORE INTO alerts (kind, sku, version, units, oversold_total, op, channel, order_id, raised_at) \
                 VALUES ('oversold', ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&[
                e.sku.as_str().into(),
                (e.version as f64).into(),
                (a.units as f64).into(),
                (a.oversold as f64).into(),
                op.into(),
                a.channel.as_deref().map_or(JsValue::NULL, JsValue::from),
                a.order_id.as_deref().map_or(JsValue::NULL, JsValue::from),
                (e.at.0 as f64).into(),
            ])?,
        );
    }
    if statements.is_empty() {
        return Ok(());
    }
    let results = db.batch(statements).await?;
    for (e, r) in raised.iter().zip(results) {
        let inserted = r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0) > 0;
        if let (true, Some(a)) = (inserted, &e.alert) {
            console_warn!(
                "OVERSOLD sku={} version={} units={} oversold={} channel={} order_id={}",
                e.sku,
                e.version,
                a.units,
                a.oversold,
                a.channel.as_deref().unwrap_or("-"),
                a.order_id.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

/// `GET /v1/alerts?sku=&after=&limit=`: alerts oldest first, with `next` when more follow.
pub async fn list(query: &[(String, String)], env: &Env) -> Result<Response> {
    let q = match alerts_query(query) {
        Ok(q) => q,
        Err(p) => return http::problem(&p),
    };
    let rows: Vec<AlertRecord> = env
        .d1(DB)?
        .prepare(format!(
            "SELECT {COLUMNS} FROM alerts WHERE id > ?1 AND (?2 IS NULL OR sku = ?2) ORDER BY id LIMIT ?3"
        ))
        .bind(&[
            (q.after as f64).into(),
            q.sku.as_ref().map_or(JsValue::NULL, |s| s.as_str().into()),
            ((q.limit + 1) as f64).into(),
        ])?
        .all()
        .await?
        .results()?;
    http::json(200, &alert_page(rows, q.limit))
}

/// `POST /v1/alerts/{id}/acknowledge`: sets `acknowledged_at` the first time; later calls
/// answer the alert as it is. An unknown id is `404 not-found`.
pub async fn acknowledge(env: &Env, id: i64) -> Result<Response> {
    let row: Option<AlertRecord> = env
        .d1(DB)?
        .prepare(format!(
            "UPDATE alerts SET acknowledged_at = COALESCE(acknowledged_at, ?1) WHERE id = ?2 RETURNING {COLUMNS}"
        ))
        .bind(&[(now().0 as f64).into(), (id as f64).into()])?
        .first(None)
        .await?;
    match row {
        Some(r) => http::json(200, &AlertView::from(r)),
        None => http::problem(&Problem::new(Kind::NotFound, format!("no alert {id}")).with("resource", "alert")),
    }
}
