//! The oversell model (docs/oversell.md) is deterministic: the same seeds give the same numbers,
//! other seeds other numbers; the storefront, holding through the ledger, never oversells; and with
//! every delay removed (the ablation that shows what bounds the window) no marketplace does.
//! A small study (few seeds, SKUs and days) so it runs in seconds; the full one is the command's.

use stockedge::oversell::channel::Channel;
use stockedge::oversell::delay::{Delay, Propagation, MEASURED};
use stockedge::oversell::demand::World;
use stockedge::oversell::scenario::{Buffers, Market, Removed, Scenario, Strategy, ABLATIONS};
use stockedge::oversell::sim::{by_channel, simulate};
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

#[test]
fn with_every_delay_removed_no_marketplace_ever_oversells() {
    // Reports, propagation, faults and apply delays all removed: every platform shows the ledger
    // at every instant, so nothing is sold twice; as modelled, the same demand oversells. StockEdge
    // runs only (cheap): the report's market, two seeds.
    let measured = Propagation::parse(MEASURED).expect("docs/oversell/propagation.json");
    let prop = by_channel(|c| c.kind().and_then(|k| measured.of(k)).unwrap_or(Delay::NONE));
    let market = Market { skus: 50, days: 14 };
    let every = ABLATIONS
        .iter()
        .map(|a| a.removed)
        .find(|x| x.all_report_delay && x.propagation && x.faults && x.apply_delay)
        .expect("the report runs the every-delay ablation");
    let (mut modelled, mut removed) = (0, 0);
    for seed in 1..=2 {
        let world = World::generate(seed, market);
        let run = |r| {
            simulate(&world, &Scenario::new(market, Strategy::StockEdge, Buffers::Every(0)).without(r), &prop, seed)
        };
        modelled += run(Removed::NONE).total().oversold_orders;
        let t = run(every);
        assert!(t.total().orders > 0);
        removed += t.total().oversold_orders;
    }
    assert!(modelled > 0, "as modelled, the same demand oversells");
    assert_eq!(removed, 0);
}
