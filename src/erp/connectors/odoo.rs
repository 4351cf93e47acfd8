//! Odoo (17+ JSON-2 API), stock reads as values (docs/erp.md, "Odoo"):
//! `POST /json/2/stock.quant/search_read` with `Authorization: bearer <API key>` (and
//! `X-Odoo-Database` when the server hosts several databases) and a JSON body of named
//! arguments — `domain`, `fields`, `limit`, `offset`, `order` — answers a JSON array of records.
//! A quant's `product_id` and `location_id` are many2one pairs `[id, "display name"]`; its
//! `quantity` is on hand and `reserved_quantity` what delivery orders (a confirmed `sale.order`'s
//! among them) reserve. Item and warehouse codes are the product and location ids, as text.

use serde_json::{json, Value};

use crate::erp::connector;
use crate::erp::mapping::ErpRow;
use crate::sync::{HttpRequest, HttpResponse, Method};
use crate::time::Millis;

use super::sap_b1::ItemsPage;

/// Odoo's datetime text (UTC, no zone): `YYYY-MM-DD HH:MM:SS`.
fn odoo_datetime(t: Millis) -> String {
    let s = t.to_rfc3339();
    format!("{} {}", &s[..10], &s[11..19])
}

/// The page at `offset` of quants in internal locations written since `since` (all when `None`).
pub fn quants(api_key: &str, database: Option<&str>, since: Option<Millis>, offset: u64, limit: u32) -> HttpRequest {
    let mut domain = vec![json!(["location_id.usage", "=", "internal"])];
    if let Some(t) = since {
        domain.push(json!(["write_date", ">=", odoo_datetime(t)]));
    }
    let body = json!({
        "domain": domain,
        "fields": ["product_id", "location_id", "quantity", "reserved_quantity"],
        "limit": limit,
        "offset": offset,
        "order": "id",
    });
    json2(api_key, database, "stock.quant", "search_read", &body)
}

/// A JSON-2 call: `POST /json/2/<model>/<method>` with the API key as a bearer token,
/// `X-Odoo-Database` when set, and `body` (the method's named arguments, `ids`, `context`).
pub fn json2(api_key: &str, database: Option<&str>, model: &str, method: &str, body: &Value) -> HttpRequest {
    let mut req = HttpRequest::new(Method::Post, format!("/json/2/{model}/{method}"))
        .header("Authorization", format!("bearer {api_key}"))
        .header("Content-Type", "application/json; charset=utf-8");
    if let Some(db) = database {
        req = req.header("X-Odoo-Database", db);
    }
    req.body(body.to_string())
}

/// The id of the record a `create` of `model` answered (`[id]`, or a bare id).
pub fn read_created(resp: &HttpResponse, model: &str) -> Result<i64, String> {
    let v = resp.json().ok_or_else(|| format!("{model} create answer unreadable"))?;
    match &v {
        Value::Array(a) => a.first().and_then(Value::as_i64),
        other => other.as_i64(),
    }
    .ok_or_else(|| format!("{model} create answered no id"))
}

/// The id of a many2one pair `[id, "name"]` (or a bare id), as text.
fn many2one(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Array(a) => a.first().and_then(Value::as_i64).map(|n| n.to_string()),
        Value::Number(n) => n.as_i64().map(|n| n.to_string()),
        _ => None,
    }
}

/// A page of quants as rows (available = `⌊quantity⌋ − ⌈reserved_quantity⌉`); the next offset
/// when the page was full. Quants of one product and location are summed (Odoo keeps one per
/// lot and package).
pub fn read_quants(resp: &HttpResponse, offset: u64, limit: u32) -> Result<ItemsPage, String> {
    let records: Vec<Value> =
        serde_json::from_str(&resp.body).map_err(|e| format!("search_read answer unreadable: {e}"))?;
    let full = records.len() >= limit as usize;
    let mut rows: Vec<ErpRow> = Vec::new();
    for r in &records {
        let (Some(item), Some(warehouse)) = (many2one(r.get("product_id")), many2one(r.get("location_id"))) else {
            return Err("a quant without product_id or location_id".into());
        };
        let q = r.get("quantity").and_then(Value::as_f64).unwrap_or(0.0);
        let reserved = r.get("reserved_quantity").and_then(Value::as_f64).unwrap_or(0.0);
        let figure = connector::odoo(q.floor() as i64, reserved.ceil() as i64);
        match rows.iter_mut().find(|x| x.item == item && x.warehouse == warehouse) {
            Some(x) => x.figure.quantity = x.figure.quantity.saturating_add(figure.quantity),
            None => rows.push(ErpRow { item, warehouse, figure }),
        }
    }
    Ok(ItemsPage { rows, next: full.then(|| (offset + u64::from(limit)).to_string()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::{Basis, Figure};

    #[test]
    fn search_read_body_filters_internal_quants_by_write_date() {
        let req = quants("k3y", Some("prod"), Some(Millis(1_796_558_400_000)), 200, 100);
        assert_eq!(req.path, "/json/2/stock.quant/search_read");
        assert_eq!(req.header_value("authorization"), Some("bearer k3y"));
        assert_eq!(req.header_value("x-odoo-database"), Some("prod"));
        assert_eq!(
            serde_json::from_str::<Value>(&req.body).expect("json"),
            json!({"domain":[["location_id.usage","=","internal"],["write_date",">=","2026-12-06 12:00:00"]],
                   "fields":["product_id","location_id","quantity","reserved_quantity"],
                   "limit":100,"offset":200,"order":"id"})
        );
        assert!(quants("k", None, None, 0, 10).header_value("x-odoo-database").is_none());
    }

    #[test]
    fn quants_become_rows_summed_per_product_and_location() {
        let body = r#"[{"id":1,"product_id":[7,"[T1] Tee"],"location_id":[8,"WH/Stock"],"quantity":10.0,"reserved_quantity":3.0},
                       {"id":2,"product_id":[7,"[T1] Tee"],"location_id":[8,"WH/Stock"],"quantity":2.0,"reserved_quantity":0.0}]"#;
        let page = read_quants(&HttpResponse::new(200, body), 0, 2).expect("page");
        assert_eq!(
            page.rows,
            vec![ErpRow {
                item: "7".into(),
                warehouse: "8".into(),
                figure: Figure { basis: Basis::Available, quantity: 9 }
            }]
        );
        assert_eq!(page.next.as_deref(), Some("2"));
        assert_eq!(read_quants(&HttpResponse::new(200, "[]"), 4, 2).expect("page").next, None);
        assert!(read_quants(&HttpResponse::new(200, r#"[{"quantity":1}]"#), 0, 2).is_err());
    }

    #[test]
    fn huge_quants_saturate_instead_of_overflowing() {
        let body = r#"[{"product_id":[7,"T"],"location_id":[8,"S"],"quantity":1e300,"reserved_quantity":0},
                       {"product_id":[7,"T"],"location_id":[8,"S"],"quantity":1e300,"reserved_quantity":0}]"#;
        let page = read_quants(&HttpResponse::new(200, body), 0, 10).expect("page");
        assert_eq!(page.rows[0].figure.quantity, i64::MAX);
    }
}
