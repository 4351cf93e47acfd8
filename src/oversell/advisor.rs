//! The buffer advisor: the smallest per-listing buffer that keeps a listing's oversells below a
//! target — per day and per 10,000 of its orders — from the listing's observed orders, the SKU's
//! orders elsewhere *with their sizes*, and the channel's stale window (docs/oversell.md, "The
//! buffer advisor").
//!
//! The reasoning, stated in every answer: a listing shows `sellable − buffer` as StockEdge last
//! told it. An order it takes at `t` reaches the ledger after this channel's inbound delay `I`;
//! the quantity it sold from reflected the ledger as of the propagation `P` + the platform's apply
//! delay `A` before `t`. Whatever reached the ledger in between — orders from every other channel,
//! storefront holds included, however late their own reports — was not shown: the **stale
//! window** `W = I + P + A`, each part at its 99th percentile. (A sale reported later than this
//! listing's is counted as that channel's oversell, not this one's: StockEdge records the sale it
//! cannot cover.) The listing's own orders still in flight (sold within `I` before) can be
//! restored by a push computed before the ledger recorded them, so they count too, over `I`.
//!
//! Orders arrive Poisson at the observed rates, each with a size drawn from that channel's
//! observed order sizes: the units not shown, `S`, are **compound Poisson** (a wholesale lot of 12
//! is one arrival of 12 units, not 12 independent arrivals). At the SKU's last units (the listing
//! shows exactly one order's worth), an order oversells when `S > buffer`. With the listing's
//! orders Poisson at `λ`/day, per sell-out `P = P(S > buffer) · (1 − e^{−λ·W})`; per day, with `s`
//! sell-outs a day, `1 − (1 − P)^s`; per 10,000 of the listing's orders, `10⁴ · s · P / λ`. The
//! default `s = 1` (the SKU reaches its last units every day) is conservative for any SKU that is
//! restocked less often.

use std::collections::BTreeMap;

use serde::Serialize;

use super::channel::Channel;
use super::delay::Propagation;

/// Observed order sizes: units → how many orders had that many.
pub type Sizes = BTreeMap<u32, u64>;

/// Orders arriving on one channel, and for how long they go unseen by the listing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Flow {
    pub orders_per_day: f64,
    /// The observed order sizes (no orders: the flow adds nothing).
    pub sizes: Sizes,
    /// How long an order of this flow goes unseen, milliseconds.
    pub window_ms: u64,
}

/// What the advisor answers from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inputs {
    /// This listing's orders per day.
    pub own_orders_per_day: f64,
    /// The orders the listing may not have seen: every other channel's over the stale window,
    /// its own over its inbound delay.
    pub unseen: Vec<Flow>,
    /// The stale window, milliseconds.
    pub window_ms: u64,
    /// How often the SKU reaches its last units, per day.
    pub sellouts_per_day: f64,
    /// The probability of an oversell per day not to exceed.
    pub target_per_day: f64,
    /// Oversold orders per 10,000 of the listing's orders not to exceed.
    pub target_per_10k_orders: f64,
}

/// The stale window's parts (each at its 99th percentile), milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    /// This channel's sales reaching the ledger (webhook, order-feed poll, EDI run).
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
/// The default target per day: one listing oversells on at most one day in a thousand.
pub const DEFAULT_TARGET_PER_DAY: f64 = 0.001;
/// The default target per 10,000 of the listing's orders (issue 15: ≤ 1 per 10,000).
pub const DEFAULT_TARGET_PER_10K_ORDERS: f64 = 1.0;
/// The default sell-outs per day (conservative: every day).
pub const DEFAULT_SELLOUTS_PER_DAY: f64 = 1.0;
/// No advice above this buffer (a listing that would need more is reported as not reaching
/// the target).
pub const MAX_BUFFER: u32 = 1_000;

