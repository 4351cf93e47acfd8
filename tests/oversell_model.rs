//! The oversell model (docs/oversell.md) is deterministic: the same seeds give the same numbers,
//! other seeds other numbers; and the storefront, holding through the ledger, never oversells.
//! A small study (few seeds, SKUs and days) so it runs in seconds; the full one is the command's.

use stockedge::oversell::channel::Channel;
use stockedge::oversell::delay::{Propagation, MEASURED};
use stockedge::oversell::scenario::Market;
use stockedge::oversell::study::Study;

fn study(first_seed: u64) -> Study {
    Study {
        first_seed,
        seeds: 2,
        market: Market { skus: 8, days: 4 },
        measured: Propagation::parse(MEASURED).expect("docs/oversell/propagation.json"),
        ablation_seeds: 3,
    }
}

#[test]
fn the_same_seed_gives_the_same_numbers() {
    let a = serde_json::to_string(&study(1).run()).expect("json");
    let b = serde_json::to_string(&study(1).run()).expect("json");
    assert_eq!(a, b);
    let c = serde_json::to_string(&study(3).run()).expect("json");
    assert_ne!(a, c, "other seeds, other demand");
}

#[test]
fn the_storefront_never_oversells_and_every_strategy_sees_the_same_orders_offered() {
    let r = study(5).run();
    for (label, runs) in &r.strategies {
        for t in runs {
            assert_eq!(t.get(Channel::Storefront).oversold_orders, 0, "{label}");
            assert!(t.total().orders > 0, "{label}");
        }
    }
    for t in r.sweep.iter().flat_map(|(_, runs)| runs).chain(&r.advised) {
        assert_eq!(t.get(Channel::Storefront).oversold_orders, 0);
    }
}
