//! `GET /v1/skus/{sku}/listings`: reads the SKU's listings with their sync state (one D1
//! statement, `db::sku_listings`) and the SKU's current state (its ledger, or a bundle's
//! components, as `repush` announces it), and answers as `api::sku_listings` makes it.

use worker::{Env, Response};

use crate::api::sku_listings::sku_listings;
use crate::db::sku_listings::{read, SkuListingRow};
use crate::fault::Fault;
use crate::stock::Sku;

use super::clock::now;
use super::{http, repush, store};

pub async fn serve(env: &Env, sku: &Sku) -> Result<Response, Fault> {
    let t = now();
    let rows: Vec<SkuListingRow> = store::read(&store::db(env)?, read(sku)).await?;
    let state = repush::current(env, sku, t).await?;
    Ok(http::json(200, &sku_listings(sku, state.as_ref(), &rows, t)?)?)
}
