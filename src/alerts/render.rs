//! A message as a destination receives it: the generic JSON webhook (signed) and the Slack
//! incoming-webhook body.
//!
//! Signature: `X-StockEdge-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
//! with `X-StockEdge-Timestamp: <timestamp>` (seconds since the epoch), when the destination
//! names a secret; a receiver recomputes it over the raw body and refuses old timestamps.
//! `X-StockEdge-Delivery` carries the delivery id (the same on every attempt of one message to
//! one destination), for receivers that want to drop a repeat.

use serde_json::{json, Value};

use super::destination::Format;
use super::message::{AlertMessage, OutMessage, Phase};
use crate::inbound::signature::timestamped;
pub use crate::inbound::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::time::Millis;

const DELIVERY_HEADER: &str = "X-StockEdge-Delivery";

/// A request body with its headers, ready to POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub body: String,
    pub headers: Vec<(String, String)>,
}

/// The generic webhook's JSON document.
fn webhook_body(m: &AlertMessage) -> Value {
    json!({
        "id": m.id,
        "kind": m.kind.as_str(),
        "subject": m.subject,
        "sku": m.sku,
        "channel": m.channel,
        "episode": m.episode,
        "phase": m.phase.name(),
        "reminder": match m.phase { Phase::Reminder(n) => Some(n), _ => None },
        "opened_at": m.opened_at.to_rfc3339(),
        "at": m.at.to_rfc3339(),
        "detail": m.detail,
        "text": m.text(),
    })
}

/// The Slack incoming-webhook document: `text` (the notification) and `blocks`.
fn slack_body(m: &AlertMessage) -> Value {
    let emoji = match m.phase {
        Phase::Opened => ":rotating_light:",
        Phase::Reminder(_) => ":warning:",
        Phase::Resolved => ":white_check_mark:",
    };
    let text = m.text();
    json!({
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("{emoji} {text}")}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": format!("`{}` · opened {} · id `{}`", m.kind.as_str(), m.opened_at.to_rfc3339(), m.id)}
            ]}
        ]
    })
}

/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` (`inbound::signature::timestamped`,
/// shared with the webhook ERP and the Amazon forwarder's check).
pub fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    timestamped(secret, timestamp, body.as_bytes())
}

/// The request for `out` in `format`, at `now`, signed with `secret` when there is one.
pub fn render(format: Format, out: &OutMessage, secret: Option<&str>, now: Millis) -> Rendered {
    let body = match format {
        Format::Webhook => webhook_body(&out.message),
        Format::Slack => slack_body(&out.message),
    }
    .to_string();
    let timestamp = now.0.div_euclid(1000);
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("User-Agent".to_owned(), "StockEdge-Alerts/1".to_owned()),
        (DELIVERY_HEADER.to_owned(), out.delivery_id()),
        (TIMESTAMP_HEADER.to_owned(), timestamp.to_string()),
    ];
    if let Some(s) = secret {
        headers.push((SIGNATURE_HEADER.to_owned(), signature(s.as_bytes(), timestamp, &body)));
    }
    Rendered { body, headers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertKind;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    fn out() -> OutMessage {
        let m = AlertMessage::new(
            AlertKind::Oversold,
            "TEE",
            1,
            Phase::Opened,
            Millis(1_795_993_008_000),
            Millis(1_795_993_008_000),
            json!({"oversold": 3}),
        );
        OutMessage { destination: "ops".into(), message: m }
    }

    fn header<'a>(r: &'a Rendered, name: &str) -> Option<&'a str> {
        r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn signature_is_rfc4231_hmac_over_timestamp_dot_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let sig = signature(b"Jefe", 0, "what do ya want for nothing?");
        // Data here is "0.what do ya want for nothing?", so compare against a recomputation
        // of the plain HMAC over that exact string instead of the RFC's digest.
        let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"0.what do ya want for nothing?");
        assert_eq!(sig, format!("sha256={}", hex::encode(mac.finalize().into_bytes())));
        let mut rfc = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(b"Jefe").expect("key");
        rfc.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(rfc.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(sig, signature(b"Jefe", 1, "what do ya want for nothing?"), "the timestamp is signed");
    }

    #[test]
    fn webhook_is_signed_and_carries_the_message() {
        let now = Millis(1_795_993_010_999);
        let r = render(Format::Webhook, &out(), Some("s3cret"), now);
        assert_eq!(header(&r, TIMESTAMP_HEADER), Some("1795993010"));
        assert_eq!(header(&r, SIGNATURE_HEADER), Some(signature(b"s3cret", 1_795_993_010, &r.body).as_str()));
        assert_eq!(header(&r, DELIVERY_HEADER), Some("ops:oversold/TEE/1/opened"));
        let v: Value = serde_json::from_str(&r.body).expect("json");
        assert_eq!(v["kind"], "oversold");
        assert_eq!(v["sku"], "TEE");
        assert_eq!(v["phase"], "opened");
        assert!(v["reminder"].is_null());
        assert_eq!(v["detail"]["oversold"], 3);
        assert_eq!(v["opened_at"], "2026-11-29T22:56:48.000Z");
    }

    #[test]
    fn slack_has_text_and_blocks_and_no_signature_without_a_secret() {
        let r = render(Format::Slack, &out(), None, Millis(0));
        assert_eq!(header(&r, SIGNATURE_HEADER), None);
        let v: Value = serde_json::from_str(&r.body).expect("json");
        assert_eq!(v["text"], "[StockEdge] Oversold: SKU TEE opened (oversold=3)");
        assert_eq!(v["blocks"][0]["type"], "section");
        assert!(v["blocks"][0]["text"]["text"].as_str().is_some_and(|t| t.contains("SKU TEE opened")));
    }
}
