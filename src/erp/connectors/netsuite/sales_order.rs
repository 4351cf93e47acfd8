//! StockEdge's orders as NetSuite sales orders (REST record service), built and read without
//! I/O for the order delivery (docs/erp.md "Orders to the ERP"):
//!
//! - `GET /services/rest/record/v1/salesOrder/eid:<externalId>` finds the order already created
//!   under StockEdge's reference (a retry after a lost answer): `200` with the record (`id`,
//!   `orderStatus`), or `404` when there is none — read as "absent" here ([`read_found`]), not as
//!   the refusal every other ERP `404` is (`connectors::classify`).
//! - `POST /services/rest/record/v1/salesOrder` `{"externalId", "entity": {"id"}, "shipDate",
//!   "item": {"items": [{"item": {"id"}, "quantity", "location": {"id"}}]}}` answers `204` with
//!   the new record's URL in `Location` (`…/salesOrder/<id>`). NetSuite keeps `externalId`
//!   unique per record type, so a second create under one reference is refused (`DUP_RCRD`),
//!   never doubled: [`read_create`] answers [`Created::Exists`] and the caller looks it up again.
//! - Cancellations are not sent: a sales order is cancelled in NetSuite by a person (the order's
//!   `orderStatus` becomes `C`, Cancelled); [`Found::cancelled`] reads it.

use serde_json::{json, Value};

use super::auth::bearer;
pub use super::Created;
use super::{answered, read_created};
use crate::erp::connectors::order::ErpOrder;
use crate::erp::connectors::CallFailure;
use crate::sync::http::encode_component;
use crate::sync::{HttpRequest, HttpResponse, Method};
use crate::time::Millis;

pub const SALES_ORDER_PATH: &str = "/services/rest/record/v1/salesOrder";
/// The longest `externalId` NetSuite stores.
pub const MAX_EXTERNAL_ID: usize = 255;
/// The `orderStatus` id of a cancelled sales order.
pub const CANCELLED_STATUS: &str = "C";

/// A sales order found under StockEdge's reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Its internal id.
    pub id: String,
    /// Whether it is cancelled (`orderStatus` `C`).
    pub cancelled: bool,
}

/// Finds the sales order whose `externalId` is `reference`.
pub fn find_order(token: &str, reference: &str) -> HttpRequest {
    HttpRequest::new(Method::Get, format!("{SALES_ORDER_PATH}/eid:{}", encode_component(reference)))
        .header("Authorization", bearer(token))
        .header("Accept", "application/json")
}

/// The order [`find_order`] found: `None` when NetSuite has none (`404`). A `401` or throttling
/// is the caller's (it renews the token or waits) and answered as [`CallFailure::Unavailable`]
/// here; another 4xx is a refusal.
pub fn read_found(resp: &HttpResponse, now: Millis) -> Result<Option<Found>, CallFailure> {
    if resp.status == 404 {
        return Ok(None);
    }
    answered(resp, now, "salesOrder lookup")?;
    let body = resp.json().ok_or_else(|| CallFailure::Unavailable("salesOrder lookup answered no JSON".into()))?;
    let id = match body.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(CallFailure::Unavailable("salesOrder lookup answered without id".into())),
    };
    let status = body.get("orderStatus").and_then(|s| s.get("id")).and_then(Value::as_str);
    Ok(Some(Found { id, cancelled: status == Some(CANCELLED_STATUS) }))
}

/// Creates `order` for the customer whose internal id is `customer`.
pub fn create_order(token: &str, customer: &str, order: &ErpOrder) -> Result<HttpRequest, String> {
    if order.reference.is_empty() || order.reference.chars().count() > MAX_EXTERNAL_ID {
        return Err(format!("order reference must have 1 to {MAX_EXTERNAL_ID} characters (externalId)"));
    }
    let items: Vec<Value> = order
        .lines
        .iter()
        .map(|l| json!({ "item": { "id": l.item }, "quantity": l.quantity, "location": { "id": l.warehouse } }))
        .collect();
    let body = json!({
        "externalId": order.reference,
        "entity": { "id": customer },
        "shipDate": order.due,
        "item": { "items": items },
    });
    Ok(HttpRequest::new(Method::Post, SALES_ORDER_PATH)
        .header("Authorization", bearer(token))
        .header("Content-Type", "application/json")
        .body(body.to_string()))
}

