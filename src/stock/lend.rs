//! A lend: a block of a SKU's units handed to one allotment holder (`allot::allotment`) under a
//! lease. In the ledger a lend is a [`Hold`](super::hold::Hold) that carries a [`Lend`]: while
//! held, its `lines` are the units still lent (so they count in `reserved`, and every level and
//! invariant of the ledger covers them), its `expires_at` is the lease's end, and it is never
//! pinned.
//!
//! The allotment reports what it did with the block as cumulative counters (`returned`) and a
//! gauge (`held`), so a report that arrives twice, late or out of order changes nothing it
//! should not: the ledger keeps the largest `returned` it has seen and moves only the difference.

use serde::{Deserialize, Serialize};

/// What the ledger knows of one lend besides its remaining units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lend {
    /// The allotment holder the block is lent to (`0..K`).
    pub allotment: u32,
    /// Units lent when the block was granted.
    pub lent: i64,
    /// Units of the block committed to orders (each by one allotment hold).
    pub committed: i64,
    /// Units the allotment gave back (the largest cumulative count it reported).
    pub returned: i64,
    /// Units the allotment last reported as held by its customers (a gauge, for availability).
    pub held: i64,
}

impl Lend {
    /// A fresh block of `lent` units for allotment `allotment`.
    pub fn new(allotment: u32, lent: i64) -> Lend {
        Lend { allotment, lent, committed: 0, returned: 0, held: 0 }
    }

    /// Units still lent: neither committed nor returned.
    pub fn remaining(&self) -> i64 {
        self.lent - self.committed - self.returned
    }

    /// Units still lent that no customer of the allotment holds, as last reported.
    pub fn unlent(&self) -> i64 {
        (self.remaining() - self.held).max(0)
    }
}

/// A report of one allotment about one of its blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The lend (its hold id in the ledger).
    pub lend: super::ids::HoldId,
    /// Units given back so far (cumulative, never decreasing).
    pub returned: i64,
    /// Units held by customers now.
    pub held: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_and_unlent_follow_the_counters() {
        let l = Lend { allotment: 1, lent: 10, committed: 3, returned: 2, held: 4 };
        assert_eq!((l.remaining(), l.unlent()), (5, 1));
        let over = Lend { held: 9, ..l };
        assert_eq!(over.unlent(), 0);
    }
}