/// The stale window of a listing on `channel`; `None` when the channel's propagation was not
/// measured (or it is the storefront, which holds instead).
pub fn window(channel: Channel, measured: &Propagation) -> Option<Window> {
    let propagation_ms = measured.of(channel.kind()?)?.quantile(WINDOW_QUANTILE);
    Some(Window {
        inbound_ms: channel.inbound_delay().quantile(WINDOW_QUANTILE),
        propagation_ms,
        apply_ms: channel.apply_delay().quantile(WINDOW_QUANTILE),
    })
}

/// The advice.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// The smallest buffer meeting both targets (or [`MAX_BUFFER`] when none does).
    pub buffer: u32,
    /// The probability of an oversell per day with that buffer.
    pub oversell_per_day: f64,
    /// The same without a buffer.
    pub oversell_per_day_without: f64,
    /// Oversold orders per 10,000 of the listing's orders with that buffer, and without one.
    pub oversold_per_10k_orders: f64,
    pub oversold_per_10k_orders_without: f64,
    /// Whether both targets are met.
    pub meets_target: bool,
}

const DAY_MS: f64 = 86_400_000.0;

/// `P(X > k)` for `X ~ Poisson(mean)`.
pub fn poisson_above(mean: f64, k: u32) -> f64 {
    compound_above(mean, &[0.0, 1.0], k)
}

/// `P(S > k)` for `S` compound Poisson: `Poisson(mean)` arrivals, each of `j` units with
/// probability `sizes[j]` (`sizes[0]` ignored: an order has at least one unit). Panjer's
/// recursion: `g₀ = e^{−mean}`, `gₙ = (mean / n) · Σ_{j=1..n} j · f_j · g_{n−j}`.
pub fn compound_above(mean: f64, sizes: &[f64], k: u32) -> f64 {
    Compound::new(mean, sizes).above(k)
}

/// A compound Poisson distribution whose probabilities are computed as far as asked.
struct Compound {
    mean: f64,
    f: Vec<f64>,
    pmf: Vec<f64>,
    cdf: f64,
}

impl Compound {
    fn new(mean: f64, sizes: &[f64]) -> Compound {
        let total: f64 = sizes.iter().skip(1).sum();
        let f: Vec<f64> =
            sizes.iter().enumerate().map(|(j, p)| if j == 0 || total <= 0.0 { 0.0 } else { p / total }).collect();
        let mean = if total > 0.0 { mean.max(0.0) } else { 0.0 };
        let g0 = (-mean).exp();
        Compound { mean, f, pmf: vec![g0], cdf: g0 }
    }

    /// `P(S > k)`.
    fn above(&mut self, k: u32) -> f64 {
        if self.mean <= 0.0 {
            return 0.0;
        }
        while self.pmf.len() <= k as usize {
            let n = self.pmf.len();
            let sum: f64 =
                (1..=n.min(self.f.len().saturating_sub(1))).map(|j| j as f64 * self.f[j] * self.pmf[n - j]).sum();
            let g = self.mean / n as f64 * sum;
            self.pmf.push(g);
            self.cdf += g;
        }
        let cdf: f64 = if self.pmf.len() == k as usize + 1 { self.cdf } else { self.pmf[..=k as usize].iter().sum() };
        (1.0 - cdf).max(0.0)
    }
}

/// The unseen units' distribution: the flows pooled into one compound Poisson (mean arrivals
/// `Σ λᵢ·Wᵢ`, sizes mixed in proportion).
fn unseen(i: &Inputs) -> Compound {
    let mut mean = 0.0;
    let mut mix: Vec<f64> = Vec::new();
    for flow in &i.unseen {
        let m = flow.orders_per_day.max(0.0) * flow.window_ms as f64 / DAY_MS;
        let n: u64 = flow.sizes.values().sum();
        if m <= 0.0 || n == 0 {
            continue;
        }
        mean += m;
        for (units, count) in &flow.sizes {
            // Order sizes come from the journal (any wholesale order): every size above the
            // largest buffer ever advised oversells alike, so they share one slot and the
            // distribution stays at most MAX_BUFFER + 2 long.
            let j = (*units as usize).min(MAX_BUFFER as usize + 1);
            if mix.len() <= j {
                mix.resize(j + 1, 0.0);
            }
            mix[j] += m * *count as f64 / n as f64;
        }
    }
    Compound::new(mean, &mix)
}

