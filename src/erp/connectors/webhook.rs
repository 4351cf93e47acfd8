//! The generic signed-webhook ERP (`ErpKind::Webhook`, docs/erp.md "Webhook ERP"): for an ERP
//! StockEdge has no connector for (Oracle, Dynamics, an in-house system), StockEdge POSTs one
//! signed JSON document per event to the connection's URL, and the ERP pushes its snapshots.
//!
//! Each request: `POST <url>` with `Content-Type: application/json`, `Idempotency-Key` (the same on
//! every retry of one event: [`OrderEvent::idempotency_key`], an adjustment request's id),
//! `X-StockEdge-Timestamp` (Unix seconds) and `X-StockEdge-Signature: sha256=<hex
//! HMAC-SHA256(secret, "<timestamp>.<body>")>` — the alert webhooks' signature
//! (`inbound::signature::timestamped`).
//!
//! What the receiver answers ([`read`]): `2xx` received; `409` it had the Idempotency-Key already
//! (received); `429`, `5xx`, no answer: retried; any other `4xx` (a refused signature among them):
//! refused for good (a dead letter).

use serde::Serialize;
use serde_json::{json, Value};

use super::answer::CallFailure;
use super::order::{external_ref, ErpOrderLine};
use crate::erp::delivery::Delivery;
use crate::erp::master::Requested;
use crate::inbound::signature::timestamped;
use crate::inbound::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::stock::{Location, OrderKey, Sku};
use crate::sync::{target_url, HttpRequest, HttpResponse, Method};
use crate::time::Millis;

pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
const USER_AGENT: &str = "StockEdge-ERP/1";

/// What a document tells the ERP (its `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// A sale: a committed checkout or a marketplace sale.
    OrderCreated,
    /// The order's open units were cancelled.
    OrderCancelled,
    /// Units of the order shipped (one document per shipment).
    OrderFulfilled,
    /// A local change of on hand forwarded to the ERP (`local_adjustments: forward`).
    AdjustmentRequested,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderCreated => "order.created",
            EventType::OrderCancelled => "order.cancelled",
            EventType::OrderFulfilled => "order.fulfilled",
            EventType::AdjustmentRequested => "adjustment.requested",
        }
    }
}

/// One line of an order document: StockEdge's names and the ERP's codes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebhookLine {
    pub sku: Sku,
    pub item_code: String,
    pub location: Option<Location>,
    pub warehouse: String,
    pub quantity: i64,
}

/// `lines` of `d` with StockEdge's SKU and locations beside the ERP's codes.
pub fn lines(d: &Delivery, lines: &[ErpOrderLine]) -> Vec<WebhookLine> {
    lines
        .iter()
        .map(|l| WebhookLine {
            sku: d.sku.clone(),
            item_code: l.item.clone(),
            location: d.location_of(&l.warehouse).cloned(),
            warehouse: l.warehouse.clone(),
            quantity: l.quantity,
        })
        .collect()
}

/// An order document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEvent<'a> {
    pub kind: EventType,
    /// `erp::delivery::reference`: `<channel>/<order id>|<sku>`.
    pub reference: &'a str,
    pub order: &'a OrderKey,
    pub lines: Vec<WebhookLine>,
    /// When StockEdge recorded the change (a shipment's identity).
    pub at: Millis,
}

impl OrderEvent<'_> {
    /// `<reference>:<type>`; a shipment's adds its time (`:<ms>`), since an order's SKU may ship
    /// in several parts, each its own document.
    pub fn idempotency_key(&self) -> String {
        match self.kind {
            EventType::OrderFulfilled => format!("{}:{}:{}", self.reference, self.kind.as_str(), self.at.0),
            _ => format!("{}:{}", self.reference, self.kind.as_str()),
        }
    }

    /// The JSON document.
    pub fn body(&self) -> Value {
        json!({
            "type": self.kind.as_str(),
            "reference": self.reference,
            "order": {
                "key": external_ref(self.order),
                "channel": self.order.channel,
                "id": self.order.order_id,
            },
            "lines": self.lines,
            "at": self.at.to_rfc3339(),
        })
    }
}

