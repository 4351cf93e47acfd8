//! The typed calls between the Worker (or a SKU ledger) and an allotment object
//! (`allot::allotment`), their replies, and the view of a SKU's hot policy.
//!
//! An allotment answers reservation calls with the cart's own reply type ([`CartResult`]), so a
//! reservation held in an allotment reads, commits, releases and extends exactly like one held
//! by a coordinator (`api::cart_call::render`).

use serde::{Deserialize, Serialize};

use super::cart_call::{CartAnswer, CartRefusal, CartResult};
use super::idempotency::Keyed;
use super::reply::HttpReply;
use crate::allot::allotment::HoldRequest;
use crate::allot::hotness::AutoHot;
use crate::allot::HotPolicy;
use crate::stock::{HoldId, Report, Sku, Token};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AllotAction {
    /// Hold for a customer (the Worker chose the id; it names this allotment).
    Create {
        sku: Sku,
        index: u32,
        request: HoldRequest,
    },
    Get,
    Commit {
        order_id: Option<Token>,
    },
    Release,
    Extend {
        ttl_seconds: i64,
    },
    /// The SKU asks block `lend` back (up to `want` units) for a sale.
    Recall {
        lend: HoldId,
        want: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllotCall {
    /// The reservation id (for `Recall`, the lend id).
    pub id: Token,
    #[serde(flatten)]
    pub action: AllotAction,
    /// `Idempotency-Key` and request fingerprint of a commit, release or extend.
    #[serde(default)]
    pub idempotency: Option<(String, String)>,
}

/// An allotment's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllotAnswer {
    /// A reservation's answer, as a coordinator would give it.
    Cart(CartResult),
    /// The SKU is not hot any more: the Worker holds at the SKU instead.
    NotHot,
    /// The answer to a recall.
    Report(Report),
}

/// An allotment's reply with the Idempotency-Key's verdict.
pub type AllotReply = Keyed<AllotAnswer>;

/// The cart reply an allotment answer stands for (`None`: not a reservation answer).
pub fn as_cart(reply: AllotReply) -> Option<Keyed<CartResult>> {
    match reply {
        Keyed::Answered(AllotAnswer::Cart(r)) => Some(Keyed::Answered(r)),
        Keyed::Replayed(AllotAnswer::Cart(r)) => Some(Keyed::Replayed(r)),
        Keyed::KeyReused => Some(Keyed::KeyReused),
        _ => None,
    }
}

/// A reservation the allotment does not know.
pub fn not_found(id: &Token) -> AllotAnswer {
    AllotAnswer::Cart(Err(CartRefusal::NotFound { id: id.clone() }))
}

/// A fresh hold (`201`) or the current state (`200`).
pub fn created(shown: crate::cart::Shown) -> AllotAnswer {
    AllotAnswer::Cart(Ok(CartAnswer::Created(shown)))
}

/// `GET`/`PUT /v1/skus/{sku}/policy`: whether the SKU is hot, by whose decision, and how it lends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyView {
    pub sku: String,
    pub hot: bool,
    /// `operator` (`PUT` set it) or `automatic` (the SKU's hold rate did); absent when not hot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allotments: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<i64>,
    /// Automatic hotness only: when it began, and the last demand that keeps it on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_demand_at: Option<String>,
}

impl PolicyView {
    /// The view of policy `p` in force, set by automatic hotness `automatic` (else an operator).
    pub fn of(sku: &Sku, p: Option<&HotPolicy>, automatic: Option<&AutoHot>) -> PolicyView {
        let source = p.map(|_| if automatic.is_some() { "automatic" } else { "operator" });
        PolicyView {
            sku: sku.to_string(),
            hot: p.is_some(),
            source,
            allotments: p.map(|p| p.allotments),
            block: p.map(|p| p.block),
            lease_seconds: p.map(|p| p.lease_seconds),
            automatic_since: automatic.filter(|_| p.is_some()).map(|a| a.since.to_rfc3339()),
            last_demand_at: automatic.filter(|_| p.is_some()).map(|a| a.last_demand.to_rfc3339()),
        }
    }

    pub fn render(&self) -> HttpReply {
        HttpReply::json(200, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::Location;

    #[test]
    fn calls_and_answers_travel_typed() {
        let call = AllotCall {
            id: Token::parse("lend.0.ab.1").expect("id"),
            action: AllotAction::Recall { lend: Token::parse("lend.0.ab.1").expect("id"), want: 3 },
            idempotency: None,
        };
        let wire = serde_json::to_string(&call).expect("encode");
        assert_eq!(serde_json::from_str::<AllotCall>(&wire).expect("decode"), call);
        let answer: AllotReply = Keyed::Answered(AllotAnswer::Report(Report {
            lend: Token::parse("lend.0.ab.1").expect("id"),
            returned: 2,
            held: 1,
        }));
        let wire = serde_json::to_string(&answer).expect("encode");
        assert_eq!(serde_json::from_str::<AllotReply>(&wire).expect("decode"), answer);
        assert_eq!(as_cart(answer), None);
        let _ = Location::main();
    }

    #[test]
    fn the_policy_view_says_whether_the_sku_is_hot() {
        let sku = Sku::parse("A").expect("sku");
        let v = PolicyView::of(&sku, Some(&HotPolicy { allotments: 4, block: 10, lease_seconds: 60 }), None);
        let body: serde_json::Value = serde_json::from_str(&v.render().text()).expect("json");
        assert_eq!((body["hot"].as_bool(), body["allotments"].as_u64()), (Some(true), Some(4)));
        assert_eq!((body["source"].as_str(), body.get("automatic_since")), (Some("operator"), None));
        let auto = AutoHot {
            policy: crate::allot::limits::AUTO_POLICY,
            since: crate::time::Millis(0),
            last_demand: crate::time::Millis(1_000),
            cool_down_ms: 1,
        };
        let v = PolicyView::of(&sku, Some(&auto.policy), Some(&auto));
        let body: serde_json::Value = serde_json::from_str(&v.render().text()).expect("json");
        assert_eq!(body["source"].as_str(), Some("automatic"));
        assert_eq!(body["automatic_since"].as_str(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(body["last_demand_at"].as_str(), Some("1970-01-01T00:00:01.000Z"));
        let off: serde_json::Value =
            serde_json::from_str(&PolicyView::of(&sku, None, None).render().text()).expect("json");
        assert_eq!((off["hot"].as_bool(), off.get("block"), off.get("source")), (Some(false), None, None));
    }
}
