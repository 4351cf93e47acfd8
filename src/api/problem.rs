//! RFC 9457 problem details: every error StockEdge answers with, each with a stable `type`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::cart::{CartError, PlanError};
use crate::fault::{Fault, ObjectError, StoreError};
use crate::orders::BookError;
use crate::stock::{HoldStatus, LedgerError};

/// The stable problem types. `type` is `/problems/<slug>`; the Worker serves that page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    NotFound,
    MethodNotAllowed,
    Unauthorized,
    Forbidden,
    InvalidJson,
    ValidationFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    InsufficientStock,
    VersionConflict,
    NegativeOnHand,
    SkuNotFound,
    ReservationNotFound,
    ReservationNotHeld,
    ReservationConflict,
    OrderNotFound,
    OrderCancelled,
    OverFulfilment,
    NotOnHand,
    ErpIsMaster,
    ErpBehind,
    IdempotencyKeyReused,
    TooManyRequests,
    Unavailable,
    SchemaMissing,
    Internal,
}

impl Kind {
    pub const ALL: [Kind; 26] = [
        Kind::NotFound,
        Kind::MethodNotAllowed,
        Kind::Unauthorized,
        Kind::Forbidden,
        Kind::InvalidJson,
        Kind::ValidationFailed,
        Kind::PayloadTooLarge,
        Kind::UnsupportedMediaType,
        Kind::InsufficientStock,
        Kind::VersionConflict,
        Kind::NegativeOnHand,
        Kind::SkuNotFound,
        Kind::ReservationNotFound,
        Kind::ReservationNotHeld,
        Kind::ReservationConflict,
        Kind::OrderNotFound,
        Kind::OrderCancelled,
        Kind::OverFulfilment,
        Kind::NotOnHand,
        Kind::ErpIsMaster,
        Kind::ErpBehind,
        Kind::IdempotencyKeyReused,
        Kind::TooManyRequests,
        Kind::Unavailable,
        Kind::SchemaMissing,
        Kind::Internal,
    ];

    /// (slug, status, title, explanation)
    fn spec(self) -> (&'static str, u16, &'static str, &'static str) {
        match self {
            Kind::NotFound => ("not-found", 404, "Not found", "No resource or route answers to this path."),
            Kind::MethodNotAllowed => ("method-not-allowed", 405, "Method not allowed", "The path exists but does not take this HTTP method; see the Allow header."),
            Kind::Unauthorized => ("unauthorized", 401, "Unauthorized", "The request carries no valid `Authorization: Bearer <token>`, or a platform signature that does not verify."),
            Kind::Forbidden => ("forbidden", 403, "Forbidden", "The token is valid but its role may not do this: storefront tokens read availability and manage reservations, operator tokens read everything and change nothing, admin tokens do everything. `required_roles` lists the roles that may."),
            Kind::InvalidJson => ("invalid-json", 400, "Invalid JSON", "The body is not a JSON document of the expected shape. `detail` quotes the parser."),
            Kind::ValidationFailed => ("validation-failed", 422, "Validation failed", "One or more fields are out of bounds or malformed. `errors` lists each field and what is wrong with it."),
            Kind::PayloadTooLarge => ("payload-too-large", 413, "Payload too large", "The body is larger than this endpoint accepts."),
            Kind::UnsupportedMediaType => ("unsupported-media-type", 415, "Unsupported media type", "This endpoint takes `application/json`."),
            Kind::InsufficientStock => ("insufficient-stock", 409, "Insufficient stock", "At least one line asks for more than is available (plus any backorder allowance). `lines` lists each short line with what was requested and what is available. Nothing was held."),
            Kind::VersionConflict => ("version-conflict", 409, "Version conflict", "`expected_version` does not match the SKU's current version: someone changed it first. Read it again and retry."),
            Kind::NegativeOnHand => ("negative-on-hand", 409, "On hand would be negative", "The adjustment would take on_hand below zero at that location."),
            Kind::SkuNotFound => ("sku-not-found", 404, "SKU not found", "StockEdge has no record of this SKU: its stock was never set."),
            Kind::ReservationNotFound => ("reservation-not-found", 404, "Reservation not found", "No reservation has this id."),
            Kind::ReservationNotHeld => ("reservation-not-held", 409, "Reservation not held", "The reservation is no longer held (it expired, was released, or was committed), so this operation cannot apply. `reservation_status` says which."),
            Kind::ReservationConflict => ("reservation-conflict", 409, "Reservation conflict", "A reservation with this id already exists with other lines."),
            Kind::OrderNotFound => ("order-not-found", 404, "Order not found", "No order with this id has committed units of this SKU."),
            Kind::OrderCancelled => ("order-cancelled", 409, "Order cancelled", "The order was cancelled; its units cannot be committed again."),
            Kind::OverFulfilment => ("over-fulfilment", 409, "More than the order holds", "The fulfilment ships more units than the order has open at that location."),
            Kind::NotOnHand => ("not-on-hand", 409, "Not on hand", "The fulfilment ships more units than are on hand at that location."),
            Kind::ErpIsMaster => ("erp-is-master", 409, "The ERP is the master of this stock", "An ERP connection masters this location and refuses local changes of on hand (`local_adjustments: refuse`). Change the stock in the ERP: its next figure reaches StockEdge. `connection` names the connection."),
            Kind::ErpBehind => ("erp-behind", 503, "The ERP is too far behind", "The ERP mastering this location has not been shown to have as many of StockEdge's order documents as StockEdge may keep for it unconfirmed (`pending`, 10,000 per SKU and location): neither seen in a snapshot nor confirmed by an order delivery. New holds there are refused; sales, commits of granted holds, cancellations and fulfilments are still recorded (and raise an `erp_behind` alert). Holds are accepted again once an ERP snapshot lists what the ERP has, or its order deliveries are confirmed. `location` names the location."),
            Kind::IdempotencyKeyReused => ("idempotency-key-reused", 422, "Idempotency key reused", "This Idempotency-Key was used before with a different request body. Use a new key for a new request."),
            Kind::TooManyRequests => ("too-many-requests", 429, "Too many requests", "This token or client address used up its request budget for the current window. Retry after the `Retry-After` header's seconds (`retry_after` in the body); nothing was done."),
            Kind::Unavailable => ("unavailable", 503, "Temporarily unavailable", "A part of StockEdge could not be reached. Nothing was left half-done: an interrupted step is finished or undone by itself. Retry the same request (with the same Idempotency-Key)."),
            Kind::SchemaMissing => ("schema-missing", 503, "Storage schema missing", "The catalogue database (D1) has no tables yet: its migrations were not applied to this state. Apply them with `npx wrangler d1 migrations apply stockedge-catalog --local` (or `--remote` for a deployed Worker), then retry. Nothing was written."),
            Kind::Internal => ("internal", 500, "Internal error", "Something failed inside StockEdge. Nothing was partially written; retry with the same Idempotency-Key."),
        }
    }

