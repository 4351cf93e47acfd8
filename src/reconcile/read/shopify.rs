//! Shopify: a listing's `available` quantity at its location, read with the Admin GraphQL query
//! `inventoryItem(id) { inventoryLevel(locationId) { quantities(names: ["available"]) } }` — the
//! same query and reading as the push adapter's re-read after a lost compare-and-set
//! ([`ShopifyAdapter::level_query`], [`available_in`]), with the channel's access token and
//! `settings.api_version`.

use serde_json::{Map, Value};

use super::{Read, ReadError};
use crate::catalog::model::External;
use crate::sync::shopify::{available_in, ShopifyAdapter, ShopifyIdentity};
use crate::sync::{HttpRequest, HttpResponse};
use crate::time::Millis;

/// The registry's Shopify read.
pub const READ: Read = Read { request, answer, pacing: None };

fn request(token: &str, settings: &Map<String, Value>, e: &External, _: Millis) -> Result<HttpRequest, ReadError> {
    let id = ShopifyIdentity::of(e).ok_or_else(|| ReadError::NotReadable("not a Shopify identity".into()))?;
    Ok(ShopifyAdapter::of(token, settings).level_query(id))
}

fn answer(response: &HttpResponse, now: Millis) -> Result<i64, ReadError> {
    available_in(response, now).map_err(ReadError::from_push)
}
