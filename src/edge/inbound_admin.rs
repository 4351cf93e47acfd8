//! The operators' views of inbound traffic: `GET /v1/inbound/unmatched` (order lines that mapped
//! to no listing) and `GET /v1/inbound/drift` (levels a platform reported that StockEdge did not
//! push). Both page by id: `after` is the previous page's `next`. The bodies are
//! `api::operator_views`.

use worker::{Env, Response};

use crate::api::operator_views::{drift_page, unmatched_page};
use crate::api::paging::{id_page, Filter};
use crate::fault::Fault;

use super::{http, store};

/// `GET /v1/inbound/unmatched?channel=&after=&limit=`: inbound order lines that mapped to no
/// listing, oldest first, with the keys StockEdge looked them up by.
pub async fn unmatched(query: &[(String, String)], env: &Env) -> Result<Response, Fault> {
    let p = match id_page(query, &[Filter::Channel]) {
        Ok(p) => p,
        Err(problem) => return Ok(http::problem(&problem)?),
    };
    let rows = store::inbound::unmatched(&store::db(env)?, p.after, p.channel.as_ref(), p.limit + 1).await?;
    Ok(http::json(200, &unmatched_page(rows, p.limit))?)
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
    Ok(http::json(200, &drift_page(rows, p.limit))?)
}
