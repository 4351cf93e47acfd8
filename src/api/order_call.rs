//! The typed calls between the Worker and an order desk object: the request, the reply (typed
//! book and ledger refusals), and the one rendering of a reply as HTTP.

use serde::{Deserialize, Serialize};

use super::idempotency::Keyed;
use super::problem::{from_book, from_ledger, Kind, Problem};
use super::reply::HttpReply;
use super::sku_call::Applied;
use super::views::AvailabilityItem;
use crate::orders::{BookError, BookLine, Line};
use crate::stock::{Effect, LedgerError, OrderKey, Sku, Token};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// One SKU's part of an order answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuLine {
    pub sku: Sku,
    pub effect: Effect,
    pub available: i64,
    pub oversold: i64,
    pub version: u64,
}

impl SkuLine {
    /// From the ledger's answer to the order's commands.
    pub fn applied(sku: &Sku, a: &Applied) -> SkuLine {
        SkuLine {
            sku: sku.clone(),
            effect: a.effect.clone(),
            available: a.state.available,
            oversold: a.state.oversold,
            version: a.state.version,
        }
    }

    /// A SKU of a sale that arrived after its order's cancellation: nothing was committed.
    pub fn after_cancel(sku: &Sku, item: &AvailabilityItem) -> SkuLine {
        SkuLine {
            sku: sku.clone(),
            effect: Effect::OrderAlreadyCancelled,
            available: item.available,
            oversold: 0,
            version: item.version,
        }
    }
}

/// An order as answered (docs/api.md: `{"channel","order_id","cancelled","skus"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    pub channel: Token,
    pub order_id: Token,
    pub cancelled: bool,
    pub skus: Vec<SkuLine>,
}

impl OrderState {
    pub fn of(order: &OrderKey, cancelled: bool, skus: Vec<SkuLine>) -> OrderState {
        OrderState { channel: order.channel.clone(), order_id: order.order_id.clone(), cancelled, skus }
    }
}

/// Why a desk did not answer with the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderRefusal {
    /// The book refused the request; nothing was sent to a ledger.
    Book(BookError),
    /// A ledger refused its part after the book's checks (a fulfilment racing another order's);
    /// `applied_skus` did apply, the refused part stays open on the order.
    Ledger { sku: Sku, error: LedgerError, applied_skus: Vec<Sku> },
    /// A ledger could not be reached: the plan stays pending and the desk's alarm completes it.
    Unavailable(String),
}

pub type OrderResult = Result<OrderState, OrderRefusal>;
/// A desk's reply to one call, with the Idempotency-Key's verdict.
pub type OrderReply = Keyed<OrderResult>;

/// The HTTP answer for a desk's reply.
pub fn render(reply: OrderResult) -> HttpReply {
    match reply {
        Ok(o) => HttpReply::json(200, &o),
        Err(refusal) => HttpReply::problem(refusal.problem()),
    }
}

impl OrderRefusal {
    /// The problem a refusal is answered with (`applied_skus` names the SKUs that did apply when
    /// a ledger refused its part).
    pub fn problem(self) -> Problem {
        match self {
            OrderRefusal::Book(e) => from_book(&e),
            OrderRefusal::Ledger { sku, error, applied_skus } => {
                from_ledger(sku.as_str(), &error).with("applied_skus", applied_skus)
            }
            OrderRefusal::Unavailable(why) => Problem::new(
                Kind::Unavailable,
                format!(
                    "a SKU ledger could not be reached ({why}); the order will be completed — retry to see the result"
                ),
            ),
        }
    }
}

/// The HTTP answer for a keyed desk reply (a replay is flagged).
pub fn render_keyed(reply: OrderReply) -> HttpReply {
    HttpReply::keyed(reply, render)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::Location;

    #[test]
    fn a_ledger_refusal_names_what_did_apply() {
        let sku = |s: &str| Sku::parse(s).expect("sku");
        let error = LedgerError::NotOnHand { location: Location::main(), requested: 2, on_hand: 1 };
        let r = render(Err(OrderRefusal::Ledger { sku: sku("B"), error, applied_skus: vec![sku("A")] }));
        let body: serde_json::Value = serde_json::from_str(&r.text()).expect("json");
        assert_eq!((r.status(), body["type"].as_str()), (409, Some("/problems/not-on-hand")));
        assert_eq!(body["applied_skus"], serde_json::json!(["A"]));
    }

    #[test]
    fn book_refusals_map_to_their_problems() {
        let r = render(Err(OrderRefusal::Book(BookError::NotFound)));
        assert_eq!(r.status(), 404);
        let r = render(Err(OrderRefusal::Unavailable("x".into())));
        assert_eq!(r.status(), 503);
    }
}
