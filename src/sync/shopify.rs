//! Shopify: absolute `available` quantities through the Admin GraphQL `inventorySetQuantities`
//! mutation, with compare-and-set.
//!
//! Contract used (shopify.dev, API 2026-04):
//! - `POST /admin/api/{version}/graphql.json`, header `X-Shopify-Access-Token`
//!   (shopify.dev/docs/api/admin-graphql, "Authentication").
//! - `inventorySetQuantities(input: InventorySetQuantitiesInput!)` with
//!   `{name: "available", reason, referenceDocumentUri, quantities: [{inventoryItemId,
//!   locationId, quantity, changeFromQuantity}]}`; from 2026-04 `changeFromQuantity` is mandatory
//!   and `null` skips the check (shopify.dev/changelog/finalizing-compare-and-swap-redesign-for-
//!   inventory-set-quantities; objects/InventoryQuantityInput). The docs reserve the mutation for
//!   "a system that acts as the source of truth", which StockEdge is.
//! - Payload `{inventoryAdjustmentGroup, userErrors: [{code, field, message}]}` with codes from
//!   `InventorySetQuantitiesUserErrorCode` (enums/InventorySetQuantitiesUserErrorCode), among
//!   them `CHANGE_FROM_QUANTITY_STALE`.
//! - Rate limits are by calculated query cost, reported in `extensions.cost.throttleStatus
//!   {maximumAvailable, currentlyAvailable, restoreRate}`; a throttled request answers
//!   `errors: [{message: "Throttled", extensions: {code: "THROTTLED"}}]`
//!   (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits); 429 with `Retry-After` is
//!   honoured too.
//!
//! Choice (the docs state no maximum length for `quantities`): each listing gets its own
//! aliased `inventorySetQuantities` field (`q0`, `q1`, …) in one request, so each change carries
//! its own `referenceDocumentUri` (`gid://stockedge/StockChange/<sku>/<version>`) and its own
//! `userErrors`, and one listing's stale or unknown item cannot fail its neighbours. Root
//! mutation fields run one after another and each is its own unit (GraphQL spec, "Mutation").
//! Each field costs the same as a separate request, so the batch size only saves round trips;
//! the default of 10 fields keeps a request's cost near 100 points, one second of the Standard
//! plan's restore rate.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use serde_json::{Map, Value};

use super::adapter::{
    by_status, client_error, for_all, result_of, snippet, wrong_kind, Built, ChannelAdapter, PushCall,
};
use super::connection::{required, ConnectionError};
use super::http::{encode_component, HttpRequest, HttpResponse, Method};
use super::push_result::{FailureKind, ListingResult, PushResult};
use super::update::ListingUpdate;
use crate::catalog::model::{ChannelKind, External};
use crate::channels::identity::FieldValue;
use crate::stock::Sku;
use crate::time::Millis;

/// A Shopify listing's identity, typed: the variant's inventory item at one Shopify location
/// (numeric ids; the GraphQL ids are `gid://shopify/InventoryItem/<id>` and
/// `gid://shopify/Location/<id>`). Declared in the registry's Shopify entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShopifyIdentity {
    pub inventory_item_id: i64,
    pub location_id: i64,
}

impl ShopifyIdentity {
    /// The typed view of a Shopify identity; `None` for another platform's.
    pub fn of(e: &External) -> Option<ShopifyIdentity> {
        (e.kind() == ChannelKind::Shopify).then_some(())?;
        Some(ShopifyIdentity { inventory_item_id: e.int("inventory_item_id")?, location_id: e.int("location_id")? })
    }
}

impl From<ShopifyIdentity> for External {
    fn from(i: ShopifyIdentity) -> External {
        External::new(
            ChannelKind::Shopify,
            [
                ("inventory_item_id", FieldValue::Int(i.inventory_item_id)),
                ("location_id", FieldValue::Int(i.location_id)),
            ],
        )
    }
}

