//! The marketplace: a WooCommerce store as the adapters see it over HTTP. It takes stock pushes
//! (`POST /wp-json/wc/v3/products/batch`, the real adapter's requests) and answers them well or
//! badly (429 with `Retry-After`, 503, a timeout before or after applying, or 200 without applying
//! — "accepted silently"); it sells (orders placed, later perhaps cancelled), announces each order
//! change by webhook (the real REST order body), and serves the order feed the poll reads
//! (`GET /wp-json/wc/v3/orders?modified_after=…&modified_before=…&page=`).
//!
//! It also keeps, per product, the version of the push it last applied: a push of an older version
//! after a newer one is a violation (the invariant "no listing ever receives an older version").

use std::collections::BTreeMap;

use serde_json::{json, Value};
use stockedge::inbound::apply::token_of;
use stockedge::stock::{Sku, Token};
use stockedge::sync::{HttpRequest, HttpResponse};
use stockedge::time::Millis;

/// How the store answers one push request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushFault {
    None,
    Throttled,
    Unavailable,
    /// No answer; the store did not apply.
    TimeoutBefore,
    /// No answer; the store applied.
    TimeoutAfter,
    /// 200 as if applied; nothing applied.
    Silent,
}

#[derive(Clone, Debug)]
pub struct Product {
    pub sku: Sku,
    pub quantity: i64,
    /// The version of the last push applied, and when.
    pub version: Option<u64>,
}

/// One order as the store has it.
#[derive(Clone, Debug)]
pub struct Order {
    pub id: u64,
    /// (line id, product id, sku, qty)
    pub lines: Vec<(u64, i64, Sku, i64)>,
    pub cancelled: bool,
    pub created: Millis,
    pub modified: Millis,
}

#[derive(Default)]
pub struct WooStore {
    pub products: BTreeMap<i64, Product>,
    pub orders: BTreeMap<u64, Order>,
    /// Violations of the version order, with their detail.
    pub violations: Vec<String>,
    pub pushes_applied: u64,
    /// Per product, the items of pushes answered 200 without being applied ("accepted
    /// silently"): the only drift reconciliation may have to repair (`checks::check_settled`).
    pub silent_drops: BTreeMap<i64, u64>,
    /// Each order's lines as the ledgers key them (order id and line ids as tokens), for checks.
    pub lines_by_token: BTreeMap<Token, Vec<(Token, Sku, i64)>>,
}

/// WooCommerce's order dates: UTC, seconds, no offset.
pub fn wc_time(t: Millis) -> String {
    t.to_rfc3339().get(..19).unwrap_or_default().to_string()
}

impl WooStore {
    /// Takes a new order.
    pub fn place(&mut self, o: Order) {
        let lines = o.lines.iter().map(|(l, _, s, q)| (token_of(&l.to_string()), s.clone(), *q)).collect();
        self.lines_by_token.insert(token_of(&o.id.to_string()), lines);
        self.orders.insert(o.id, o);
    }

    /// The REST body of an order.
    pub fn order_json(o: &Order) -> Value {
        let lines: Vec<Value> = o
            .lines
            .iter()
            .map(|(id, product, sku, qty)| {
                json!({"id": id, "product_id": product, "variation_id": 0, "quantity": qty, "sku": sku.as_str()})
            })
            .collect();
        json!({
            "id": o.id,
            "status": if o.cancelled { "cancelled" } else { "processing" },
            "date_created_gmt": wc_time(o.created),
            "date_modified_gmt": wc_time(o.modified),
            "line_items": lines,
        })
    }

    /// A push request; `versions` names the version each product's item carries (the planner's
    /// update, which the request itself does not say).
    pub fn push(
        &mut self,
        req: &HttpRequest,
        versions: &BTreeMap<i64, u64>,
        fault: PushFault,
        retry_after_s: u64,
    ) -> Result<HttpResponse, String> {
        match fault {
            PushFault::Throttled => {
                return Ok(HttpResponse::new(429, "{}").header("Retry-After", retry_after_s.to_string()))
            }
            PushFault::Unavailable => return Ok(HttpResponse::new(503, "upstream unavailable")),
            PushFault::TimeoutBefore => return Err("timeout".into()),
            _ => {}
        }
        let body: Value = serde_json::from_str(&req.body).map_err(|e| e.to_string())?;
        let items = body.get("update").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut answered = Vec::new();
        for item in items {
            let id = item.get("id").and_then(Value::as_i64).unwrap_or(0);
            let qty = item.get("stock_quantity").and_then(Value::as_i64).unwrap_or(0);
            if fault == PushFault::Silent {
                *self.silent_drops.entry(id).or_default() += 1;
            } else {
                if let Some(p) = self.products.get_mut(&id) {
                    let v = versions.get(&id).copied().unwrap_or(0);
                    if p.version.is_some_and(|last| v < last) {
                        self.violations.push(format!(
                            "product {id} ({}) received version {v} after version {:?}",
                            p.sku, p.version
                        ));
                    }
                    p.version = Some(p.version.map_or(v, |l| l.max(v)));
                    p.quantity = qty;
                    self.pushes_applied += 1;
                }
            }
            answered.push(json!({"id": id, "manage_stock": true, "stock_quantity": qty}));
        }
        if fault == PushFault::TimeoutAfter {
            return Err("timeout".into());
        }
        Ok(HttpResponse::new(200, json!({ "update": answered }).to_string()))
    }

    /// The order feed: orders modified strictly between the query's bounds (whole seconds, as
    /// WooCommerce compares them), oldest modification first, one page.
    pub fn feed(&self, req: &HttpRequest) -> HttpResponse {
        let query = req.path.split_once('?').map_or("", |(_, q)| q);
        let param = |name: &str| {
            query.split('&').find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')).map(str::to_owned))
        };
        let time = |s: Option<String>| s.and_then(|s| Millis::parse_rfc3339(&format!("{s}Z")));
        let (Some(after), Some(before)) = (time(param("modified_after")), time(param("modified_before"))) else {
            return HttpResponse::new(400, "bad dates");
        };
        let second = |t: Millis| t.0 - t.0.rem_euclid(1000);
        let mut orders: Vec<&Order> =
            self.orders.values().filter(|o| second(o.modified) > after.0 && second(o.modified) < before.0).collect();
        orders.sort_by_key(|o| (o.modified, o.id));
        let body: Vec<Value> = orders.iter().map(|o| Self::order_json(o)).collect();
        HttpResponse::new(200, Value::Array(body).to_string()).header("x-wp-totalpages", "1")
    }
}
