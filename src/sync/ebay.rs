//! eBay: quantities through the Sell Inventory API `bulkUpdatePriceQuantity`.
//!
//! Contract used (developer.ebay.com/api-docs/sell/inventory/resources/offer/methods/
//! bulkUpdatePriceQuantity, types BulkPriceQuantity, PriceQuantity, OfferPriceQuantity,
//! BulkPriceQuantityResponse, PriceQuantityResponse; sell/static/inventory/bulk-updates.html):
//! - `POST /sell/inventory/v1/bulk_update_price_quantity` with `{"requests": [{"sku",
//!   "shipToLocationAvailability": {"quantity"}, "offers": [{"offerId", "availableQuantity"}]}]}`,
//!   up to 25 per call; `Authorization: Bearer <OAuth user token>` is the only required header
//!   besides `Content-Type: application/json`.
//! - The quantity shown is the smaller of the offer's `availableQuantity` and the item's
//!   `shipToLocationAvailability.quantity`, so both are set to the listed quantity.
//! - The answer (200 or 207) is `{"responses": [{"statusCode", "sku", "offerId"?, "errors"?,
//!   "warnings"?}]}`, one entry per offer or inventory item; errors are `ErrorDetailV3
//!   {errorId, domain, category, message, …}`.
//! - A listing may be revised at most 250 times per calendar day: see [`super::revisions`].

use serde::Serialize;
use serde_json::{Map, Value};

use super::adapter::{
    by_status, client_error, for_all, result_of, snippet, wrong_kind, Built, ChannelAdapter, PushCall,
};
use super::connection::{required, ConnectionError};
use super::http::{HttpRequest, HttpResponse, Method};
use super::push_result::{FailureKind, ListingResult, PushResult};
use super::update::ListingUpdate;
use crate::catalog::model::{ChannelKind, External};
use crate::channels::identity::FieldValue;
use crate::stock::Sku;
use crate::time::Millis;

/// An eBay listing's identity, typed: the inventory item's SKU, and the offer when known.
/// Declared in the registry's eBay entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EbayIdentity {
    pub sku: String,
    pub offer_id: Option<String>,
}

impl EbayIdentity {
    /// The typed view of an eBay identity; `None` for another platform's.
    pub fn of(e: &External) -> Option<EbayIdentity> {
        (e.kind() == ChannelKind::Ebay).then_some(())?;
        Some(EbayIdentity { sku: e.text("sku")?.to_owned(), offer_id: e.text("offer_id").map(str::to_owned) })
    }
}

impl From<EbayIdentity> for External {
    fn from(i: EbayIdentity) -> External {
        let offer = i.offer_id.map(|o| ("offer_id", FieldValue::Text(o)));
        External::new(ChannelKind::Ebay, std::iter::once(("sku", FieldValue::Text(i.sku))).chain(offer))
    }
}

/// The mapping key of an eBay listing: the inventory item's SKU.
pub fn identity_key(sku: &str) -> String {
    format!("ebay:sku:{sku}")
}

/// [`identity_key`] of a stored or read identity (the registry's key function).
pub fn listing_key(e: &External, _: &Sku) -> String {
    identity_key(e.text("sku").unwrap_or_default())
}

/// The push adapter of a channel, given an eBay user access token.
pub fn connect(token: &str, _: &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    Ok(Box::new(EbayAdapter::new(required(token)?)))
}

pub const EBAY_BATCH_LIMIT: usize = 25;
pub const BULK_PATH: &str = "/sell/inventory/v1/bulk_update_price_quantity";

/// A seller account's connection (`access_token`: a current OAuth user token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EbayAdapter {
    pub access_token: String,
}

impl EbayAdapter {
    pub fn new(access_token: impl Into<String>) -> EbayAdapter {
        EbayAdapter { access_token: access_token.into() }
    }
}

#[derive(Serialize)]
struct Bulk<'a> {
    requests: Vec<PriceQuantity<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PriceQuantity<'a> {
    sku: &'a str,
    ship_to_location_availability: ShipTo,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    offers: Vec<OfferQuantity<'a>>,
}

#[derive(Serialize)]
struct ShipTo {
    quantity: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OfferQuantity<'a> {
    offer_id: &'a str,
    available_quantity: i64,
}