/// The mapping key of a Shopify listing: the inventory item (one per variant), whatever the
/// location. Inbound level updates name the item, so they are mapped with the same key.
pub fn identity_key(inventory_item_id: i64) -> String {
    format!("shopify:inventory_item:{inventory_item_id}")
}

/// [`identity_key`] of a stored or read identity (the registry's key function).
pub fn listing_key(e: &External, _: &Sku) -> String {
    identity_key(e.int("inventory_item_id").unwrap_or_default())
}

/// The push adapter of a channel: its access token, and `settings.api_version` if it sets one.
pub fn connect(secret: &str, settings: &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    Ok(Box::new(ShopifyAdapter::of(required(secret)?, settings)))
}

pub const DEFAULT_API_VERSION: &str = "2026-04";
/// Aliased mutation fields per request (see the module docs).
pub const DEFAULT_MUTATIONS_PER_REQUEST: usize = 10;
/// A reason from Shopify's list for set operations (`correction`, `cycle_count_available`, …).
pub const DEFAULT_REASON: &str = "correction";

/// A Shopify shop's connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopifyAdapter {
    pub access_token: String,
    pub api_version: String,
    pub reason: String,
    pub mutations_per_request: usize,
}

impl ShopifyAdapter {
    pub fn new(access_token: impl Into<String>) -> ShopifyAdapter {
        ShopifyAdapter {
            access_token: access_token.into(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            reason: DEFAULT_REASON.to_owned(),
            mutations_per_request: DEFAULT_MUTATIONS_PER_REQUEST,
        }
    }

    /// `/admin/api/{version}/graphql.json`.
    pub fn path(&self) -> String {
        format!("/admin/api/{}/graphql.json", self.api_version)
    }

    fn request(&self, body: String) -> HttpRequest {
        HttpRequest::new(Method::Post, self.path())
            .header("Content-Type", "application/json")
            .header("X-Shopify-Access-Token", self.access_token.clone())
            .body(body)
    }
}

const REREAD_QUERY: &str = "query StockEdgeAvailable($item: ID!, $location: ID!) { inventoryItem(id: $item) { inventoryLevel(locationId: $location) { quantities(names: [\"available\"]) { name quantity } } } }";

pub fn item_gid(id: i64) -> String {
    format!("gid://shopify/InventoryItem/{id}")
}

pub fn location_gid(id: i64) -> String {
    format!("gid://shopify/Location/{id}")
}

/// `gid://stockedge/StockChange/<sku>/<version>`: the change shown in Shopify's inventory
/// history. The SKU is percent-encoded (a `/` in it would add a path level).
pub fn reference_document_uri(sku: &Sku, version: u64) -> String {
    format!("gid://stockedge/StockChange/{}/{version}", encode_component(sku.as_str()))
}

/// The mutation document for `n` aliased fields.
pub fn mutation_document(n: usize) -> String {
    let vars: Vec<String> = (0..n).map(|i| format!("$q{i}: InventorySetQuantitiesInput!")).collect();
    let fields: Vec<String> = (0..n)
        .map(|i| format!("q{i}: inventorySetQuantities(input: $q{i}) {{ inventoryAdjustmentGroup {{ id }} userErrors {{ code field message }} }}"))
        .collect();
    format!("mutation StockEdgeSetAvailable({}) {{ {} }}", vars.join(", "), fields.join(" "))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SetInput {
    name: &'static str,
    reason: String,
    reference_document_uri: String,
    quantities: Vec<QuantityInput>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QuantityInput {
    inventory_item_id: String,
    location_id: String,
    quantity: i64,
    /// Serialised as `null` when `None`: the field is mandatory from 2026-04.
    change_from_quantity: Option<i64>,
}

/// `{"q0": …, "q1": …}` in alias order, whatever map type serde_json was built with.
struct Variables(Vec<SetInput>);

impl Serialize for Variables {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (i, input) in self.0.iter().enumerate() {
            m.serialize_entry(&format!("q{i}"), input)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct Body {
    query: String,
    variables: Variables,
}

impl ChannelAdapter for ShopifyAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Shopify
    }

    fn batch_limit(&self) -> usize {
        self.mutations_per_request.max(1)
    }

    fn build(&self, updates: &[ListingUpdate], _now: Millis) -> Built {
        let mut built = Built::default();
        let mut ours = Vec::new();
        for u in updates {
            match ShopifyIdentity::of(&u.external) {
                Some(id) => ours.push((u, id)),
                None => built.refused.push(wrong_kind(u, ChannelKind::Shopify)),
            }
        }
        for chunk in ours.chunks(self.batch_limit()) {
            let inputs = chunk
                .iter()
                .map(|(u, ShopifyIdentity { inventory_item_id, location_id })| SetInput {
                    name: "available",
                    reason: self.reason.clone(),
                    reference_document_uri: reference_document_uri(&u.key.sku, u.version),
                    quantities: vec![QuantityInput {
                        inventory_item_id: item_gid(*inventory_item_id),
                        location_id: location_gid(*location_id),
                        quantity: u.quantity,
                        change_from_quantity: u.expected,
                    }],
                })
                .collect();
            let body = Body { query: mutation_document(chunk.len()), variables: Variables(inputs) };
            let body = serde_json::to_string(&body).expect("serialisable");
            built.calls.push(PushCall {
                request: self.request(body),
                updates: chunk.iter().map(|(u, _)| (*u).clone()).collect(),
            });
        }
        built
    }

    fn interpret(&self, call: &PushCall, response: &HttpResponse, now: Millis) -> Vec<ListingResult> {
        let v = match answer_json(response, now) {
            Ok(v) => v,
            Err(failed) => return for_all(call, failed),
        };
        // Top-level errors: the whole request failed, or some fields did (then `data` is partial).
        let top = top_level_outcome(&v, response);
        let data = v.get("data").filter(|d| !d.is_null());
        call.updates
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let field = data.and_then(|d| d.get(format!("q{i}"))).filter(|f| !f.is_null());
                let outcome = match (field, &top) {
                    (Some(f), _) => field_outcome(f),
                    (None, Some(t)) => t.clone(),
                    (None, None) => PushResult::backoff(format!("no result for q{i}")),
                };
                result_of(u, outcome)
            })
            .collect()
    }

    /// After `Stale`: a query for the listing's current `available` at its location.
    fn reread(&self, update: &ListingUpdate) -> Option<HttpRequest> {
        ShopifyIdentity::of(&update.external).map(|id| self.level_query(id))
    }

    fn read_current(&self, response: &HttpResponse, now: Millis) -> Result<i64, PushResult> {
        available_in(response, now)
    }
}

impl ShopifyAdapter {
    /// The adapter of a channel with `access_token`, at `settings.api_version` when it sets one.
    pub fn of(access_token: &str, settings: &Map<String, Value>) -> ShopifyAdapter {
        let mut a = ShopifyAdapter::new(access_token);
        if let Some(v) = settings.get("api_version").and_then(Value::as_str) {
            v.clone_into(&mut a.api_version);
        }
        a
    }

