//! Per-listing rules: how much of a SKU's availability a channel listing shows.
//!
//! `listed = min(max_listed, floor((available − buffer)⁺ × percent / 100))`, and 0 when
//! `available ≤ zero_at_or_below`. The result is never negative, never above `available`, and
//! never falls when `available` rises.

use serde::{Deserialize, Serialize};

use crate::stock::limits::{MAX_RULE_BUFFER, MAX_RULE_LISTED, MAX_RULE_PERCENT, MAX_RULE_ZERO_AT_OR_BELOW};

/// A listing's rule. The default lists everything available.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingRule {
    /// Units held back from this channel.
    #[serde(default)]
    pub buffer: i64,
    /// Share of what is left, in percent (0..=100).
    #[serde(default = "hundred")]
    pub percent: u8,
    /// The most this channel may show.
    #[serde(default)]
    pub max_listed: Option<i64>,
    /// Show 0 while availability is at or below this.
    #[serde(default)]
    pub zero_at_or_below: Option<i64>,
}

fn hundred() -> u8 {
    100
}

impl Default for ListingRule {
    fn default() -> Self {
        ListingRule { buffer: 0, percent: 100, max_listed: None, zero_at_or_below: None }
    }
}

/// Why a rule was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("buffer must be between 0 and {MAX_RULE_BUFFER}")]
    Buffer,
    #[error("percent must be between 0 and {MAX_RULE_PERCENT}")]
    Percent,
    #[error("max_listed must be between 0 and {MAX_RULE_LISTED}")]
    MaxListed,
    #[error("zero_at_or_below must be between 0 and {MAX_RULE_ZERO_AT_OR_BELOW}")]
    Threshold,
}

/// A rule as stored in the `listings` table, before it is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct StoredRule {
    pub buffer: i64,
    pub percent: i64,
    pub max_listed: Option<i64>,
    pub zero_at_or_below: Option<i64>,
}

impl StoredRule {
    /// The one mapping from a stored row to a [`ListingRule`]: a stored value out of bounds is a
    /// corrupt row and is refused loudly (never clamped into something nobody configured).
    pub fn rule(self) -> Result<ListingRule, RuleError> {
        let percent = u8::try_from(self.percent).map_err(|_| RuleError::Percent)?;
        let rule = ListingRule {
            buffer: self.buffer,
            percent,
            max_listed: self.max_listed,
            zero_at_or_below: self.zero_at_or_below,
        };
        rule.validate()?;
        Ok(rule)
    }
}

impl ListingRule {
    pub fn validate(&self) -> Result<(), RuleError> {
        if !(0..=MAX_RULE_BUFFER).contains(&self.buffer) {
            return Err(RuleError::Buffer);
        }
        if self.percent > MAX_RULE_PERCENT {
            return Err(RuleError::Percent);
        }
        if self.max_listed.is_some_and(|m| !(0..=MAX_RULE_LISTED).contains(&m)) {
            return Err(RuleError::MaxListed);
        }
        if self.zero_at_or_below.is_some_and(|z| !(0..=MAX_RULE_ZERO_AT_OR_BELOW).contains(&z)) {
            return Err(RuleError::Threshold);
        }
        Ok(())
    }

    /// The quantity to list for `available` units (negative `available` reads as 0).
    pub fn listed(&self, available: i64) -> i64 {
        let available = available.max(0);
        if self.zero_at_or_below.is_some_and(|z| available <= z) {
            return 0;
        }
        let after_buffer = (available - self.buffer.max(0)).max(0);
        let share = (i128::from(after_buffer) * i128::from(self.percent.min(100)) / 100) as i64;
        match self.max_listed {
            Some(m) => share.min(m.max(0)),
            None => share,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stored_rules_out_of_bounds_are_refused_not_clamped() {
        let ok = StoredRule { buffer: 2, percent: 50, max_listed: Some(10), zero_at_or_below: None };
        assert_eq!(ok.rule().map(|r| r.percent), Ok(50));
        assert_eq!(StoredRule { percent: 101, ..ok }.rule(), Err(RuleError::Percent));
        assert_eq!(StoredRule { percent: -1, ..ok }.rule(), Err(RuleError::Percent));
        assert_eq!(StoredRule { buffer: -3, ..ok }.rule(), Err(RuleError::Buffer));
    }

    #[test]
    fn examples() {
        let r = ListingRule { buffer: 2, percent: 50, max_listed: Some(10), zero_at_or_below: Some(3) };
        assert_eq!(r.listed(3), 0, "at the threshold");
        assert_eq!(r.listed(4), 1, "(4-2)*50%");
        assert_eq!(r.listed(100), 10, "capped");
        assert_eq!(ListingRule::default().listed(7), 7);
        assert_eq!(ListingRule::default().listed(-3), 0);
    }

    fn rule() -> impl Strategy<Value = ListingRule> {
        (0i64..50, 0u8..=100, proptest::option::of(0i64..100), proptest::option::of(0i64..20)).prop_map(
            |(buffer, percent, max_listed, zero_at_or_below)| ListingRule {
                buffer,
                percent,
                max_listed,
                zero_at_or_below,
            },
        )
    }

    proptest! {
        #[test]
        fn never_negative_never_above_available(r in rule(), a in -10i64..1_000) {
            let l = r.listed(a);
            prop_assert!(l >= 0);
            prop_assert!(l <= a.max(0));
        }

        #[test]
        fn monotone_in_available(r in rule(), a in 0i64..1_000, more in 0i64..100) {
            prop_assert!(r.listed(a) <= r.listed(a + more));
        }
    }
}
