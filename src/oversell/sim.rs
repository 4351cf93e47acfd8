//! The event-driven simulation of one strategy on one seed's demand, in simulated milliseconds.
//!
//! The ledger is StockEdge's (or the batch tool's) view: its availability goes negative when a
//! marketplace sale reaches it with too little left — that order is **oversold** (on the channel
//! that sold it). The storefront holds against the ledger, so it never oversells. Each
//! marketplace sells from the quantity it believes: a push sets it (an absolute quantity, the
//! newest version wins), its own sales lower it. An order it refuses while the stock was there is
//! a **lost sale**. A batch tool pulls a sale at its first run after the platform's order feed
//! shows it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::channel::{Channel, ALL, MARKETPLACES};
use super::delay::Delay;
use super::demand::World;
use super::rng::{Draw, Stream};
use super::scenario::{index, Removed, Scenario, Strategy};
use super::tally::Tally;
use crate::sync::retry::RetryPolicy;

/// Commit → platform received, per channel (index as in `channel::ALL`; the storefront's unused).
pub type PropagationByChannel = [Delay; 6];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// A marketplace sale reaches the ledger.
    SaleArrives {
        sku: usize,
        channel: usize,
        units: u32,
    },
    /// A platform applies a pushed quantity.
    Applied {
        sku: usize,
        channel: usize,
        version: u64,
        quantity: i64,
        /// The platform's own units the ledger had recorded when `quantity` was computed.
        recorded: u64,
    },
    Restock {
        sku: usize,
    },
    /// A batch sync run.
    Tick,
}

struct Sku {
    /// The ledger's availability (negative: oversold units not yet covered).
    ledger: i64,
    /// What is physically left (the ledger minus sales that have not reached it).
    physical: i64,
    version: u64,
    restocking: bool,
    believed: [i64; 6],
    applied: [u64; 6],
    /// Units each platform sold, and those of them the ledger has recorded.
    sold: [u64; 6],
    recorded: [u64; 6],
    /// Marketplace sales the batch tool has not pulled yet: when their platform's feed shows
    /// them, channel, units.
    unpulled: Vec<(u64, usize, u32)>,
}

struct Run<'a> {
    world: &'a World,
    scenario: &'a Scenario,
    propagation: &'a PropagationByChannel,
    draw: Draw,
    retry: RetryPolicy,
    skus: Vec<Sku>,
    queue: BinaryHeap<Reverse<(u64, u64, Event)>>,
    seq: u64,
    tally: Tally,
}

/// Simulates `scenario` on `world` (seed `seed` draws the delays and faults).
pub fn simulate(world: &World, scenario: &Scenario, propagation: &PropagationByChannel, seed: u64) -> Tally {
    let mut run = Run {
        world,
        scenario,
        propagation,
        draw: Draw::new(seed, Stream::Delays),
        retry: RetryPolicy::default(),
        skus: Vec::new(),
        queue: BinaryHeap::new(),
        seq: 0,
        tally: Tally::default(),
    };
    for (i, plan) in world.skus.iter().enumerate() {
        let mut believed = [0; 6];
        for c in MARKETPLACES {
            let b = scenario.buffers.of(i, c);
            believed[index(c)] = (plan.initial - b as i64).max(0);
            run.tally.withheld_units += b as u64;
            run.tally.channels[index(c)].withheld_units += b as u64;
        }
        run.skus.push(Sku {
            ledger: plan.initial,
            physical: plan.initial,
            version: 0,
            restocking: false,
            believed,
            applied: [0; 6],
            sold: [0; 6],
            recorded: [0; 6],
            unpulled: Vec::new(),
        });
    }
    if let Strategy::Batch { every_min } = scenario.strategy {
        let every = every_min * 60_000;
        let first = (run.draw.unit() * every as f64) as u64;
        run.at(first, Event::Tick);
    }
    for order in world.orders.iter().filter(|o| scenario.removed.sells(o.channel)) {
        run.until(order.at_ms);
        run.order(order.at_ms, order.sku, order.channel, order.units);
    }
    run.until(world.horizon_ms);
    run.tally
}

