//! What a bundle's listings take when one of its components changes. A bundle has no ledger of
//! its own: it is as available as its scarcest component allows ([`Bundle::available`], on each
//! component's [`sellable`](StockChanged::sellable) units), so its listings must move whenever a
//! component does.
//!
//! The event's version is the sum of the components' ledger versions. Every component version
//! only grows, so the sum grows whenever any component changes and never goes back: the
//! coalescer's "newest version wins, never push an older one" holds for bundles unchanged.
//! (A bundle SKU must therefore not also have a ledger of its own; the catalogue keeps bundles
//! stock-less — their stock is their components'.)

use std::collections::{BTreeMap, BTreeSet};

use super::event::StockChanged;
use crate::catalog::bundle::Bundle;
use crate::stock::{Op, Sku};
use crate::time::Millis;

/// The bundle's state from its components' current states (`states`: a component absent from
/// it has never been stocked: version 0, nothing sellable). `cause` and `at` are those of the
/// component change that prompted it.
pub fn bundle_event(bundle: &Bundle, states: &BTreeMap<Sku, StockChanged>, cause: Op, at: Millis) -> StockChanged {
    let version =
        bundle.components.iter().map(|c| states.get(&c.sku).map_or(0, |s| s.version)).fold(0_u64, u64::saturating_add);
    let available = bundle.available(|sku| states.get(sku).map_or(0, StockChanged::sellable));
    StockChanged {
        sku: bundle.sku.clone(),
        version,
        available,
        on_hand: available,
        cause,
        at,
        oversold: 0,
        alert: None,
        channel: None,
        ops: Vec::new(),
        orders: Vec::new(),
        erp_behind: Vec::new(),
    }
}

/// The ledgers whose states [`current_states`] needs for `skus`: the components of those that
/// are bundles (`bundles`), and the others themselves; each once, in SKU order.
pub fn ledgers_for(skus: &[Sku], bundles: &BTreeMap<Sku, Bundle>) -> Vec<Sku> {
    let components = bundles.values().flat_map(|b| b.components.iter().map(|c| &c.sku));
    let plain = skus.iter().filter(|s| !bundles.contains_key(*s));
    components.chain(plain).cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

/// What a listing of each of `skus` shows now, as a (re-)announcement at `at`: a bundle's state
/// from its components' (cause `set`), any other SKU's its ledger's. A SKU whose ledger has no
/// state (never stocked) is absent; a bundle always has one.
pub fn current_states(
    skus: &[Sku],
    bundles: &BTreeMap<Sku, Bundle>,
    ledgers: &BTreeMap<Sku, StockChanged>,
    at: Millis,
) -> BTreeMap<Sku, StockChanged> {
    let state = |sku: &Sku| match bundles.get(sku) {
        Some(b) => Some(bundle_event(b, ledgers, Op::Set, at)),
        None => ledgers.get(sku).cloned(),
    };
    skus.iter().filter_map(|sku| Some((sku.clone(), state(sku)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::bundle::Component;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }

    fn state(s: &str, version: u64, available: i64, oversold: i64) -> (Sku, StockChanged) {
        (sku(s), StockChanged::current(sku(s), version, available, available, oversold, Millis(0)))
    }

    fn kit() -> Bundle {
        Bundle {
            sku: sku("KIT"),
            components: vec![Component { sku: sku("A"), qty: 2 }, Component { sku: sku("C"), qty: 1 }],
        }
    }

    #[test]
    fn the_scarcest_component_decides_and_the_version_is_the_sum() {
        let states: BTreeMap<Sku, StockChanged> = [state("A", 4, 10, 0), state("C", 7, 3, 0)].into_iter().collect();
        let e = bundle_event(&kit(), &states, Op::Sale, Millis(5));
        assert_eq!((e.sku.as_str(), e.version, e.available, e.sellable()), ("KIT", 11, 3, 3));
        // A component oversold elsewhere owes its units first.
        let states: BTreeMap<Sku, StockChanged> = [state("A", 5, 10, 5), state("C", 7, 3, 0)].into_iter().collect();
        assert_eq!(bundle_event(&kit(), &states, Op::Sale, Millis(5)).available, 2);
        // A component never stocked: nothing to sell.
        let states: BTreeMap<Sku, StockChanged> = [state("A", 5, 10, 0)].into_iter().collect();
        assert_eq!(bundle_event(&kit(), &states, Op::Sale, Millis(5)).available, 0);
    }

    #[test]
    fn any_component_change_makes_a_newer_version() {
        let before: BTreeMap<Sku, StockChanged> = [state("A", 4, 10, 0), state("C", 7, 3, 0)].into_iter().collect();
        let after: BTreeMap<Sku, StockChanged> = [state("A", 4, 10, 0), state("C", 8, 2, 0)].into_iter().collect();
        assert!(
            bundle_event(&kit(), &after, Op::Sale, Millis(6)).version
                > bundle_event(&kit(), &before, Op::Sale, Millis(5)).version
        );
    }

    #[test]
    fn current_states_read_each_ledger_once_and_build_bundles_from_their_components() {
        let bundles: BTreeMap<Sku, Bundle> = [(sku("KIT"), kit())].into_iter().collect();
        let skus = [sku("KIT"), sku("A"), sku("NEW")];
        assert_eq!(ledgers_for(&skus, &bundles), vec![sku("A"), sku("C"), sku("NEW")]);
        let ledgers: BTreeMap<Sku, StockChanged> = [state("A", 4, 10, 0), state("C", 7, 3, 0)].into_iter().collect();
        let now = current_states(&skus, &bundles, &ledgers, Millis(9));
        assert_eq!(now.keys().cloned().collect::<Vec<_>>(), vec![sku("A"), sku("KIT")], "NEW was never stocked");
        assert_eq!((now[&sku("KIT")].version, now[&sku("KIT")].available, now[&sku("KIT")].cause), (11, 3, Op::Set));
        assert_eq!(now[&sku("A")], ledgers[&sku("A")]);
    }
}