    pub fn slug(self) -> &'static str {
        self.spec().0
    }
    pub fn status(self) -> u16 {
        self.spec().1
    }
    pub fn title(self) -> &'static str {
        self.spec().2
    }
    pub fn explanation(self) -> &'static str {
        self.spec().3
    }
    pub fn type_uri(self) -> String {
        format!("/problems/{}", self.slug())
    }
    pub fn from_slug(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

/// One field at fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// A problem ready to serialise as `application/problem+json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub kind: Kind,
    pub detail: String,
    pub extra: Map<String, Value>,
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Problem { kind, detail: detail.into(), extra: Map::new() }
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extra.insert(key.to_owned(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    /// A validation failure naming the fields at fault.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        Problem::new(Kind::ValidationFailed, detail).with("errors", errors)
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), Value::from(self.kind.type_uri()));
        m.insert("title".into(), Value::from(self.kind.title()));
        m.insert("status".into(), Value::from(self.kind.status()));
        m.insert("detail".into(), Value::from(self.detail.clone()));
        for (k, v) in &self.extra {
            // Extension members never replace the standard ones (RFC 9457 §3.2).
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(m)
    }
}

/// Merges a malformed `Idempotency-Key` (a `validation-failed` problem) with a body's
/// validation result, so one answer names every faulty field, the key first.
pub fn with_key_fault<T>(key_fault: Option<&Problem>, body: Result<T, Problem>) -> Result<T, Problem> {
    let Some(key) = key_fault else { return body };
    let errors_of =
        |p: &Problem| -> Vec<Value> { p.extra.get("errors").and_then(|e| e.as_array().cloned()).unwrap_or_default() };
    match body {
        Ok(_) => Err(key.clone()),
        Err(p) if p.kind == Kind::ValidationFailed => {
            let mut errors = errors_of(key);
            errors.extend(errors_of(&p));
            let fields: Vec<FieldError> = errors
                .iter()
                .filter_map(|e| Some(FieldError::new(e["field"].as_str()?, e["message"].as_str()?)))
                .collect();
            let mut merged = Problem::invalid(fields);
            for (k, v) in p.extra {
                merged.extra.entry(k).or_insert(v);
            }
            Err(merged)
        }
        Err(p) => Err(p),
    }
}

