//! WooCommerce: `stock_quantity` through the REST v3 batch endpoints.
//!
//! Contract used (woocommerce.github.io/woocommerce-rest-api-docs, "Batch update products" and
//! "Batch update product variations"; woocommerce/woocommerce `WC_REST_Controller::batch_items`):
//! - `POST /wp-json/wc/v3/products/batch` and `POST /wp-json/wc/v3/products/{id}/variations/batch`
//!   with `{"update": [{"id", "manage_stock": true, "stock_quantity"}]}`.
//! - At most 100 items per request in total (`woocommerce_rest_batch_items_limit`, default 100);
//!   over it the whole request fails with 413 `woocommerce_rest_request_entity_too_large`.
//! - The answer is `{"update": [...]}` with, per item, either the updated object or
//!   `{"id", "error": {"code", "message", "data": {"status"}}}` (a `WP_Error` rendered inline).
//! - Authentication: consumer key and secret as HTTP Basic over HTTPS.
//! - No compare-and-set: the last writer wins, so `expected` is not sent.

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::adapter::{
    by_status, client_error, for_all, result_of, snippet, wrong_kind, Built, ChannelAdapter, PushCall,
};
use super::connection::{required, ConnectionError};
use super::http::{basic_auth, HttpRequest, HttpResponse, Method};
use super::push_result::{FailureKind, ListingResult, PushResult};
use super::update::ListingUpdate;
use crate::catalog::model::{ChannelKind, External};
use crate::channels::identity::FieldValue;
use crate::stock::Sku;
use crate::time::Millis;

/// A WooCommerce listing's identity, typed: a simple product, or one variation of a variable
/// product. Declared in the registry's WooCommerce entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WoocommerceIdentity {
    pub product_id: i64,
    pub variation_id: Option<i64>,
}

impl WoocommerceIdentity {
    /// The typed view of a WooCommerce identity; `None` for another platform's.
    pub fn of(e: &External) -> Option<WoocommerceIdentity> {
        (e.kind() == ChannelKind::Woocommerce).then_some(())?;
        Some(WoocommerceIdentity { product_id: e.int("product_id")?, variation_id: e.int("variation_id") })
    }
}

impl From<WoocommerceIdentity> for External {
    fn from(i: WoocommerceIdentity) -> External {
        let variation = i.variation_id.map(|v| ("variation_id", FieldValue::Int(v)));
        External::new(
            ChannelKind::Woocommerce,
            std::iter::once(("product_id", FieldValue::Int(i.product_id))).chain(variation),
        )
    }
}

/// The mapping key of a WooCommerce listing: the product, and the variation when there is one
/// (`0`, as order lines send for a simple product, means none).
pub fn identity_key(product_id: i64, variation_id: Option<i64>) -> String {
    match variation_id.filter(|v| *v > 0) {
        Some(v) => format!("woocommerce:product:{product_id}:variation:{v}"),
        None => format!("woocommerce:product:{product_id}"),
    }
}

/// [`identity_key`] of a stored or read identity (the registry's key function).
pub fn listing_key(e: &External, _: &Sku) -> String {
    identity_key(e.int("product_id").unwrap_or_default(), e.int("variation_id"))
}

/// The push adapter of a channel whose secret is `consumer_key:consumer_secret`.
pub fn connect(secret: &str, _: &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    let (key, secret) = required(secret)?.split_once(':').ok_or(ConnectionError::BadSecret("key:secret"))?;
    Ok(Box::new(WooCommerceAdapter::new(key, secret)))
}

/// WooCommerce's default batch limit.
pub const WOO_BATCH_LIMIT: usize = 100;

/// A WooCommerce store's connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WooCommerceAdapter {
    pub consumer_key: String,
    pub consumer_secret: String,
    /// Lower it if the store's `woocommerce_rest_batch_items_limit` filter does.
    pub batch_limit: usize,
}

impl WooCommerceAdapter {
    pub fn new(consumer_key: impl Into<String>, consumer_secret: impl Into<String>) -> WooCommerceAdapter {
        WooCommerceAdapter {
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            batch_limit: WOO_BATCH_LIMIT,
        }
    }

    fn request(&self, path: String, items: Vec<Item>) -> HttpRequest {
        let body = serde_json::to_string(&Batch { update: items }).expect("serialisable");
        HttpRequest::new(Method::Post, path)
            .header("Content-Type", "application/json")
            .header("Authorization", basic_auth(&self.consumer_key, &self.consumer_secret))
            .body(body)
    }
}

