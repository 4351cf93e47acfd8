//! The facts one isolate keeps: a bounded copy of the availability cache entries it wrote or
//! read, the memory tier in front of the Cache API. A hold consults only these for sold-out
//! shedding (no Cache API call on the hold path), and a bounded availability read answers from
//! them before it asks the Cache API. Both are optimisations: facts another isolate learned and
//! this one never saw only mean that this isolate asks the cache, or the object, itself. Every
//! fact keeps its observation time, so the staleness bound applies to it exactly as to the
//! cache; an entry the isolate's own writes forget is forgotten here too.

use std::collections::BTreeMap;

use super::availability_cache::{Entry, Staleness};
use crate::stock::Sku;
use crate::time::Millis;

/// How many SKUs' facts one isolate keeps at most (a stampede concerns a handful, a storefront's
/// hot pages a few thousand; the bound keeps a long-lived isolate's memory flat whatever the
/// catalogue's size).
pub const MAX_LOCAL_FACTS: usize = 4_096;

/// The facts, by SKU.
#[derive(Debug, Default)]
pub struct LocalFacts {
    by_sku: BTreeMap<Sku, Entry>,
}

impl LocalFacts {
    /// Keeps `entry` as what is known of `sku` (`None`: nothing is known any more). Over
    /// [`MAX_LOCAL_FACTS`], spent entries go first, then the SKUs that sort first.
    pub fn remember(&mut self, sku: &Sku, entry: Option<Entry>, bound: Staleness, now: Millis) {
        match entry {
            Some(e) => {
                self.by_sku.insert(sku.clone(), e);
            }
            None => {
                self.by_sku.remove(sku);
            }
        }
        if self.by_sku.len() > MAX_LOCAL_FACTS {
            self.by_sku.retain(|_, e| !e.is_spent(bound, now));
        }
        while self.by_sku.len() > MAX_LOCAL_FACTS {
            let Some(first) = self.by_sku.keys().next().cloned() else { break };
            self.by_sku.remove(&first);
        }
    }

    /// The facts known of `skus`.
    pub fn of(&self, skus: &[Sku]) -> BTreeMap<Sku, Entry> {
        skus.iter().filter_map(|s| self.by_sku.get(s).map(|e| (s.clone(), e.clone()))).collect()
    }

    pub fn len(&self) -> usize {
        self.by_sku.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_sku.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::availability_cache::Observed;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }

    fn short_at(at: i64) -> Entry {
        let mut e = Entry::default();
        e.holdable.insert("main".into(), Observed { value: 0, at: Millis(at) });
        e
    }

    #[test]
    fn remembers_forgets_and_answers_only_what_it_knows() {
        let bound = Staleness::parse(Some("1000")).expect("bound");
        let mut f = LocalFacts::default();
        f.remember(&sku("A"), Some(short_at(10)), bound, Millis(10));
        f.remember(&sku("B"), Some(short_at(10)), bound, Millis(10));
        assert_eq!(f.of(&[sku("A"), sku("C")]).keys().cloned().collect::<Vec<_>>(), vec![sku("A")]);
        f.remember(&sku("A"), None, bound, Millis(20));
        assert!(f.of(&[sku("A")]).is_empty());
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn stays_within_its_bound_dropping_spent_facts_first() {
        let bound = Staleness::parse(Some("1000")).expect("bound");
        let mut f = LocalFacts::default();
        // Old facts, spent by the time the map fills.
        for i in 0..MAX_LOCAL_FACTS / 2 {
            f.remember(&sku(&format!("OLD-{i:05}")), Some(short_at(0)), bound, Millis(0));
        }
        for i in 0..MAX_LOCAL_FACTS {
            f.remember(&sku(&format!("NEW-{i:05}")), Some(short_at(5_000)), bound, Millis(5_000));
        }
        assert!(f.len() <= MAX_LOCAL_FACTS);
        assert!(f.of(&[sku("OLD-00000")]).is_empty(), "spent facts went first");
        assert_eq!(f.of(&[sku(&format!("NEW-{:05}", MAX_LOCAL_FACTS - 1))]).len(), 1, "the newest stays");
        // Over the bound with nothing spent: the first SKUs go.
        f.remember(&sku("ZZZ"), Some(short_at(5_000)), bound, Millis(5_000));
        assert_eq!(f.len(), MAX_LOCAL_FACTS);
        assert_eq!(f.of(&[sku("ZZZ")]).len(), 1);
    }
}