/// Per sell-out: the chance the listing takes an order inside the window while more than the
/// buffer went unseen.
fn per_sellout(i: &Inputs, s: &mut Compound, buffer: u32) -> f64 {
    let own = 1.0 - (-i.own_orders_per_day.max(0.0) * i.window_ms as f64 / DAY_MS).exp();
    s.above(buffer) * own
}

fn per_day(i: &Inputs, p: f64) -> f64 {
    1.0 - (1.0 - p).powf(i.sellouts_per_day.max(0.0))
}

fn per_10k(i: &Inputs, p: f64) -> f64 {
    if i.own_orders_per_day > 0.0 {
        10_000.0 * i.sellouts_per_day.max(0.0) * p / i.own_orders_per_day
    } else {
        0.0
    }
}

/// The probability of an oversell per day with `buffer`.
pub fn oversell_per_day(i: &Inputs, buffer: u32) -> f64 {
    per_day(i, per_sellout(i, &mut unseen(i), buffer))
}

/// Oversold orders per 10,000 of the listing's orders with `buffer`.
pub fn oversold_per_10k_orders(i: &Inputs, buffer: u32) -> f64 {
    per_10k(i, per_sellout(i, &mut unseen(i), buffer))
}

/// The smallest buffer keeping [`oversell_per_day`] and [`oversold_per_10k_orders`] at or below
/// their targets.
pub fn advise(i: &Inputs) -> Advice {
    let mut s = unseen(i);
    let meets = |p: f64| per_day(i, p) <= i.target_per_day && per_10k(i, p) <= i.target_per_10k_orders;
    let without = per_sellout(i, &mut s, 0);
    let mut buffer = 0;
    let mut p = without;
    while !meets(p) && buffer < MAX_BUFFER {
        buffer += 1;
        p = per_sellout(i, &mut s, buffer);
    }
    Advice {
        buffer,
        oversell_per_day: per_day(i, p),
        oversell_per_day_without: per_day(i, without),
        oversold_per_10k_orders: per_10k(i, p),
        oversold_per_10k_orders_without: per_10k(i, without),
        meets_target: meets(p),
    }
}

/// A channel's orders of the SKU as the journal shows them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub orders_per_day: f64,
    pub sizes: Sizes,
}

