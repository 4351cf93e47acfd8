//! The study the command runs: every strategy on the same seeded demand, the buffer sweep, and
//! the advised buffers validated — the numbers docs/oversell.md reports.

use serde::Serialize;

use super::advisor::{
    self, Advice, Inputs, Observed, Sizes, DEFAULT_SELLOUTS_PER_DAY, DEFAULT_TARGET_PER_10K_ORDERS,
    DEFAULT_TARGET_PER_DAY,
};
use super::channel::{Channel, ALL, MARKETPLACES};
use super::delay::{Delay, Propagation};
use super::demand::World;
use super::scenario::{self, index, Buffers, Market, Removed, Scenario, Strategy, ABLATIONS};
use super::sim::{by_channel, simulate, PropagationByChannel};
use super::tally::Tally;

/// The buffers the sweep tries on every listing.
pub const SWEEP: [u32; 6] = [0, 1, 2, 3, 5, 8];

/// What to run.
#[derive(Clone, Debug)]
pub struct Study {
    pub first_seed: u64,
    pub seeds: u64,
    pub market: Market,
    pub measured: Propagation,
    /// StockEdge's ablations run on this many seeds (more than `seeds`: its oversells on the
    /// channels that apply within seconds are rare, and its runs are cheap).
    pub ablation_seeds: u64,
}

/// Every run's tallies, one per seed, per row.
#[derive(Clone, Debug, Serialize)]
pub struct Results {
    pub market_skus: usize,
    pub market_days: u32,
    pub seeds: u64,
    /// StockEdge, then batch every 1, 5, 15, 60 minutes; no buffers.
    pub strategies: Vec<(String, Vec<Tally>)>,
    /// StockEdge with the same buffer on every listing.
    pub sweep: Vec<(u32, Vec<Tally>)>,
    /// StockEdge with the advised buffer per listing.
    pub advised: Vec<Tally>,
    /// The advised buffers of the first seed, per channel: (channel, mean, max) over its listings.
    pub advised_buffers: Vec<(String, f64, u32)>,
    /// The seeds the ablations ran StockEdge on (`first_seed..`, at least `seeds`).
    pub ablation_seeds: u64,
    /// Each of `scenario::ABLATIONS`, no buffers: what it removes, StockEdge's runs on
    /// `ablation_seeds` seeds and, where `batch_too`, batch every [`ABLATION_BATCH_MIN`] minutes'
    /// runs with the same removed on the study's `seeds`.
    pub ablations: Vec<Ablated>,
}

/// One ablation's runs (one tally per seed each).
#[derive(Clone, Debug, Serialize)]
pub struct Ablated {
    pub removed: String,
    pub stockedge: Vec<Tally>,
    pub batch: Option<Vec<Tally>>,
}

/// The batch interval the ablations compare StockEdge with, minutes.
pub const ABLATION_BATCH_MIN: u64 = 5;

impl Study {
    fn propagation(&self) -> PropagationByChannel {
        by_channel(|c| c.kind().and_then(|k| self.measured.of(k)).unwrap_or(Delay::NONE))
    }

