//! Forwarded adjustment requests carried to their ERP (docs/erp.md "Adjustment requests to the
//! ERP"), on the cron after the stock polls: each pending request due (`db::erp_adjustments::due`)
//! is taken under a lease, sent as a signed `adjustment.requested` document to its webhook ERP
//! (Idempotency-Key: the request's id) or applied as an inventory posting in Odoo, SAP B1 or
//! NetSuite (`erp_adjust_vendors`), and its row records what `erp::adjustment_out` decides:
//! `sent`, `pending` after the back-off, or `dead`.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use worker::Env;

use crate::db::erp_adjustments::{self as sql, ClaimedRow, DueRow};
use crate::erp::adjustment_out::{after_attempt, Status};
use crate::erp::connection::ErpKind;
use crate::erp::connectors::webhook::{self, AdjustmentEvent};
use crate::erp::connectors::CallFailure;
use crate::erp::master::Requested;
use crate::fault::Fault;
use crate::stock::{Location, Sku};
use crate::sync::RetryPolicy;
use crate::time::Millis;

use super::clock::now;
use super::erp_adjust_vendors as vendors;
use super::erp_orders::{connection_secret, send_webhook};
use super::limits::ADJUSTMENTS_PER_RUN;
use super::store;

/// Delivers the requests due; a summary of what happened (D1 failures are returned).
pub async fn run(env: &Env) -> Result<Value, Fault> {
    let db = store::db(env)?;
    let due: Vec<DueRow> = store::read(&db, sql::due(now(), ADJUSTMENTS_PER_RUN)).await?;
    let policy = RetryPolicy::default();
    let mut counts: BTreeMap<&'static str, u32> = BTreeMap::new();
    for r in due {
        let Some(claimed) = store::read_first::<ClaimedRow>(&db, sql::claim(r.id, now())).await? else {
            *counts.entry("busy").or_default() += 1;
            continue;
        };
        // The connection and its codes came with the row (`sql::due`): no other read.
        let conn = r.connection()?;
        let result = match (event(&r), connection_secret(env, &conn)) {
            (Ok(e), Ok(secret)) if conn.kind == ErpKind::Webhook => {
                let req = webhook::request(&e.body(), &e.idempotency_key(), secret.as_bytes(), now());
                send_webhook(&conn.base_url, &req).await
            }
            (Ok(e), Ok(secret)) => vendors::send(&secret, &conn, &e).await,
            (Err(f), _) | (_, Err(f)) => Err(f),
        };
        let attempts = u32::try_from(claimed.attempts).unwrap_or(0);
        let after = after_attempt(&result, attempts, now(), &policy);
        store::execute(&db, sql::save(r.id, &after)).await?;
        *counts.entry(after.status.as_str()).or_default() += 1;
    }
    let count = |s: Status| counts.get(s.as_str()).copied().unwrap_or(0);
    Ok(json!({
        "sent": count(Status::Sent),
        "pending": count(Status::Pending),
        "dead": count(Status::Dead),
        "busy": counts.get("busy").copied().unwrap_or(0),
    }))
}

/// The document for row `r`, with the connection's codes read with it (a row that does not read
/// back is refused: a dead request naming why).
fn event(r: &DueRow) -> Result<AdjustmentEvent, CallFailure> {
    let refused = |why: String| Err(CallFailure::Refused(format!("adjustment request {}: {why}", r.id)));
    let (sku, location) = match (Sku::parse(&r.sku), Location::parse(&r.location)) {
        (Ok(s), Ok(l)) => (s, l),
        _ => return refused(format!("SKU {:?} or location {:?} does not read back", r.sku, r.location)),
    };
    let change = match r.op.as_str() {
        "set" => Requested::Set { on_hand: r.quantity },
        "adjust" => Requested::Adjust { delta: r.quantity },
        other => return refused(format!("op {other:?}")),
    };
    Ok(AdjustmentEvent {
        id: r.id,
        sku,
        item_code: r.item_code.clone(),
        location,
        warehouse: r.warehouse_code.clone(),
        change,
        reason: r.reason.clone(),
        requested_at: Millis(r.requested_at),
    })
}