/// The flows a listing with `window` may not have seen: every other channel's orders over the
/// window, its own over its inbound delay (orders a push may restore before the ledger records
/// them).
pub fn unseen_flows(window: &Window, own: &Observed, others: &[Observed]) -> Vec<Flow> {
    let flow = |o: &Observed, window_ms| Flow { orders_per_day: o.orders_per_day, sizes: o.sizes.clone(), window_ms };
    std::iter::once(flow(own, window.inbound_ms))
        .chain(others.iter().map(|o| flow(o, window.total_ms())))
        .filter(|f| f.orders_per_day > 0.0 && !f.sizes.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(pairs: &[(u32, u64)]) -> Sizes {
        pairs.iter().copied().collect()
    }

    fn inputs(own: f64, other_orders: f64, other_sizes: Sizes, window_ms: u64) -> Inputs {
        Inputs {
            own_orders_per_day: own,
            unseen: vec![Flow { orders_per_day: other_orders, sizes: other_sizes, window_ms }],
            window_ms,
            sellouts_per_day: 1.0,
            target_per_day: DEFAULT_TARGET_PER_DAY,
            target_per_10k_orders: f64::INFINITY,
        }
    }

    #[test]
    fn poisson_tail_matches_closed_forms() {
        assert!((poisson_above(1.0, 0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        assert!((poisson_above(2.0, 1) - (1.0 - 3.0 * (-2.0f64).exp())).abs() < 1e-12);
        assert_eq!(poisson_above(0.0, 0), 0.0);
    }

    #[test]
    fn compound_tail_matches_a_hand_count() {
        // Every order is 3 units: S > 2 exactly when at least one order arrives; S > 3 when two.
        let m: f64 = 0.5;
        let lots = [0.0, 0.0, 0.0, 1.0];
        assert!((compound_above(m, &lots, 2) - (1.0 - (-m).exp())).abs() < 1e-12);
        assert!((compound_above(m, &lots, 3) - poisson_above(m, 1)).abs() < 1e-12);
        // Sizes 1 or 2, half each: P(S ≤ 1) = P(N = 0) + P(N = 1)·½.
        let mixed = [0.0, 0.5, 0.5];
        let expect = 1.0 - (-m).exp() * (1.0 + m * 0.5);
        assert!((compound_above(m, &mixed, 1) - expect).abs() < 1e-12);
    }

    #[test]
    fn large_lots_need_a_larger_buffer_than_the_same_units_one_at_a_time() {
        // 2 units a day either way: as one order of 10 every 5 days, or as 2 single-unit orders.
        let window = 2 * 3_600_000;
        let lots = advise(&inputs(1.0, 0.2, sizes(&[(10, 1)]), window)).buffer;
        let singles = advise(&inputs(1.0, 2.0, sizes(&[(1, 1)]), window)).buffer;
        assert!(lots >= 10, "a lot of 10 must be covered whole: {lots}");
        assert!(singles < lots, "{singles} {lots}");
    }

    #[test]
    fn a_listing_nobody_else_sells_against_needs_no_buffer() {
        let a = advise(&inputs(50.0, 0.0, sizes(&[(1, 1)]), 900_000));
        assert_eq!(a.buffer, 0);
        assert!(a.meets_target);
    }

    #[test]
    fn a_longer_window_or_faster_sales_need_a_larger_buffer() {
        let one = sizes(&[(1, 1)]);
        let fast = advise(&inputs(4.0, 12.0, one.clone(), 2_000)).buffer;
        let slow = advise(&inputs(4.0, 12.0, one.clone(), 20 * 60_000)).buffer;
        let busy = advise(&inputs(40.0, 120.0, one, 20 * 60_000)).buffer;
        assert!(fast < slow, "{fast} {slow}");
        assert!(slow < busy, "{slow} {busy}");
    }

    #[test]
    fn the_advised_buffer_is_the_smallest_meeting_both_targets() {
        let mut i = inputs(10.0, 60.0, sizes(&[(1, 3), (2, 1)]), 20 * 60_000);
        let a = advise(&i);
        assert!(a.meets_target);
        assert!(oversell_per_day(&i, a.buffer) <= i.target_per_day);
        assert!(a.buffer > 0 && oversell_per_day(&i, a.buffer - 1) > i.target_per_day);
        // A per-order target stricter than the daily one asks for more.
        i.target_per_10k_orders = a.oversold_per_10k_orders / 10.0;
        let b = advise(&i);
        assert!(b.buffer > a.buffer && b.meets_target);
        assert!(oversold_per_10k_orders(&i, b.buffer - 1) > i.target_per_10k_orders);
    }

    #[test]
    fn the_window_is_the_channels_own_report_push_and_apply() {
        let p = super::super::delay::measured().expect("measured");
        let w = window(Channel::Amazon, p).expect("measured");
        assert_eq!(w.inbound_ms, Channel::Amazon.inbound_delay().quantile(WINDOW_QUANTILE));
        assert_eq!(w.apply_ms, Channel::Amazon.apply_delay().quantile(WINDOW_QUANTILE));
        assert!(window(Channel::Storefront, p).is_none());
        let own = Observed { orders_per_day: 4.0, sizes: sizes(&[(1, 4)]) };
        let lots = Observed { orders_per_day: 0.2, sizes: sizes(&[(8, 2)]) };
        let flows = unseen_flows(&w, &own, &[lots, Observed::default()]);
        assert_eq!(flows.iter().map(|f| f.window_ms).collect::<Vec<_>>(), [w.inbound_ms, w.total_ms()]);
    }
}
