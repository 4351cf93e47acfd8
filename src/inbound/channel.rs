//! A channel as the inbound paths see it: its id, account, the name of its credentials secret and
//! the settings that steer inbound traffic. Pure: the edge loads the row, this reads it.
//!
//! Settings read here (all optional):
//! - `location`: the ledger location the channel's orders take stock from (default `main`).
//! - `on_drift`: `adjust` (default: StockEdge pushes its own number back) or `flag` (record only).
//! - `webhook_secret`: the NAME of the Worker secret holding the webhook signing key.
//! - `poll` (`false` stops the order-feed poll), `poll_since` (RFC 3339, else the channel's
//!   creation), `marketplace_ids` (Amazon).
//! - `public_key_url`, `endpoint_url` (eBay notifications).

use serde_json::{Map, Value};

use crate::stock::{Location, Token};
use crate::time::Millis;

/// One channel record, with its settings parsed (settings that are not a JSON object read as none).
#[derive(Clone, Debug, PartialEq)]
pub struct InboundChannel {
    pub id: Token,
    pub account: String,
    /// The NAME of the Worker secret with the channel's API credentials.
    pub credentials_secret: Option<String>,
    pub settings: Map<String, Value>,
}

/// What StockEdge does about a level the platform reports and StockEdge did not push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDrift {
    /// Record it and push StockEdge's own number back (StockEdge is the source of truth).
    PushBack,
    /// Only record it.
    Flag,
}

impl OnDrift {
    /// The `drift_events.action` word.
    pub fn as_str(self) -> &'static str {
        match self {
            OnDrift::PushBack => "push_back",
            OnDrift::Flag => "flag",
        }
    }
}

impl InboundChannel {
    /// From a stored row; `None` when the stored id is not a [`Token`].
    pub fn of(id: &str, account: String, credentials_secret: Option<String>, settings: &str) -> Option<InboundChannel> {
        let settings = match serde_json::from_str::<Value>(settings) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Some(InboundChannel { id: Token::parse(id).ok()?, account, credentials_secret, settings })
    }

    /// A string setting.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).and_then(Value::as_str)
    }

    /// `settings.location`, else `main`.
    pub fn location(&self) -> Location {
        self.setting("location").and_then(|l| Location::parse(l).ok()).unwrap_or_default()
    }

    /// `settings.on_drift`: anything but `flag` pushes back.
    pub fn on_drift(&self) -> OnDrift {
        if self.setting("on_drift") == Some("flag") {
            OnDrift::Flag
        } else {
            OnDrift::PushBack
        }
    }

    /// Whether the order-feed poll reads this channel (`settings.poll` is not `false`).
    pub fn polled(&self) -> bool {
        self.settings.get("poll").and_then(Value::as_bool) != Some(false)
    }

    /// Where the first poll stretch starts: `settings.poll_since`, else the channel's creation.
    pub fn poll_since(&self, created_at: Millis) -> Millis {
        self.setting("poll_since").and_then(Millis::parse_rfc3339).unwrap_or(created_at)
    }

    /// `settings.marketplace_ids` (Amazon); empty when not set.
    pub fn marketplace_ids(&self) -> Vec<String> {
        match self.settings.get("marketplace_ids") {
            Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether a WooCommerce delivery's `X-WC-Webhook-Source` is this channel's site.
    pub fn is_site(&self, source: Option<&str>) -> bool {
        source.is_some_and(|s| site(s) == site(&self.account))
    }
}

/// `https://Shop.Example.com/` → `shop.example.com`.
fn site(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(s);
    s.trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(settings: &str) -> InboundChannel {
        InboundChannel::of("woo", "https://Shop.Example.com/".into(), None, settings).expect("channel")
    }

    #[test]
    fn settings_default_to_main_push_back_and_polled() {
        let c = channel("not json");
        assert_eq!((c.location(), c.on_drift(), c.polled()), (Location::main(), OnDrift::PushBack, true));
        assert_eq!(c.poll_since(Millis(7)), Millis(7));
        assert!(c.marketplace_ids().is_empty());
    }

    #[test]
    fn settings_are_read() {
        let c = channel(
            r#"{"location":"east","on_drift":"flag","poll":false,"poll_since":"2026-01-01T00:00:00Z","marketplace_ids":["A",1,"B"]}"#,
        );
        assert_eq!(c.location().as_str(), "east");
        assert_eq!(c.on_drift(), OnDrift::Flag);
        assert!(!c.polled());
        assert_eq!(c.poll_since(Millis(7)), Millis::parse_rfc3339("2026-01-01T00:00:00Z").expect("time"));
        assert_eq!(c.marketplace_ids(), vec!["A", "B"]);
    }

    #[test]
    fn a_site_matches_whatever_its_scheme_case_and_trailing_slash() {
        let c = channel("{}");
        assert!(c.is_site(Some("http://shop.example.com")));
        assert!(!c.is_site(Some("https://other.example.com/")));
        assert!(!c.is_site(None));
    }

    #[test]
    fn a_stored_id_that_is_no_token_is_no_channel() {
        assert_eq!(InboundChannel::of("bad id", String::new(), None, "{}"), None);
    }
}
