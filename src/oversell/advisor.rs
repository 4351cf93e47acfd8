//! The buffer advisor: the smallest per-listing buffer that keeps the probability of an oversell
//! on that listing, per day, below a target — from the listing's observed sales rate, the SKU's
//! sales elsewhere, and the channel's stale window (docs/oversell.md, "The buffer advisor").
//!
//! The reasoning, stated in every answer: a listing shows `sellable − buffer` as StockEdge last
//! told it. A unit sold *elsewhere* (on channel `o`) reaches it only after that channel's
//! inbound delay (its sale reaching the ledger) + the measured propagation (commit → platform
//! received) + the platform's own apply delay, each at its 99th percentile: the **stale
//! window**. The units sold elsewhere and not yet shown are then Poisson with mean
//! `μ = Σ_o u_o · W_o` (`u_o` units/day on `o`, `W_o` its window), i.e. `U · W` with `U = Σ u_o`
//! and `W` the units-weighted window. The listing can oversell only while the SKU is at its last
//! units: when more than `buffer` units were sold elsewhere within the window and this listing
//! takes an order inside it. With this listing's orders Poisson at `λ`/day, per sell-out
//! `P = P(Poisson(μ) > buffer) · (1 − e^{−λ·W})`; per day, with `s` sell-outs a day,
//! `1 − (1 − P)^s`. The default `s = 1` (the SKU reaches its last units every day) is
//! conservative for any SKU that is restocked less often.

use serde::Serialize;

use super::channel::Channel;
use super::delay::Propagation;

/// What the advisor answers from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Inputs {
    /// This listing's sales, orders per day.
    pub own_orders_per_day: f64,
    /// The SKU's sales on every other channel, units per day.
    pub other_units_per_day: f64,
    /// The stale window, milliseconds.
    pub window_ms: u64,
    /// How often the SKU reaches its last units, per day.
    pub sellouts_per_day: f64,
    /// The probability of an oversell per day not to exceed.
    pub target_per_day: f64,
}

/// The stale window's parts (each at its 99th percentile), milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    /// The other channels' sales reaching the ledger, weighted by their units (0 when only the
    /// storefront sells elsewhere: it holds through StockEdge).
    pub inbound_ms: u64,
    /// Commit → the platform received the new quantity (measured, `bench/propagation.mjs`).
    pub propagation_ms: u64,
    /// The platform applying it (documented range, docs/oversell.md).
    pub apply_ms: u64,
}

impl Window {
    pub fn total_ms(&self) -> u64 {
        self.inbound_ms + self.propagation_ms + self.apply_ms
    }
}

/// The quantile every part of the window is taken at.
pub const WINDOW_QUANTILE: f64 = 0.99;
/// The default target: one listing oversells on at most one day in a thousand.
pub const DEFAULT_TARGET_PER_DAY: f64 = 0.001;
/// The default sell-outs per day (conservative: every day).
pub const DEFAULT_SELLOUTS_PER_DAY: f64 = 1.0;
/// No advice above this buffer (a listing that would need more is reported as not reaching
/// the target).
pub const MAX_BUFFER: u32 = 1_000;

/// The window of a listing on `channel` when the SKU also sells `units_per_day` on each of
/// `others`; `None` when the channel's propagation was not measured.
pub fn window(channel: Channel, others: &[(Channel, f64)], measured: &Propagation) -> Option<Window> {
    let propagation_ms = measured.of(channel.kind()?)?.quantile(WINDOW_QUANTILE);
    let others = others.iter().filter(|(c, u)| *c != channel && *u > 0.0);
    let (weighted, units) =
        others.fold((0.0, 0.0), |(w, n), (c, u)| (w + u * c.inbound_delay().quantile(WINDOW_QUANTILE) as f64, n + u));
    let inbound_ms = if units > 0.0 { (weighted / units).round() as u64 } else { 0 };
    Some(Window { inbound_ms, propagation_ms, apply_ms: channel.apply_delay().quantile(WINDOW_QUANTILE) })
}

/// The advice.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// The smallest buffer meeting the target (or [`MAX_BUFFER`] when none does).
    pub buffer: u32,
    /// The probability of an oversell per day with that buffer.
    pub oversell_per_day: f64,
    /// The same without a buffer.
    pub oversell_per_day_without: f64,
    /// Whether the target is met.
    pub meets_target: bool,
}

