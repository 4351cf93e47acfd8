//! What a snapshot line does to a location's on hand.
//!
//! StockEdge's on hand after a snapshot is what it would be had the snapshot been applied at its
//! as-of point and StockEdge's documents the ERP had not yet seen been recorded after it:
//!
//! - on-hand basis: `on_hand = figure + Σ unseen Δon_hand` (shipments the ERP does not know
//!   of leave the shelf once; sales and cancellations only move `committed`, which is StockEdge's);
//! - available basis: `on_hand = figure + committed + Σ unseen (Δon_hand − Δcommitted)` — the
//!   figure has the ERP's commitments subtracted, StockEdge's received orders among them; adding
//!   StockEdge's committed units back and taking out the ones the ERP had not received leaves
//!   each StockEdge order subtracted exactly once, by StockEdge's own `committed`.
//!
//! Both are invariant under the documents recorded after the snapshot: a later document changes
//! on hand by its Δon_hand exactly as the formula would, so applying snapshots and StockEdge's
//! documents in any order consistent with the ERP's history ends in the same on hand
//! (`tests/erp_snapshots.rs`). Reserved units are never touched.

use super::as_of::{AsOf, Succession};
use super::basis::Basis;
use super::snapshot::SnapshotLine;
use super::track::Track;
use crate::stock::limits::MAX_ON_HAND;
use crate::stock::{Levels, Token};

/// The outcome of a snapshot line at its location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The line is as of a point no later than the snapshot applied there: nothing changes.
    Stale,
    /// The line's as-of point and the applied one (`applied`, of snapshot `snapshot`) cannot be
    /// ordered: they share no field.
    Incomparable { applied: AsOf, snapshot: Token },
    /// On hand becomes `on_hand`; the pending documents numbered `seen` leave the track.
    Apply {
        on_hand: i64,
        /// The figure's result before it was kept within `0..=MAX_ON_HAND` (it differs only
        /// when the ERP committed more than StockEdge can explain: then `on_hand` is 0).
        computed: i64,
        seen: Vec<u64>,
    },
}

