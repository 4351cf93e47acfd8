//! What a location under an ERP keeps: the snapshot last applied there (its watermark) and the
//! documents the ERP had not seen when it was taken (or that StockEdge recorded since), each under
//! a sequence number of its own so that it is stored as one row (`stock::storage`, table
//! `erp_pending`) and a change writes only the documents it adds or drops.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::as_of::AsOf;
use super::basis::Figure;
use super::document::Pending;
use super::limits::MAX_PENDING_DOCUMENTS;
use crate::stock::{Location, OrderKey, Token};
use crate::time::Millis;

/// The snapshot last applied at a location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub snapshot: Token,
    pub as_of: AsOf,
    pub figure: Figure,
    /// When StockEdge applied it.
    pub at: Millis,
}

/// A location's watermark as stored in its own row (table `erp`): the snapshot last applied and
/// the sequence number the next pending document gets. Rows written before documents had rows of
/// their own also carry `pending` (read once, then written as rows: `stock::storage`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub applied: Option<Applied>,
    #[serde(default)]
    pub next: u64,
    /// Only in rows of the former layout (one JSON row per location).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Pending>,
}

/// One location's ERP state. A location is under an ERP from its first applied snapshot on; only
/// then does it keep pending documents (the orders before it are taken as the ERP's already).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Track {
    pub applied: Option<Applied>,
    /// The documents no applied snapshot has shown the ERP to have, by sequence number (oldest
    /// first), those whose delivery the ERP confirmed (`received`) among them. None is ever
    /// dropped unseen, whatever their number: from [`MAX_PENDING_DOCUMENTS`] unconfirmed ones
    /// on ([`is_full`](Track::is_full)) the ledger refuses new holds there and raises an
    /// `erp_behind` alert, but records every order change (`stock::ledger_erp`). Changed only
    /// through [`record`](Track::record), [`receive`](Track::receive) and
    /// [`forget`](Track::forget), which keep [`unconfirmed`](Track::unconfirmed) counted.
    pending: BTreeMap<u64, Pending>,
    /// How many of `pending` are unconfirmed (`received` is `None`): counted as they change, so
    /// that the checks made on every hold and order change (`is_full`) do not walk the track.
    unconfirmed: usize,
    /// The sequence number of the next document: above every one ever recorded here.
    pub next: u64,
}

impl Track {
    /// The track from its stored watermark and document rows.
    pub fn from_rows(head: Head, rows: impl IntoIterator<Item = (u64, Pending)>) -> Track {
        let mut pending: BTreeMap<u64, Pending> = rows.into_iter().collect();
        let mut next = pending.keys().next_back().map_or(0, |s| s + 1).max(head.next);
        for p in head.pending {
            pending.insert(next, p);
            next += 1;
        }
        let unconfirmed = count_unconfirmed(&pending);
        Track { applied: head.applied, pending, unconfirmed, next }
    }

    /// The documents kept, by sequence number (oldest first).
    pub fn pending(&self) -> &BTreeMap<u64, Pending> {
        &self.pending
    }

    /// The watermark row of this track.
    pub fn head(&self) -> Head {
        Head { applied: self.applied.clone(), next: self.next, pending: Vec::new() }
    }

    /// The documents the ERP has not been shown to have: neither seen in a snapshot nor
    /// confirmed by a delivery. A confirmed one waits only for a snapshot as of its confirmation
    /// or later to leave the track (`erp::decide`). O(1): kept as the documents change.
    pub fn unconfirmed(&self) -> usize {
        self.unconfirmed
    }

    /// Whether the track keeps [`MAX_PENDING_DOCUMENTS`] or more unconfirmed documents: the ERP
    /// is behind. None is forgotten for it (forgetting one would count it as the ERP's and raise
    /// on hand); the ledger refuses new holds at the location instead (`LedgerError::ErpBehind`).
    pub fn is_full(&self) -> bool {
        self.unconfirmed() >= MAX_PENDING_DOCUMENTS
    }

    /// Keeps `p` until the ERP is shown to have it; answers its sequence number.
    pub fn record(&mut self, p: Pending) -> u64 {
        let seq = self.next;
        if p.received.is_none() {
            self.unconfirmed += 1;
        }
        if let Some(replaced) = self.pending.insert(seq, p) {
            self.uncount(&replaced);
        }
        self.next += 1;
        seq
    }

    /// Marks the documents of `order` recorded at or before `through` as received by the ERP at
    /// `at` (its confirmation of a delivery); answers the sequence numbers changed. A document
    /// already marked keeps its earlier time.
    pub fn receive(&mut self, order: &OrderKey, through: Millis, at: Millis) -> Vec<u64> {
        let mut changed = Vec::new();
        for (seq, p) in self.pending.iter_mut() {
            if p.document.order() == order && p.at <= through && p.received.is_none() {
                p.received = Some(at);
                changed.push(*seq);
            }
        }
        self.unconfirmed -= changed.len();
        changed
    }

    /// Forgets the documents `seqs` (the ERP had them).
    pub fn forget(&mut self, seqs: &[u64]) {
        for s in seqs {
            if let Some(p) = self.pending.remove(s) {
                self.uncount(&p);
            }
        }
    }

    /// Takes `p`, no longer kept, out of the unconfirmed count.
    fn uncount(&mut self, p: &Pending) {
        if p.received.is_none() {
            self.unconfirmed -= 1;
        }
    }
}

/// The unconfirmed documents among `pending`, counted (when a track is built from its rows).
fn count_unconfirmed(pending: &BTreeMap<u64, Pending>) -> usize {
    pending.values().filter(|p| p.received.is_none()).count()
}

