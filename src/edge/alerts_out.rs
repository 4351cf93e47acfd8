//! Alerts out, the shell: the destinations endpoints, sending problem messages to the
//! `alerts-out` queue (one message per destination and alert message), and that queue's
//! consumer, which renders, signs and POSTs each one.
//!
//! Exactly once per (destination, message), as far as a receiver can tell: the consumer reads
//! the delivery's record before sending and sends nothing when it is settled (`delivered` or
//! `failed`); it records the outcome *after* the destination answered. A queue redelivery after a
//! recorded success therefore sends nothing. The one window left — the destination took it and
//! the record could not be written (D1 down at that instant) — makes the message come again;
//! every attempt carries the same `X-StockEdge-Delivery` id so such a receiver can drop the
//! repeat. Recording *before* sending would instead lose a message whenever the send fails
//! after the record, which is worse for an alert. Messages of one batch with the same delivery
//! id (the same problem evaluated twice at once) are sent once.
//!
//! 2xx → `delivered`; 408, 429, 5xx or no answer → the queue retries the message after a backoff
//! (`Retry-After` when the destination sends one), counted in the record (`pending`); any other
//! answer, or `alerts::limits::MAX_DELIVERY_ATTEMPTS` attempts, → `failed`.

use std::collections::BTreeSet;

use worker::{
    console_error, console_warn, D1Database, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Response,
};

use crate::alerts::delivery::{judge, Attempt};
use crate::alerts::destination::{destination_body, too_many, DestinationView};
use crate::alerts::limits::{MAX_DESTINATIONS, MAX_ERROR_CHARS};
use crate::alerts::message::OutMessage;
use crate::alerts::render::render;
use crate::alerts::AlertMessage;
use crate::api::{Kind, Problem};
use crate::db::alerts_out::{Attempted, DeliveryStatus};
use crate::fault::Fault;
use crate::stock::Token;
use crate::sync::{HttpRequest, Method};

use super::clock::now;
use super::limits::{CALL_TIMEOUT, FAILED_BATCH_DELAY_S, QUEUE_SEND_BATCH};
use super::store::alerts_out as stored;
use super::{http, secrets, store};

/// The queue binding (wrangler.toml).
const QUEUE: &str = "ALERTS_OUT";
/// The queue's name, as a consumer batch reports it.
pub const QUEUE_NAME: &str = "alerts-out";

/// Sends each message to every destination that wants its kind: one queue message each.
pub async fn enqueue(env: &Env, db: &D1Database, messages: &[AlertMessage]) -> Result<(), Fault> {
    if messages.is_empty() {
        return Ok(());
    }
    let destinations = stored::destinations(db).await?;
    let out: Vec<OutMessage> = messages
        .iter()
        .flat_map(|m| {
            destinations
                .iter()
                .filter(|(d, _)| d.wants(m.kind))
                .map(|(d, _)| OutMessage { destination: d.id.to_string(), message: m.clone() })
        })
        .collect();
    if out.is_empty() {
        return Ok(());
    }
    // Sent as JSON text: the queue's structured clone would turn the message's JSON objects
    // (`detail`) into JavaScript Maps.
    let bodies: Vec<String> = out
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<_, _>>()
        .map_err(|e| Fault::Runtime(format!("alert message not serialisable: {e}")))?;
    let queue = env.queue(QUEUE)?;
    for chunk in bodies.chunks(QUEUE_SEND_BATCH) {
        queue.send_batch(chunk.to_vec()).await?;
    }
    Ok(())
}

/// The `alerts-out` consumer: one delivery attempt per message.
pub async fn consume<T>(batch: &MessageBatch<T>, env: &Env) -> Result<(), Fault> {
    let db = store::db(env)?;
    let mut sent = BTreeSet::new();
    for m in batch.raw_iter() {
        let body = m.body();
        let text = body.as_string().unwrap_or_default();
        let out: OutMessage = match serde_json::from_str(&text) {
            Ok(o) => o,
            Err(e) => {
                console_error!("alerts-out: not an alert message ({e}); dropped");
                m.ack();
                continue;
            }
        };
        if !sent.insert(out.delivery_id()) {
            m.ack();
            continue;
        }
        match deliver(env, &db, &out).await {
            Ok(None) => m.ack(),
            Ok(Some(delay)) => m.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(delay).build()),
            Err(e) => {
                console_error!("alerts-out {}: {e}; retried", out.delivery_id());
                m.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(FAILED_BATCH_DELAY_S).build());
            }
        }
    }
    Ok(())
}

