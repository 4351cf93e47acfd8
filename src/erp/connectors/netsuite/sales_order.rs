//! StockEdge's orders as NetSuite sales orders (REST record service), built and read without
//! I/O for the order delivery (docs/erp.md "Orders to the ERP"):
//!
//! - The `externalId` stands for StockEdge's reference ([`external_id`]: NetSuite takes only
//!   letters, digits, `_` and `-` in one), and the reference itself goes in `memo`.
//! - `GET /services/rest/record/v1/salesOrder/eid:<externalId>` finds the order already created
//!   under StockEdge's reference (a retry after a lost answer): `200` with the record (`id`,
//!   `orderStatus`), or `404` when there is none — read as "absent" here ([`read_found`]), not as
//!   the refusal every other ERP `404` is (`connectors::classify`).
//! - `POST /services/rest/record/v1/salesOrder` `{"externalId", "entity": {"id"}, "shipDate",
//!   "item": {"items": [{"item": {"id"}, "quantity", "location": {"id"}}]}}` answers `204` with
//!   the new record's URL in `Location` (`…/salesOrder/<id>`). NetSuite keeps `externalId`
//!   unique per record type, so a second create under one reference is refused (`DUP_RCRD`),
//!   never doubled: [`read_create`] answers [`Created::Exists`] and the caller looks it up again.
//! - A cancellation closes the order's open lines: `PATCH /services/rest/record/v1/salesOrder/<id>`
//!   `{"item": {"items": [{"line": n, "isclosed": true}, …]}}` ([`close_lines`]), NetSuite's
//!   documented way to close a sales order through REST ("Use Case For Updating Your Sales
//!   Order": close individual line items). A closed line commits nothing any more; once every
//!   line is closed the order's `orderStatus` is `H` (Closed). The lookup asks for the lines
//!   (`expandSubResources=true`) so the close names them; closing is idempotent (a line closed
//!   twice stays closed), so a close whose answer was lost is looked up and sent again.
//!   [`Found::cancelled`] reads an order closed that way, or cancelled by a person (`C`).

use serde_json::{json, Value};

use super::auth::bearer;
use super::external_id::external_id;
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
/// The `orderStatus` id of a sales order whose every line is closed.
pub const CLOSED_STATUS: &str = "H";

/// A sales order found under StockEdge's reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Its internal id.
    pub id: String,
    /// Whether it commits nothing any more: cancelled (`orderStatus` `C`), closed (`H`), or every
    /// line it lists closed.
    pub cancelled: bool,
    /// The `line` numbers of its lines not closed (empty when the answer listed no lines).
    pub open_lines: Vec<u64>,
}

/// Finds the sales order whose `externalId` stands for `reference` ([`external_id`]), with its
/// lines.
pub fn find_order(token: &str, reference: &str) -> HttpRequest {
    HttpRequest::new(Method::Get, format!("{SALES_ORDER_PATH}/eid:{}?expandSubResources=true", external_id(reference)))
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
    let lines = read_lines(&body)?;
    let open_lines: Vec<u64> = lines.iter().filter(|(_, closed)| !closed).map(|(n, _)| *n).collect();
    let cancelled =
        matches!(status, Some(CANCELLED_STATUS | CLOSED_STATUS)) || (!lines.is_empty() && open_lines.is_empty());
    Ok(Some(Found { id, cancelled, open_lines }))
}

/// The order's item lines as (`line`, closed), from an answer with its sub-resources expanded;
/// none when the answer does not list them. NetSuite spells the flag `isClosed` in records it
/// answers (`isclosed` is accepted too: field ids are not case-sensitive).
fn read_lines(body: &Value) -> Result<Vec<(u64, bool)>, CallFailure> {
    let Some(items) = body.get("item").and_then(|i| i.get("items")).and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|l| {
            let line = match l.get("line") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            }
            .ok_or_else(|| CallFailure::Unavailable("salesOrder lookup answered a line without its number".into()))?;
            let closed = l.get("isClosed").or_else(|| l.get("isclosed")).and_then(Value::as_bool).unwrap_or(false);
            Ok((line, closed))
        })
        .collect()
}

/// Closes the lines `lines` of the sales order whose internal id is `id` (a cancellation).
pub fn close_lines(token: &str, id: &str, lines: &[u64]) -> HttpRequest {
    let items: Vec<Value> = lines.iter().map(|n| json!({ "line": n, "isclosed": true })).collect();
    HttpRequest::new(Method::Patch, format!("{SALES_ORDER_PATH}/{}", encode_component(id)))
        .header("Authorization", bearer(token))
        .header("Content-Type", "application/json")
        .body(json!({ "item": { "items": items } }).to_string())
}

/// What a close answered: `204` is done; a refusal (a line NetSuite will not close) or anything
/// that may pass is the caller's, as [`answered`] reads it.
pub fn read_close(resp: &HttpResponse, now: Millis) -> Result<(), CallFailure> {
    answered(resp, now, "salesOrder close")
}