/// What a create answered: the new internal id from its `Location`, or [`Created::Exists`] when
/// the `externalId` is taken (`400` `DUP_RCRD`): [`super::read_created`].
pub fn read_create(resp: &HttpResponse, now: Millis) -> Result<Created, CallFailure> {
    read_created(resp, now, "salesOrder")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::connectors::order::ErpOrderLine;

    fn order() -> ErpOrder {
        ErpOrder {
            reference: "web/1001".into(),
            due: "2026-12-06".into(),
            lines: vec![ErpOrderLine { item: "101".into(), warehouse: "1".into(), quantity: 2 }],
        }
    }

    #[test]
    fn orders_are_found_by_external_id() {
        let q = find_order("tok", "web/O 1");
        assert_eq!(q.path, "/services/rest/record/v1/salesOrder/eid:web%2FO%201");
        assert_eq!(q.header_value("authorization"), Some("Bearer tok"));
        let t = Millis(0);
        let open = r#"{"id":"812","externalId":"web/O 1","orderStatus":{"id":"B","refName":"Pending Fulfillment"}}"#;
        assert_eq!(
            read_found(&HttpResponse::new(200, open), t),
            Ok(Some(Found { id: "812".into(), cancelled: false }))
        );
        let cancelled = r#"{"id":813,"orderStatus":{"id":"C","refName":"Cancelled"}}"#;
        assert_eq!(
            read_found(&HttpResponse::new(200, cancelled), t),
            Ok(Some(Found { id: "813".into(), cancelled: true }))
        );
        // 404 is "no such order", not a refusal.
        let absent = r#"{"status":404,"o:errorDetails":[{"o:errorCode":"NONEXISTENT_ID"}]}"#;
        assert_eq!(read_found(&HttpResponse::new(404, absent), t), Ok(None));
        assert!(matches!(read_found(&HttpResponse::new(200, "{}"), t), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read_found(&HttpResponse::new(500, ""), t), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read_found(&HttpResponse::new(429, ""), t), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read_found(&HttpResponse::new(403, ""), t), Err(CallFailure::Refused(_))));
    }

    #[test]
    fn a_sales_order_carries_the_external_id_and_lines() {
        let req = create_order("tok", "42", &order()).expect("req");
        assert_eq!(req.path, SALES_ORDER_PATH);
        assert_eq!(
            serde_json::from_str::<Value>(&req.body).expect("json"),
            json!({"externalId":"web/1001","entity":{"id":"42"},"shipDate":"2026-12-06",
                   "item":{"items":[{"item":{"id":"101"},"quantity":2,"location":{"id":"1"}}]}})
        );
        let created = HttpResponse::new(204, "")
            .header("Location", "https://1.suitetalk.api.netsuite.com/services/rest/record/v1/salesOrder/813");
        let t = Millis(0);
        assert_eq!(read_create(&created, t), Ok(Created::Id("813".into())));
        assert!(matches!(read_create(&HttpResponse::new(204, ""), t), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read_create(&HttpResponse::new(400, ""), t), Err(CallFailure::Refused(_))));
        assert!(matches!(read_create(&HttpResponse::new(503, ""), t), Err(CallFailure::Unavailable(_))));
        // A taken externalId is an earlier create: looked up, not refused.
        let dup =
            r#"{"status":400,"o:errorDetails":[{"detail":"This record already exists.","o:errorCode":"DUP_RCRD"}]}"#;
        assert_eq!(read_create(&HttpResponse::new(400, dup), t), Ok(Created::Exists));
        let other = r#"{"status":400,"o:errorDetails":[{"detail":"Invalid item reference key 9.","o:errorCode":"USER_ERROR"}]}"#;
        assert!(matches!(read_create(&HttpResponse::new(400, other), t), Err(CallFailure::Refused(_))));
        let long = ErpOrder { reference: "x".repeat(MAX_EXTERNAL_ID + 1), ..order() };
        assert!(create_order("tok", "42", &long).is_err());
    }
}