/// Decides `line` against the location's `track` and its current `level`.
pub fn decide(track: &Track, level: &Levels, line: &SnapshotLine) -> Decision {
    if let Some(applied) = &track.applied {
        match line.as_of.succeeds(&applied.as_of) {
            Succession::Newer => {}
            Succession::NotNewer => return Decision::Stale,
            Succession::Incomparable => {
                return Decision::Incomparable { applied: applied.as_of, snapshot: applied.snapshot.clone() }
            }
        }
    }
    let index = line.seen.index();
    let mut seen = Vec::new();
    let mut unseen: i64 = 0;
    // A document whose delivery the ERP confirmed is in a figure as of the confirmation or later
    // (only a timestamp can say so: a sequence-only point counts what `seen` lists).
    let received = |p: &super::Pending| p.received.zip(line.as_of.at).is_some_and(|(r, at)| r <= at);
    for (i, p) in track.pending() {
        if index.covers(p) || received(p) {
            seen.push(*i);
        } else {
            let effect = match line.figure.basis {
                Basis::OnHand => p.on_hand,
                Basis::Available => p.on_hand.saturating_sub(p.committed),
            };
            unseen = unseen.saturating_add(effect);
        }
    }
    let base = match line.figure.basis {
        Basis::OnHand => line.figure.quantity,
        Basis::Available => line.figure.quantity.saturating_add(level.committed),
    };
    let computed = base.saturating_add(unseen);
    Decision::Apply { on_hand: computed.clamp(0, MAX_ON_HAND), computed, seen }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::{Document, Figure, Pending, Seen, SeenOrder};
    use crate::stock::{Location, OrderKey};
    use crate::time::Millis;

    fn tok(s: &str) -> Token {
        Token::parse(s).expect("token")
    }
    fn key(id: &str) -> OrderKey {
        OrderKey { channel: tok("web"), order_id: tok(id) }
    }
    fn sale(id: &str, qty: i64) -> Pending {
        Pending {
            document: Document::Sale { order: key(id), lines: vec![tok("l")] },
            at: Millis(1),
            on_hand: 0,
            committed: qty,
            received: None,
        }
    }
    fn line(basis: Basis, quantity: i64, seq: u64, seen: &[&str]) -> SnapshotLine {
        SnapshotLine {
            snapshot: tok("s"),
            location: Location::main(),
            figure: Figure { basis, quantity },
            as_of: AsOf { at: None, sequence: Some(seq) },
            seen: Seen {
                through: None,
                orders: seen
                    .iter()
                    .map(|id| SeenOrder {
                        channel: tok("web"),
                        order_id: tok(id),
                        lines: None,
                        cancelled: false,
                        shipments: vec![],
                    })
                    .collect(),
            },
        }
    }

    #[test]
    fn unseen_sales_are_subtracted_once() {
        // 3 sales of 1 the ERP had not received: its available of 10 still includes them.
        let mut track = Track::default();
        for p in [sale("1", 1), sale("2", 1), sale("3", 1)] {
            track.record(p);
        }
        let level = Levels { on_hand: 10, reserved: 2, committed: 3 };
        let Decision::Apply { on_hand, seen, .. } = decide(&track, &level, &line(Basis::Available, 10, 1, &[])) else {
            panic!("applied expected")
        };
        assert_eq!((on_hand, seen.len()), (10, 0));
        assert_eq!(on_hand - level.reserved - level.committed, 5);
        // The ERP received them: its available fell to 7; StockEdge does not subtract them again.
        let Decision::Apply { on_hand, seen, .. } =
            decide(&track, &level, &line(Basis::Available, 7, 2, &["1", "2", "3"]))
        else {
            panic!("applied expected")
        };
        assert_eq!((on_hand, seen), (10, vec![0, 1, 2]));
    }

    #[test]
    fn stale_and_incomparable_points_are_not_applied() {
        let applied = crate::erp::Applied {
            snapshot: tok("s"),
            as_of: AsOf { at: None, sequence: Some(5) },
            figure: Figure { basis: Basis::OnHand, quantity: 1 },
            at: Millis(0),
        };
        let mut track = Track::default();
        track.applied = Some(applied);
        assert_eq!(decide(&track, &Levels::default(), &line(Basis::OnHand, 3, 5, &[])), Decision::Stale);
        let mut by_time = line(Basis::OnHand, 3, 6, &[]);
        by_time.as_of = AsOf { at: Some(Millis(9)), sequence: None };
        assert_eq!(
            decide(&track, &Levels::default(), &by_time),
            Decision::Incomparable { applied: AsOf { at: None, sequence: Some(5) }, snapshot: tok("s") }
        );
    }

    /// The on hand and seen documents a snapshot of 7 available, as of `t`, decides against
    /// `track` with 2 committed.
    fn decided_at(track: &Track, t: i64) -> (i64, Vec<u64>) {
        let mut l = line(Basis::Available, 7, 1, &[]);
        l.as_of = AsOf { at: Some(Millis(t)), sequence: None };
        match decide(track, &Levels { on_hand: 10, reserved: 0, committed: 2 }, &l) {
            Decision::Apply { on_hand, seen, .. } => (on_hand, seen),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_confirmed_delivery_is_seen_by_a_snapshot_as_of_its_confirmation_or_later() {
        let mut track = Track::default();
        track.record(sale("1", 2));
        // The sale was recorded at 1: a confirmation through 0 does not cover it, even from 100 on.
        assert!(track.receive(&key("1"), Millis(0), Millis(100)).is_empty());
        assert_eq!(decided_at(&track, 99), (7, vec![]), "a sale recorded after `through` is not confirmed");
        assert_eq!(decided_at(&track, 100), (7, vec![]), "a sale recorded after `through` is not confirmed");
        assert_eq!(track.receive(&key("1"), Millis(2), Millis(100)), vec![0]);
        // Before the confirmation the ERP's 7 does not include the 2 sold: 7 + 2 − 2.
        assert_eq!(decided_at(&track, 99), (7, vec![]));
        // From it on the ERP's 7 has them subtracted already: 7 + 2, and the sale leaves the track.
        assert_eq!(decided_at(&track, 100), (9, vec![0]));
    }

    #[test]
    fn an_over_committed_erp_leaves_zero_on_hand() {
        let d = decide(&Track::default(), &Levels::default(), &line(Basis::Available, -4, 1, &[]));
        assert_eq!(d, Decision::Apply { on_hand: 0, computed: -4, seen: vec![] });
    }
}
