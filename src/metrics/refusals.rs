//! Refused holds (`stockedge_holds_refused_total{reason}`), counted where every refusal is seen:
//! the Worker's answer to `POST /v1/reservations`, whichever path refused it — the edge's
//! sold-out shedding (no object is called), a SKU ledger, a cart coordinator or a hot SKU's
//! allotment. A refusal changes no ledger, so it is on no outbox event and the sync consumer
//! never sees it; and a D1 write per refusal would put the catalogue on the hold path, which must
//! stay one object call (or none) under a flash sale.
//!
//! So each isolate adds its refusals up in memory ([`RefusalBuffer`]) and adds them to the
//! durable counters (D1 `metric_counters`) at most once per [`FLUSH_EVERY_MS`], after the answer
//! has been sent (the runtime's `waitUntil`); a failed write puts them back for the next flush.
//! Limits: a count shows up to [`FLUSH_EVERY_MS`] late — later when its isolate serves no
//! further request, as the flush rides on the next one; refusals an isolate holds when the
//! runtime evicts it are lost (at most what it refused since its last flush).

use serde::Deserialize;

use super::durable::{Key, Tally, HOLDS_REFUSED};
use crate::api::problem::Kind;
use crate::time::Millis;

/// The least time between two flushes of one isolate's refusals.
pub const FLUSH_EVERY_MS: i64 = 5_000;

/// The `reason` label of a refusal whose problem document is `body`: its problem type's slug with
/// `_` for `-` (`/problems/insufficient-stock` → `insufficient_stock`), or `unknown` for a body
/// that names none of the stable types (the label's values are bounded by [`Kind`]).
pub fn reason_of(body: &[u8]) -> String {
    /// The one member of the problem document read here.
    #[derive(Deserialize)]
    struct Typed<'a> {
        #[serde(borrow, rename = "type")]
        problem_type: &'a str,
    }
    serde_json::from_slice::<Typed>(body)
        .ok()
        .and_then(|t| Kind::from_slug(t.problem_type.strip_prefix("/problems/")?))
        .map_or_else(|| "unknown".to_owned(), |k| k.slug().replace('-', "_"))
}

/// An isolate's refusals not yet written to the durable counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefusalBuffer {
    pending: Tally,
    /// When the last flush was taken (`None`: never).
    last_flush: Option<Millis>,
}

impl RefusalBuffer {
    /// One refused hold, for `reason`.
    pub fn refused(&mut self, reason: &str) {
        *self.pending.entry(Key::new(HOLDS_REFUSED, &[("reason", reason)])).or_default() += 1;
    }

    /// The refusals to write now, when there are some and the last flush is at least
    /// [`FLUSH_EVERY_MS`] old (the first one is due at once); taken out of the buffer.
    pub fn due(&mut self, now: Millis) -> Option<Tally> {
        if self.pending.is_empty() || self.last_flush.is_some_and(|t| now.0 - t.0 < FLUSH_EVERY_MS) {
            return None;
        }
        self.last_flush = Some(now);
        Some(std::mem::take(&mut self.pending))
    }

    /// Puts back refusals whose write failed, for the next flush.
    pub fn restore(&mut self, tally: Tally) {
        for (k, n) in tally {
            *self.pending.entry(k).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(t: &Tally, reason: &str) -> i64 {
        t.get(&Key::new(HOLDS_REFUSED, &[("reason", reason)])).copied().unwrap_or(0)
    }

    #[test]
    fn refusals_are_flushed_at_most_once_per_interval_and_put_back_on_failure() {
        let mut b = RefusalBuffer::default();
        assert_eq!(b.due(Millis(0)), None, "nothing to flush");
        b.refused("insufficient_stock");
        b.refused("insufficient_stock");
        let first = b.due(Millis(100)).expect("the first flush is due at once");
        assert_eq!(n(&first, "insufficient_stock"), 2);
        b.refused("insufficient_stock");
        assert_eq!(b.due(Millis(100 + FLUSH_EVERY_MS - 1)), None, "too soon");
        let second = b.due(Millis(100 + FLUSH_EVERY_MS)).expect("due");
        assert_eq!(n(&second, "insufficient_stock"), 1);
        b.restore(second);
        b.refused("reservation_conflict");
        let third = b.due(Millis(100 + 2 * FLUSH_EVERY_MS)).expect("due");
        assert_eq!((n(&third, "insufficient_stock"), n(&third, "reservation_conflict")), (1, 1), "nothing lost");
    }

    #[test]
    fn the_reason_is_the_problem_slug() {
        assert_eq!(reason_of(br#"{"type":"/problems/insufficient-stock","status":409}"#), "insufficient_stock");
        assert_eq!(reason_of(br#"{"status":409,"type":"/problems/reservation-conflict"}"#), "reservation_conflict");
    }

    #[test]
    fn a_body_naming_no_stable_type_is_unknown() {
        for body in [&b""[..], b"not json", br#"{"status":409}"#, br#"{"type":"/problems/made-up"}"#, br#"{"type":7}"#]
        {
            assert_eq!(reason_of(body), "unknown", "{}", String::from_utf8_lossy(body));
        }
    }
}