    /// The query for a listing's current `available` at its location (the re-read after a lost
    /// compare-and-set, and reconciliation's read).
    pub fn level_query(&self, id: ShopifyIdentity) -> HttpRequest {
        let body = serde_json::json!({
            "query": REREAD_QUERY,
            "variables": { "item": item_gid(id.inventory_item_id), "location": location_gid(id.location_id) },
        });
        self.request(body.to_string())
    }
}

/// The `available` quantity in the answer to [`ShopifyAdapter::level_query`]: a throttled or
/// failed query is the result the whole request would have had (`RetryAfter`, `Backoff`, …); an
/// item the shop does not have, or does not stock at the location, is an unknown listing.
pub fn available_in(response: &HttpResponse, now: Millis) -> Result<i64, PushResult> {
    let v = answer_json(response, now)?;
    if let Some(failed) = top_level_outcome(&v, response) {
        return Err(failed);
    }
    let item = v.pointer("/data/inventoryItem").filter(|i| !i.is_null());
    let Some(item) = item else {
        return Err(PushResult::permanent(FailureKind::UnknownListing, "the shop has no such inventory item"));
    };
    let Some(level) = item.get("inventoryLevel").filter(|l| !l.is_null()) else {
        return Err(PushResult::permanent(FailureKind::UnknownListing, "the item is not stocked at the location"));
    };
    level
        .get("quantities")
        .and_then(Value::as_array)
        .and_then(|qs| qs.iter().find(|q| q.get("name").and_then(Value::as_str) == Some("available")))
        .and_then(|q| q.get("quantity"))
        .and_then(Value::as_i64)
        .ok_or_else(|| PushResult::backoff("unreadable re-read answer: no available quantity"))
}

/// A GraphQL answer's JSON, or the result every field of the request gets: 429 (with
/// `Retry-After`, else the reported throttle state), the statuses every platform shares, other
/// 4xx, an unreadable body.
fn answer_json(response: &HttpResponse, now: Millis) -> Result<Value, PushResult> {
    if response.status == 429 {
        return Err(match (response.retry_after(now), QueryCost::from_response(response)) {
            (Some(s), _) => PushResult::RetryAfter(s),
            (None, Some(cost)) => PushResult::RetryAfter(cost.wait_seconds()),
            (None, None) => PushResult::backoff("429 Too Many Requests"),
        });
    }
    if let Some(failed) = by_status(response, now) {
        return Err(failed);
    }
    if !response.is_success() {
        return Err(client_error(response, snippet(&response.body)));
    }
    response.json().ok_or_else(|| PushResult::backoff("unreadable GraphQL response"))
}

/// The outcome top-level `errors` mean, if any.
fn top_level_outcome(v: &Value, response: &HttpResponse) -> Option<PushResult> {
    let errors = v.get("errors")?.as_array().filter(|a| !a.is_empty())?;
    let code = |e: &Value| e.pointer("/extensions/code").and_then(Value::as_str).map(str::to_owned);
    let messages: Vec<String> =
        errors.iter().filter_map(|e| e.get("message").and_then(Value::as_str)).map(str::to_owned).collect();
    let message = messages.join("; ");
    if errors.iter().any(|e| {
        code(e).as_deref() == Some("THROTTLED") || e.get("message").and_then(Value::as_str) == Some("Throttled")
    }) {
        let wait = QueryCost::from_response(response).map_or(1, |c| c.wait_seconds());
        return Some(PushResult::RetryAfter(wait));
    }
    if errors.iter().any(|e| matches!(code(e).as_deref(), Some("INTERNAL_SERVER_ERROR" | "SERVICE_UNAVAILABLE"))) {
        return Some(PushResult::backoff(message));
    }
    if errors.iter().any(|e| code(e).as_deref() == Some("ACCESS_DENIED")) {
        return Some(PushResult::permanent(FailureKind::Credentials, message));
    }
    Some(PushResult::permanent(FailureKind::Validation, message))
}

/// One aliased field's `{inventoryAdjustmentGroup, userErrors}`. No user errors means the
/// quantity is set, whether or not an adjustment group came back (setting the quantity it
/// already has changes nothing, so there may be no group).
fn field_outcome(field: &Value) -> PushResult {
    let errors = field.get("userErrors").and_then(Value::as_array).cloned().unwrap_or_default();
    errors
        .iter()
        .map(|e| {
            let code = e.get("code").and_then(Value::as_str).unwrap_or("");
            let message = e.get("message").and_then(Value::as_str).unwrap_or("");
            user_error_outcome(code, &format!("{code}: {message}"))
        })
        .max_by_key(severity)
        .unwrap_or(PushResult::Pushed)
}

/// When one field has several errors, the one that decides: permanent over stale over retry.
fn severity(o: &PushResult) -> u8 {
    match o {
        PushResult::Pushed => 0,
        PushResult::RetryAfter(_) => 1,
        PushResult::Backoff(_) => 2,
        PushResult::Stale => 3,
        PushResult::Permanent(_) => 4,
    }
}

/// `InventorySetQuantitiesUserErrorCode` → outcome.
fn user_error_outcome(code: &str, message: &str) -> PushResult {
    match code {
        "CHANGE_FROM_QUANTITY_STALE" | "COMPARE_QUANTITY_STALE" => PushResult::Stale,
        "IDEMPOTENCY_CONCURRENT_REQUEST" | "SERVICE_UNAVAILABLE" => PushResult::backoff(message),
        "INVALID_INVENTORY_ITEM"
        | "INVALID_LOCATION"
        | "ITEM_NOT_STOCKED_AT_LOCATION"
        | "NON_MUTABLE_INVENTORY_ITEM" => PushResult::permanent(FailureKind::UnknownListing, message),
        "INVALID_NAME"
        | "INVALID_QUANTITY_NEGATIVE"
        | "INVALID_QUANTITY_TOO_HIGH"
        | "INVALID_QUANTITY_TOO_LOW"
        | "INVALID_REASON"
        | "INVALID_REFERENCE_DOCUMENT"
        | "COMPARE_QUANTITY_REQUIRED"
        | "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"
        | "IDEMPOTENCY_KEY_PARAMETER_MISMATCH" => PushResult::permanent(FailureKind::Validation, message),
        // A code this build does not know: retry (bounded by the retry policy), then dead letter.
        _ => PushResult::backoff(message),
    }
}

/// `extensions.cost.throttleStatus` of a GraphQL Admin answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    /// Points restored per second.
    pub restore_rate: f64,
}