impl Run<'_> {
    fn at(&mut self, t: u64, e: Event) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq, e)));
    }

    /// Handles every event due at or before `t`.
    fn until(&mut self, t: u64) {
        while let Some(Reverse((at, _, _))) = self.queue.peek() {
            if *at > t {
                break;
            }
            let Some(Reverse((at, _, e))) = self.queue.pop() else { break };
            self.handle(at, e);
        }
    }

    fn handle(&mut self, t: u64, e: Event) {
        match e {
            Event::SaleArrives { sku, channel, units } => {
                self.record_sale(sku, channel, units);
                self.changed(t, sku);
            }
            Event::Applied { sku, channel, version, quantity, recorded } => {
                let restore = !self.scenario.removed.restore;
                let s = &mut self.skus[sku];
                if version > s.applied[channel] {
                    s.applied[channel] = version;
                    let unrecorded = if restore { 0 } else { s.sold[channel].saturating_sub(recorded) as i64 };
                    s.believed[channel] = (quantity - unrecorded).max(0);
                }
            }
            Event::Restock { sku } => {
                let units = self.world.skus[sku].reorder_units;
                let s = &mut self.skus[sku];
                s.ledger += units;
                s.physical += units;
                s.restocking = false;
                self.changed(t, sku);
            }
            Event::Tick => {
                let Strategy::Batch { every_min } = self.scenario.strategy else { return };
                for sku in 0..self.skus.len() {
                    let (due, later): (Vec<_>, Vec<_>) =
                        std::mem::take(&mut self.skus[sku].unpulled).into_iter().partition(|(at, _, _)| *at <= t);
                    self.skus[sku].unpulled = later;
                    for (_, channel, units) in due {
                        self.record_sale(sku, channel, units);
                    }
                    self.reorder(t, sku);
                    for c in MARKETPLACES {
                        if self.draw.chance(self.scenario.fault_rate) {
                            continue; // this listing waits for the next run
                        }
                        let delay = self.apply_delay(c).at(self.draw.unit());
                        self.push(t + delay, sku, c);
                    }
                }
                self.at(t + every_min * 60_000, Event::Tick);
            }
        }
    }

    /// A marketplace sale reaches the ledger: oversold when it finds too little.
    fn record_sale(&mut self, sku: usize, channel: usize, units: u32) {
        let s = &mut self.skus[sku];
        let units = units as i64;
        let counts = &mut self.tally.channels[channel];
        if s.ledger < units {
            counts.oversold_orders += 1;
            counts.oversold_units += (units - s.ledger.max(0)) as u64;
        }
        s.ledger -= units;
        s.recorded[channel] += units as u64;
        s.version += 1;
    }

    /// From a sale on `c` to the ledger recording it (StockEdge), with what the run removes.
    fn inbound_delay(&self, c: Channel) -> Delay {
        let r = self.scenario.removed;
        match c {
            _ if r.all_report_delay => Delay::NONE,
            c if r.late_reports && Removed::reports_late(c) => Channel::Shopify.inbound_delay(),
            c => c.inbound_delay(),
        }
    }

    /// From a sale on `c` to its platform's order feed showing it (batch), with what the run
    /// removes.
    fn feed_lag(&self, c: Channel) -> Delay {
        let r = self.scenario.removed;
        match c {
            _ if r.all_report_delay => Delay::NONE,
            c if r.late_reports && Removed::reports_late(c) => Channel::Shopify.feed_lag(),
            c => c.feed_lag(),
        }
    }

    /// `c`'s apply delay, with what the run removes.
    fn apply_delay(&self, c: Channel) -> Delay {
        if self.scenario.removed.apply_delay {
            Delay::NONE
        } else {
            c.apply_delay()
        }
    }

    /// Commit → `c` received, with what the run removes.
    fn propagation(&mut self, c: Channel) -> u64 {
        let u = self.draw.unit();
        if self.scenario.removed.propagation {
            0
        } else {
            self.propagation[index(c)].at(u)
        }
    }

    /// Orders a restock when the ledger is at the reorder point.
    fn reorder(&mut self, t: u64, sku: usize) {
        let plan = &self.world.skus[sku];
        let s = &mut self.skus[sku];
        if !s.restocking && s.ledger <= plan.reorder_point {
            s.restocking = true;
            self.at(t + plan.lead_ms, Event::Restock { sku });
        }
    }

    /// The ledger changed at `t`: StockEdge pushes every listing; a batch tool waits for its run.
    fn changed(&mut self, t: u64, sku: usize) {
        self.skus[sku].version += 1;
        self.reorder(t, sku);
        if self.scenario.strategy != Strategy::StockEdge {
            return;
        }
        for c in MARKETPLACES {
            let mut delay = self.propagation(c);
            let mut attempt = 1;
            while self.draw.chance(self.scenario.fault_rate) {
                if attempt >= self.retry.max_attempts {
                    delay = u64::MAX; // dead-lettered: never applied
                    break;
                }
                delay += self.retry.backoff_ms(attempt) + self.propagation(c);
                attempt += 1;
            }
            if delay == u64::MAX {
                continue;
            }
            delay += self.apply_delay(c).at(self.draw.unit());
            self.push(t + delay, sku, c);
        }
    }

    /// The listing of `sku` on `c` will show its rule over the ledger's availability now.
    fn push(&mut self, arrives: u64, sku: usize, c: Channel) {
        let s = &self.skus[sku];
        let quantity = (s.ledger.max(0) - self.scenario.buffers.of(sku, c) as i64).max(0);
        let (version, recorded) = (s.version, s.recorded[index(c)]);
        self.at(arrives, Event::Applied { sku, channel: index(c), version, quantity, recorded });
    }

    fn order(&mut self, t: u64, sku: usize, channel: Channel, units: u32) {
        let ci = index(channel);
        let need = units as i64;
        let s = &mut self.skus[sku];
        if !channel.sells_from_belief() {
            if s.ledger >= need {
                s.ledger -= need;
                s.physical -= need;
                self.tally.channels[ci].orders += 1;
                self.changed(t, sku);
            }
            return;
        }
        if s.believed[ci] < need {
            if s.physical >= need {
                self.tally.channels[ci].lost_orders += 1;
                self.tally.channels[ci].lost_units += units as u64;
            }
            return;
        }
        s.believed[ci] -= need;
        s.physical -= need;
        s.sold[ci] += units as u64;
        self.tally.channels[ci].orders += 1;
        match self.scenario.strategy {
            Strategy::StockEdge => {
                let delay = self.inbound_delay(channel).at(self.draw.unit());
                self.at(t + delay, Event::SaleArrives { sku, channel: ci, units });
            }
            Strategy::Batch { .. } => {
                let shown = t + self.feed_lag(channel).at(self.draw.unit());
                self.skus[sku].unpulled.push((shown, ci, units));
            }
        }
    }
}

/// `ALL`'s channels' measured propagation, in index order (the storefront's is zero).
pub fn by_channel(of: impl Fn(Channel) -> Delay) -> PropagationByChannel {
    ALL.map(|c| if c == Channel::Storefront { Delay::NONE } else { of(c) })
}