/// A forwarded adjustment request as the ERP is sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdjustmentEvent {
    /// The request's id (`GET /v1/erp/adjustment-requests`), also its Idempotency-Key.
    pub id: i64,
    pub sku: Sku,
    /// The connection's item code for the SKU, when mapped.
    pub item_code: Option<String>,
    pub location: Location,
    /// The connection's warehouse code for the location, when mapped.
    pub warehouse: Option<String>,
    pub change: Requested,
    pub reason: Option<String>,
    pub requested_at: Millis,
}

impl AdjustmentEvent {
    pub fn idempotency_key(&self) -> String {
        self.id.to_string()
    }

    /// The JSON document: `op` `set` with `on_hand`, or `adjust` with `delta`.
    pub fn body(&self) -> Value {
        let mut v = json!({
            "type": EventType::AdjustmentRequested.as_str(),
            "id": self.id,
            "sku": self.sku,
            "item_code": self.item_code,
            "location": self.location,
            "warehouse": self.warehouse,
            "reason": self.reason,
            "at": self.requested_at.to_rfc3339(),
        });
        match self.change {
            Requested::Set { on_hand } => {
                v["op"] = json!("set");
                v["on_hand"] = json!(on_hand);
            }
            Requested::Adjust { delta } => {
                v["op"] = json!("adjust");
                v["delta"] = json!(delta);
            }
        }
        v
    }
}

/// The signed `POST` of `body` under `key`, to the connection's URL (the request's path is empty:
/// the shell sends it to the URL as configured), signed with `secret` at `now`.
pub fn request(body: &Value, key: &str, secret: &[u8], now: Millis) -> HttpRequest {
    let body = body.to_string();
    let ts = now.0.div_euclid(1000);
    HttpRequest::new(Method::Post, "")
        .header("Content-Type", "application/json")
        .header("User-Agent", USER_AGENT)
        .header(IDEMPOTENCY_HEADER, key)
        .header(TIMESTAMP_HEADER, ts.to_string())
        .header(SIGNATURE_HEADER, timestamped(secret, ts, body.as_bytes()))
        .body(body)
}

/// What a received document's answer said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// `2xx`.
    Received,
    /// `409`: the ERP had this Idempotency-Key already (a retry after a lost answer).
    AlreadyHad,
}

/// Reads the receiver's answer (module docs): received, to be retried (`Unavailable`) or refused.
pub fn read(resp: &HttpResponse) -> Result<Receipt, CallFailure> {
    let brief = || format!("webhook ERP answered {}: {}", resp.status, resp.body.chars().take(300).collect::<String>());
    match resp.status {
        200..=299 => Ok(Receipt::Received),
        409 => Ok(Receipt::AlreadyHad),
        429 | 500..=599 => Err(CallFailure::Unavailable(brief())),
        _ => Err(CallFailure::Refused(brief())),
    }
}

