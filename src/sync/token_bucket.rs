//! A token bucket, pure: the caller passes the time and keeps the state.
//!
//! SP-API Listings Items `patchListingsItem` has a default usage plan of 5 requests per second
//! with a burst of 5 (developer-docs.amazon.com/sp-api, Listings Items API v2021-08-01, "Usage
//! Plan"; one page lists a burst of 10 — 5 is the safe reading).

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// Tokens are kept in thousandths so that refills are exact integers.
const MILLI: u64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBucket {
    /// Tokens added per second.
    pub rate_per_second: u32,
    /// The most tokens the bucket holds.
    pub burst: u32,
    /// Current tokens, in thousandths.
    milli_tokens: u64,
    /// When `milli_tokens` was last brought up to date.
    updated: Millis,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(rate_per_second: u32, burst: u32, now: Millis) -> TokenBucket {
        TokenBucket { rate_per_second, burst, milli_tokens: u64::from(burst) * MILLI, updated: now }
    }

    /// SP-API `patchListingsItem`'s default plan: 5 per second, burst 5.
    pub fn amazon_listings(now: Millis) -> TokenBucket {
        TokenBucket::new(5, 5, now)
    }

    fn refill(&mut self, now: Millis) {
        // A clock that goes backwards adds nothing (and does not move `updated` back).
        let elapsed_ms = u64::try_from(now.0.saturating_sub(self.updated.0)).unwrap_or(0);
        if elapsed_ms == 0 {
            return;
        }
        let cap = u64::from(self.burst) * MILLI;
        // rate tokens/s = rate milli-tokens/ms.
        let added = elapsed_ms.saturating_mul(u64::from(self.rate_per_second));
        self.milli_tokens = self.milli_tokens.saturating_add(added).min(cap);
        self.updated = now;
    }

    /// Takes one token at `now`, or says how many milliseconds until one is there.
    pub fn try_take(&mut self, now: Millis) -> Result<(), u64> {
        self.refill(now);
        if self.milli_tokens >= MILLI {
            self.milli_tokens -= MILLI;
            return Ok(());
        }
        if self.rate_per_second == 0 {
            return Err(u64::MAX);
        }
        Err((MILLI - self.milli_tokens).div_ceil(u64::from(self.rate_per_second)))
    }

    /// Whole tokens available at `now` (without taking any).
    pub fn available(&self, now: Millis) -> u32 {
        let mut b = *self;
        b.refill(now);
        (b.milli_tokens / MILLI) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bursts_then_paces() {
        let mut b = TokenBucket::amazon_listings(Millis(0));
        for _ in 0..5 {
            assert_eq!(b.try_take(Millis(0)), Ok(()));
        }
        assert_eq!(b.try_take(Millis(0)), Err(200));
        assert_eq!(b.try_take(Millis(199)), Err(1));
        assert_eq!(b.try_take(Millis(200)), Ok(()));
        assert_eq!(b.try_take(Millis(10_000)), Ok(()));
        assert_eq!(b.available(Millis(10_000)), 4, "capped at the burst");
    }

    proptest! {
        /// Over any span, no more than burst + rate × seconds requests get through, and a refused
        /// request's wait is exactly when the next token arrives.
        #[test]
        fn never_exceeds_rate_plus_burst(steps in proptest::collection::vec(0i64..400, 1..200), rate in 1u32..20, burst in 1u32..10) {
            let mut b = TokenBucket::new(rate, burst, Millis(0));
            let mut now = 0i64;
            let mut granted = 0u64;
            for step in steps {
                now += step;
                match b.try_take(Millis(now)) {
                    Ok(()) => granted += 1,
                    Err(wait) => {
                        prop_assert!(wait >= 1);
                        let mut probe = b;
                        prop_assert!(probe.try_take(Millis(now + wait as i64 - 1)).is_err(), "not before the wait");
                        let mut probe = b;
                        prop_assert!(probe.try_take(Millis(now + wait as i64)).is_ok(), "at the wait");
                    }
                }
                let bound = u64::from(burst) + (now as u64 * u64::from(rate)) / 1000;
                prop_assert!(granted <= bound, "{granted} > {bound}");
            }
        }

        #[test]
        fn time_going_backwards_grants_nothing_new(rate in 1u32..20, burst in 1u32..10, back in 1i64..10_000) {
            let mut b = TokenBucket::new(rate, burst, Millis(10_000));
            while b.try_take(Millis(10_000)).is_ok() {}
            prop_assert!(b.try_take(Millis(10_000 - back)).is_err());
        }
    }
}
