//! Odoo (17+ JSON-2 API) sales orders as values, for the order delivery (docs/erp.md, "Odoo"):
//! - `POST /json/2/sale.order/search_read` `{"domain":[["client_order_ref","=",ref]],"fields":
//!   ["id","state"],"limit":1}` finds the order already created under StockEdge's reference (a
//!   retry after a lost answer); answers `[{"id","state"}]` or `[]`.
//! - `POST /json/2/sale.order/create` `{"vals_list":[{"partner_id","client_order_ref",
//!   "order_line":[[0,0,{"product_id","product_uom_qty"}]],"warehouse_id"?}]}` answers the new
//!   ids `[id]`; the order is a quotation (`draft`) until
//! - `POST /json/2/sale.order/action_confirm` `{"ids":[id]}` confirms it (`sale`): its delivery
//!   order reserves the units (`stock.quant.reserved_quantity`), which the stock poll reads.
//! - `POST /json/2/sale.order/action_cancel` `{"ids":[id]}` cancels it (`cancel`).
//!
//! Every call carries `Authorization: bearer <API key>` (and `X-Odoo-Database` when set). The
//! item code is the product id (as text); a line's warehouse is not sent per line (an Odoo order
//! ships from one warehouse: `settings.warehouse_id`, else the company's default).

use serde_json::{json, Value};

use super::order::ErpOrder;
use crate::sync::{HttpRequest, HttpResponse};

/// A sales order found under a reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub id: i64,
    pub state: State,
}

/// What [`Found::state`] says matters to the delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// A quotation (`draft`, `sent`): created, not yet confirmed.
    Draft,
    /// Confirmed (`sale`, `done`).
    Confirmed,
    /// `cancel`.
    Cancelled,
}

fn call(api_key: &str, database: Option<&str>, method: &str, body: Value) -> HttpRequest {
    super::odoo::json2(api_key, database, "sale.order", method, &body)
}

/// Finds the order created under `reference`.
pub fn find(api_key: &str, database: Option<&str>, reference: &str) -> HttpRequest {
    let body = json!({ "domain": [["client_order_ref", "=", reference]], "fields": ["id", "state"], "limit": 1 });
    call(api_key, database, "search_read", body)
}

pub fn read_found(resp: &HttpResponse) -> Result<Option<Found>, String> {
    let rows: Vec<Value> =
        serde_json::from_str(&resp.body).map_err(|e| format!("sale.order lookup unreadable: {e}"))?;
    let Some(r) = rows.first() else { return Ok(None) };
    let id = r.get("id").and_then(Value::as_i64).ok_or("sale.order lookup without id")?;
    let state = match r.get("state").and_then(Value::as_str) {
        Some("cancel") => State::Cancelled,
        Some("sale" | "done") => State::Confirmed,
        _ => State::Draft,
    };
    Ok(Some(Found { id, state }))
}

/// Creates `order` for customer `partner` (a quotation, to confirm).
pub fn create(
    api_key: &str,
    database: Option<&str>,
    partner: i64,
    warehouse: Option<i64>,
    order: &ErpOrder,
) -> Result<HttpRequest, String> {
    let mut lines = Vec::with_capacity(order.lines.len());
    for l in &order.lines {
        let product: i64 = l.item.parse().map_err(|_| format!("item code {:?} is not an Odoo product id", l.item))?;
        lines.push(json!([0, 0, { "product_id": product, "product_uom_qty": l.quantity }]));
    }
    let mut vals = json!({ "partner_id": partner, "client_order_ref": order.reference, "order_line": lines });
    if let Some(w) = warehouse {
        vals["warehouse_id"] = json!(w);
    }
    Ok(call(api_key, database, "create", json!({ "vals_list": [vals] })))
}

/// The id of a created order.
pub fn read_created(resp: &HttpResponse) -> Result<i64, String> {
    super::odoo::read_created(resp, "sale.order")
}

pub fn confirm(api_key: &str, database: Option<&str>, id: i64) -> HttpRequest {
    call(api_key, database, "action_confirm", json!({ "ids": [id] }))
}

pub fn cancel(api_key: &str, database: Option<&str>, id: i64) -> HttpRequest {
    call(api_key, database, "action_cancel", json!({ "ids": [id] }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::connectors::order::ErpOrderLine;

    #[test]
    fn orders_are_found_by_reference_created_confirmed_and_cancelled() {
        let q = find("k", Some("prod"), "web/1|TEE");
        assert_eq!(q.path, "/json/2/sale.order/search_read");
        assert_eq!(q.header_value("authorization"), Some("bearer k"));
        assert_eq!(q.header_value("x-odoo-database"), Some("prod"));
        assert_eq!(
            serde_json::from_str::<Value>(&q.body).expect("json"),
            json!({"domain":[["client_order_ref","=","web/1|TEE"]],"fields":["id","state"],"limit":1})
        );
        let found = |body: &str| read_found(&HttpResponse::new(200, body));
        assert_eq!(found("[]"), Ok(None));
        assert_eq!(found(r#"[{"id":7,"state":"draft"}]"#), Ok(Some(Found { id: 7, state: State::Draft })));
        assert_eq!(found(r#"[{"id":7,"state":"sale"}]"#), Ok(Some(Found { id: 7, state: State::Confirmed })));
        assert_eq!(found(r#"[{"id":7,"state":"cancel"}]"#), Ok(Some(Found { id: 7, state: State::Cancelled })));
        let order = ErpOrder {
            reference: "web/1|TEE".into(),
            due: "2026-12-06".into(),
            lines: vec![ErpOrderLine { item: "42".into(), warehouse: "8".into(), quantity: 2 }],
        };
        let c = create("k", None, 3, Some(1), &order).expect("req");
        assert_eq!(c.path, "/json/2/sale.order/create");
        assert_eq!(
            serde_json::from_str::<Value>(&c.body).expect("json"),
            json!({"vals_list":[{"partner_id":3,"client_order_ref":"web/1|TEE","warehouse_id":1,
                   "order_line":[[0,0,{"product_id":42,"product_uom_qty":2}]]}]})
        );
        let bad =
            ErpOrder { lines: vec![ErpOrderLine { item: "X".into(), warehouse: "8".into(), quantity: 1 }], ..order };
        assert!(create("k", None, 3, None, &bad).is_err());
        assert_eq!(read_created(&HttpResponse::new(200, "[12]")), Ok(12));
        assert!(read_created(&HttpResponse::new(200, "[]")).is_err());
        assert_eq!(confirm("k", None, 12).body, r#"{"ids":[12]}"#);
        assert_eq!(cancel("k", None, 12).path, "/json/2/sale.order/action_cancel");
    }
}
