//! The message a problem's transition produces: what a destination receives (rendered by
//! [`super::render`]), and the body of an `alerts-out` queue message with its destination.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kind::DEAD_LETTERS_SUBJECT;
use super::AlertKind;
use crate::time::Millis;

/// Which moment of a problem a message tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "phase", content = "reminder")]
pub enum Phase {
    Opened,
    /// The n-th reminder (from 1) while the problem stays open.
    Reminder(u32),
    Resolved,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Opened => "opened",
            Phase::Reminder(_) => "reminder",
            Phase::Resolved => "resolved",
        }
    }

    fn id_part(self) -> String {
        match self {
            Phase::Reminder(n) => format!("reminder-{n}"),
            other => other.name().to_owned(),
        }
    }
}

/// One message about one problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertMessage {
    /// `kind/subject/episode/phase`: the same for every evaluation that makes this message, so
    /// a destination's deliveries are recorded (and de-duplicated) by it.
    pub id: String,
    pub kind: AlertKind,
    pub subject: String,
    /// The SKU, for SKU kinds.
    pub sku: Option<String>,
    /// The channel, for channel kinds (none for dead letters: the queue as a whole).
    pub channel: Option<String>,
    pub episode: u32,
    #[serde(flatten)]
    pub phase: Phase,
    /// When the problem opened.
    pub opened_at: Millis,
    /// When this message was made.
    pub at: Millis,
    /// The kind's facts (`available` and `threshold`, `count`, `age_ms`, …).
    pub detail: Value,
}

impl AlertMessage {
    pub fn new(
        kind: AlertKind,
        subject: &str,
        episode: u32,
        phase: Phase,
        opened_at: Millis,
        at: Millis,
        detail: Value,
    ) -> AlertMessage {
        let (sku, channel) = if kind.is_sku_level() {
            (Some(subject.to_owned()), None)
        } else if subject == DEAD_LETTERS_SUBJECT && kind == AlertKind::DeadLetters {
            (None, None)
        } else {
            (None, Some(subject.to_owned()))
        };
        AlertMessage {
            id: format!("{}/{subject}/{episode}/{}", kind.as_str(), phase.id_part()),
            kind,
            subject: subject.to_owned(),
            sku,
            channel,
            episode,
            phase,
            opened_at,
            at,
            detail,
        }
    }

    /// One line for people: what, about what, and the facts.
    pub fn text(&self) -> String {
        let what = match self.phase {
            Phase::Opened => String::from("opened"),
            Phase::Reminder(n) => format!("still open (reminder {n})"),
            Phase::Resolved => String::from("resolved"),
        };
        let about = match (&self.sku, &self.channel) {
            (Some(s), _) => format!("SKU {s}"),
            (None, Some(c)) => format!("channel {c}"),
            (None, None) => format!("queue {}", self.subject),
        };
        let facts = self.facts();
        if facts.is_empty() {
            format!("[StockEdge] {}: {about} {what}", self.kind.title())
        } else {
            format!("[StockEdge] {}: {about} {what} ({facts})", self.kind.title())
        }
    }

    /// `key=value` pairs of the detail's scalars, in key order.
    fn facts(&self) -> String {
        let Some(obj) = self.detail.as_object() else { return String::new() };
        obj.iter()
            .filter(|(_, v)| !v.is_object() && !v.is_array() && !v.is_null())
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An `alerts-out` queue message: one alert message for one destination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutMessage {
    pub destination: String,
    pub message: AlertMessage,
}

impl OutMessage {
    /// The delivery's id, sent as `X-StockEdge-Delivery` and recorded once delivered.
    pub fn delivery_id(&self) -> String {
        format!("{}:{}", self.destination, self.message.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sku_and_channel_kinds_name_their_subject() {
        let m = AlertMessage::new(
            AlertKind::LowStock,
            "TEE",
            2,
            Phase::Opened,
            Millis(0),
            Millis(1),
            json!({"available": 2, "threshold": 5}),
        );
        assert_eq!((m.sku.as_deref(), m.channel.as_deref()), (Some("TEE"), None));
        assert_eq!(m.text(), "[StockEdge] Low stock: SKU TEE opened (available=2, threshold=5)");
        let c =
            AlertMessage::new(AlertKind::ChannelAuth, "shop", 1, Phase::Reminder(2), Millis(0), Millis(1), json!({}));
        assert_eq!((c.sku.as_deref(), c.channel.as_deref()), (None, Some("shop")));
        assert_eq!(c.id, "channel_auth/shop/1/reminder-2");
        assert!(c.text().ends_with("channel shop still open (reminder 2)"));
        let d = AlertMessage::new(
            AlertKind::DeadLetters,
            DEAD_LETTERS_SUBJECT,
            1,
            Phase::Resolved,
            Millis(0),
            Millis(1),
            json!({"count": 0}),
        );
        assert_eq!((d.sku.as_deref(), d.channel.as_deref()), (None, None));
    }

    #[test]
    fn round_trips_through_the_queue_body() {
        let m = AlertMessage::new(
            AlertKind::Drift,
            "shop",
            3,
            Phase::Reminder(1),
            Millis(5),
            Millis(9),
            json!({"events": 2}),
        );
        let out = OutMessage { destination: "ops".into(), message: m };
        let text = serde_json::to_string(&out).expect("json");
        let back: OutMessage = serde_json::from_str(&text).expect("back");
        assert_eq!(back, out);
        let v: Value = serde_json::from_str(&text).expect("value");
        assert_eq!(v["message"]["phase"], "reminder");
        assert_eq!(v["message"]["reminder"], 1);
        assert_eq!(out.delivery_id(), "ops:drift/shop/3/reminder-1");
    }
}
