//! The alert kinds.

use serde::{Deserialize, Serialize};

/// What an alert is about. SKU kinds have a SKU as subject; channel kinds a channel id (or, for
/// [`AlertKind::DeadLetters`], the sync queue as a whole: [`DEAD_LETTERS_SUBJECT`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A SKU sold beyond what it has (`oversold > 0`).
    Oversold,
    /// A SKU's `available` fell below its `low_stock_below` threshold.
    LowStock,
    /// The count of open sync failures (dead letters) grew.
    DeadLetters,
    /// A channel refuses StockEdge's credentials.
    ChannelAuth,
    /// A channel showed quantities StockEdge did not push (`drift_events`).
    Drift,
    /// A polled channel's order-feed watermark is older than [`super::limits::POLL_BEHIND_MS`].
    PollBehind,
    /// A SKU's location whose ERP has not been shown to have `erp::limits::MAX_PENDING_DOCUMENTS`
    /// of its order documents (`erp::behind`): sales are still recorded, new holds refused there.
    ErpBehind,
}

/// The subject of the one [`AlertKind::DeadLetters`] problem: the sync queue.
pub const DEAD_LETTERS_SUBJECT: &str = "stock-changes";

impl AlertKind {
    pub const ALL: [AlertKind; 7] = [
        AlertKind::Oversold,
        AlertKind::LowStock,
        AlertKind::DeadLetters,
        AlertKind::ChannelAuth,
        AlertKind::Drift,
        AlertKind::PollBehind,
        AlertKind::ErpBehind,
    ];

    /// The name used in the API, D1 and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Oversold => "oversold",
            AlertKind::LowStock => "low_stock",
            AlertKind::DeadLetters => "dead_letters",
            AlertKind::ChannelAuth => "channel_auth",
            AlertKind::Drift => "drift",
            AlertKind::PollBehind => "poll_behind",
            AlertKind::ErpBehind => "erp_behind",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the subject is a SKU (else a channel, or the queue).
    pub fn is_sku_level(self) -> bool {
        matches!(self, AlertKind::Oversold | AlertKind::LowStock | AlertKind::ErpBehind)
    }

    /// A short human title.
    pub fn title(self) -> &'static str {
        match self {
            AlertKind::Oversold => "Oversold",
            AlertKind::LowStock => "Low stock",
            AlertKind::DeadLetters => "Dead letters growing",
            AlertKind::ChannelAuth => "Channel authentication failing",
            AlertKind::Drift => "Drift found",
            AlertKind::PollBehind => "Order poll falling behind",
            AlertKind::ErpBehind => "ERP behind on StockEdge's orders",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).expect("json"), k.as_str());
        }
        assert_eq!(AlertKind::parse("lowstock"), None);
        assert!(AlertKind::LowStock.is_sku_level());
        assert!(!AlertKind::Drift.is_sku_level());
    }
}
