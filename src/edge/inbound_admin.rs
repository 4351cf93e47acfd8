//! The operators' views of inbound traffic: `GET /v1/inbound/unmatched` (order lines that mapped
//! to no listing) and `GET /v1/inbound/drift` (levels a platform reported that StockEdge did not
//! push). Both page by id: `after` is the previous page's `next`.

use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{Env, Response, Result};

use crate::api::paging::{id_page, Filter};
use crate::inbound::LineIdentity;
use crate::time::Millis;

use super::http;
use super::store::CATALOG as DB;

/// `{"items": [...], "next": <last id>}` (`next` only when there is more).
fn paged(items: Vec<Value>, ids: Vec<i64>, limit: i64) -> Value {
    let more = ids.len() as i64 > limit;
    let items: Vec<Value> = items.into_iter().take(limit as usize).collect();
    let mut body = json!({ "items": items });
    if more {
        if let Some(last) = ids.get(limit as usize - 1) {
            body["next"] = Value::from(*last);
        }
    }
    body
}

#[derive(Deserialize)]
struct UnmatchedRow {
    id: i64,
    channel: String,
    order_id: String,
    line_id: String,
    kind: String,
    identity: String,
    qty: i64,
    received_at: i64,
}

/// `GET /v1/inbound/unmatched?channel=&after=&limit=`: inbound order lines that mapped to no
/// listing, oldest first, with the keys StockEdge looked them up by.
pub async fn unmatched(query: &[(String, String)], env: &Env) -> Result<Response> {
    let p = match id_page(query, &[Filter::Channel]) {
        Ok(p) => p,
        Err(problem) => return http::problem(&problem),
    };
    let db = env.d1(DB)?;
    let rows: Vec<UnmatchedRow> = db
        .prepare(
            "SELECT id, channel, order_id, line_id, kind, identity, qty, received_at FROM unmatched_lines \
             WHERE id > ?1 AND (?2 IS NULL OR channel = ?2) ORDER BY id LIMIT ?3",
        )
        .bind(&[
            (p.after as f64).into(),
            p.channel.as_ref().map_or(JsValue::NULL, |c| c.as_str().into()),
            ((p.limit + 1) as f64).into(),
        ])?
        .all()
        .await?
        .results()?;
    let ids = rows.iter().map(|r| r.id).collect();
    let items = rows
        .iter()
        .map(|r| {
            let identity: Option<LineIdentity> = serde_json::from_str(&r.identity).ok();
            json!({
                "id": r.id,
                "channel": r.channel,
                "order_id": r.order_id,
                "line_id": r.line_id,
                "kind": r.kind,
                "qty": r.qty,
                "sku": identity.as_ref().and_then(|i| i.sku.clone()),
                "identity": serde_json::from_str::<Value>(&r.identity).unwrap_or(Value::Null),
                "lookup_keys": identity.map(|i| i.lookup_keys()).unwrap_or_default(),
                "received_at": Millis(r.received_at).to_rfc3339(),
            })
        })
        .collect();
    http::json(200, &paged(items, ids, p.limit))
}

#[derive(Deserialize)]
struct DriftRow {
    id: i64,
    channel: String,
    sku: String,
    line_id: String,
    reported: i64,
    last_pushed: Option<i64>,
    listed: i64,
    action: String,
    occurred_at: i64,
    received_at: i64,
}

/// `GET /v1/inbound/drift?channel=&sku=&after=&limit=`: levels a platform reported that were
/// neither StockEdge's last push nor what it lists now, oldest first, with what StockEdge did.
pub async fn drift(query: &[(String, String)], env: &Env) -> Result<Response> {
    let p = match id_page(query, &[Filter::Channel, Filter::Sku]) {
        Ok(p) => p,
        Err(problem) => return http::problem(&problem),
    };
    let db = env.d1(DB)?;
    let rows: Vec<DriftRow> = db
        .prepare(
            "SELECT id, channel, sku, line_id, reported, last_pushed, listed, action, occurred_at, received_at FROM drift_events \
             WHERE id > ?1 AND (?2 IS NULL OR channel = ?2) AND (?3 IS NULL OR sku = ?3) ORDER BY id LIMIT ?4",
        )
        .bind(&[
            (p.after as f64).into(),
            p.channel.as_ref().map_or(JsValue::NULL, |c| c.as_str().into()),
            p.sku.as_ref().map_or(JsValue::NULL, |s| s.as_str().into()),
            ((p.limit + 1) as f64).into(),
        ])?
        .all()
        .await?
        .results()?;
    let ids = rows.iter().map(|r| r.id).collect();
    let items = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "channel": r.channel,
                "sku": r.sku,
                "level": r.line_id,
                "reported": r.reported,
                "last_pushed": r.last_pushed,
                "listed": r.listed,
                "action": r.action,
                "occurred_at": Millis(r.occurred_at).to_rfc3339(),
                "received_at": Millis(r.received_at).to_rfc3339(),
            })
        })
        .collect();
    http::json(200, &paged(items, ids, p.limit))
}
