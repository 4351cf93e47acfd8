//! Quantities at one location and the arithmetic every report derives from them.

use serde::{Deserialize, Serialize};

/// The three stored quantities of one SKU at one location. Every unit the merchant owns or has
/// promised is in exactly one of them: on the shelf and free, held for a checkout (`reserved`),
/// or sold and not yet shipped (`committed`). None is ever negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Levels {
    pub on_hand: i64,
    pub reserved: i64,
    pub committed: i64,
}

impl Levels {
    /// `on_hand − reserved − committed`; negative when promises exceed the shelf.
    pub fn net(&self) -> i64 {
        self.on_hand - self.reserved - self.committed
    }

    /// What can still be promised from this location's shelf: never below zero.
    pub fn available(&self) -> i64 {
        self.net().max(0)
    }

    /// Units promised beyond this location's shelf (backordered or oversold).
    pub fn shortfall(&self) -> i64 {
        (-self.net()).max(0)
    }

    pub fn is_zero(&self) -> bool {
        *self == Levels::default()
    }
}

/// A change to [`Levels`], as journaled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deltas {
    pub on_hand: i64,
    pub reserved: i64,
    pub committed: i64,
}

impl Deltas {
    pub fn apply_to(&self, l: &mut Levels) {
        l.on_hand += self.on_hand;
        l.reserved += self.reserved;
        l.committed += self.committed;
    }
}

/// The SKU-wide totals and what they mean for selling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub on_hand: i64,
    pub reserved: i64,
    pub committed: i64,
    /// Sum over locations of what each can still promise.
    pub available: i64,
    /// Units promised beyond the shelf that the backorder allowance covers.
    pub backordered: i64,
    /// Units promised beyond the shelf and beyond the backorder allowance: sales made elsewhere
    /// that StockEdge could not cover. Falls back to 0 as stock arrives or orders are cancelled.
    pub oversold: i64,
}

impl Totals {
    /// Totals over `levels` with a backorder allowance of `backorder_limit` units.
    pub fn of<'a>(levels: impl Iterator<Item = &'a Levels>, backorder_limit: i64) -> Totals {
        let mut t = Totals::default();
        let mut shortfall = 0;
        for l in levels {
            t.on_hand += l.on_hand;
            t.reserved += l.reserved;
            t.committed += l.committed;
            t.available += l.available();
            shortfall += l.shortfall();
        }
        t.backordered = shortfall.min(backorder_limit);
        t.oversold = shortfall - t.backordered;
        t
    }

    /// Units promised beyond the shelf, backordered or oversold.
    pub fn shortfall(&self) -> i64 {
        self.backordered + self.oversold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_and_shortfall_never_negative() {
        let l = Levels { on_hand: 2, reserved: 0, committed: 5 };
        assert_eq!(l.net(), -3);
        assert_eq!(l.available(), 0);
        assert_eq!(l.shortfall(), 3);
    }

    #[test]
    fn totals_split_shortfall_into_backorder_and_oversold() {
        let a = Levels { on_hand: 2, reserved: 0, committed: 5 };
        let b = Levels { on_hand: 4, reserved: 1, committed: 0 };
        let t = Totals::of([a, b].iter(), 1);
        assert_eq!((t.available, t.backordered, t.oversold), (3, 1, 2));
    }
}
