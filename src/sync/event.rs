//! The event every committed change of a SKU announces: the `stock-changes` queue message.

use serde::{Deserialize, Serialize};

use crate::erp::{order_changes, ErpBehindAlert, OrderChange};
use crate::stock::{Entry, Location, Op, OversoldAlert, Sku, Totals};
use crate::time::Millis;

/// Cloudflare Queues refuses messages above 128 KB
/// (developers.cloudflare.com/queues/platform/limits). A [`StockChanged`] is a few hundred
/// bytes; [`StockChanged::to_message`] checks anyway.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// A SKU's state right after one committed change. `version` grows by one per transition of the
/// SKU's ledger, so a newer version always describes a later state; receivers keep the newest
/// and drop the rest (the queue delivers at least once and in no particular order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockChanged {
    pub sku: Sku,
    /// The SKU's ledger version after the change.
    pub version: u64,
    /// Available to sell across locations (`on_hand − reserved − committed`, at least 0).
    pub available: i64,
    pub on_hand: i64,
    /// What kind of change it was (the journal's op name: `sale`, `reserve`, `adjust`, …).
    pub cause: Op,
    /// When the change was committed.
    pub at: Millis,
    /// The SKU's oversold units after the change (sold elsewhere beyond the shelf and beyond
    /// the backorder allowance). Absent in messages written before alerts existed: read as 0.
    #[serde(default)]
    pub oversold: i64,
    /// Present when this change made `oversold` grow (`stock::oversold_alert`): the consumer
    /// records it in D1 `alerts` (once per SKU and version) before anything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<OversoldAlert>,
    /// The channel the change came from (the journal entry's `cause.channel`: a sale's or a
    /// cancel's marketplace, a hold's storefront), when it names one. Counted by
    /// `crate::metrics::ledger_counts`. Absent in older messages and for changes of no channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Every transition the change made, counted by kind and channel (a call may make several:
    /// a hold that first expires stale ones). Bounded by the kinds and channels, not by the
    /// transitions. Empty in older messages: read `cause` and `channel` as one transition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<OpCount>,
    /// The order changes the change made (sales, committed checkouts, cancellations,
    /// fulfilments, per location: `erp::order_changes`), which the consumer delivers to the ERP
    /// mastering their location (`erp::delivery`). Bounded by the change's journal entries (one
    /// per location a transition touches). Empty in older messages and for changes of no order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderChange>,
    /// Locations whose ERP fell behind with this change (`erp::behind`): the consumer records an
    /// `erp_behind` alert for each, once per SKU and version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erp_behind: Vec<ErpBehindAlert>,
}

/// How many transitions of one kind, from one channel, a change made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCount {
    pub op: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub n: u64,
}

