//! What a run counts per channel, and the mean with its 95 % confidence interval over seeds.

use serde::Serialize;

use super::channel::{Channel, ALL};
use super::scenario::index;

/// One channel's counts in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Orders the channel accepted.
    pub orders: u64,
    /// Accepted orders the stock could not cover when they reached the ledger.
    pub oversold_orders: u64,
    pub oversold_units: u64,
    /// Orders the channel refused (it showed too little) while the stock was there.
    pub lost_orders: u64,
    pub lost_units: u64,
    /// Units the channel's listings' buffers hold back (sum over its listings).
    pub withheld_units: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.orders += o.orders;
        self.oversold_orders += o.oversold_orders;
        self.oversold_units += o.oversold_units;
        self.lost_orders += o.lost_orders;
        self.lost_units += o.lost_units;
        self.withheld_units += o.withheld_units;
    }

    /// Oversold orders per 10,000 accepted orders (0 without orders).
    pub fn per_10k(&self) -> f64 {
        if self.orders == 0 {
            0.0
        } else {
            self.oversold_orders as f64 * 10_000.0 / self.orders as f64
        }
    }
}

/// A run's counts, per channel (index as in `channel::ALL`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub channels: [Counts; 6],
    /// Units the listings' buffers hold back (sum over listings).
    pub withheld_units: u64,
}

impl Tally {
    pub fn of(&mut self, c: Channel) -> &mut Counts {
        &mut self.channels[index(c)]
    }

    pub fn get(&self, c: Channel) -> Counts {
        self.channels[index(c)]
    }

    /// Every channel together.
    pub fn total(&self) -> Counts {
        let mut t = Counts::default();
        for c in ALL {
            t.add(&self.get(c));
        }
        t
    }
}

/// A mean over seeds with the half-width of its 95 % confidence interval (normal approximation,
/// `1.96 · s / √n`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci95: f64,
    pub n: usize,
}

impl Estimate {
    pub fn of(values: &[f64]) -> Estimate {
        let n = values.len();
        if n == 0 {
            return Estimate { mean: 0.0, ci95: 0.0, n };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Estimate { mean, ci95: 0.0, n };
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        Estimate { mean, ci95: 1.96 * (var / n as f64).sqrt(), n }
    }
}

/// The figures the report gives for one channel (or all) under one strategy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Figures {
    pub per_10k: Estimate,
    pub oversold_units: Estimate,
    pub lost_units: Estimate,
    pub orders: Estimate,
    pub withheld_units: Estimate,
}

/// The figures of `pick` over the runs of every seed.
pub fn figures(runs: &[Tally], pick: impl Fn(&Tally) -> Counts) -> Figures {
    let f = |g: &dyn Fn(&Counts) -> f64| Estimate::of(&runs.iter().map(|t| g(&pick(t))).collect::<Vec<_>>());
    Figures {
        per_10k: f(&|c| c.per_10k()),
        oversold_units: f(&|c| c.oversold_units as f64),
        lost_units: f(&|c| c.lost_units as f64),
        orders: f(&|c| c.orders as f64),
        withheld_units: f(&|c| c.withheld_units as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_10k_and_the_interval() {
        let c = Counts { orders: 20_000, oversold_orders: 3, ..Counts::default() };
        assert!((c.per_10k() - 1.5).abs() < 1e-12);
        assert_eq!(Counts::default().per_10k(), 0.0);
        let e = Estimate::of(&[1.0, 3.0]);
        assert_eq!(e.mean, 2.0);
        assert!((e.ci95 - 1.96).abs() < 1e-12);
        assert_eq!(Estimate::of(&[5.0]).ci95, 0.0);
    }
}
