//! D1 `alerts` (migrations/0007_alerts.sql): the queue consumer records the alerts that
//! `StockChanged` events carry; operators list them (`GET /v1/alerts`) and acknowledge them
//! (`POST /v1/alerts/{id}/acknowledge`). What raises an alert is decided in the SKU object by
//! `stock::oversold_alert`; what a query or an answer looks like is `api::alerts`.

use worker::{console_warn, D1Database, Env, Response};

use crate::api::alerts::{alert_page, alerts_query, AlertView};
use crate::api::{Kind, Problem};
use crate::fault::Fault;
use crate::sync::StockChanged;

use super::clock::now;
use super::{http, store};

/// Records the alert of every event that carries one, once per (kind, sku, version): a
/// redelivered or re-queued event adds nothing. Warns in the log for each alert newly recorded.
pub async fn record(db: &D1Database, events: &[StockChanged]) -> Result<(), Fault> {
    let raised: Vec<&StockChanged> = events.iter().filter(|e| e.alert.is_some()).collect();
    if raised.is_empty() {
        return Ok(());
    }
    let inserted = store::alerts::record(db, &raised).await?;
    for (e, new) in raised.iter().zip(inserted) {
        if let (true, Some(a)) = (new, &e.alert) {
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
pub async fn list(query: &[(String, String)], env: &Env) -> Result<Response, Fault> {
    let q = match alerts_query(query) {
        Ok(q) => q,
        Err(p) => return Ok(http::problem(&p)?),
    };
    let rows = store::alerts::page(&store::db(env)?, q.after, q.sku.as_ref(), q.limit + 1).await?;
    Ok(http::json(200, &alert_page(rows, q.limit))?)
}

/// `POST /v1/alerts/{id}/acknowledge`: sets `acknowledged_at` the first time; later calls
/// answer the alert as it is. An unknown id is `404 not-found`.
pub async fn acknowledge(env: &Env, id: i64) -> Result<Response, Fault> {
    match store::alerts::acknowledge(&store::db(env)?, id, now()).await? {
        Some(r) => Ok(http::json(200, &AlertView::from(r))?),
        None => Ok(http::problem(&Problem::new(Kind::NotFound, format!("no alert {id}")).with("resource", "alert"))?),
    }
}
