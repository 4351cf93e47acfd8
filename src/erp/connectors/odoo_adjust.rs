//! Odoo (17+ JSON-2 API) inventory adjustments as values, for forwarded adjustment requests
//! (docs/erp.md "Adjustment requests to the ERP"; the decision is `erp::adjustment_send`):
//! - `POST /json/2/stock.move/search_read` — the done inventory move named with the request's tag
//!   (Odoo appends ` (<user>)` to the name when the counting user is not the superuser): found,
//!   the request was applied.
//! - `POST /json/2/stock.quant/search_read` — the quant of the product at the location without a
//!   lot, package or owner (`[{"id","quantity"}]` or `[]`).
//! - `POST /json/2/stock.quant/write` `{"ids":[id],"vals":{"inventory_quantity":n},"context":
//!   {"inventory_mode":true}}` — the counted quantity; or, without a quant,
//!   `POST /json/2/stock.quant/create` `{"vals_list":[{"product_id","location_id",
//!   "inventory_quantity"}],"context":{"inventory_mode":true}}` (answers `[id]`). Nothing moves yet.
//! - `POST /json/2/stock.quant/action_apply_inventory` `{"ids":[id],"context":{"inventory_name":
//!   tag}}` — one transaction: a done move of the difference (named `tag`) and the quant's
//!   `quantity` set to the count. Answers `null`; an action (a wizard: a lot-tracked product
//!   counted without a lot) means nothing was applied.
//!
//! The item code is the product id, the warehouse code the location id (as text).

use serde_json::{json, Value};

use super::odoo::json2;
use crate::sync::{HttpRequest, HttpResponse};

/// A quant found for a product and location.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quant {
    pub id: i64,
    pub quantity: f64,
}

/// An Odoo id from an item or warehouse code.
pub fn id_of(code: &str, what: &str) -> Result<i64, String> {
    code.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| format!("{what} code {code:?} is not an Odoo id"))
}

/// Looks up the done inventory move named `tag`.
pub fn find_move(api_key: &str, database: Option<&str>, tag: &str) -> HttpRequest {
    let body = json!({
        "domain": [["is_inventory", "=", true], ["state", "=", "done"],
                   "|", ["name", "=", tag], ["name", "=like", format!("{tag} (%")]],
        "fields": ["id", "name"],
        "limit": 1,
    });
    json2(api_key, database, "stock.move", "search_read", &body)
}

/// Whether [`find_move`] found the move.
pub fn read_moved(resp: &HttpResponse) -> Result<bool, String> {
    let rows: Vec<Value> =
        serde_json::from_str(&resp.body).map_err(|e| format!("stock.move lookup unreadable: {e}"))?;
    Ok(!rows.is_empty())
}

/// Looks up the quant of `product` at `location` without a lot, package or owner.
pub fn find_quant(api_key: &str, database: Option<&str>, product: i64, location: i64) -> HttpRequest {
    let body = json!({
        "domain": [["product_id", "=", product], ["location_id", "=", location],
                   ["lot_id", "=", false], ["package_id", "=", false], ["owner_id", "=", false]],
        "fields": ["id", "quantity"],
        "limit": 1,
    });
    json2(api_key, database, "stock.quant", "search_read", &body)
}

/// The quant [`find_quant`] found, `None` when there is none.
pub fn read_quant(resp: &HttpResponse) -> Result<Option<Quant>, String> {
    let rows: Vec<Value> =
        serde_json::from_str(&resp.body).map_err(|e| format!("stock.quant lookup unreadable: {e}"))?;
    let Some(r) = rows.first() else { return Ok(None) };
    let id = r.get("id").and_then(Value::as_i64).ok_or("stock.quant lookup without id")?;
    Ok(Some(Quant { id, quantity: r.get("quantity").and_then(Value::as_f64).unwrap_or(0.0) }))
}

/// Sets quant `id`'s counted quantity (nothing moves until it is applied).
pub fn count(api_key: &str, database: Option<&str>, id: i64, quantity: f64) -> HttpRequest {
    let body =
        json!({ "ids": [id], "vals": { "inventory_quantity": quantity }, "context": { "inventory_mode": true } });
    json2(api_key, database, "stock.quant", "write", &body)
}

/// Creates the quant of `product` at `location` with a counted quantity (Odoo writes on a matching
/// quant instead when one exists: repeating it is harmless).
pub fn create_counted(
    api_key: &str,
    database: Option<&str>,
    product: i64,
    location: i64,
    quantity: f64,
) -> HttpRequest {
    let body = json!({
        "vals_list": [{ "product_id": product, "location_id": location, "inventory_quantity": quantity }],
        "context": { "inventory_mode": true },
    });
    json2(api_key, database, "stock.quant", "create", &body)
}

/// The id of the quant [`create_counted`] answered.
pub fn read_created(resp: &HttpResponse) -> Result<i64, String> {
    super::odoo::read_created(resp, "stock.quant")
}

