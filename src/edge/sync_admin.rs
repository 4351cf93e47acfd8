//! `GET /v1/sync/status`, `GET /v1/sync/failures`, `POST /v1/sync/failures/{id}/retry` and
//! `POST /v1/sync/failures/retry?channel=`: what operators see of channel sync, and what they can
//! do about failures. The bodies are `api::operator_views`.

use worker::{Env, Response};

use crate::api::operator_views as views;
use crate::db::channel_retry;
use crate::fault::Fault;
use crate::stock::limits::MAX_RETRY_ALL;
use crate::stock::Token;
use crate::sync::StockChanged;

use super::clock::now;
use super::limits::QUEUE_SEND_BATCH;
use super::sku_object::QUEUE;
use super::store::sync_state as stored;
use super::{http, store};

pub async fn status(env: &Env) -> Result<Response, Fault> {
    let rows = stored::status(&store::db(env)?).await?;
    Ok(http::json(200, &views::sync_status(rows, now()))?)
}

pub async fn failures(env: &Env) -> Result<Response, Fault> {
    Ok(http::json(200, &views::sync_failures(stored::open_failures(&store::db(env)?).await?))?)
}

/// Sends the failed event to the queue again and marks the failure retried.
pub async fn retry(env: &Env, id: i64) -> Result<Response, Fault> {
    let db = store::db(env)?;
    let Some(event) = stored::failed_event(&db, id).await? else {
        return Ok(http::problem(&views::no_open_failure(id))?);
    };
    stored::reset_attempts(&db, &event.sku).await?;
    env.queue(QUEUE)?.send(&event).await?;
    stored::mark_retried(&db, id, now()).await?;
    Ok(http::json(200, &views::retried(id, &event))?)
}

/// Sends every open failure of `channel` (at most [`MAX_RETRY_ALL`], oldest first) to the queue
/// again, then gives their listings their attempts back and marks them retried, in one batch. A
/// failure sent but not marked (D1 failed after the send) is sent again by the next retry: the
/// consumer pushes a version a listing already took no more than once.
pub async fn retry_channel(env: &Env, channel: Token) -> Result<Response, Fault> {
    let db = store::db(env)?;
    let rows = store::read(&db, channel_retry::open_failures(&channel, MAX_RETRY_ALL)).await?;
    let retried = channel_retry::to_retry(rows)?;
    let queue = env.queue(QUEUE)?;
    for chunk in retried.chunks(QUEUE_SEND_BATCH) {
        let events: Vec<&StockChanged> = chunk.iter().map(|r| &r.event).collect();
        queue.send_batch(events).await?;
    }
    store::batch_of(&db, channel_retry::settle(&channel, &retried, now())).await?;
    Ok(http::json(200, &views::retried_channel(&channel, &retried))?)
}
