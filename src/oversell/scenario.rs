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
    /// What this run takes out of the world (an ablation; nothing in the report's main runs).
    pub removed: Removed,
}

/// One cause of delay or of conflict taken out of a run, to see how much of the oversells it
/// accounts for (docs/oversell.md, "What bounds the window"). Each flag removes one thing from
/// both strategies alike; [`ABLATIONS`] lists the runs the report makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// Amazon, eBay and the wholesale partner tell of their sales as promptly as Shopify's
    /// `orders/create` webhook (their inbound delay and their order feed's lag become Shopify's):
    /// no late sale reports from the slow channels.
    pub late_reports: bool,
    /// Every sale reaches the ledger (and a batch tool's feed) the moment it is made, the
    /// channel's own report included.
    pub all_report_delay: bool,
    /// Only the storefront, Shopify and WooCommerce sell (the other channels' orders are dropped
    /// from the same seeded demand).
    pub slow_channels: bool,
    /// No injected 429/5xx: every push is accepted at its first attempt.
    pub faults: bool,
    /// The measured propagation (commit → platform received) is zero.
    pub propagation: bool,
    /// Every platform applies an accepted quantity at once.
    pub apply_delay: bool,
    /// A pushed quantity never restores units the platform sold that the ledger had not recorded
    /// when the quantity was computed (the platform subtracts its own sales since then, as an
    /// adjustment by delta or a compare-and-set that re-reads and rebases would).
    pub restore: bool,
}

impl Removed {
    /// Nothing removed.
    pub const NONE: Removed = Removed {
        late_reports: false,
        all_report_delay: false,
        slow_channels: false,
        faults: false,
        propagation: false,
        apply_delay: false,
        restore: false,
    };

    /// Whether `channel` is one whose late reports [`Removed::late_reports`] removes.
    pub fn reports_late(channel: Channel) -> bool {
        matches!(channel, Channel::Amazon | Channel::Ebay | Channel::Wholesale)
    }

    /// Whether `channel`'s orders are part of the run.
    pub fn sells(&self, channel: Channel) -> bool {
        !self.slow_channels || matches!(channel, Channel::Storefront | Channel::Shopify | Channel::WooCommerce)
    }
}

/// One ablation the report runs: what it removes, and whether batch sync is run with the same
/// removed too (where the removal changes the world batch sync sells in, not only StockEdge's
/// path; batch sync is the model's costly run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ablation {
    pub label: &'static str,
    pub removed: Removed,
    pub batch_too: bool,
}

const fn ablation(label: &'static str, removed: Removed, batch_too: bool) -> Ablation {
    Ablation { label, removed, batch_too }
}

/// The ablations the report runs, in report order (the first removes nothing).
pub const ABLATIONS: [Ablation; 10] = [
    ablation("nothing (StockEdge as modelled)", Removed::NONE, false),
    ablation(
        "the slow channels' late sale reports (Amazon, eBay, wholesale report like Shopify's webhook)",
        Removed { late_reports: true, ..Removed::NONE },
        true,
    ),
    ablation(
        "the slow channels (only storefront, Shopify and WooCommerce sell)",
        Removed { slow_channels: true, ..Removed::NONE },
        true,
    ),
    ablation("injected faults (no 429/5xx, no retries)", Removed { faults: true, ..Removed::NONE }, false),
    ablation("propagation (commit → platform received = 0)", Removed { propagation: true, ..Removed::NONE }, false),
    ablation("the platforms' apply delay", Removed { apply_delay: true, ..Removed::NONE }, false),
    ablation(
        "every sale report delay, the channel's own included (sales reach the ledger at once)",
        Removed { all_report_delay: true, ..Removed::NONE },
        false,
    ),
    ablation(
        "restored units (a push never restores a unit the platform sold that the ledger has not recorded)",
        Removed { restore: true, ..Removed::NONE },
        false,
    ),
    ablation(
        "every sale report delay and restored units",
        Removed { all_report_delay: true, restore: true, ..Removed::NONE },
        false,
    ),
    ablation(
        "every delay: reports, propagation, faults and apply",
        Removed { all_report_delay: true, propagation: true, faults: true, apply_delay: true, ..Removed::NONE },
        false,
    ),
];

/// The injected fault rate of the report (as `tests/e2e/sync_channels.test.mjs` injects).
pub const FAULT_RATE: f64 = 0.1;

impl Scenario {
    pub fn new(market: Market, strategy: Strategy, buffers: Buffers) -> Scenario {
        Scenario { market, strategy, fault_rate: FAULT_RATE, buffers, removed: Removed::NONE }
    }

    /// The same run with `removed` taken out of it.
    pub fn without(mut self, removed: Removed) -> Scenario {
        if removed.faults {
            self.fault_rate = 0.0;
        }
        self.removed = removed;
        self
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
