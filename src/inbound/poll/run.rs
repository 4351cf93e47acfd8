//! One channel's poll run: its bounds, what each polled order comes to before anything is
//! called ([`triage`]), and what the run reports. Pure: the edge reads pages, applies orders and
//! stores the state.

use serde::Deserialize;
use serde_json::{json, Value};

use super::feeds::PolledOrder;
use super::window::{PollState, Window};
use crate::catalog::model::ChannelKind;
use crate::channels::platform;
use crate::inbound::apply::Tally;
use crate::inbound::error::PayloadError;
use crate::inbound::event::InboundOutcome;
use crate::stock::Token;
use crate::time::Millis;

/// How long a run holds a channel (a run that died releases it by expiry).
pub const LEASE_MS: i64 = 5 * 60 * 1000;
/// How long an order's fingerprint is kept.
pub const SEEN_RETENTION_MS: i64 = 7 * 24 * 3_600_000;
/// Tries of one page read that fails in transport (each failure drops a connection the platform
/// closed while the previous page was applied; a pool may hold several), 100 ms × n apart.
pub const PAGE_ATTEMPTS: u32 = 4;
/// Channels polled per run.
pub const MAX_CHANNELS: usize = 50;

/// Pages read per channel and run: the budget the platform's feed registers (SP-API's
/// `getOrders` and `getOrderItems` rate limits allow Amazon two pages per run); none for a kind
/// without a feed.
pub fn page_budget(kind: ChannelKind) -> usize {
    platform(kind).feed.map_or(0, |f| f.page_budget)
}

/// What a polled order comes to before anything is called.
#[derive(Debug, PartialEq, Eq)]
pub enum Triage<'a> {
    /// Read before with the same content (the stretches overlap).
    Unchanged,
    /// A sale placed before StockEdge was connected ([`admit`](super::admit)).
    BeforeConnection,
    /// Its content cannot be used (the rest of the page still is).
    Unusable(&'a PayloadError),
    /// Apply it.
    Apply(&'a InboundOutcome),
}

/// `seen`: the fingerprint remembered for the order, if any.
pub fn triage<'a>(order: &'a PolledOrder, seen: Option<&str>, since: Millis) -> Triage<'a> {
    if seen == Some(order.fingerprint.as_str()) {
        return Triage::Unchanged;
    }
    if !super::admit(order, since) {
        return Triage::BeforeConnection;
    }
    match &order.outcome {
        Err(e) => Triage::Unusable(e),
        Ok(o) => Triage::Apply(o),
    }
}

/// What one channel's run did (also the answer's item).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollRun {
    pub channel: Token,
    pub kind: ChannelKind,
    /// `polled`, `busy` (another run holds the lease) or `incomplete` (see `error`).
    pub result: &'static str,
    pub window: Option<Window>,
    pub pages: usize,
    pub orders_read: usize,
    pub orders_applied: usize,
    pub unchanged: usize,
    pub before_connection: usize,
    pub unusable: usize,
    pub finished: bool,
    pub error: Option<String>,
    pub tally: Tally,
}

impl PollRun {
    pub fn new(channel: &Token, kind: ChannelKind) -> PollRun {
        PollRun {
            channel: channel.clone(),
            kind,
            result: "polled",
            window: None,
            pages: 0,
            orders_read: 0,
            orders_applied: 0,
            unchanged: 0,
            before_connection: 0,
            unusable: 0,
            finished: false,
            error: None,
            tally: Tally::default(),
        }
    }

    /// Counts an order that got through (applied, or triaged away).
    pub fn count(&mut self, t: &Triage<'_>, applied: Option<&Tally>) {
        match t {
            Triage::Unchanged => self.unchanged += 1,
            Triage::BeforeConnection => self.before_connection += 1,
            Triage::Unusable(_) => self.unusable += 1,
            Triage::Apply(o) => {
                if !matches!(o, InboundOutcome::Ignored { .. } | InboundOutcome::Ping) {
                    self.orders_applied += 1;
                }
                if let Some(a) = applied {
                    self.tally.add(a);
                }
            }
        }
    }

    /// Ends the run with `error` (the page it stopped in is read again next time).
    pub fn stop(&mut self, error: impl Into<String>) {
        self.error = Some(error.into());
        self.result = "incomplete";
    }

    pub fn to_json(&self) -> Value {
        json!({
            "channel": self.channel.as_str(),
            "kind": self.kind.as_str(),
            "result": self.result,
            "window": self.window.as_ref().map(|w| json!({
                "after": w.after.to_rfc3339(),
                "before": w.before.to_rfc3339(),
            })),
            "finished": self.finished,
            "pages": self.pages,
            "orders_read": self.orders_read,
            "orders_applied": self.orders_applied,
            "orders_unchanged": self.unchanged,
            "orders_before_connection": self.before_connection,
            "orders_unusable": self.unusable,
            "sold_lines": self.tally.sold_lines,
            "cancelled_orders": self.tally.cancelled_orders,
            "unmatched_lines": self.tally.unmatched_lines,
            "error": self.error,
        })
    }
}

