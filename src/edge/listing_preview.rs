//! `POST /v1/listings/preview`: reads a page of the channel's listings (one D1 statement) and
//! their SKUs' current states (ledgers, [`FAN_OUT`](super::limits::FAN_OUT) at a time, bundles
//! from their components), and answers as `api::listing_preview` makes it. Writes nothing.

use worker::{Env, Response};

use crate::api::catalog_bodies::not_found;
use crate::api::listing_preview::{preview, PreviewRequest};
use crate::catalog::model::Entity;
use crate::catalog::ListingRule;
use crate::db::listings::rules_of;
use crate::fault::Fault;
use crate::stock::Sku;

use super::clock::now;
use super::{http, repush, store};

pub async fn serve(env: &Env, q: PreviewRequest) -> Result<Response, Fault> {
    let db = store::db(env)?;
    let (kind, rows) = store::listings::page(&db, &q.channel, &q.after, q.limit + 1).await?;
    if kind.is_none() {
        return Ok(http::problem(&not_found(Entity::Channel, q.channel.as_str()))?);
    }
    let listings: Vec<(Sku, ListingRule)> = rules_of(rows)?.into_iter().collect();
    let skus: Vec<Sku> = listings.iter().take(q.limit).map(|(s, _)| s.clone()).collect();
    let states = repush::current_all(env, &skus, now()).await?;
    Ok(http::json(200, &preview(&q.channel, &q.rule, &listings, &states, q.limit))?)
}