/// Applies quant `id`'s count; its move is named `tag`.
pub fn apply(api_key: &str, database: Option<&str>, id: i64, tag: &str) -> HttpRequest {
    let body = json!({ "ids": [id], "context": { "inventory_name": tag } });
    json2(api_key, database, "stock.quant", "action_apply_inventory", &body)
}

/// Whether a `2xx` answer to [`apply`] applied the count: `null` (or `true`) did; an action
/// (a wizard asking for a lot) did not — a refusal to report.
pub fn read_applied(resp: &HttpResponse) -> Result<(), String> {
    match resp.json() {
        Some(Value::Null | Value::Bool(true)) => Ok(()),
        None if resp.body.trim().is_empty() => Ok(()),
        Some(Value::Object(action)) => Err(format!(
            "action_apply_inventory asked for {} instead of applying (a lot-tracked product?)",
            action.get("res_model").and_then(Value::as_str).unwrap_or("a wizard")
        )),
        _ => Err(format!("action_apply_inventory answered {}", resp.body.chars().take(200).collect::<String>())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(req: &HttpRequest) -> Value {
        serde_json::from_str(&req.body).expect("json")
    }

    #[test]
    fn the_tagged_move_is_looked_up_first() {
        let q = find_move("k", Some("prod"), "StockEdge adjustment request 4");
        assert_eq!(q.path, "/json/2/stock.move/search_read");
        assert_eq!(
            (q.header_value("authorization"), q.header_value("x-odoo-database")),
            (Some("bearer k"), Some("prod"))
        );
        assert_eq!(
            body(&q)["domain"],
            json!([
                ["is_inventory", "=", true],
                ["state", "=", "done"],
                "|",
                ["name", "=", "StockEdge adjustment request 4"],
                ["name", "=like", "StockEdge adjustment request 4 (%"]
            ])
        );
        assert_eq!(read_moved(&HttpResponse::new(200, r#"[{"id":9,"name":"x"}]"#)), Ok(true));
        assert_eq!(read_moved(&HttpResponse::new(200, "[]")), Ok(false));
        assert!(read_moved(&HttpResponse::new(200, "<html>")).is_err());
    }

    #[test]
    fn the_quant_without_lot_package_or_owner_is_counted_and_applied() {
        let q = find_quant("k", None, 42, 8);
        assert_eq!(q.path, "/json/2/stock.quant/search_read");
        assert_eq!(
            body(&q),
            json!({"domain":[["product_id","=",42],["location_id","=",8],["lot_id","=",false],
                   ["package_id","=",false],["owner_id","=",false]],"fields":["id","quantity"],"limit":1})
        );
        let found = read_quant(&HttpResponse::new(200, r#"[{"id":3,"quantity":10.5}]"#));
        assert_eq!(found, Ok(Some(Quant { id: 3, quantity: 10.5 })));
        assert_eq!(read_quant(&HttpResponse::new(200, "[]")), Ok(None));
        assert!(read_quant(&HttpResponse::new(200, r#"[{"quantity":1}]"#)).is_err());

        let w = count("k", None, 3, 8.0);
        assert_eq!(w.path, "/json/2/stock.quant/write");
        assert_eq!(body(&w), json!({"ids":[3],"vals":{"inventory_quantity":8.0},"context":{"inventory_mode":true}}));
        let c = create_counted("k", None, 42, 8, 5.0);
        assert_eq!(c.path, "/json/2/stock.quant/create");
        assert_eq!(
            body(&c),
            json!({"vals_list":[{"product_id":42,"location_id":8,"inventory_quantity":5.0}],"context":{"inventory_mode":true}})
        );
        assert_eq!(read_created(&HttpResponse::new(200, "[17]")), Ok(17));
        assert!(read_created(&HttpResponse::new(200, "[]")).is_err());

        let a = apply("k", None, 3, "StockEdge adjustment request 4");
        assert_eq!(a.path, "/json/2/stock.quant/action_apply_inventory");
        assert_eq!(body(&a), json!({"ids":[3],"context":{"inventory_name":"StockEdge adjustment request 4"}}));
        assert_eq!(read_applied(&HttpResponse::new(200, "null")), Ok(()));
        assert_eq!(read_applied(&HttpResponse::new(200, "true")), Ok(()));
        let wizard = r#"{"type":"ir.actions.act_window","res_model":"stock.track.confirmation"}"#;
        assert!(read_applied(&HttpResponse::new(200, wizard)).is_err_and(|e| e.contains("stock.track.confirmation")));
    }

    #[test]
    fn codes_must_be_odoo_ids() {
        assert_eq!(id_of("42", "item"), Ok(42));
        assert!(id_of("A100", "item").is_err());
        assert!(id_of("0", "warehouse").is_err());
    }
}