/// Why a message could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("message is {0} bytes, over the queue's {MAX_MESSAGE_BYTES}")]
    TooLarge(usize),
    #[error("not a StockChanged message: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl StockChanged {
    /// A SKU's current state announced as a set: what a re-push or a read-back sends when no
    /// single transition is being announced (no alert, no channel, no transitions counted).
    pub fn current(sku: Sku, version: u64, available: i64, on_hand: i64, oversold: i64, at: Millis) -> StockChanged {
        StockChanged {
            sku,
            version,
            available,
            on_hand,
            cause: Op::Set,
            at,
            oversold,
            alert: None,
            channel: None,
            ops: Vec::new(),
            orders: Vec::new(),
            erp_behind: Vec::new(),
        }
    }

    /// The event for a ledger's state after a transition (`totals` and `version` as the ledger
    /// reports them once the change is applied), with the alert the change raised, if any.
    pub fn from_totals(
        sku: Sku,
        version: u64,
        totals: &Totals,
        cause: Op,
        at: Millis,
        alert: Option<OversoldAlert>,
    ) -> StockChanged {
        StockChanged {
            sku,
            version,
            available: totals.available,
            on_hand: totals.on_hand,
            cause,
            at,
            oversold: totals.oversold,
            alert,
            channel: None,
            ops: Vec::new(),
            orders: Vec::new(),
            erp_behind: Vec::new(),
        }
    }

    /// The event with what the journal `entries` of its change say: the last one's channel, and
    /// the transitions counted by kind and channel (one per version: a transition journals one
    /// entry per location it touches).
    pub fn with_journal(self, entries: &[Entry]) -> StockChanged {
        let channel = entries.last().and_then(|e| e.cause.channel.clone());
        let mut ops: Vec<OpCount> = Vec::new();
        let mut last_version = None;
        for e in entries {
            if last_version == Some(e.version) {
                continue;
            }
            last_version = Some(e.version);
            match ops.iter_mut().find(|c| c.op == e.op && c.channel == e.cause.channel) {
                Some(c) => c.n += 1,
                None => ops.push(OpCount { op: e.op, channel: e.cause.channel.clone(), n: 1 }),
            }
        }
        StockChanged { channel, ops, orders: order_changes(entries), ..self }
    }

    /// The event with the `erp_behind` alerts its change raised (`stock::Changes::erp_behind`).
    pub fn with_erp_behind(self, behind: impl IntoIterator<Item = (Location, usize)>) -> StockChanged {
        let erp_behind = behind.into_iter().map(|(location, pending)| ErpBehindAlert { location, pending }).collect();
        StockChanged { erp_behind, ..self }
    }

    /// What the channels may still sell: `available` less the units already owed to oversold
    /// orders, at least 0. A SKU oversold at one location and stocked at another lists only what
    /// is left once the shortfall is covered, and a SKU oversold at its only location lists 0 —
    /// so a sale that could not be covered pushes 0 (or less) to every channel at once.
    pub fn sellable(&self) -> i64 {
        (self.available - self.oversold.max(0)).max(0)
    }

    /// The queue message body (JSON), refused when over [`MAX_MESSAGE_BYTES`].
    pub fn to_message(&self) -> Result<String, EventError> {
        let s = serde_json::to_string(self)?;
        if s.len() > MAX_MESSAGE_BYTES {
            return Err(EventError::TooLarge(s.len()));
        }
        Ok(s)
    }

    /// Reads a queue message body.
    pub fn from_message(body: &str) -> Result<StockChanged, EventError> {
        if body.len() > MAX_MESSAGE_BYTES {
            return Err(EventError::TooLarge(body.len()));
        }
        Ok(serde_json::from_str(body)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_small() {
        let e = StockChanged {
            sku: Sku::parse(&"S".repeat(64)).unwrap(),
            version: u64::MAX,
            available: i64::MIN,
            on_hand: i64::MAX,
            cause: Op::Sale,
            at: Millis(1_795_993_008_123),
            oversold: i64::MAX,
            alert: Some(OversoldAlert {
                units: i64::MAX,
                oversold: i64::MAX,
                op: Op::Sale,
                channel: Some("c".repeat(crate::stock::limits::MAX_ID_LEN)),
                order_id: Some("o".repeat(crate::stock::limits::MAX_ID_LEN)),
            }),
            channel: Some("c".repeat(crate::stock::limits::MAX_ID_LEN)),
            ops: vec![OpCount { op: Op::Sale, channel: Some("c".repeat(crate::stock::limits::MAX_ID_LEN)), n: 1 }],
            orders: Vec::new(),
            erp_behind: Vec::new(),
        };
        let m = e.to_message().unwrap();
        assert!(m.len() < 1280, "{} bytes", m.len());
        assert!(m.contains(r#""cause":"sale""#));
        assert_eq!(StockChanged::from_message(&m).unwrap(), e);
    }

    #[test]
    fn messages_from_before_alerts_still_decode() {
        let old = r#"{"sku":"A","version":3,"available":0,"on_hand":2,"cause":"sale","at":5}"#;
        let e = StockChanged::from_message(old).unwrap();
        assert_eq!((e.oversold, e.alert.clone(), e.channel.clone()), (0, None, None));
        let none = StockChanged { alert: None, ..e };
        assert!(!none.to_message().unwrap().contains("alert"), "no alert, no member");
    }

    #[test]
    fn sellable_nets_the_oversold_units_out_of_what_other_locations_hold() {
        let mut e = StockChanged::from_totals(
            Sku::parse("A").expect("sku"),
            1,
            &Totals { available: 5, oversold: 3, ..Totals::default() },
            Op::Sale,
            Millis(0),
            None,
        );
        assert_eq!(e.sellable(), 2);
        e.oversold = 9;
        assert_eq!(e.sellable(), 0);
        e.oversold = 0;
        assert_eq!(e.sellable(), 5);
    }

    #[test]
    fn carries_the_totals_oversold_and_the_alert() {
        let t = Totals { on_hand: 2, committed: 5, oversold: 3, ..Totals::default() };
        let alert = OversoldAlert {
            units: 3,
            oversold: 3,
            op: Op::Sale,
            channel: Some("amazon".into()),
            order_id: Some("1".into()),
        };
        let e = StockChanged::from_totals(Sku::parse("A").unwrap(), 4, &t, Op::Sale, Millis(9), Some(alert.clone()));
        assert_eq!((e.available, e.oversold, e.alert.as_ref()), (0, 3, Some(&alert)));
        assert_eq!(StockChanged::from_message(&e.to_message().unwrap()).unwrap(), e);
    }

    #[test]
    fn refuses_bad_messages() {
        assert!(matches!(StockChanged::from_message("{}"), Err(EventError::Malformed(_))));
        let bad_sku = r#"{"sku":"a b","version":1,"available":0,"on_hand":0,"cause":"sale","at":0}"#;
        assert!(StockChanged::from_message(bad_sku).is_err());
        assert!(matches!(StockChanged::from_message(&" ".repeat(MAX_MESSAGE_BYTES + 1)), Err(EventError::TooLarge(_))));
    }

    #[test]
    fn with_journal_counts_one_transition_per_version_by_kind_and_channel() {
        use crate::stock::{Cause, Deltas, Location};
        let entry = |version: u64, op: Op, channel: Option<&str>| Entry {
            seq: version,
            at: Millis(1),
            op,
            location: Location::main(),
            deltas: Deltas::default(),
            cause: Cause { channel: channel.map(str::to_owned), ..Cause::default() },
            version,
        };
        let entries = [
            entry(4, Op::Expire, None),
            entry(5, Op::Expire, None),
            entry(6, Op::Sale, Some("amazon")),
            entry(6, Op::Sale, Some("amazon")), // a second location of the same transition
        ];
        let e = StockChanged::from_totals(Sku::parse("A").unwrap(), 6, &Totals::default(), Op::Sale, Millis(1), None)
            .with_journal(&entries);
        assert_eq!(e.channel.as_deref(), Some("amazon"));
        assert_eq!(
            e.ops,
            vec![
                OpCount { op: Op::Expire, channel: None, n: 2 },
                OpCount { op: Op::Sale, channel: Some("amazon".into()), n: 1 },
            ]
        );
        assert_eq!(StockChanged::from_message(&e.to_message().unwrap()).unwrap(), e);
    }
}