/// One attempt; `Some(seconds)` when the message must come again after that delay.
async fn deliver(env: &Env, db: &D1Database, out: &OutMessage) -> Result<Option<u32>, Fault> {
    let record = stored::delivery(db, &out.destination, &out.message.id).await?;
    if record.as_ref().is_some_and(|r| r.is_settled()) {
        return Ok(None);
    }
    let Some((dest, _)) = stored::destination(db, &out.destination).await? else {
        // Deleted since: nothing to deliver to.
        return Ok(None);
    };
    if !dest.wants(out.message.kind) {
        return Ok(None);
    }
    let attempt = record.map_or(0, |r| u32::try_from(r.attempts).unwrap_or(u32::MAX)).saturating_add(1);
    let secret = match dest.secret.as_deref() {
        None => None,
        Some(name) => match secrets::read(env, Some(name)) {
            Ok(v) => Some(v),
            Err(e) => {
                let error = format!("signing secret: {e}");
                settle(db, out, DeliveryStatus::Failed, attempt, None, &error).await?;
                return Ok(None);
            }
        },
    };
    let r = render(dest.format, out, secret.as_deref(), now());
    let mut req = HttpRequest::new(Method::Post, "");
    req.headers = r.headers;
    req.body = r.body;
    let answer = super::platform_http::send(&dest.url, &req, CALL_TIMEOUT).await;
    let retry_after = answer.as_ref().ok().and_then(|a| {
        a.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("retry-after")).and_then(|(_, v)| v.trim().parse().ok())
    });
    match judge(answer.map(|a| a.status), retry_after, attempt) {
        Attempt::Delivered { status } => {
            settle(db, out, DeliveryStatus::Delivered, attempt, Some(status), "").await?;
            Ok(None)
        }
        Attempt::Retry { delay_s, error } => {
            settle(db, out, DeliveryStatus::Pending, attempt, None, &error).await?;
            Ok(Some(delay_s))
        }
        Attempt::Failed { status, error } => {
            console_warn!("alert {} to {}: failed ({error})", out.message.id, out.destination);
            settle(db, out, DeliveryStatus::Failed, attempt, status, &error).await?;
            Ok(None)
        }
    }
}

async fn settle(
    db: &D1Database,
    out: &OutMessage,
    status: DeliveryStatus,
    attempts: u32,
    http_status: Option<u16>,
    error: &str,
) -> Result<(), Fault> {
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    let a = Attempted {
        destination: &out.destination,
        message_id: &out.message.id,
        kind: out.message.kind,
        subject: &out.message.subject,
        phase: out.message.phase.name(),
        status,
        attempts,
        http_status,
        error: (!error.is_empty()).then_some(error.as_str()),
        at: now(),
    };
    Ok(stored::record_attempt(db, &a).await?)
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/// `GET /v1/alert-destinations`: every destination, by id, with its delivery counts.
pub async fn list(env: &Env) -> Result<Response, Fault> {
    let db = store::db(env)?;
    let tally = stored::delivery_tally(&db).await?;
    let items: Vec<DestinationView> = stored::destinations(&db)
        .await?
        .iter()
        .map(|(d, at)| {
            let (ok, failed) = tally.get(d.id.as_str()).copied().unwrap_or_default();
            DestinationView::new(d, *at, ok, failed)
        })
        .collect();
    Ok(http::json(200, &serde_json::json!({ "items": items }))?)
}

/// `PUT /v1/alert-destinations/{id}`: `201` created, `200` replaced.
pub async fn put(env: &Env, id: Token, body: &[u8]) -> Result<Response, Fault> {
    let d = match destination_body(id, body) {
        Ok(d) => d,
        Err(p) => return Ok(http::problem(&p)?),
    };
    let db = store::db(env)?;
    let existed = stored::destination(&db, d.id.as_str()).await?.is_some();
    if !existed && stored::destination_count(&db).await? >= MAX_DESTINATIONS as i64 {
        return Ok(http::problem(&too_many())?);
    }
    let t = now();
    stored::put_destination(&db, &d, t).await?;
    let tally = stored::delivery_tally(&db).await?;
    let (ok, failed) = tally.get(d.id.as_str()).copied().unwrap_or_default();
    Ok(http::json(if existed { 200 } else { 201 }, &DestinationView::new(&d, t, ok, failed))?)
}

/// `DELETE /v1/alert-destinations/{id}`: `204`, or `404` for an unknown id.
pub async fn delete(env: &Env, id: Token) -> Result<Response, Fault> {
    if stored::delete_destination(&store::db(env)?, id.as_str()).await? {
        return Ok(Response::empty()?.with_status(204));
    }
    let p = Problem::new(Kind::NotFound, format!("no alert destination {id}")).with("resource", "alert destination");
    Ok(http::problem(&p)?)
}