fn ebay_sku(update: &ListingUpdate) -> &str {
    let ours = update.external.kind() == ChannelKind::Ebay;
    ours.then(|| update.external.text("sku")).flatten().unwrap_or_default()
}

impl ChannelAdapter for EbayAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Ebay
    }

    fn batch_limit(&self) -> usize {
        EBAY_BATCH_LIMIT
    }

    fn build(&self, updates: &[ListingUpdate], _now: Millis) -> Built {
        let mut built = Built::default();
        let mut ours = Vec::new();
        for u in updates {
            match EbayIdentity::of(&u.external) {
                Some(id) => ours.push((u, id)),
                None => built.refused.push(wrong_kind(u, ChannelKind::Ebay)),
            }
        }
        for chunk in ours.chunks(EBAY_BATCH_LIMIT) {
            let requests = chunk
                .iter()
                .map(|(u, EbayIdentity { sku, offer_id })| PriceQuantity {
                    sku,
                    ship_to_location_availability: ShipTo { quantity: u.quantity },
                    offers: offer_id
                        .iter()
                        .map(|o| OfferQuantity { offer_id: o, available_quantity: u.quantity })
                        .collect(),
                })
                .collect();
            let body = serde_json::to_string(&Bulk { requests }).expect("serialisable");
            let request = HttpRequest::new(Method::Post, BULK_PATH)
                .header("Content-Type", "application/json")
                .header("Authorization", format!("Bearer {}", self.access_token))
                .body(body);
            built.calls.push(PushCall { request, updates: chunk.iter().map(|(u, _)| (*u).clone()).collect() });
        }
        built
    }

    fn interpret(&self, call: &PushCall, response: &HttpResponse, now: Millis) -> Vec<ListingResult> {
        if let Some(outcome) = by_status(response, now) {
            return for_all(call, outcome);
        }
        if !response.is_success() {
            let message = response
                .json()
                .and_then(|v| v.get("errors").cloned())
                .map_or_else(|| snippet(&response.body), |e| errors_message(&e));
            return for_all(call, client_error(response, message));
        }
        let Some(entries) = response.json().and_then(|v| v.get("responses").and_then(Value::as_array).cloned()) else {
            return for_all(call, PushResult::backoff("bulk response without `responses`"));
        };
        call.updates
            .iter()
            .map(|u| {
                let sku = ebay_sku(u);
                let mine: Vec<&Value> =
                    entries.iter().filter(|e| e.get("sku").and_then(Value::as_str) == Some(sku)).collect();
                let outcome = if mine.is_empty() {
                    PushResult::backoff(format!("no result for SKU {sku}"))
                } else {
                    // An item and its offer each answer; the listing is pushed when all did.
                    mine.iter().map(|e| entry_outcome(e)).max_by_key(rank).unwrap_or(PushResult::Pushed)
                };
                result_of(u, outcome)
            })
            .collect()
    }
}

fn rank(o: &PushResult) -> u8 {
    match o {
        PushResult::Pushed => 0,
        PushResult::RetryAfter(_) => 1,
        PushResult::Backoff(_) => 2,
        PushResult::Stale => 3,
        PushResult::Permanent(_) => 4,
    }
}

/// `ErrorDetailV3` list as one line.
fn errors_message(errors: &Value) -> String {
    let Some(list) = errors.as_array() else { return String::new() };
    list.iter()
        .map(|e| {
            let id = e.get("errorId").and_then(Value::as_i64).map(|i| i.to_string()).unwrap_or_default();
            let message = e.get("message").and_then(Value::as_str).unwrap_or("");
            format!("{id}: {message}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One `PriceQuantityResponse` entry.
fn entry_outcome(entry: &Value) -> PushResult {
    let status = entry.get("statusCode").and_then(Value::as_u64).unwrap_or(0);
    let message = entry.get("errors").map(errors_message).unwrap_or_default();
    match status {
        200..=299 => PushResult::Pushed,
        401 | 403 => PushResult::permanent(FailureKind::Credentials, message),
        404 => PushResult::permanent(FailureKind::UnknownListing, message),
        408 | 429 | 500..=599 => PushResult::backoff(format!("item status {status}: {message}")),
        400..=499 => PushResult::permanent(FailureKind::Validation, message),
        _ => PushResult::backoff(format!("item status {status}: {message}")),
    }
}
