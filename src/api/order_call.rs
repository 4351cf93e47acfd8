//! The wire format between the Worker and an order book object, and the answer it builds from
//! the SKU ledgers' replies.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::problem::{Kind, Problem};
use super::requests::Line;
use super::sku_call::Answer;
use crate::orders::{BookError, BookLine};
use crate::stock::{OrderKey, Sku};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OrderAction {
    Sell {
        lines: Vec<Line>,
    },
    Cancel {
        reason: Option<String>,
    },
    Fulfil {
        lines: Vec<Line>,
    },
    /// Committed storefront lines, registered by the cart coordinator.
    Attach {
        lines: Vec<BookLine>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderCall {
    pub order: OrderKey,
    #[serde(flatten)]
    pub action: OrderAction,
    #[serde(default)]
    pub idempotency: Option<(String, String)>,
}

/// The object name of an order's book (a space cannot occur in either part).
pub fn book_name(order: &OrderKey) -> String {
    format!("{} {}", order.channel, order.order_id)
}

pub fn book_problem(e: &BookError) -> Problem {
    match e {
        BookError::Cancelled => Problem::new(Kind::OrderCancelled, e.to_string()),
        BookError::OverFulfilment { .. } => Problem::new(Kind::OverFulfilment, e.to_string()),
        BookError::NotFound => Problem::new(Kind::OrderNotFound, e.to_string()),
    }
}

/// One SKU's part of an order answer, from the ledger's reply.
pub fn sku_result(sku: &Sku, ledger: &Answer, effect_override: Option<&str>) -> Value {
    let b = &ledger.body;
    json!({
        "sku": sku.as_str(),
        "effect": effect_override.map(Value::from).unwrap_or_else(|| b.get("effect").cloned().unwrap_or(Value::Null)),
        "available": b.get("available").cloned().unwrap_or(Value::from(0)),
        "oversold": b.get("oversold").cloned().unwrap_or(Value::from(0)),
        "version": b.get("version").cloned().unwrap_or(Value::from(0)),
    })
}

pub fn order_answer(order: &OrderKey, cancelled: bool, skus: Vec<Value>) -> Answer {
    Answer::ok(json!({
        "channel": order.channel.as_str(),
        "order_id": order.order_id.as_str(),
        "cancelled": cancelled,
        "skus": skus,
    }))
}
