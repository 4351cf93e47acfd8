//! Where a connection's stock poll stands (D1 `erp_polls.state`): a watermark — every change
//! the ERP made before it has been read — and, while a stretch is read across several runs, the
//! stretch's start and the ERP's cursor into it. Mirrors the order-feed polls
//! (`inbound::poll::window`): the watermark only moves when a stretch is read to its end, and a
//! stretch re-reads [`OVERLAP_MS`] of the previous one, since ERPs stamp changes with a coarse
//! or local clock (SAP B1's `UpdateDate` is a date). Re-reading is harmless: a row is the ERP's
//! current figure, and a line as of a point already applied is `stale`.

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// How far each stretch reaches back into the previous one.
pub const OVERLAP_MS: i64 = 10 * 60 * 1000;

/// Pages one connection reads per run (the rest is read by the next run, from the cursor).
pub const PAGES_PER_RUN: usize = 20;

/// A connection's poll state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpPollState {
    /// Every change before this had been read; `None`: never polled (read everything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Millis>,
    /// The stretch being read: when it began (the watermark once it ends) and the ERP's cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stretch: Option<Stretch>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stretch {
    /// When the stretch began: changes at or after `since` are in it.
    pub began: Millis,
    /// Changes since this are read (the previous watermark less the overlap; `None`: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Millis>,
    /// The ERP's cursor to the next page (a next link, an offset); `None`: the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl ErpPollState {
    /// The stretch to read now: the unfinished one, or a new one beginning at `now`.
    pub fn stretch(&self, now: Millis) -> Stretch {
        self.stretch.clone().unwrap_or_else(|| Stretch {
            began: now,
            since: self.watermark.map(|w| Millis(w.0.saturating_sub(OVERLAP_MS))),
            cursor: None,
        })
    }

    /// A page of `stretch` was read; `next` is the cursor to the following page (`None`: the
    /// stretch is read to its end and the watermark moves to its beginning).
    pub fn advance(&mut self, stretch: &Stretch, next: Option<String>) {
        match next {
            Some(cursor) => self.stretch = Some(Stretch { cursor: Some(cursor), ..stretch.clone() }),
            None => {
                self.watermark = Some(stretch.began);
                self.stretch = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_moves_only_when_a_stretch_ends() {
        let mut s = ErpPollState::default();
        let first = s.stretch(Millis(1_000_000));
        assert_eq!(first.since, None);
        s.advance(&first, Some("p2".into()));
        assert_eq!(s.watermark, None);
        let again = s.stretch(Millis(2_000_000));
        assert_eq!(again.began, Millis(1_000_000));
        assert_eq!(again.cursor.as_deref(), Some("p2"));
        s.advance(&again, None);
        assert_eq!(s.watermark, Some(Millis(1_000_000)));
        let next = s.stretch(Millis(3_000_000));
        assert_eq!(next.since, Some(Millis(1_000_000 - OVERLAP_MS)));
        assert_eq!(next.began, Millis(3_000_000));
    }
}