const DAY_MS: f64 = 86_400_000.0;

/// `P(X > k)` for `X ~ Poisson(mean)`.
pub fn poisson_above(mean: f64, k: u32) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    let mut pmf = (-mean).exp();
    let mut cdf = pmf;
    for i in 1..=k {
        pmf *= mean / i as f64;
        cdf += pmf;
    }
    (1.0 - cdf).max(0.0)
}

/// The probability of an oversell per day with `buffer`.
pub fn oversell_per_day(i: &Inputs, buffer: u32) -> f64 {
    let w_days = i.window_ms as f64 / DAY_MS;
    let elsewhere = poisson_above(i.other_units_per_day.max(0.0) * w_days, buffer);
    let own = 1.0 - (-i.own_orders_per_day.max(0.0) * w_days).exp();
    let per_sellout = elsewhere * own;
    1.0 - (1.0 - per_sellout).powf(i.sellouts_per_day.max(0.0))
}

/// The smallest buffer keeping [`oversell_per_day`] at or below the target.
pub fn advise(i: &Inputs) -> Advice {
    let without = oversell_per_day(i, 0);
    let mut buffer = 0;
    let mut p = without;
    while p > i.target_per_day && buffer < MAX_BUFFER {
        buffer += 1;
        p = oversell_per_day(i, buffer);
    }
    Advice { buffer, oversell_per_day: p, oversell_per_day_without: without, meets_target: p <= i.target_per_day }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(own: f64, other: f64, window_ms: u64) -> Inputs {
        Inputs {
            own_orders_per_day: own,
            other_units_per_day: other,
            window_ms,
            sellouts_per_day: 1.0,
            target_per_day: DEFAULT_TARGET_PER_DAY,
        }
    }

    #[test]
    fn poisson_tail_matches_closed_forms() {
        assert!((poisson_above(1.0, 0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        assert!((poisson_above(2.0, 1) - (1.0 - 3.0 * (-2.0f64).exp())).abs() < 1e-12);
        assert_eq!(poisson_above(0.0, 0), 0.0);
    }

    #[test]
    fn a_listing_nobody_else_sells_against_needs_no_buffer() {
        let a = advise(&inputs(50.0, 0.0, 900_000));
        assert_eq!(a.buffer, 0);
        assert!(a.meets_target);
    }

    #[test]
    fn a_longer_window_or_faster_sales_need_a_larger_buffer() {
        let fast = advise(&inputs(4.0, 12.0, 2_000)).buffer;
        let slow = advise(&inputs(4.0, 12.0, 20 * 60_000)).buffer;
        let busy = advise(&inputs(40.0, 120.0, 20 * 60_000)).buffer;
        assert!(fast < slow, "{fast} {slow}");
        assert!(slow < busy, "{slow} {busy}");
    }

    #[test]
    fn the_advised_buffer_is_the_smallest_meeting_the_target() {
        let i = inputs(10.0, 60.0, 20 * 60_000);
        let a = advise(&i);
        assert!(a.meets_target);
        assert!(oversell_per_day(&i, a.buffer) <= i.target_per_day);
        assert!(a.buffer > 0 && oversell_per_day(&i, a.buffer - 1) > i.target_per_day);
    }

    #[test]
    fn the_window_weights_the_other_channels_inbound_by_their_units() {
        let p = super::super::delay::measured().expect("measured");
        let w = window(Channel::Shopify, &[(Channel::Shopify, 9.0), (Channel::Storefront, 3.0)], p).expect("measured");
        assert_eq!(w.inbound_ms, 0, "the storefront holds through StockEdge");
        assert_eq!(w.apply_ms, Channel::Shopify.apply_delay().quantile(WINDOW_QUANTILE));
        let amazon = Channel::Amazon.inbound_delay().quantile(WINDOW_QUANTILE);
        let w2 = window(Channel::Shopify, &[(Channel::Amazon, 1.0), (Channel::Storefront, 1.0)], p).expect("measured");
        assert_eq!(w2.inbound_ms, amazon / 2);
        assert!(window(Channel::Storefront, &[], p).is_none());
    }
}
