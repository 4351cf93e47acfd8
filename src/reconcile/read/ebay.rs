//! eBay: a listing's quantity, read with the Sell Inventory API `getInventoryItem`,
//! `GET /sell/inventory/v1/inventory_item/{sku}` with the bearer token
//! (developer.ebay.com/api-docs/sell/inventory/resources/inventory_item/methods/getInventoryItem:
//! `availability.shipToLocationAvailability.quantity`). StockEdge pushes that quantity and the
//! offer's `availableQuantity` together, and a change made in Seller Hub changes the item's; the
//! offer is not read as well (one call per listing). An item without the member offers none: 0.
//! An unknown SKU answers 404 (error 25710).

use serde_json::{Map, Value};

use super::{json_answer, Read, ReadError};
use crate::catalog::model::External;
use crate::sync::ebay::EbayIdentity;
use crate::sync::http::encode_component;
use crate::sync::{HttpRequest, HttpResponse, Method};
use crate::time::Millis;

/// The registry's eBay read.
pub const READ: Read = Read { request, answer, pacing: None };

fn request(token: &str, _: &Map<String, Value>, e: &External, _: Millis) -> Result<HttpRequest, ReadError> {
    let id = EbayIdentity::of(e).ok_or_else(|| ReadError::NotReadable("not an eBay identity".into()))?;
    Ok(HttpRequest::new(Method::Get, format!("/sell/inventory/v1/inventory_item/{}", encode_component(&id.sku)))
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept", "application/json"))
}

fn answer(response: &HttpResponse, now: Millis) -> Result<i64, ReadError> {
    let v = json_answer(response, now)?;
    match v.pointer("/availability/shipToLocationAvailability/quantity") {
        None | Some(Value::Null) => Ok(0),
        Some(q) => q.as_i64().ok_or_else(|| ReadError::Unreadable(format!("shipToLocationAvailability.quantity {q}"))),
    }
}