/// `extensions.cost` of a GraphQL Admin answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueryCost {
    pub requested_query_cost: f64,
    /// `None` when the query did not run (throttled).
    pub actual_query_cost: Option<f64>,
    pub throttle_status: ThrottleStatus,
}

impl QueryCost {
    pub fn from_response(response: &HttpResponse) -> Option<QueryCost> {
        let v = response.json()?;
        let cost = v.pointer("/extensions/cost")?;
        let t = cost.get("throttleStatus")?;
        let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
        Some(QueryCost {
            requested_query_cost: num(cost, "requestedQueryCost")?,
            actual_query_cost: num(cost, "actualQueryCost"),
            throttle_status: ThrottleStatus {
                maximum_available: num(t, "maximumAvailable")?,
                currently_available: num(t, "currentlyAvailable")?,
                restore_rate: num(t, "restoreRate")?,
            },
        })
    }

    /// Whole seconds until the bucket holds the requested cost again (at least 1).
    pub fn wait_seconds(&self) -> u64 {
        let t = self.throttle_status;
        let missing = (self.requested_query_cost - t.currently_available).max(0.0);
        if t.restore_rate <= 0.0 || !missing.is_finite() {
            return 1;
        }
        ((missing / t.restore_rate).ceil() as u64).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_is_the_missing_points_over_the_restore_rate() {
        let c = |requested: f64, available: f64, rate: f64| QueryCost {
            requested_query_cost: requested,
            actual_query_cost: None,
            throttle_status: ThrottleStatus {
                maximum_available: 2000.0,
                currently_available: available,
                restore_rate: rate,
            },
        };
        assert_eq!(c(752.0, 666.0, 50.0).wait_seconds(), 2);
        assert_eq!(c(100.0, 500.0, 100.0).wait_seconds(), 1);
        assert_eq!(c(100.0, 0.0, 0.0).wait_seconds(), 1);
        assert_eq!(c(1000.0, 0.0, 100.0).wait_seconds(), 10);
    }

    #[test]
    fn reference_uri_escapes_slashes() {
        assert_eq!(
            reference_document_uri(&Sku::parse("TEE/BLK-M").unwrap(), 42),
            "gid://stockedge/StockChange/TEE%2FBLK-M/42"
        );
    }
}
