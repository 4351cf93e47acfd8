//! Which (sku, version) changes have been seen, compactly: a SKU's versions are consecutive, so
//! each SKU keeps its seen versions as disjoint ranges — one range when nothing is missing,
//! however many changes it had.

use std::collections::{BTreeMap, HashMap};

use crate::stock::Sku;

/// Seen versions per SKU, as ranges `start → end` (both inclusive, disjoint, not adjacent).
#[derive(Debug, Default)]
pub struct SeenChanges {
    by_sku: HashMap<Sku, BTreeMap<u64, u64>>,
    count: u64,
}

impl SeenChanges {
    /// Records `(sku, version)`; `true` when it was not seen before.
    pub fn insert(&mut self, sku: &Sku, version: u64) -> bool {
        let ranges = match self.by_sku.get_mut(sku) {
            Some(r) => r,
            None => self.by_sku.entry(sku.clone()).or_default(),
        };
        // The range starting at or before `version`, if any.
        let below = ranges.range(..=version).next_back().map(|(s, e)| (*s, *e));
        if below.is_some_and(|(_, e)| e >= version) {
            return false;
        }
        let joins_below = below.filter(|(_, e)| e.checked_add(1) == Some(version)).map(|(s, _)| s);
        let above = version.checked_add(1).and_then(|next| ranges.get(&next).copied());
        match (joins_below, above) {
            (Some(s), Some(e)) => {
                ranges.remove(&(version + 1));
                ranges.insert(s, e);
            }
            (Some(s), None) => {
                ranges.insert(s, version);
            }
            (None, Some(e)) => {
                ranges.remove(&(version + 1));
                ranges.insert(version, e);
            }
            (None, None) => {
                ranges.insert(version, version);
            }
        }
        self.count += 1;
        true
    }

    /// How many distinct changes were seen.
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Ranges kept for `sku` (a measure of the memory used).
    pub fn ranges(&self, sku: &Sku) -> usize {
        self.by_sku.get(sku).map_or(0, BTreeMap::len)
    }
}