/// Whether a delivery's confirmation (`Command::ErpReceived`) naming `confirmed` covers the
/// documents kept at `location`: only the locations whose ERP received the delivery — an order's
/// SKU split across two locations mastered by two connections is confirmed at each by its own
/// connection's delivery. Empty: every location (a confirmation that names none).
pub fn confirms_at(confirmed: &[Location], location: &Location) -> bool {
    confirmed.is_empty() || confirmed.contains(location)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::Document;

    fn key(id: &str) -> OrderKey {
        OrderKey { channel: Token::parse("web").expect("t"), order_id: Token::parse(id).expect("t") }
    }
    fn sale(id: &str, at: i64) -> Pending {
        Pending {
            document: Document::Cancel { order: key(id) },
            at: Millis(at),
            on_hand: 0,
            committed: -1,
            received: None,
        }
    }

    #[test]
    fn documents_get_rising_numbers_and_none_is_dropped_unseen() {
        let mut t = Track::default();
        assert_eq!(t.record(sale("1", 1)), 0);
        assert_eq!(t.record(sale("2", 2)), 1);
        t.forget(&[0]);
        assert_eq!(t.record(sale("3", 3)), 2, "a number is never reused");
        for i in 0..MAX_PENDING_DOCUMENTS - 3 {
            t.record(sale("x", i as i64));
        }
        assert!(!t.is_full());
        t.record(sale("4", 4));
        assert!(t.is_full());
        t.record(sale("5", 5));
        assert_eq!(t.pending.len(), MAX_PENDING_DOCUMENTS + 1, "nothing is dropped past the limit");
        assert_eq!(t.pending.keys().next(), Some(&1));
        // A confirmed delivery makes room: only unconfirmed documents count toward the limit.
        assert_eq!(t.receive(&key("4"), Millis(4), Millis(90)).len(), 1);
        assert_eq!(t.receive(&key("5"), Millis(5), Millis(90)).len(), 1);
        assert_eq!((t.unconfirmed(), t.is_full()), (MAX_PENDING_DOCUMENTS - 1, false));
        assert_eq!(t.pending.len(), MAX_PENDING_DOCUMENTS + 1, "confirmed documents wait for a snapshot");
    }

    #[test]
    fn receipts_mark_the_order_documents_up_to_the_confirmed_one() {
        let mut t = Track::default();
        for (id, at) in [("1", 1), ("2", 2), ("1", 3)] {
            t.record(sale(id, at));
        }
        assert_eq!(t.receive(&key("1"), Millis(2), Millis(50)), vec![0]);
        assert_eq!(t.receive(&key("1"), Millis(9), Millis(60)), vec![2]);
        assert_eq!(t.pending[&0].received, Some(Millis(50)), "an earlier receipt is kept");
        assert_eq!(t.pending[&1].received, None);
    }

    #[test]
    fn rows_of_the_former_layout_become_numbered_documents() {
        let head = Head { applied: None, next: 0, pending: vec![sale("1", 1), sale("2", 2)] };
        let t = Track::from_rows(head, [(4, sale("0", 0))]);
        assert_eq!(t.pending.keys().copied().collect::<Vec<_>>(), vec![4, 5, 6]);
        assert_eq!(t.next, 7);
        assert!(t.head().pending.is_empty());
    }

    /// `unconfirmed` is counted as the documents change, never recounted: after any sequence of
    /// records (some already received, as rows of the former layout can be), receipts and
    /// forgets — and when rebuilt from rows — it is the number a walk of the track finds.
    #[test]
    fn the_unconfirmed_count_follows_every_change() {
        use proptest::prelude::*;
        #[derive(Clone, Debug)]
        enum Op {
            Record { order: u8, received: bool },
            Receive { order: u8, through: i64 },
            Forget(Vec<u64>),
        }
        let op = prop_oneof![
            (0u8..4, any::<bool>()).prop_map(|(order, received)| Op::Record { order, received }),
            (0u8..4, 0i64..40).prop_map(|(order, through)| Op::Receive { order, through }),
            proptest::collection::vec(0u64..40, 0..4).prop_map(Op::Forget),
        ];
        proptest!(|(ops in proptest::collection::vec(op, 0..60))| {
            let mut t = Track::default();
            for (i, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Record { order, received } => {
                        let mut p = sale(&order.to_string(), i as i64);
                        p.received = received.then_some(Millis(1));
                        t.record(p);
                    }
                    Op::Receive { order, through } => {
                        t.receive(&key(&order.to_string()), Millis(through), Millis(99));
                    }
                    Op::Forget(seqs) => t.forget(&seqs),
                }
                prop_assert_eq!(t.unconfirmed(), count_unconfirmed(t.pending()));
            }
            let rows: Vec<(u64, Pending)> = t.pending().iter().map(|(s, p)| (*s, p.clone())).collect();
            let rebuilt = Track::from_rows(t.head(), rows);
            prop_assert_eq!(rebuilt.unconfirmed(), t.unconfirmed());
            prop_assert_eq!(rebuilt, t);
        });
    }

    #[test]
    fn a_confirmation_covers_the_locations_it_names_or_every_one() {
        let (main, east) = (Location::main(), Location::parse("east").expect("location"));
        let only_main = [Location::main()];
        assert!(confirms_at(&only_main, &main));
        assert!(!confirms_at(&only_main, &east), "another connection's location");
        assert!(confirms_at(&[], &east), "naming none: every location");
    }
}
