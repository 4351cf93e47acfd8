//! `GET /v1/sync/status`, `GET /v1/sync/failures`, `POST /v1/sync/failures/{id}/retry`:
//! what operators see of channel sync, and the one thing they can do about a failure.

use serde_json::{json, Value};
use worker::{Env, Response};

use crate::api::{Kind, Problem};
use crate::fault::Fault;
use crate::time::Millis;

use super::clock::now;
use super::{http, store};

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |m| Value::from(Millis(m).to_rfc3339()))
}

pub async fn status(env: &Env) -> Result<Response, Fault> {
    let rows = store::sync_state::status(&store::db(env)?).await?;
    let t = now().0;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "channel": r.channel, "sku": r.sku,
                "last_version": r.last_version, "last_quantity": r.last_quantity, "pushed_at": time(r.pushed_at),
                "pending_version": r.pending_version, "attempts": r.attempts, "last_error": r.last_error,
                "lag_ms": r.pending_since.map_or(0, |s| (t - s).max(0)),
                "revisions_today": if r.revisions_day == t.div_euclid(86_400_000) { r.revisions } else { 0 },
            })
        })
        .collect();
    Ok(http::json(200, &json!({ "items": items }))?)
}

pub async fn failures(env: &Env) -> Result<Response, Fault> {
    let rows = store::sync_state::open_failures(&store::db(env)?).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| json!({"id": r.id, "channel": r.channel, "sku": r.sku, "version": r.version, "reason": r.reason, "at": time(Some(r.created_at))}))
        .collect();
    Ok(http::json(200, &json!({ "items": items }))?)
}

/// Sends the failed event to the queue again and marks the failure retried.
pub async fn retry(env: &Env, id: i64) -> Result<Response, Fault> {
    let db = store::db(env)?;
    let Some(event) = store::sync_state::failed_event(&db, id).await? else {
        return Ok(http::problem(
            &Problem::new(Kind::NotFound, format!("no open sync failure {id}")).with("resource", "sync failure"),
        )?);
    };
    store::sync_state::reset_attempts(&db, &event.sku).await?;
    env.queue("STOCK_CHANGES")?.send(&event).await?;
    store::sync_state::mark_retried(&db, id, now()).await?;
    Ok(http::json(200, &json!({ "id": id, "retried": true, "sku": event.sku.as_str(), "version": event.version }))?)
}
