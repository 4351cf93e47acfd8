//! StockEdge's orders as NetSuite sales orders (REST record service), built and read without
//! I/O for the order delivery (issue 13 point 3):
//!
//! - `GET /services/rest/record/v1/salesOrder/eid:<externalId>` finds the order already created
//!   under StockEdge's reference (a retry after a lost answer): `200` with the record (`id`), or
//!   `404` when there is none.
//! - `POST /services/rest/record/v1/salesOrder` `{"externalId", "entity": {"id"}, "shipDate",
//!   "item": {"items": [{"item": {"id"}, "quantity", "location": {"id"}}]}}` answers `204` with
//!   the new record's URL in `Location` (`…/salesOrder/<id>`). NetSuite keeps `externalId`
//!   unique per record type, so a second create under one reference is refused, never doubled.

use serde_json::{json, Value};

use super::auth::bearer;
use crate::erp::connectors::order::ErpOrder;
use crate::sync::http::encode_component;
use crate::sync::{HttpRequest, HttpResponse, Method};

pub const SALES_ORDER_PATH: &str = "/services/rest/record/v1/salesOrder";
/// The longest `externalId` NetSuite stores.
pub const MAX_EXTERNAL_ID: usize = 255;

/// Finds the sales order whose `externalId` is `reference`.
pub fn find_order(token: &str, reference: &str) -> HttpRequest {
    HttpRequest::new(Method::Get, format!("{SALES_ORDER_PATH}/eid:{}", encode_component(reference)))
        .header("Authorization", bearer(token))
        .header("Accept", "application/json")
}

/// The internal id of the order [`find_order`] found; `None` when NetSuite has none (`404`).
pub fn read_found(resp: &HttpResponse) -> Result<Option<String>, String> {
    match resp.status {
        404 => Ok(None),
        200 => resp
            .json()
            .and_then(|v| match v.get("id") {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
            .map(Some)
            .ok_or_else(|| "salesOrder lookup answered without id".into()),
        s => Err(format!("salesOrder lookup answered {s}")),
    }
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

/// The internal id of a created order, from its `Location`.
pub fn read_created(resp: &HttpResponse) -> Result<String, String> {
    if !resp.is_success() {
        return Err(format!("salesOrder create answered {}", resp.status));
    }
    resp.header_value("location")
        .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
        .filter(|id| !id.is_empty() && !id.contains(':'))
        .map(str::to_owned)
        .ok_or_else(|| "salesOrder created without a Location".into())
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
        assert_eq!(
            read_found(&HttpResponse::new(200, r#"{"id":"812","externalId":"web/O 1"}"#)),
            Ok(Some("812".into()))
        );
        assert_eq!(read_found(&HttpResponse::new(404, r#"{"o:errorDetails":[]}"#)), Ok(None));
        assert!(read_found(&HttpResponse::new(200, "{}")).is_err());
        assert!(read_found(&HttpResponse::new(500, "")).is_err());
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
        assert_eq!(read_created(&created), Ok("813".into()));
        assert!(read_created(&HttpResponse::new(204, "")).is_err());
        assert!(read_created(&HttpResponse::new(400, "")).is_err());
        let long = ErpOrder { reference: "x".repeat(MAX_EXTERNAL_ID + 1), ..order() };
        assert!(create_order("tok", "42", &long).is_err());
    }
}
