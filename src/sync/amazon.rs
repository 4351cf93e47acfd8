//! Amazon: the listing's `fulfillment_availability` through SP-API Listings Items 2021-08-01
//! `patchListingsItem`, one SKU per request.
//!
//! Contract used (developer-docs.amazon.com/sp-api, Listings Items API v2021-08-01 reference and
//! "Connecting to the Selling Partner API"; docs/channels.md):
//! - `PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=…` (a comma-delimited
//!   list; the SKU path parameter must be URL-encoded, docs "URL Encoding") with
//!   `{"productType": "PRODUCT", "patches": [{"op": "replace", "path":
//!   "/attributes/fulfillment_availability", "value": [{"fulfillment_channel_code": "DEFAULT",
//!   "quantity": N}]}]}` (`merge` keeps other fulfilment attributes, since 2025).
//! - Headers `x-amz-access-token` (the LWA token, see [`super::lwa`]), `x-amz-date`,
//!   `user-agent`.
//! - The answer is a `ListingsItemSubmissionResponse {sku, status: ACCEPTED | INVALID,
//!   submissionId, issues: [{code, message, severity, attributeNames}]}`; errors are
//!   `{"errors": [{code, message, details}]}` with 400/403/404/413/415/429/500/503.
//! - Usage plan 5 requests/s, burst 5 per account: pace with [`super::TokenBucket`]. A 429
//!   carries no `Retry-After`; `x-amzn-RateLimit-Limit` (requests per second) says how soon a
//!   token comes back.

use serde::Serialize;
use serde_json::{Map, Value};

use super::adapter::{by_status, client_error, for_all, snippet, wrong_kind, Built, ChannelAdapter, PushCall};
use super::connection::{required, ConnectionError};
use super::http::{encode_component, HttpRequest, HttpResponse, Method};
use super::push_result::{FailureKind, ListingResult, PushResult};
use super::token_bucket::TokenBucket;
use super::update::ListingUpdate;
use crate::catalog::model::{ChannelKind, External};
use crate::channels::identity::FieldValue;
use crate::stock::Sku;
use crate::time::Millis;

/// An Amazon listing's identity, typed: the seller's SKU in the listed marketplaces. Declared in
/// the registry's Amazon entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmazonIdentity {
    pub seller_id: String,
    pub seller_sku: String,
    pub marketplace_ids: Vec<String>,
}

impl AmazonIdentity {
    /// The typed view of an Amazon identity; `None` for another platform's.
    pub fn of(e: &External) -> Option<AmazonIdentity> {
        (e.kind() == ChannelKind::Amazon).then_some(())?;
        Some(AmazonIdentity {
            seller_id: e.text("seller_id")?.to_owned(),
            seller_sku: e.text("seller_sku")?.to_owned(),
            marketplace_ids: e.list("marketplace_ids")?.to_vec(),
        })
    }
}

impl From<AmazonIdentity> for External {
    fn from(i: AmazonIdentity) -> External {
        External::new(
            ChannelKind::Amazon,
            [
                ("seller_id", FieldValue::Text(i.seller_id)),
                ("seller_sku", FieldValue::Text(i.seller_sku)),
                ("marketplace_ids", FieldValue::List(i.marketplace_ids)),
            ],
        )
    }
}

/// The mapping key of an Amazon listing: the seller's SKU (the same in every marketplace of the
/// seller).
pub fn identity_key(seller_id: &str, seller_sku: &str) -> String {
    format!("amazon:{seller_id}:{seller_sku}")
}

/// [`identity_key`] of a stored or read identity (the registry's key function).
pub fn listing_key(e: &External, _: &Sku) -> String {
    identity_key(e.text("seller_id").unwrap_or_default(), e.text("seller_sku").unwrap_or_default())
}

/// The push adapter of a channel, given a Login-with-Amazon access token.
pub fn connect(token: &str, _: &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    Ok(Box::new(AmazonAdapter::new(required(token)?)))
}

/// Listings Items patches one SKU per request.
pub const AMAZON_BATCH_LIMIT: usize = 1;

/// `replace` sets the attribute; `merge` keeps the other fulfilment channels' entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchOp {
    Replace,
    Merge,
}

/// A seller account's connection. `access_token` is the current LWA token
/// ([`super::TokenCache::get`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmazonAdapter {
    pub access_token: String,
    pub user_agent: String,
    pub op: PatchOp,
}

impl AmazonAdapter {
    pub fn new(access_token: impl Into<String>) -> AmazonAdapter {
        AmazonAdapter {
            access_token: access_token.into(),
            user_agent: format!("StockEdge/{} (Language=Rust)", env!("CARGO_PKG_VERSION")),
            op: PatchOp::Replace,
        }
    }
}