    /// Runs it (deterministic: the same study gives the same results).
    pub fn run(&self) -> Results {
        let prop = self.propagation();
        let mut strategies: Vec<(String, Vec<Tally>)> =
            scenario::strategies().map(|s| (s.label(), Vec::new())).collect();
        let mut sweep: Vec<(u32, Vec<Tally>)> = SWEEP.iter().map(|b| (*b, Vec::new())).collect();
        let mut advised = Vec::new();
        let mut advised_buffers = Vec::new();
        let mut ablations: Vec<Ablated> = ABLATIONS
            .iter()
            .map(|a| Ablated { removed: a.label.to_string(), stockedge: Vec::new(), batch: a.batch_too.then(Vec::new) })
            .collect();
        let batch = Strategy::Batch { every_min: ABLATION_BATCH_MIN };
        for seed in self.first_seed..self.first_seed + self.seeds {
            let world = World::generate(seed, self.market);
            let run = |strategy, buffers| simulate(&world, &Scenario::new(self.market, strategy, buffers), &prop, seed);
            for (row, s) in strategies.iter_mut().zip(scenario::strategies()) {
                row.1.push(run(s, Buffers::Every(0)));
            }
            for (row, a) in ablations.iter_mut().zip(ABLATIONS) {
                if let Some(runs) = row.batch.as_mut() {
                    runs.push(ablated(&world, self.market, batch, a.removed, &prop, seed));
                }
            }
            for (b, row) in sweep.iter_mut() {
                row.push(if *b == 0 {
                    strategies[0].1.last().cloned().unwrap_or_default()
                } else {
                    run(Strategy::StockEdge, Buffers::Every(*b))
                });
            }
            let per_listing = advise_all(&world, &self.measured);
            if seed == self.first_seed {
                advised_buffers = summarize_buffers(&per_listing);
            }
            advised.push(run(Strategy::StockEdge, Buffers::PerListing(per_listing)));
        }
        for seed in self.first_seed..self.first_seed + self.ablation_seeds.max(self.seeds) {
            let world = World::generate(seed, self.market);
            for (row, a) in ablations.iter_mut().zip(ABLATIONS) {
                row.stockedge.push(ablated(&world, self.market, Strategy::StockEdge, a.removed, &prop, seed));
            }
        }
        Results {
            market_skus: self.market.skus,
            market_days: self.market.days,
            seeds: self.seeds,
            strategies,
            sweep,
            advised,
            advised_buffers,
            ablation_seeds: self.ablation_seeds.max(self.seeds),
            ablations,
        }
    }
}

/// `strategy` on `world` without buffers, with `removed` taken out.
fn ablated(
    world: &World,
    market: Market,
    strategy: Strategy,
    removed: Removed,
    prop: &PropagationByChannel,
    seed: u64,
) -> Tally {
    simulate(world, &Scenario::new(market, strategy, Buffers::Every(0)).without(removed), prop, seed)
}

/// The advisor's buffer for `world`'s listings, from the orders each SKU shows over the horizon
/// (its journal: rates and order sizes per channel) and the measured delays, with the advisor's
/// defaults.
pub fn advise_all(world: &World, measured: &Propagation) -> Vec<[u32; 6]> {
    world
        .observed_orders()
        .iter()
        .map(|orders| {
            let mut b = [0u32; 6];
            for c in MARKETPLACES {
                if let Some(a) = advice(orders, c, measured) {
                    b[index(c)] = a.buffer;
                }
            }
            b
        })
        .collect()
}

/// The advice for a SKU's listing on `c`, from the SKU's observed orders per day and order sizes
/// per channel (`World::observed_orders`).
pub fn advice(orders: &[(f64, Sizes); 6], c: Channel, measured: &Propagation) -> Option<Advice> {
    let window = advisor::window(c, measured)?;
    let seen = |o: Channel| Observed { orders_per_day: orders[index(o)].0, sizes: orders[index(o)].1.clone() };
    let others: Vec<Observed> = ALL.into_iter().filter(|o| *o != c).map(seen).collect();
    Some(advisor::advise(&Inputs {
        own_orders_per_day: orders[index(c)].0,
        unseen: advisor::unseen_flows(&window, &seen(c), &others),
        window_ms: window.total_ms(),
        sellouts_per_day: DEFAULT_SELLOUTS_PER_DAY,
        target_per_day: DEFAULT_TARGET_PER_DAY,
        target_per_10k_orders: DEFAULT_TARGET_PER_10K_ORDERS,
    }))
}

fn summarize_buffers(per_listing: &[[u32; 6]]) -> Vec<(String, f64, u32)> {
    MARKETPLACES
        .iter()
        .map(|c| {
            let v: Vec<u32> = per_listing.iter().map(|b| b[index(*c)]).collect();
            let mean = v.iter().sum::<u32>() as f64 / v.len().max(1) as f64;
            (c.name().to_string(), mean, v.iter().copied().max().unwrap_or(0))
        })
        .collect()
}
