//! The operators' views of inbound traffic: `GET /v1/inbound/unmatched` (order lines that mapped
//! to no listing) and `GET /v1/inbound/drift` (levels a platform reported that StockEdge did not
//! push). Both page by id: `after` is the previous page's `next`.

use serde_json::{json, Value};
use worker::{Env, Response};

use crate::api::paging::{id_page, Filter};
use crate::fault::Fault;
use crate::inbound::LineIdentity;
use crate::time::Millis;

use super::{http, store};

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

/// `GET /v1/inbound/unmatched?channel=&after=&limit=`: inbound order lines that mapped to no
/// listing, oldest first, with the keys StockEdge looked them up by.
pub async fn unmatched(query: &[(String, String)], env: &Env) -> Result<Response, Fault> {
    let p = match id_page(query, &[Filter::Channel]) {
        Ok(p) => p,
        Err(problem) => return Ok(http::problem(&problem)?),
    };
    let rows = store::inbound::unmatched(&store::db(env)?, p.after, p.channel.as_ref(), p.limit + 1).await?;
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
    Ok(http::json(200, &paged(items, ids, p.limit))?)
}

/// `GET /v1/inbound/drift?channel=&sku=&after=&limit=`: levels a platform reported that were
/// neither StockEdge's last push nor what it lists now, oldest first, with what StockEdge did.
pub async fn drift(query: &[(String, String)], env: &Env) -> Result<Response, Fault> {
    let p = match id_page(query, &[Filter::Channel, Filter::Sku]) {
        Ok(p) => p,
        Err(problem) => return Ok(http::problem(&problem)?),
    };
    let filters = (p.channel.as_ref(), p.sku.as_ref());
    let rows = store::inbound::drift(&store::db(env)?, p.after, filters, p.limit + 1).await?;
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
    Ok(http::json(200, &paged(items, ids, p.limit))?)
}
