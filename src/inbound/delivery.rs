//! Webhook deliveries around the planner: which channels a delivery may be for, how its
//! de-duplication record is kept, and the checks made before anything is applied. Pure.

use sha2::{Digest, Sha256};

use super::channel::InboundChannel;
use super::event::Received;
use crate::catalog::model::ChannelKind;

/// Channels tried per delivery (each costs a signature check over the body).
pub const MAX_CANDIDATES: usize = 16;

/// How long a handled delivery's de-duplication key is kept.
pub const DELIVERY_RETENTION_MS: i64 = 7 * 24 * 3_600_000;

/// Most of an oversized chunked body drained before answering 413 (`wrangler dev`'s proxy holds
/// an answer back until the body it forwards is consumed).
pub const DRAIN_BYTES: usize = 16 * 1024 * 1024;

/// The de-duplication key an unusable (signed but not understandable) body is recorded under:
/// the same body is recorded once.
pub fn unusable_key(kind: ChannelKind, body: &[u8]) -> String {
    format!("unusable:{}:{}", kind.as_str(), &hex::encode(Sha256::digest(body))[..32])
}

/// Why an authentic delivery cannot be used for `ch`, if it cannot: an Amazon notification must
/// name the channel's seller.
pub fn refusal(ch: &InboundChannel, r: &Received) -> Option<String> {
    match r.account.as_deref() {
        Some(seller) if r.channel_kind == ChannelKind::Amazon && seller != ch.account => {
            Some(format!("seller {seller} is not the account of channel {}", ch.id))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::InboundOutcome;

    fn received(kind: ChannelKind, account: Option<&str>) -> Received {
        Received {
            channel_kind: kind,
            account: account.map(str::to_owned),
            topic: "ORDER_CHANGE".into(),
            dedupe_key: None,
            outcome: InboundOutcome::Ping,
        }
    }

    #[test]
    fn an_amazon_notification_must_name_the_channels_seller() {
        let ch = InboundChannel::of("amz", "SELLER1".into(), None, "{}").expect("channel");
        assert_eq!(refusal(&ch, &received(ChannelKind::Amazon, Some("SELLER1"))), None);
        assert_eq!(refusal(&ch, &received(ChannelKind::Amazon, None)), None);
        let other = refusal(&ch, &received(ChannelKind::Amazon, Some("SELLER2"))).expect("refused");
        assert!(other.contains("SELLER2"));
        assert_eq!(refusal(&ch, &received(ChannelKind::Shopify, Some("x"))), None);
    }

    #[test]
    fn the_same_unusable_body_has_the_same_key() {
        assert_eq!(unusable_key(ChannelKind::Shopify, b"x"), unusable_key(ChannelKind::Shopify, b"x"));
        assert_ne!(unusable_key(ChannelKind::Shopify, b"x"), unusable_key(ChannelKind::Shopify, b"y"));
        assert!(unusable_key(ChannelKind::Ebay, b"x").starts_with("unusable:ebay:"));
    }
}
