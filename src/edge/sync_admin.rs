//! `GET /v1/sync/status`, `GET /v1/sync/failures`, `POST /v1/sync/failures/{id}/retry`:
//! what operators see of channel sync, and the one thing they can do about a failure.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Response, Result};

use crate::api::{Kind, Problem};
use crate::sync::StockChanged;
use crate::time::Millis;

use super::clock::now;
use super::http;

#[derive(Deserialize)]
struct StatusRow {
    channel: String,
    sku: String,
    last_version: Option<i64>,
    last_quantity: Option<i64>,
    pushed_at: Option<i64>,
    pending_version: Option<i64>,
    pending_since: Option<i64>,
    attempts: i64,
    last_error: Option<String>,
    revisions_day: i64,
    revisions: i64,
}

#[derive(Deserialize)]
struct FailureRow {
    id: i64,
    channel: Option<String>,
    sku: String,
    version: i64,
    reason: String,
    created_at: i64,
}

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |m| Value::from(Millis(m).to_rfc3339()))
}

pub async fn status(env: &Env) -> Result<Response> {
    let db = env.d1("CATALOG")?;
    let rows: Vec<StatusRow> = db
        .prepare(
            "SELECT channel, sku, last_version, last_quantity, pushed_at, pending_version, pending_since, attempts, last_error, \
             revisions_day, revisions \
             FROM listing_sync ORDER BY channel, sku",
        )
        .all()
        .await?
        .results()?;
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
    http::json(200, &json!({ "items": items }))
}

pub async fn failures(env: &Env) -> Result<Response> {
    let db = env.d1("CATALOG")?;
    let rows: Vec<FailureRow> = db
        .prepare("SELECT id, channel, sku, version, reason, created_at FROM sync_failures WHERE retried_at IS NULL ORDER BY id")
        .all()
        .await?
        .results()?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| json!({"id": r.id, "channel": r.channel, "sku": r.sku, "version": r.version, "reason": r.reason, "at": time(Some(r.created_at))}))
        .collect();
    http::json(200, &json!({ "items": items }))
}

#[derive(Deserialize)]
struct EventRow {
    event: String,
}

/// Sends the failed event to the queue again and marks the failure retried.
pub async fn retry(env: &Env, id: i64) -> Result<Response> {
    let db = env.d1("CATALOG")?;
    let row: Option<EventRow> = db
        .prepare("SELECT event FROM sync_failures WHERE id = ? AND retried_at IS NULL")
        .bind(&[(id as f64).into()])?
        .first(None)
        .await?;
    let Some(row) = row else {
        return http::problem(
            &Problem::new(Kind::NotFound, format!("no open sync failure {id}")).with("resource", "sync failure"),
        );
    };
    let event: StockChanged = serde_json::from_str(&row.event).map_err(|e| worker::Error::RustError(e.to_string()))?;
    db.prepare("UPDATE listing_sync SET attempts = 0 WHERE sku = ?").bind(&[event.sku.as_str().into()])?.run().await?;
    env.queue("STOCK_CHANGES")?.send(&event).await?;
    db.prepare("UPDATE sync_failures SET retried_at = ? WHERE id = ?")
        .bind(&[(now().0 as f64).into(), (id as f64).into()])?
        .run()
        .await?;
    http::json(200, &json!({ "id": id, "retried": true, "sku": event.sku.as_str(), "version": event.version }))
}