#[derive(Serialize)]
struct Batch {
    update: Vec<Item>,
}

#[derive(Serialize)]
struct Item {
    id: i64,
    manage_stock: bool,
    stock_quantity: i64,
}

/// The id the batch item carries: the product for a simple product, else the variation.
fn item_id(update: &ListingUpdate) -> Option<i64> {
    WoocommerceIdentity::of(&update.external).map(|i| i.variation_id.unwrap_or(i.product_id))
}

impl ChannelAdapter for WooCommerceAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Woocommerce
    }

    fn batch_limit(&self) -> usize {
        self.batch_limit.clamp(1, WOO_BATCH_LIMIT)
    }

    fn build(&self, updates: &[ListingUpdate], _now: Millis) -> Built {
        let mut built = Built::default();
        let mut simple: Vec<(&ListingUpdate, i64)> = Vec::new();
        let mut variations: BTreeMap<i64, Vec<(&ListingUpdate, i64)>> = BTreeMap::new();
        for u in updates {
            match WoocommerceIdentity::of(&u.external) {
                Some(WoocommerceIdentity { product_id, variation_id: None }) => simple.push((u, product_id)),
                Some(WoocommerceIdentity { product_id, variation_id: Some(v) }) => {
                    variations.entry(product_id).or_default().push((u, v))
                }
                None => built.refused.push(wrong_kind(u, ChannelKind::Woocommerce)),
            }
        }
        let groups = std::iter::once(("/wp-json/wc/v3/products/batch".to_owned(), simple))
            .chain(variations.into_iter().map(|(p, us)| (format!("/wp-json/wc/v3/products/{p}/variations/batch"), us)));
        for (path, group) in groups {
            for chunk in group.chunks(self.batch_limit()) {
                let items = chunk
                    .iter()
                    .map(|(u, id)| Item { id: *id, manage_stock: true, stock_quantity: u.quantity })
                    .collect();
                built.calls.push(PushCall {
                    request: self.request(path.clone(), items),
                    updates: chunk.iter().map(|(u, _)| (*u).clone()).collect(),
                });
            }
        }
        built
    }

    fn interpret(&self, call: &PushCall, response: &HttpResponse, now: Millis) -> Vec<ListingResult> {
        if let Some(outcome) = by_status(response, now) {
            return for_all(call, outcome);
        }
        if !response.is_success() {
            let message = response.json().map_or_else(|| snippet(&response.body), |v| wp_error_message(&v));
            return for_all(call, client_error(response, message));
        }
        let Some(items) = response.json().and_then(|v| v.get("update").and_then(Value::as_array).cloned()) else {
            return for_all(call, PushResult::backoff("batch response without an `update` list"));
        };
        call.updates
            .iter()
            .map(|u| {
                let id = item_id(u);
                let entry = items.iter().find(|e| e.get("id").and_then(Value::as_i64) == id);
                let outcome = match entry {
                    None => PushResult::backoff(format!("no result for item {}", id.unwrap_or_default())),
                    Some(e) => match e.get("error").filter(|e| !e.is_null()) {
                        None => PushResult::Pushed,
                        Some(err) => item_error(err),
                    },
                };
                result_of(u, outcome)
            })
            .collect()
    }
}

/// `{code, message}` of a WP_Error body.
fn wp_error_message(v: &Value) -> String {
    let code = v.get("code").and_then(Value::as_str).unwrap_or("");
    let message = v.get("message").and_then(Value::as_str).unwrap_or("");
    format!("{code}: {message}")
}

/// A batch item's `error: {code, message, data: {status}}`.
fn item_error(err: &Value) -> PushResult {
    let code = err.get("code").and_then(Value::as_str).unwrap_or("");
    let message = wp_error_message(err);
    let status = err.pointer("/data/status").and_then(Value::as_u64).unwrap_or(400);
    if code.ends_with("invalid_id") || status == 404 || status == 410 {
        return PushResult::permanent(FailureKind::UnknownListing, message);
    }
    match status {
        401 | 403 => PushResult::permanent(FailureKind::Credentials, message),
        408 | 429 | 500..=599 => PushResult::backoff(message),
        _ => PushResult::permanent(FailureKind::Validation, message),
    }
}
