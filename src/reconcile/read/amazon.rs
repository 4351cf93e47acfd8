//! Amazon: a listing's seller-fulfilled quantity, read with SP-API Listings Items 2021-08-01
//! `getListingsItem`, `GET /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=…&includedData=fulfillmentAvailability`
//! with the LWA access token (developer-docs.amazon.com/sp-api, Listings Items API reference:
//! `Item.fulfillmentAvailability[] {fulfillmentChannelCode, quantity}`). StockEdge pushes the
//! `DEFAULT` (merchant-fulfilled) channel, so that entry's `quantity` is the live value; a listing
//! with no `DEFAULT` entry, or one without a quantity, offers none: 0. Errors are
//! `{"errors": [{code, message}]}`: 403 for refused credentials, 404 for an unknown SKU, 429
//! `QuotaExceeded` without `Retry-After`; reads are paced (see [`READ`]).

use serde_json::{Map, Value};

use super::{json_answer, Read, ReadError};
use crate::catalog::model::External;
use crate::sync::amazon::{amz_date, listing_path, AmazonAdapter, AmazonIdentity};
use crate::sync::{HttpRequest, HttpResponse, Method, TokenBucket};
use crate::time::Millis;

/// The registry's Amazon read.
/// Listings Items calls are paced like the pushes, in the same per-account bucket (SP-API plans
/// `getListingsItem` at 5 requests a second, burst 10; sharing the pushes' 5/5 is the safe side).
pub const READ: Read = Read { request, answer, pacing: Some(TokenBucket::amazon_listings) };

fn request(token: &str, _: &Map<String, Value>, e: &External, now: Millis) -> Result<HttpRequest, ReadError> {
    let AmazonIdentity { seller_id, seller_sku, marketplace_ids } =
        AmazonIdentity::of(e).ok_or_else(|| ReadError::NotReadable("not an Amazon identity".into()))?;
    let path =
        format!("{}&includedData=fulfillmentAvailability", listing_path(&seller_id, &seller_sku, &marketplace_ids));
    // The push adapter's headers: its token and user agent.
    let AmazonAdapter { access_token, user_agent, .. } = AmazonAdapter::new(token);
    Ok(HttpRequest::new(Method::Get, path)
        .header("x-amz-access-token", access_token)
        .header("x-amz-date", amz_date(now))
        .header("user-agent", user_agent))
}

fn answer(response: &HttpResponse, now: Millis) -> Result<i64, ReadError> {
    let v = json_answer(response, now)?;
    let entries = v.get("fulfillmentAvailability").and_then(Value::as_array);
    let default = entries
        .and_then(|es| es.iter().find(|e| e.get("fulfillmentChannelCode").and_then(Value::as_str) == Some("DEFAULT")));
    match default.and_then(|e| e.get("quantity")) {
        None | Some(Value::Null) => Ok(0),
        Some(q) => q.as_i64().ok_or_else(|| ReadError::Unreadable(format!("DEFAULT quantity {q}"))),
    }
}