/// `/listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=A,B`.
pub fn listing_path(seller_id: &str, seller_sku: &str, marketplace_ids: &[String]) -> String {
    let ids: Vec<String> = marketplace_ids.iter().map(|m| encode_component(m)).collect();
    format!(
        "/listings/2021-08-01/items/{}/{}?marketplaceIds={}",
        encode_component(seller_id),
        encode_component(seller_sku),
        ids.join(",")
    )
}

/// `x-amz-date`: ISO 8601 basic format in UTC, `YYYYMMDDTHHMMSSZ`.
pub fn amz_date(now: Millis) -> String {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp_millis(now.0).unwrap_or_default();
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PatchRequest {
    product_type: &'static str,
    patches: Vec<Patch>,
}

#[derive(Serialize)]
struct Patch {
    op: PatchOp,
    path: &'static str,
    value: Vec<Availability>,
}

#[derive(Serialize)]
struct Availability {
    fulfillment_channel_code: &'static str,
    quantity: i64,
}

impl ChannelAdapter for AmazonAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Amazon
    }

    fn batch_limit(&self) -> usize {
        AMAZON_BATCH_LIMIT
    }

    /// `patchListingsItem`'s usage plan per seller ([`TokenBucket::amazon_listings`]).
    fn rate_limit(&self, now: Millis) -> Option<TokenBucket> {
        Some(TokenBucket::amazon_listings(now))
    }

    fn build(&self, updates: &[ListingUpdate], now: Millis) -> Built {
        let mut built = Built::default();
        for u in updates {
            let Some(AmazonIdentity { seller_id, seller_sku, marketplace_ids }) = AmazonIdentity::of(&u.external)
            else {
                built.refused.push(wrong_kind(u, ChannelKind::Amazon));
                continue;
            };
            let body = PatchRequest {
                product_type: "PRODUCT",
                patches: vec![Patch {
                    op: self.op,
                    path: "/attributes/fulfillment_availability",
                    value: vec![Availability { fulfillment_channel_code: "DEFAULT", quantity: u.quantity }],
                }],
            };
            let request = HttpRequest::new(Method::Patch, listing_path(&seller_id, &seller_sku, &marketplace_ids))
                .header("Content-Type", "application/json")
                .header("x-amz-access-token", self.access_token.clone())
                .header("x-amz-date", amz_date(now))
                .header("user-agent", self.user_agent.clone())
                .body(serde_json::to_string(&body).expect("serialisable"));
            built.calls.push(PushCall { request, updates: vec![u.clone()] });
        }
        built
    }

    fn interpret(&self, call: &PushCall, response: &HttpResponse, now: Millis) -> Vec<ListingResult> {
        if response.status == 429 && response.retry_after(now).is_none() {
            return for_all(call, rate_limited(response));
        }
        if response.status == 403 {
            return for_all(
                call,
                PushResult::permanent(FailureKind::Credentials, format!("HTTP 403: {}", errors_message(response))),
            );
        }
        if let Some(outcome) = by_status(response, now) {
            return for_all(call, outcome);
        }
        if !response.is_success() {
            return for_all(call, client_error(response, errors_message(response)));
        }
        let Some(v) = response.json() else {
            return for_all(call, PushResult::backoff("unreadable listings submission response"));
        };
        let outcome = match v.get("status").and_then(Value::as_str) {
            Some("ACCEPTED") | Some("VALID") => PushResult::Pushed,
            Some("INVALID") => PushResult::permanent(FailureKind::Validation, issues_message(&v)),
            _ => PushResult::backoff(format!("unexpected submission status: {}", snippet(&response.body))),
        };
        for_all(call, outcome)
    }
}

/// A 429 without `Retry-After`: wait for one token at the rate `x-amzn-RateLimit-Limit` states.
fn rate_limited(response: &HttpResponse) -> PushResult {
    let rate =
        response.header_value("x-amzn-RateLimit-Limit").and_then(|v| v.trim().parse::<f64>().ok()).filter(|r| *r > 0.0);
    match rate {
        Some(r) => PushResult::RetryAfter(((1.0 / r).ceil() as u64).max(1)),
        None => PushResult::backoff("429 QuotaExceeded"),
    }
}

/// `{"errors": [{code, message, details}]}` as one line.
fn errors_message(response: &HttpResponse) -> String {
    let Some(errors) = response.json().and_then(|v| v.get("errors").and_then(Value::as_array).cloned()) else {
        return snippet(&response.body);
    };
    errors
        .iter()
        .map(|e| {
            let field = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
            format!("{}: {}", field("code"), field("message"))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The ERROR issues of an INVALID submission as one line.
fn issues_message(v: &Value) -> String {
    let issues = v.get("issues").and_then(Value::as_array).cloned().unwrap_or_default();
    let errors: Vec<String> = issues
        .iter()
        .filter(|i| i.get("severity").and_then(Value::as_str) == Some("ERROR"))
        .map(|i| {
            let field = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("");
            format!("{}: {}", field("code"), field("message"))
        })
        .collect();
    if errors.is_empty() {
        "submission INVALID".to_owned()
    } else {
        errors.join("; ")
    }
}
