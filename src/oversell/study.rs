//! The study the command runs: every strategy on the same seeded demand, the buffer sweep, and
//! the advised buffers validated — the numbers docs/oversell.md reports.

use serde::Serialize;

use super::advisor::{self, Advice, Inputs, DEFAULT_SELLOUTS_PER_DAY, DEFAULT_TARGET_PER_DAY};
use super::channel::{Channel, ALL, MARKETPLACES};
use super::delay::{Delay, Propagation};
use super::demand::World;
use super::scenario::{self, index, Buffers, Market, Scenario, Strategy};
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
}

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
        for seed in self.first_seed..self.first_seed + self.seeds {
            let world = World::generate(seed, self.market);
            let run = |strategy, buffers| simulate(&world, &Scenario::new(self.market, strategy, buffers), &prop, seed);
            for (row, s) in strategies.iter_mut().zip(scenario::strategies()) {
                row.1.push(run(s, Buffers::Every(0)));
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
        Results {
            market_skus: self.market.skus,
            market_days: self.market.days,
            seeds: self.seeds,
            strategies,
            sweep,
            advised,
            advised_buffers,
        }
    }
}

/// The advisor's buffer for `world`'s listings, from the sales each SKU shows over the horizon
/// (its journal) and the measured delays, with the advisor's defaults.
pub fn advise_all(world: &World, measured: &Propagation) -> Vec<[u32; 6]> {
    world
        .observed()
        .iter()
        .map(|rates| {
            let mut b = [0u32; 6];
            for c in MARKETPLACES {
                if let Some(a) = advice(rates, c, measured) {
                    b[index(c)] = a.buffer;
                }
            }
            b
        })
        .collect()
}

/// The advice for a SKU's listing on `c`, from the SKU's observed orders and units per day per
/// channel (`World::observed`).
pub fn advice(rates: &[(f64, f64); 6], c: Channel, measured: &Propagation) -> Option<Advice> {
    let others: Vec<(Channel, f64)> = ALL.into_iter().filter(|o| *o != c).map(|o| (o, rates[index(o)].1)).collect();
    let window = advisor::window(c, &others, measured)?;
    let other_units_per_day = others.iter().map(|(_, u)| u).sum();
    Some(advisor::advise(&Inputs {
        own_orders_per_day: rates[index(c)].0,
        other_units_per_day,
        window_ms: window.total_ms(),
        sellouts_per_day: DEFAULT_SELLOUTS_PER_DAY,
        target_per_day: DEFAULT_TARGET_PER_DAY,
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
