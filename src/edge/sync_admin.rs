//! `GET /v1/sync/status`, `GET /v1/sync/failures`, `POST /v1/sync/failures/{id}/retry`:
//! what operators see of channel sync, and the one thing they can do about a failure. The
//! bodies are `api::operator_views`.

use worker::{Env, Response};

use crate::api::operator_views as views;
use crate::fault::Fault;

use super::clock::now;
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
    env.queue("STOCK_CHANGES")?.send(&event).await?;
    stored::mark_retried(&db, id, now()).await?;
    Ok(http::json(200, &views::retried(id, &event))?)
}
