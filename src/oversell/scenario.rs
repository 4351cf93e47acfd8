//! What one simulated run is: the catalogue's size and horizon, the strategy that keeps the
//! marketplaces told, the injected fault rate and the buffers each listing holds back.

use super::channel::Channel;

/// How marketplaces learn the stock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// StockEdge: sales reach the ledger by webhook or order feed; every commit is pushed to every
    /// listing (measured propagation, retries with the sync consumer's policy under faults, then
    /// the platform's apply delay).
    StockEdge,
    /// A batch sync every `every_min` minutes: orders are pulled and every listing is pushed at
    /// each run; a failed push waits for the next run.
    Batch { every_min: u64 },
}

impl Strategy {
    /// Its name in reports.
    pub fn label(&self) -> String {
        match self {
            Strategy::StockEdge => "StockEdge".into(),
            Strategy::Batch { every_min } => format!("batch {every_min} min"),
        }
    }
}

/// The batch intervals the report compares with StockEdge, minutes.
pub const BATCH_MINUTES: [u64; 4] = [1, 5, 15, 60];

/// The strategies the report compares: StockEdge, then a batch sync every [`BATCH_MINUTES`].
pub fn strategies() -> impl Iterator<Item = Strategy> {
    std::iter::once(Strategy::StockEdge).chain(BATCH_MINUTES.iter().map(|m| Strategy::Batch { every_min: *m }))
}

/// Buffers per listing: `of(sku)[channel index in ALL]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Buffers {
    /// The same buffer on every marketplace listing.
    Every(u32),
    /// One buffer per listing: per SKU, per channel.
    PerListing(Vec<[u32; 6]>),
}

impl Buffers {
    /// The buffer of `sku`'s listing on `channel` (0 for the storefront: it holds instead).
    pub fn of(&self, sku: usize, channel: Channel) -> u32 {
        let i = index(channel);
        if channel == Channel::Storefront {
            return 0;
        }
        match self {
            Buffers::Every(b) => *b,
            Buffers::PerListing(v) => v.get(sku).map(|b| b[i]).unwrap_or(0),
        }
    }
}

/// `channel`'s index in `channel::ALL` (which lists the channels in their declaration order).
pub fn index(channel: Channel) -> usize {
    channel as usize
}

/// The demand side of a run: how many SKUs, for how long.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Market {
    pub skus: usize,
    pub days: u32,
}

/// The full run (the default is the report's: 50 SKUs, 14 days).
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub market: Market,
    pub strategy: Strategy,
    /// The share of push attempts the platform answers with 429/500/503.
    pub fault_rate: f64,
    pub buffers: Buffers,
}

/// The injected fault rate of the report (as `tests/e2e/sync_channels.test.mjs` injects).
pub const FAULT_RATE: f64 = 0.1;

impl Scenario {
    pub fn new(market: Market, strategy: Strategy, buffers: Buffers) -> Scenario {
        Scenario { market, strategy, fault_rate: FAULT_RATE, buffers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oversell::channel::ALL;

    #[test]
    fn index_is_the_position_in_all() {
        for (i, c) in ALL.into_iter().enumerate() {
            assert_eq!(index(c), i);
        }
    }

    #[test]
    fn the_storefront_never_has_a_buffer() {
        assert_eq!(Buffers::Every(3).of(0, Channel::Storefront), 0);
        assert_eq!(Buffers::Every(3).of(0, Channel::Amazon), 3);
        let per = Buffers::PerListing(vec![[9, 1, 2, 3, 4, 5]]);
        assert_eq!(per.of(0, Channel::Amazon), 3);
        assert_eq!(per.of(1, Channel::Amazon), 0);
    }
}