/// `Ok` for a URL the webhook ERP may be sent to: one StockEdge sends to at all
/// (`sync::target_url`: a host, at most 2,048 characters, …), and `https://`, or `http://` to a
/// loopback host (`127.0.0.1`, `localhost`, `[::1]`; a local simulator or a sidecar). The reason
/// otherwise.
pub fn url_ok(url: &str) -> Result<(), &'static str> {
    let target = target_url::check(url)?;
    if !target.secure && !target.is_loopback() {
        return Err("must be https:// (http:// is accepted only to a loopback host)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::Token;

    fn order() -> OrderKey {
        OrderKey { channel: Token::parse("web").expect("t"), order_id: Token::parse("1001").expect("t") }
    }

    fn line() -> WebhookLine {
        WebhookLine {
            sku: Sku::parse("TEE-1").expect("sku"),
            item_code: "A100".into(),
            location: Some(Location::main()),
            warehouse: "01".into(),
            quantity: 2,
        }
    }

    fn header<'a>(r: &'a HttpRequest, name: &str) -> Option<&'a str> {
        r.header_value(name)
    }

    #[test]
    fn an_order_document_is_signed_and_keyed_by_reference_and_type() {
        let key = order();
        let e = OrderEvent {
            kind: EventType::OrderCreated,
            reference: "web/1001|TEE-1",
            order: &key,
            lines: vec![line()],
            at: Millis(1_795_993_008_000),
        };
        let now = Millis(1_795_993_010_999);
        let r = request(&e.body(), &e.idempotency_key(), b"s3cret", now);
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.path, "");
        assert_eq!(header(&r, IDEMPOTENCY_HEADER), Some("web/1001|TEE-1:order.created"));
        assert_eq!(header(&r, TIMESTAMP_HEADER), Some("1795993010"));
        // The receiver's check (the Amazon forwarder's, the same scheme) accepts it.
        let headers = crate::inbound::headers::Headers::from_pairs(r.headers.iter().map(|(k, v)| (k, v)));
        assert!(crate::inbound::amazon::verify(&headers, r.body.as_bytes(), b"s3cret", now).is_ok());
        assert!(crate::inbound::amazon::verify(&headers, r.body.as_bytes(), b"other", now).is_err());
        let v: Value = serde_json::from_str(&r.body).expect("json");
        assert_eq!(
            v,
            json!({
                "type": "order.created",
                "reference": "web/1001|TEE-1",
                "order": {"key": "web/1001", "channel": "web", "id": "1001"},
                "lines": [{"sku": "TEE-1", "item_code": "A100", "location": "main", "warehouse": "01", "quantity": 2}],
                "at": "2026-11-29T22:56:48.000Z"
            })
        );
        let cancelled = OrderEvent { kind: EventType::OrderCancelled, lines: vec![], ..e.clone() };
        assert_eq!(cancelled.idempotency_key(), "web/1001|TEE-1:order.cancelled");
        let shipped = OrderEvent { kind: EventType::OrderFulfilled, ..e };
        assert_eq!(shipped.idempotency_key(), "web/1001|TEE-1:order.fulfilled:1795993008000");
    }

    #[test]
    fn an_adjustment_request_names_its_change_and_is_keyed_by_its_id() {
        let mut a = AdjustmentEvent {
            id: 12,
            sku: Sku::parse("TEE-1").expect("sku"),
            item_code: Some("A100".into()),
            location: Location::main(),
            warehouse: Some("01".into()),
            change: Requested::Adjust { delta: -2 },
            reason: Some("damaged".into()),
            requested_at: Millis(0),
        };
        assert_eq!(a.idempotency_key(), "12");
        let v = a.body();
        assert_eq!(v["type"], "adjustment.requested");
        assert_eq!((v["op"].as_str(), v["delta"].as_i64()), (Some("adjust"), Some(-2)));
        assert!(v.get("on_hand").is_none());
        a.change = Requested::Set { on_hand: 7 };
        a.item_code = None;
        let v = a.body();
        assert_eq!((v["op"].as_str(), v["on_hand"].as_i64()), (Some("set"), Some(7)));
        assert!(v["item_code"].is_null());
        assert_eq!(v["at"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn answers_are_received_retried_or_refused() {
        assert_eq!(read(&HttpResponse::new(202, "")), Ok(Receipt::Received));
        assert_eq!(read(&HttpResponse::new(409, "dup")), Ok(Receipt::AlreadyHad));
        assert!(matches!(read(&HttpResponse::new(429, "")), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read(&HttpResponse::new(503, "")), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read(&HttpResponse::new(401, "bad signature")), Err(CallFailure::Refused(_))));
        assert!(matches!(read(&HttpResponse::new(422, "no such item")), Err(CallFailure::Refused(_))));
    }

    #[test]
    fn urls_are_https_or_loopback_http() {
        assert!(url_ok("https://erp.example.com/stockedge").is_ok());
        assert!(url_ok("http://127.0.0.1:8787/erp").is_ok());
        assert!(url_ok("http://localhost:9/erp").is_ok());
        assert!(url_ok("http://[::1]:9/erp").is_ok());
        assert!(url_ok("http://erp.example.com/hook").is_err());
        assert!(url_ok("http://127.0.0.1.evil.com/").is_err());
        assert!(url_ok("https://user@erp.example.com").is_err());
        assert!(url_ok("https://").is_err());
        assert!(url_ok("https://a b").is_err());
        assert!(url_ok("ftp://erp.example.com").is_err());
        assert!(url_ok(&format!("https://erp.example.com/{}", "a".repeat(2048))).is_err(), "the length limit");
    }
}
