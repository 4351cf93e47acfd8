//! The seeded demand every strategy is simulated on: a catalogue (popularity, stock, restock
//! policy per SKU), the orders of every channel (Poisson arrivals per SKU and channel) and two
//! bursts — a storefront flash sale and a marketplace promotion.

use super::advisor::Sizes;
use super::channel::{Channel, ALL, MARKETPLACES};
use super::rng::{Draw, Stream};
use super::scenario::{index, Market};

pub const HOUR_MS: u64 = 3_600_000;
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// One SKU's plan.
#[derive(Clone, Debug, PartialEq)]
pub struct SkuPlan {
    /// Multiplies every channel's base demand (log-uniform in 0.25–4).
    pub popularity: f64,
    pub initial: i64,
    /// A restock is ordered when the ledger's availability falls to this.
    pub reorder_point: i64,
    pub reorder_units: i64,
    /// From ordering a restock to its arrival.
    pub lead_ms: u64,
}

/// One order as the buyer places it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Order {
    pub at_ms: u64,
    pub sku: usize,
    pub channel: Channel,
    pub units: u32,
}

/// A period in which a channel sells `factor` times its usual rate of some SKUs.
#[derive(Clone, Debug, PartialEq)]
pub struct Burst {
    pub channel: Channel,
    pub skus: Vec<usize>,
    pub from_ms: u64,
    pub to_ms: u64,
    pub factor: f64,
}

/// The demand of one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    pub horizon_ms: u64,
    pub skus: Vec<SkuPlan>,
    pub bursts: Vec<Burst>,
    /// Every order, by time.
    pub orders: Vec<Order>,
}

/// The flash sale: 20× the storefront's rate for 2 hours on 3 SKUs.
pub const FLASH_SALE: (f64, u64, usize) = (20.0, 2 * HOUR_MS, 3);
/// The promotion: 10× one marketplace's rate for 6 hours on 3 SKUs.
pub const PROMOTION: (f64, u64, usize) = (10.0, 6 * HOUR_MS, 3);

impl World {
    /// The demand of `seed`.
    pub fn generate(seed: u64, market: Market) -> World {
        let mut d = Draw::new(seed, Stream::Demand);
        let horizon_ms = market.days as u64 * DAY_MS;
        let units_per_day: f64 = ALL.iter().map(|c| c.demand().orders_per_day * c.demand().mean_units()).sum();
        let skus: Vec<SkuPlan> = (0..market.skus)
            .map(|_| {
                let popularity = (0.25f64.ln() + d.unit() * 16f64.ln()).exp();
                let daily = popularity * units_per_day;
                SkuPlan {
                    popularity,
                    initial: (daily * (2.0 + 5.0 * d.unit())).round() as i64,
                    reorder_point: daily.round() as i64,
                    reorder_units: (daily * 7.0).round().max(1.0) as i64,
                    lead_ms: d.between(DAY_MS, 3 * DAY_MS),
                }
            })
            .collect();
        let pick = |d: &mut Draw, n: usize| -> Vec<usize> {
            (0..n.min(market.skus)).map(|_| d.between(0, market.skus.saturating_sub(1) as u64) as usize).collect()
        };
        let flash_at = d.between(0, horizon_ms.saturating_sub(FLASH_SALE.1));
        let promo_at = d.between(0, horizon_ms.saturating_sub(PROMOTION.1));
        let promo_channel = MARKETPLACES[d.between(0, 3) as usize]; // never wholesale
        let bursts = vec![
            Burst {
                channel: Channel::Storefront,
                skus: pick(&mut d, FLASH_SALE.2),
                from_ms: flash_at,
                to_ms: flash_at + FLASH_SALE.1,
                factor: FLASH_SALE.0,
            },
            Burst {
                channel: promo_channel,
                skus: pick(&mut d, PROMOTION.2),
                from_ms: promo_at,
                to_ms: promo_at + PROMOTION.1,
                factor: PROMOTION.0,
            },
        ];
        let mut orders = Vec::new();
        for (sku, plan) in skus.iter().enumerate() {
            for channel in ALL {
                let demand = channel.demand();
                let rate_per_ms = plan.popularity * demand.orders_per_day / DAY_MS as f64;
                arrivals(&mut d, rate_per_ms, 0, horizon_ms, |d, at_ms| {
                    let units = d.between(demand.min_units as u64, demand.max_units as u64) as u32;
                    orders.push(Order { at_ms, sku, channel, units });
                });
                for b in bursts.iter().filter(|b| b.channel == channel && b.skus.contains(&sku)) {
                    arrivals(&mut d, rate_per_ms * (b.factor - 1.0), b.from_ms, b.to_ms, |d, at_ms| {
                        let units = d.between(demand.min_units as u64, demand.max_units as u64) as u32;
                        orders.push(Order { at_ms, sku, channel, units });
                    });
                }
            }
        }
        orders.sort_by_key(|o| (o.at_ms, o.sku, o.channel));
        World { horizon_ms, skus, bursts, orders }
    }

    /// Observed orders per day and order sizes, per SKU and per channel (index as in
    /// `channel::ALL`): what the journal would show. One pass over the orders.
    pub fn observed_orders(&self) -> Vec<[(f64, Sizes); 6]> {
        let days = self.horizon_ms as f64 / DAY_MS as f64;
        let mut seen: Vec<[(u64, Sizes); 6]> = vec![Default::default(); self.skus.len()];
        for o in &self.orders {
            if let Some(c) = seen.get_mut(o.sku) {
                let (n, sizes) = &mut c[index(o.channel)];
                *n += 1;
                *sizes.entry(o.units).or_default() += 1;
            }
        }
        seen.into_iter().map(|c| c.map(|(n, sizes)| (n as f64 / days, sizes))).collect()
    }
}

/// Poisson arrivals of `rate_per_ms` in `[from, to)`, each handed to `f`.
fn arrivals(d: &mut Draw, rate_per_ms: f64, from: u64, to: u64, mut f: impl FnMut(&mut Draw, u64)) {
    if rate_per_ms <= 0.0 {
        return;
    }
    let mut t = from as f64;
    loop {
        t += d.exponential(rate_per_ms);
        if t >= to as f64 {
            return;
        }
        f(d, t as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_demand_and_another_seed_another() {
        let m = Market { skus: 5, days: 3 };
        assert_eq!(World::generate(7, m), World::generate(7, m));
        assert_ne!(World::generate(7, m).orders, World::generate(8, m).orders);
    }

    #[test]
    fn observed_orders_count_each_order_size() {
        let w = World::generate(2, Market { skus: 3, days: 2 });
        for (sku, seen) in w.observed_orders().iter().enumerate() {
            for c in ALL {
                let mine: Vec<&Order> = w.orders.iter().filter(|o| o.sku == sku && o.channel == c).collect();
                let (rate, sizes) = &seen[index(c)];
                assert_eq!(*rate, mine.len() as f64 / 2.0);
                assert_eq!(sizes.values().sum::<u64>(), mine.len() as u64);
                let units: u64 = sizes.iter().map(|(u, n)| *u as u64 * n).sum();
                assert_eq!(units, mine.iter().map(|o| o.units as u64).sum::<u64>(), "{sku} {c:?}");
            }
        }
    }

    #[test]
    fn orders_are_in_time_order_within_the_horizon() {
        let w = World::generate(1, Market { skus: 5, days: 3 });
        assert!(!w.orders.is_empty());
        assert!(w.orders.windows(2).all(|p| p[0].at_ms <= p[1].at_ms));
        assert!(w.orders.iter().all(|o| o.at_ms < w.horizon_ms && o.units >= 1));
    }
}