/// The answer for a refused ledger command of SKU `sku`.
pub fn from_ledger(sku: &str, e: &LedgerError) -> Problem {
    let detail = format!("{sku}: {e}");
    match e {
        LedgerError::InsufficientStock { location, requested, available } => {
            Problem::new(Kind::InsufficientStock, detail).with(
                "lines",
                vec![serde_json::json!({
                    "sku": sku, "location": location, "requested": requested, "available": available
                })],
            )
        }
        LedgerError::VersionConflict { actual, .. } => {
            Problem::new(Kind::VersionConflict, detail).with("current_version", actual)
        }
        LedgerError::NegativeOnHand { .. } => Problem::new(Kind::NegativeOnHand, detail),
        LedgerError::HoldNotFound => Problem::new(Kind::ReservationNotFound, detail),
        LedgerError::HoldNotHeld(s) => {
            Problem::new(Kind::ReservationNotHeld, detail).with("reservation_status", s.as_str())
        }
        LedgerError::HoldConflict => Problem::new(Kind::ReservationConflict, detail),
        LedgerError::OrderNotFound => Problem::new(Kind::OrderNotFound, detail),
        LedgerError::OrderCancelled => Problem::new(Kind::OrderCancelled, detail),
        LedgerError::OverFulfilment { .. } => Problem::new(Kind::OverFulfilment, detail),
        LedgerError::NotOnHand { .. } => Problem::new(Kind::NotOnHand, detail),
        LedgerError::OutOfRange { field, .. } => Problem::invalid(vec![FieldError::new(field, e.to_string())]),
        LedgerError::IncomparableAsOf(_) => Problem::invalid(vec![FieldError::new("as_of", e.to_string())]),
        LedgerError::ErpBehind { location, pending } => {
            Problem::new(Kind::ErpBehind, detail).with("location", location).with("pending", pending)
        }
    }
}

/// The answer for a cart step that did not succeed.
pub fn from_cart(e: &CartError) -> Problem {
    match e {
        CartError::Short(lines) => {
            let detail = lines
                .iter()
                .map(|l| format!("{} at {}: {} requested, {} available", l.sku, l.location, l.requested, l.available))
                .collect::<Vec<_>>()
                .join("; ");
            Problem::new(Kind::InsufficientStock, detail).with("lines", lines)
        }
        CartError::NotHeld(status) => {
            Problem::new(Kind::ReservationNotHeld, format!("the reservation is {}", status.as_str()))
                .with("reservation_status", status.as_str())
        }
        CartError::Unavailable(why) => Problem::new(
            Kind::Unavailable,
            format!("a SKU ledger could not be reached ({why}); retry with the same request"),
        ),
        CartError::NotSaved(why) => Problem::new(Kind::Unavailable, format!("{why}; retry with the same request")),
    }
}

/// The answer for a cart whose merged lines are too large.
pub fn from_plan(e: &PlanError) -> Problem {
    Problem::invalid(e.0.iter().map(|l| FieldError::new("lines", l.to_string())).collect())
}

/// The answer for a request an order's book refused.
pub fn from_book(e: &BookError) -> Problem {
    let kind = match e {
        BookError::Cancelled => Kind::OrderCancelled,
        BookError::OverFulfilment { .. } => Kind::OverFulfilment,
        BookError::NotFound => Kind::OrderNotFound,
        BookError::NotOnHand { .. } => Kind::NotOnHand,
    };
    Problem::new(kind, e.to_string())
}

/// The answer for an Idempotency-Key already used with another request.
pub fn key_reused() -> Problem {
    Problem::new(Kind::IdempotencyKeyReused, "this Idempotency-Key was used with a different request")
}

/// The answer for a fault of the shell: the one place where a typed failure becomes HTTP.
pub fn from_fault(f: &Fault) -> Problem {
    match f {
        Fault::Store(StoreError::SchemaMissing { table }) => {
            Problem::new(Kind::SchemaMissing, f.to_string()).with("missing_table", table)
        }
        Fault::Store(StoreError::Transient(_)) | Fault::Object(ObjectError::Unreachable { .. }) => {
            Problem::new(Kind::Unavailable, format!("{f}; nothing was applied twice — retry"))
        }
        Fault::Store(StoreError::Constraint { .. } | StoreError::Corrupt(_) | StoreError::Rejected(_))
        | Fault::Object(ObjectError::OutOfContract { .. })
        | Fault::Runtime(_) => {
            Problem::new(Kind::Internal, "an internal step failed; nothing was applied twice — retry")
        }
    }
}

/// A hold status as a problem, for operations that need a held reservation.
pub fn not_held(status: HoldStatus) -> Problem {
    Problem::new(Kind::ReservationNotHeld, format!("the reservation is {}", status.as_str()))
        .with("reservation_status", status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_slug(k.slug()), Some(k));
            assert!(k.status() >= 400);
        }
        let mut slugs: Vec<_> = Kind::ALL.iter().map(|k| k.slug()).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), Kind::ALL.len());
    }

    #[test]
    fn insufficient_stock_lists_the_short_line() {
        let e = LedgerError::InsufficientStock { location: crate::stock::Location::main(), requested: 3, available: 1 };
        let v = from_ledger("A-1", &e).to_json();
        assert_eq!(v["type"], "/problems/insufficient-stock");
        assert_eq!(v["status"], 409);
        assert_eq!(v["lines"][0]["requested"], 3);
        assert_eq!(v["lines"][0]["available"], 1);
    }
}