/// Creates `order` for the customer whose internal id is `customer`, its `externalId` standing
/// for the order's reference ([`external_id`]) and the reference itself in `memo`.
pub fn create_order(token: &str, customer: &str, order: &ErpOrder) -> Result<HttpRequest, String> {
    let id = external_id(&order.reference);
    if order.reference.is_empty() || id.len() > MAX_EXTERNAL_ID {
        return Err(format!(
            "order reference {:?} must make an externalId of 1 to {MAX_EXTERNAL_ID} characters (it makes {})",
            order.reference,
            id.len()
        ));
    }
    let items: Vec<Value> = order
        .lines
        .iter()
        .map(|l| json!({ "item": { "id": l.item }, "quantity": l.quantity, "location": { "id": l.warehouse } }))
        .collect();
    let body = json!({
        "externalId": id,
        "memo": order.reference,
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
        assert_eq!(q.path, "/services/rest/record/v1/salesOrder/eid:web_2FO_201?expandSubResources=true");
        assert_eq!(q.header_value("authorization"), Some("Bearer tok"));
        let t = Millis(0);
        let open = r#"{"id":"812","externalId":"web/O 1","orderStatus":{"id":"B","refName":"Pending Fulfillment"}}"#;
        assert_eq!(
            read_found(&HttpResponse::new(200, open), t),
            Ok(Some(Found { id: "812".into(), cancelled: false, open_lines: vec![] }))
        );
        let cancelled = r#"{"id":813,"orderStatus":{"id":"C","refName":"Cancelled"}}"#;
        assert_eq!(
            read_found(&HttpResponse::new(200, cancelled), t),
            Ok(Some(Found { id: "813".into(), cancelled: true, open_lines: vec![] }))
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
    fn a_cancellation_closes_the_open_lines_and_a_closed_order_reads_cancelled() {
        let t = Millis(0);
        let found = |body: &str| read_found(&HttpResponse::new(200, body), t);
        let open = r#"{"id":"9","orderStatus":{"id":"B"},"item":{"items":[
            {"line":1,"isClosed":false},{"line":2,"isClosed":true},{"line":"3"}]}}"#;
        assert_eq!(found(open), Ok(Some(Found { id: "9".into(), cancelled: false, open_lines: vec![1, 3] })));
        // Every line closed: cancelled, whatever the status says yet; status H alone says so too.
        let all = r#"{"id":"9","orderStatus":{"id":"B"},"item":{"items":[{"line":1,"isclosed":true}]}}"#;
        assert_eq!(found(all), Ok(Some(Found { id: "9".into(), cancelled: true, open_lines: vec![] })));
        let closed = r#"{"id":"9","orderStatus":{"id":"H","refName":"Closed"}}"#;
        assert_eq!(found(closed).map(|f| f.map(|f| f.cancelled)), Ok(Some(true)));
        // A line without its number cannot be closed: not read as anything.
        let bad = r#"{"id":"9","orderStatus":{"id":"B"},"item":{"items":[{"isClosed":false}]}}"#;
        assert!(matches!(found(bad), Err(CallFailure::Unavailable(_))));

        let req = close_lines("tok", "9", &[1, 3]);
        assert_eq!((req.method, req.path.as_str()), (Method::Patch, "/services/rest/record/v1/salesOrder/9"));
        assert_eq!(req.header_value("authorization"), Some("Bearer tok"));
        assert_eq!(
            serde_json::from_str::<Value>(&req.body).expect("json"),
            json!({"item":{"items":[{"line":1,"isclosed":true},{"line":3,"isclosed":true}]}})
        );
        assert_eq!(read_close(&HttpResponse::new(204, ""), t), Ok(()));
        let refused = r#"{"status":400,"o:errorDetails":[{"o:errorCode":"USER_ERROR"}]}"#;
        assert!(matches!(read_close(&HttpResponse::new(400, refused), t), Err(CallFailure::Refused(_))));
        assert!(matches!(read_close(&HttpResponse::new(503, ""), t), Err(CallFailure::Unavailable(_))));
    }

    #[test]
    fn a_sales_order_carries_the_external_id_and_lines() {
        let req = create_order("tok", "42", &order()).expect("req");
        assert_eq!(req.path, SALES_ORDER_PATH);
        assert_eq!(
            serde_json::from_str::<Value>(&req.body).expect("json"),
            json!({"externalId":"web_2F1001","memo":"web/1001","entity":{"id":"42"},"shipDate":"2026-12-06",
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
        // Escaping counts: 86 slashes make 258 characters.
        let escaped = ErpOrder { reference: "/".repeat(86), ..order() };
        assert!(create_order("tok", "42", &escaped).is_err());
        assert!(create_order("tok", "42", &ErpOrder { reference: "/".repeat(85), ..order() }).is_ok());
    }
}
