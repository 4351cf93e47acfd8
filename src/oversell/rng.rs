//! The model's seeded generator: ChaCha8 (`rand_chacha`), one stream per purpose so the demand
//! is the same whatever strategy is simulated on it.

use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Which draws a generator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The catalogue, the orders and the bursts.
    Demand = 1,
    /// Delays and faults while simulating a strategy.
    Delays = 2,
}

/// A seeded generator of uniform numbers.
pub struct Draw(ChaCha8Rng);

impl Draw {
    pub fn new(seed: u64, stream: Stream) -> Draw {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream as u64);
        Draw(r)
    }

    /// Uniform in `[0, 1)` (53 random bits).
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponential with `rate` per unit of time (`rate` > 0).
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -(1.0 - self.unit()).ln() / rate
    }

    /// Uniform integer in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + ((hi.saturating_sub(lo) + 1) as f64 * self.unit()) as u64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}
