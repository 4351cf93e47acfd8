//! Which stretch of a channel's order feed a poll reads, and where the next one starts.
//!
//! A channel's poll state is a watermark (everything modified at or before it has been read and
//! applied) and, while a stretch is being read across several runs, that stretch and the
//! platform's cursor into it. A run reads `[watermark − overlap, now − lag]`:
//! - `overlap` re-reads the tail of the previous stretch, so an order whose modification became
//!   visible late (platform replication, clock skew between StockEdge and the platform) is still
//!   seen. Re-reading is harmless: the order desks apply each line once, and orders seen with
//!   the same content are skipped before any call (the edge's `poll_seen` record).
//! - `lag` keeps the upper bound behind the present where the platform requires it (SP-API:
//!   `LastUpdatedBefore` at least 2 minutes before now).
//!
//! The first stretch of a channel starts at `since`: the moment StockEdge was connected to it
//! (the channel's creation). Orders placed before that were sold while the channel kept its own
//! stock, and the counts StockEdge was given already reflect them; see [`admit`](super::admit).
//!
//! A stretch that is not finished within a run (the per-run page budget, a throttled or failed
//! call) is kept with its cursor and continued by the next run before a new stretch is begun.
//! The watermark only moves when a stretch is read to its end.

use serde::{Deserialize, Serialize};

use crate::catalog::model::ChannelKind;
use crate::channels::platform;
use crate::time::Millis;

/// How far back each stretch reaches into the previous one.
pub const OVERLAP_MS: i64 = 10 * 60 * 1000;

/// How far behind `now` a stretch ends: the lag the platform's feed registers (SP-API refuses
/// `LastUpdatedBefore` later than 2 minutes before now, so Amazon stretches end 3 minutes back);
/// the other feeds take any bound and end at `now` (what becomes visible late is in the next
/// stretch's overlap).
pub fn lag_ms(kind: ChannelKind) -> i64 {
    platform(kind).feed.map_or(0, |f| f.lag_ms)
}

/// The platforms whose order feeds StockEdge polls: those that register one.
pub fn is_polled(kind: ChannelKind) -> bool {
    platform(kind).feed.is_some()
}

/// A stretch of the feed: orders modified in `[after, before]`, read from `cursor` on
/// (`None`: from the first page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub after: Millis,
    pub before: Millis,
    pub cursor: Option<String>,
}

/// A channel's poll state, as stored between runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollState {
    /// When StockEdge was connected to the channel: the first stretch starts here.
    pub since: Millis,
    /// Everything modified at or before this has been read; `None` before the first stretch ends.
    pub watermark: Option<Millis>,
    /// The stretch being read, when a run stopped inside it.
    pub window: Option<Window>,
}

impl PollState {
    pub fn new(since: Millis) -> PollState {
        PollState { since, watermark: None, window: None }
    }

    /// The stretch this run reads: the unfinished one, else a new one from the watermark (less
    /// the overlap, never before `since`) to `now − lag`. `None` when that is empty (the
    /// previous stretch ended less than the lag ago, or the channel was connected in the future).
    pub fn next_window(&self, kind: ChannelKind, now: Millis) -> Option<Window> {
        if let Some(w) = &self.window {
            return Some(w.clone());
        }
        let after = match self.watermark {
            Some(w) => Millis((w.0 - OVERLAP_MS).max(self.since.0)),
            None => self.since,
        };
        let before = Millis(now.0 - lag_ms(kind));
        (before > after).then_some(Window { after, before, cursor: None })
    }

    /// Records where a run got to in `window`: `next` is the cursor of the first page not yet
    /// applied, `None` when the stretch was read to its end (the watermark then moves to its
    /// upper bound).
    pub fn advance(&mut self, window: &Window, next: Option<String>) {
        match next {
            Some(cursor) => self.window = Some(Window { cursor: Some(cursor), ..window.clone() }),
            None => {
                self.watermark = Some(self.watermark.map_or(window.before, |w| w.max(window.before)));
                self.window = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn first_stretch_starts_at_the_connection_and_ends_behind_now() {
        let s = PollState::new(Millis(100 * MIN));
        let w = s.next_window(ChannelKind::Woocommerce, Millis(200 * MIN)).expect("window");
        assert_eq!((w.after, w.before, w.cursor), (Millis(100 * MIN), Millis(200 * MIN), None));
        let a = s.next_window(ChannelKind::Amazon, Millis(200 * MIN)).expect("window");
        assert_eq!(a.before, Millis(197 * MIN));
    }

    #[test]
    fn later_stretches_overlap_the_previous_one_but_never_reach_before_the_connection() {
        let mut s = PollState::new(Millis(100 * MIN));
        let w = s.next_window(ChannelKind::Ebay, Millis(105 * MIN)).expect("window");
        s.advance(&w, None);
        assert_eq!(s.watermark, Some(w.before));
        // The watermark is less than the overlap after `since`: start at `since`.
        let w2 = s.next_window(ChannelKind::Ebay, Millis(130 * MIN)).expect("window");
        assert_eq!(w2.after, Millis(100 * MIN));
        s.advance(&w2, None);
        let w3 = s.next_window(ChannelKind::Ebay, Millis(140 * MIN)).expect("window");
        assert_eq!(w3.after, Millis(w2.before.0 - OVERLAP_MS));
    }

    #[test]
    fn an_unfinished_stretch_is_continued_from_its_cursor_and_keeps_the_watermark() {
        let mut s = PollState::new(Millis(0));
        let w = s.next_window(ChannelKind::Amazon, Millis(60 * MIN)).expect("window");
        s.advance(&w, Some("token-2".into()));
        assert_eq!(s.watermark, None);
        let again = s.next_window(ChannelKind::Amazon, Millis(90 * MIN)).expect("window");
        assert_eq!(again, Window { cursor: Some("token-2".into()), ..w.clone() });
        s.advance(&again, None);
        assert_eq!((s.watermark, s.window.clone()), (Some(w.before), None));
    }

    #[test]
    fn nothing_to_read_within_the_lag_and_the_watermark_never_goes_back() {
        let mut s = PollState::new(Millis(10 * MIN));
        assert_eq!(s.next_window(ChannelKind::Amazon, Millis(12 * MIN)), None);
        assert_eq!(s.next_window(ChannelKind::Woocommerce, Millis(10 * MIN)), None);
        s.watermark = Some(Millis(50 * MIN));
        s.advance(&Window { after: Millis(0), before: Millis(40 * MIN), cursor: None }, None);
        assert_eq!(s.watermark, Some(Millis(50 * MIN)));
    }
}