/// A channel's stored poll record, for `GET /v1/inbound/polls`.
#[derive(Clone, Debug, Deserialize)]
pub struct PollRecord {
    pub channel: String,
    pub kind: String,
    pub state: Option<String>,
    pub last_run_at: Option<i64>,
    pub last_ok_at: Option<i64>,
    pub last_error: Option<String>,
    pub orders_read: Option<i64>,
    pub orders_applied: Option<i64>,
}

impl PollRecord {
    /// The status item: where the channel's poll stands.
    pub fn to_json(&self) -> Value {
        let time = |t: Option<i64>| t.map(|t| Millis(t).to_rfc3339());
        let state = self.state.as_deref().and_then(|s| serde_json::from_str::<PollState>(s).ok());
        json!({
            "channel": self.channel,
            "kind": self.kind,
            "since": state.as_ref().map(|s| s.since.to_rfc3339()),
            "watermark": state.as_ref().and_then(|s| s.watermark).map(Millis::to_rfc3339),
            "in_progress": state.as_ref().is_some_and(|s| s.window.is_some()),
            "last_run_at": time(self.last_run_at),
            "last_ok_at": time(self.last_ok_at),
            "last_error": self.last_error,
            "orders_read": self.orders_read.unwrap_or(0),
            "orders_applied": self.orders_applied.unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::event::Ignored;

    fn order(fingerprint: &str, placed_at: Option<i64>, outcome: Result<InboundOutcome, PayloadError>) -> PolledOrder {
        PolledOrder { order_id: "1".into(), placed_at: placed_at.map(Millis), fingerprint: fingerprint.into(), outcome }
    }

    fn fetch() -> InboundOutcome {
        InboundOutcome::Fetch {
            order: crate::inbound::FetchOrder {
                channel_kind: ChannelKind::Amazon,
                account: None,
                order_id: "1".into(),
                status: None,
                occurred_at: Millis(0),
            },
        }
    }

    #[test]
    fn orders_are_triaged_before_anything_is_called() {
        let o = order("f", Some(5_000), Ok(fetch()));
        assert_eq!(triage(&o, Some("f"), Millis(0)), Triage::Unchanged);
        assert_eq!(triage(&o, Some("other"), Millis(10_000)), Triage::BeforeConnection);
        assert!(matches!(triage(&o, None, Millis(0)), Triage::Apply(_)));
        let bad = order("f", None, Err(PayloadError::missing("id")));
        assert!(matches!(triage(&bad, None, Millis(0)), Triage::Unusable(_)));
    }

    #[test]
    fn ignored_orders_get_through_without_counting_as_applied() {
        let mut run = PollRun::new(&Token::parse("woo").expect("t"), ChannelKind::Woocommerce);
        let ignored = InboundOutcome::ignored(Ignored::NothingRestocked);
        run.count(&Triage::Apply(&ignored), Some(&Tally::default()));
        let sold = Tally { sold_lines: 2, ..Tally::default() };
        run.count(&Triage::Apply(&fetch()), Some(&sold));
        run.count(&Triage::Unchanged, None);
        let j = run.to_json();
        assert_eq!((j["orders_applied"].as_u64(), j["sold_lines"].as_u64()), (Some(1), Some(2)));
        assert_eq!(j["orders_unchanged"].as_u64(), Some(1));
        run.stop("throttled");
        assert_eq!((run.result, run.error.as_deref()), ("incomplete", Some("throttled")));
    }

    #[test]
    fn amazon_reads_the_fewest_pages_per_run() {
        assert!(page_budget(ChannelKind::Amazon) < page_budget(ChannelKind::Ebay));
        assert!(page_budget(ChannelKind::Ebay) < page_budget(ChannelKind::Woocommerce));
    }

    #[test]
    fn a_status_item_shows_the_watermark_and_an_unfinished_stretch() {
        let state = PollState {
            since: Millis(0),
            watermark: Some(Millis(60_000)),
            window: Some(Window { after: Millis(0), before: Millis(1), cursor: None }),
        };
        let r = PollRecord {
            channel: "woo".into(),
            kind: "woocommerce".into(),
            state: serde_json::to_string(&state).ok(),
            last_run_at: None,
            last_ok_at: Some(0),
            last_error: None,
            orders_read: None,
            orders_applied: Some(3),
        };
        let j = r.to_json();
        assert_eq!(j["watermark"], "1970-01-01T00:01:00.000Z");
        assert_eq!((j["in_progress"].as_bool(), j["orders_read"].as_i64()), (Some(true), Some(0)));
        assert!(j["last_run_at"].is_null());
    }
}
