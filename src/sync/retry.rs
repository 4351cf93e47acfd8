//! The retry policy, pure: from an outcome and the attempt it ended, what happens next.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::push_result::PushResult;
use crate::stock::Sku;

/// Cloudflare Queues accepts `delaySeconds` up to 12 hours
/// (developers.cloudflare.com/queues/configuration/batching-retries).
pub const QUEUE_MAX_DELAY_SECONDS: u64 = 43_200;

/// What to do with a listing's update after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Pushed: record it, nothing more to do.
    Done,
    /// Try again after `after_ms`; with `reread`, read the platform's current quantity first
    /// (compare-and-set failed).
    Retry { after_ms: u64, reread: bool },
    /// Give up: record the reason and move the update to the dead-letter queue.
    DeadLetter { reason: String },
}

impl Decision {
    /// The delay as the Queues API wants it: whole seconds, at most 12 hours.
    pub fn delay_seconds(&self) -> Option<u32> {
        match self {
            Decision::Retry { after_ms, .. } => {
                let capped = after_ms.div_ceil(1000).min(QUEUE_MAX_DELAY_SECONDS);
                Some(u32::try_from(capped).unwrap_or(u32::MAX))
            }
            _ => None,
        }
    }
}

/// Keeps, per SKU, the longest retry delay asked for: a queue message is one SKU's change, and
/// it is retried once, after every push or delivery of it could go again.
pub fn retry_later(retry: &mut BTreeMap<Sku, u32>, sku: &Sku, delay_seconds: u32) {
    let slot = retry.entry(sku.clone()).or_default();
    *slot = (*slot).max(delay_seconds);
}

/// Exponential back-off with a cap, `Retry-After` honoured, and a ceiling on attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// The delay after the first transient failure.
    pub base_ms: u64,
    /// No back-off delay exceeds this (a platform's `Retry-After` may).
    pub cap_ms: u64,
    /// Attempts before an update is dead-lettered (the first push counts as attempt 1).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 2 s, 4 s, 8 s, … capped at 15 minutes; ten attempts (about 40 minutes in all).
    fn default() -> Self {
        RetryPolicy { base_ms: 2_000, cap_ms: 15 * 60_000, max_attempts: 10 }
    }
}

impl RetryPolicy {
    /// The back-off after failed attempt `attempt` (1-based): `base × 2^(attempt−1)`, at most
    /// `cap_ms`.
    pub fn backoff_ms(&self, attempt: u32) -> u64 {
        let exp = attempt.saturating_sub(1).min(63);
        self.base_ms.saturating_mul(1u64 << exp).min(self.cap_ms)
    }

    /// What follows `outcome`, the result of attempt number `attempt` (1-based).
    pub fn decide(&self, outcome: &PushResult, attempt: u32) -> Decision {
        let retry = match outcome {
            PushResult::Pushed => return Decision::Done,
            PushResult::Permanent(f) => return Decision::DeadLetter { reason: format!("{:?}: {}", f.kind, f.message) },
            PushResult::RetryAfter(seconds) => {
                Decision::Retry { after_ms: seconds.saturating_mul(1000), reread: false }
            }
            PushResult::Backoff(_) => Decision::Retry { after_ms: self.backoff_ms(attempt), reread: false },
            PushResult::Stale => Decision::Retry { after_ms: 0, reread: true },
        };
        if attempt >= self.max_attempts {
            return Decision::DeadLetter { reason: format!("gave up after {attempt} attempts; last: {outcome}") };
        }
        retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::push_result::FailureKind;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        let p = RetryPolicy::default();
        assert_eq!(
            (1..=11).map(|a| p.backoff_ms(a) / 1000).collect::<Vec<_>>(),
            [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        assert_eq!(p.decide(&PushResult::Pushed, 3), Decision::Done);
        assert_eq!(p.decide(&PushResult::RetryAfter(30), 1), Decision::Retry { after_ms: 30_000, reread: false });
        assert_eq!(p.decide(&PushResult::Stale, 1), Decision::Retry { after_ms: 0, reread: true });
        assert_eq!(p.decide(&PushResult::backoff("503"), 2), Decision::Retry { after_ms: 4_000, reread: false });
        let dead = p.decide(&PushResult::permanent(FailureKind::UnknownListing, "no such item"), 1);
        assert_eq!(dead, Decision::DeadLetter { reason: "UnknownListing: no such item".into() });
        match p.decide(&PushResult::backoff("HTTP 503"), 10) {
            Decision::DeadLetter { reason } => {
                assert!(reason.contains("10 attempts") && reason.contains("HTTP 503"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(Decision::Retry { after_ms: 1, reread: false }.delay_seconds(), Some(1));
        assert_eq!(
            Decision::Retry { after_ms: u64::MAX, reread: false }.delay_seconds(),
            Some(QUEUE_MAX_DELAY_SECONDS as u32)
        );
    }

    fn outcome() -> impl Strategy<Value = PushResult> {
        prop_oneof![
            Just(PushResult::Pushed),
            (0u64..100_000).prop_map(PushResult::RetryAfter),
            Just(PushResult::backoff("5xx")),
            Just(PushResult::Stale),
            Just(PushResult::permanent(FailureKind::Validation, "bad")),
        ]
    }

    proptest! {
        #[test]
        fn backoff_grows_and_is_capped(base in 1u64..10_000, cap in 1u64..10_000_000, attempt in 1u32..200) {
            let p = RetryPolicy { base_ms: base, cap_ms: cap, max_attempts: 10 };
            prop_assert!(p.backoff_ms(attempt) <= cap);
            prop_assert!(p.backoff_ms(attempt) <= p.backoff_ms(attempt + 1));
            prop_assert_eq!(p.backoff_ms(1), base.min(cap));
            if p.backoff_ms(attempt) < cap {
                prop_assert_eq!(p.backoff_ms(attempt + 1), (p.backoff_ms(attempt) * 2).min(cap));
            }
        }

        #[test]
        fn every_update_ends_within_max_attempts(o in outcome(), attempt in 1u32..30, max in 1u32..20) {
            let p = RetryPolicy { base_ms: 1_000, cap_ms: 60_000, max_attempts: max };
            match p.decide(&o, attempt) {
                Decision::Done => prop_assert!(o.is_pushed()),
                Decision::Retry { after_ms, reread } => {
                    prop_assert!(attempt < max, "no retry at or past the last attempt");
                    prop_assert_eq!(reread, o == PushResult::Stale);
                    if let PushResult::RetryAfter(s) = o { prop_assert_eq!(after_ms, s * 1000, "Retry-After honoured"); }
                    if let PushResult::Backoff(_) = o { prop_assert!(after_ms <= 60_000); }
                }
                Decision::DeadLetter { reason } => {
                    prop_assert!(!reason.is_empty());
                    prop_assert!(matches!(o, PushResult::Permanent(_)) || attempt >= max);
                }
            }
        }
    }
}
