//! Whether a SKU is hot, and why: an operator's policy (`PUT /v1/skus/{sku}/policy`), or
//! automatic hotness when the SKU's object takes holds faster than a threshold.
//!
//! Pure: the SKU object keeps a [`Hotness`] (stored in `meta`) and a [`HoldMeter`] (memory only),
//! counts each single-SKU hold it takes with [`Hotness::held`], and answers every lender call
//! through [`Hotness::serve`], storing what they say changed in the same turn.
//!
//! Automatic hotness turns on when one window of [`AUTO_WINDOW_MS`] counts the rule's threshold
//! of holds; it sets the rule's policy. It stays on while demand lasts: each block an allotment
//! borrows under it counts as demand, since an automatically hot SKU's holds go to allotments and
//! its own object no longer sees them. It ends once the rule's cool-down has passed since the
//! last demand *and* no block is lent any more: until the last block's lease ends, holds keep
//! going to the allotments that hold its units, so no unit sits unlent in a block while a hold
//! at the SKU is refused for want of it. An operator's policy always wins; an operator turning a
//! SKU ordinary ends automatic hotness too (it may come back if the rate does).

use serde::{Deserialize, Serialize};

use super::lender::{self, LenderCall, LenderReply};
use super::limits::{
    AUTO_COOL_DOWN_MS, AUTO_POLICY, AUTO_WINDOW_MS, DEFAULT_AUTO_HOLDS_PER_SECOND, MAX_AUTO_HOLDS_PER_SECOND,
};
use super::policy::HotPolicy;
use crate::stock::Ledger;
use crate::time::Millis;

/// When automatic hotness turns on, what policy it sets and how long it outlasts its demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoRule {
    /// Holds within one window (one second) that make the SKU hot; `None`: never automatically.
    pub holds_per_second: Option<u32>,
    pub policy: HotPolicy,
    pub cool_down_ms: i64,
}

impl Default for AutoRule {
    fn default() -> Self {
        AutoRule::at(Some(DEFAULT_AUTO_HOLDS_PER_SECOND))
    }
}

impl AutoRule {
    /// The rule with the default policy and cool-down at `holds_per_second` (`None`: off).
    pub fn at(holds_per_second: Option<u32>) -> AutoRule {
        AutoRule { holds_per_second, policy: AUTO_POLICY, cool_down_ms: AUTO_COOL_DOWN_MS }
    }

    /// The rule a deployment's `HOT_AUTO_HOLDS_PER_SECOND` sets: absent or empty → the default,
    /// `0` → never automatically, `1..=MAX_AUTO_HOLDS_PER_SECOND` → that threshold.
    pub fn from_setting(setting: Option<&str>) -> Result<AutoRule, String> {
        let Some(s) = setting.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(AutoRule::default()) };
        match s.parse::<u32>() {
            Ok(0) => Ok(AutoRule::at(None)),
            Ok(n) if n <= MAX_AUTO_HOLDS_PER_SECOND => Ok(AutoRule::at(Some(n))),
            _ => Err(format!("must be a whole number 0..={MAX_AUTO_HOLDS_PER_SECOND} (0: never), not {s:?}")),
        }
    }
}

/// Automatic hotness as stored: the policy it set, when it began, and its last demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoHot {
    pub policy: HotPolicy,
    pub since: Millis,
    pub last_demand: Millis,
    /// How long it outlasts its last demand (ms).
    pub cool_down_ms: i64,
}

/// Holds counted in the current window (memory only: a restart starts counting again).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HoldMeter {
    window_start: i64,
    count: u32,
}

impl HoldMeter {
    /// Counts one hold at `now`; answers the holds of the current window, this one included.
    pub fn count(&mut self, now: Millis) -> u32 {
        if now.0 >= self.window_start + AUTO_WINDOW_MS || now.0 < self.window_start {
            *self = HoldMeter { window_start: now.0, count: 0 };
        }
        self.count = self.count.saturating_add(1);
        self.count
    }
}

/// Where a SKU's policy comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Operator,
    Automatic(AutoHot),
}

/// A SKU's hotness as stored (`meta` rows `hot` and `hot_auto`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hotness {
    pub operator: Option<HotPolicy>,
    pub automatic: Option<AutoHot>,
}

/// Which of the two rows a step changed, for the shell to write in the same turn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    pub operator: bool,
    pub automatic: bool,
}

impl Changed {
    pub fn any(self) -> bool {
        self.operator || self.automatic
    }
}

impl Hotness {
    /// The policy in force at `now` and its source (`None`: the SKU is ordinary).
    pub fn effective(&self, ledger: &Ledger, now: Millis) -> Option<(HotPolicy, Source)> {
        if let Some(p) = self.operator {
            return Some((p, Source::Operator));
        }
        let a = self.automatic?;
        let demanded = now.0 < a.last_demand.0.saturating_add(a.cool_down_ms);
        (demanded || ledger.live_lends().next().is_some()).then_some((a.policy, Source::Automatic(a)))
    }

    /// Counts a hold the SKU's own object took at `now`: turns automatic hotness on when its
    /// window reaches the rule's threshold, and forgets an automatic hotness that has ended.
    pub fn held(&mut self, meter: &mut HoldMeter, rule: &AutoRule, ledger: &Ledger, now: Millis) -> Changed {
        let mut changed = Changed::default();
        if self.operator.is_some() {
            return changed;
        }
        if self.automatic.is_some() {
            if self.effective(ledger, now).is_some() {
                return changed;
            }
            self.automatic = None;
            changed.automatic = true;
        }
        let Some(threshold) = rule.holds_per_second else { return changed };
        if meter.count(now) >= threshold {
            self.automatic =
                Some(AutoHot { policy: rule.policy, since: now, last_demand: now, cool_down_ms: rule.cool_down_ms });
            changed.automatic = true;
        }
        changed
    }

    /// The policy reply of [`LenderCall::Policy`] at `now`.
    pub fn reply(&self, ledger: &Ledger, now: Millis) -> LenderReply {
        match self.effective(ledger, now) {
            Some((policy, Source::Operator)) => LenderReply::Policy { policy: Some(policy), automatic: None },
            Some((policy, Source::Automatic(a))) => LenderReply::Policy { policy: Some(policy), automatic: Some(a) },
            None => LenderReply::Policy { policy: None, automatic: None },
        }
    }

    /// Answers `call` on `ledger` at `now` under the policy in force (`lender::serve`). An
    /// operator's `SetPolicy` replaces the operator's policy (turning the SKU ordinary ends
    /// automatic hotness too); a block granted under automatic hotness is demand that keeps it on.
    pub fn serve(&mut self, ledger: &mut Ledger, call: LenderCall, now: Millis) -> (LenderReply, Changed) {
        let mut changed = Changed::default();
        match call {
            LenderCall::SetPolicy { policy } => {
                self.operator = policy;
                changed.operator = true;
                if policy.is_none() && self.automatic.take().is_some() {
                    changed.automatic = true;
                }
                (self.reply(ledger, now), changed)
            }
            LenderCall::Policy => (self.reply(ledger, now), changed),
            call => {
                let in_force = self.effective(ledger, now);
                let reply = lender::serve(ledger, in_force.map(|(p, _)| p).as_ref(), call, now);
                // Only a borrow is granted. Written at most once a window: demand is what
                // matters, not each borrow.
                let demand =
                    matches!((&in_force, &reply), (Some((_, Source::Automatic(_))), LenderReply::Granted { .. }));
                if let Some(a) = self.automatic.as_mut().filter(|a| demand && now.0 >= a.last_demand.0 + AUTO_WINDOW_MS)
                {
                    a.last_demand = now;
                    changed.automatic = true;
                }
                (reply, changed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::limits::DEFAULT_TTL_SECONDS;
    use crate::stock::{Cause, Command, Location, Token};

    fn ledger(on_hand: i64) -> Ledger {
        let mut l = Ledger::new();
        let cause = Cause::default();
        l.apply(Command::Set { location: Location::main(), on_hand, expected_version: None, cause }, Millis(0))
            .expect("stock");
        l
    }

    fn rule(n: u32) -> AutoRule {
        AutoRule {
            holds_per_second: Some(n),
            policy: HotPolicy { allotments: 2, block: 3, lease_seconds: 30 },
            cool_down_ms: 10_000,
        }
    }

    fn borrow(h: &mut Hotness, l: &mut Ledger, n: u64, now: Millis) -> (LenderReply, Changed) {
        let lend = Token::parse(&format!("lend.0.x.{n}")).expect("id");
        h.serve(l, LenderCall::Borrow { lend, allotment: 0, want: 3, reports: vec![] }, now)
    }

    #[test]
    fn the_default_policy_is_valid_and_never_shortens_a_default_hold() {
        assert!(AUTO_POLICY.check().is_ok());
        let room_ms = AUTO_POLICY.lease_seconds * 1_000 - super::super::limits::LEASE_MARGIN_MS;
        assert!(room_ms >= DEFAULT_TTL_SECONDS * 1_000, "a default hold fits in an automatic lease");
    }

    #[test]
    fn the_setting_reads_default_off_or_a_threshold_and_refuses_the_rest() {
        assert_eq!(AutoRule::from_setting(None), Ok(AutoRule::default()));
        assert_eq!(AutoRule::from_setting(Some(" ")), Ok(AutoRule::default()));
        assert_eq!(AutoRule::from_setting(Some("0")).map(|r| r.holds_per_second), Ok(None));
        assert_eq!(AutoRule::from_setting(Some("20")).map(|r| r.holds_per_second), Ok(Some(20)));
        for bad in ["-1", "ten", "1.5", "1000001"] {
            assert!(AutoRule::from_setting(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_threshold_within_one_window_turns_it_on_and_slower_holds_never_do() {
        let l = ledger(50);
        let (mut h, mut m) = (Hotness::default(), HoldMeter::default());
        // 4 holds per window, each window: below a threshold of 5.
        for i in 0..40 {
            let changed = h.held(&mut m, &rule(5), &l, Millis(1_000 + i * 250));
            assert!(!changed.any(), "hold {i}");
        }
        assert_eq!(h.effective(&l, Millis(11_000)), None);
        // 5 within one window.
        for i in 0..5 {
            let changed = h.held(&mut m, &rule(5), &l, Millis(20_000 + i * 100));
            assert_eq!(changed.automatic, i == 4, "hold {i}");
        }
        let (policy, source) = h.effective(&l, Millis(20_500)).expect("hot");
        assert_eq!(policy, rule(5).policy);
        assert!(matches!(source, Source::Automatic(a) if a.since == Millis(20_400)));
        assert!(matches!(h.reply(&l, Millis(20_500)), LenderReply::Policy { policy: Some(_), automatic: Some(_) }));
    }

    #[test]
    fn an_off_rule_never_turns_it_on() {
        let l = ledger(50);
        let (mut h, mut m) = (Hotness::default(), HoldMeter::default());
        for i in 0..1_000 {
            assert!(!h.held(&mut m, &AutoRule::at(None), &l, Millis(1_000 + i)).any());
        }
        assert_eq!(h.automatic, None);
    }

    #[test]
    fn borrows_keep_it_on_and_it_cools_only_when_no_block_is_lent() {
        let mut l = ledger(50);
        let (mut h, mut m) = (Hotness::default(), HoldMeter::default());
        h.held(&mut m, &rule(1), &l, Millis(1_000));
        // A borrow at 9 s (within the cool-down) is granted and is demand.
        let (reply, changed) = borrow(&mut h, &mut l, 1, Millis(9_000));
        assert!(matches!(reply, LenderReply::Granted { qty: 3, .. }), "{reply:?}");
        assert!(changed.automatic);
        // 10 s after that borrow the cool-down has passed, but the block is lent until 39 s.
        assert!(h.effective(&l, Millis(25_000)).is_some());
        // Its lease ends: the ledger takes it back, and the SKU is ordinary again.
        l.expire_due(Millis(39_000));
        assert_eq!(h.effective(&l, Millis(39_000)), None);
        // A borrow now finds it not hot.
        assert_eq!(borrow(&mut h, &mut l, 2, Millis(39_500)).0, LenderReply::NotHot);
        // The next counted hold forgets it and starts counting afresh (and crosses again).
        let changed = h.held(&mut m, &rule(1), &l, Millis(40_000));
        assert!(changed.automatic);
        assert!(matches!(h.automatic, Some(a) if a.since == Millis(40_000)));
    }

    #[test]
    fn an_operator_policy_wins_and_turning_it_off_ends_automatic_hotness() {
        let mut l = ledger(50);
        let (mut h, mut m) = (Hotness::default(), HoldMeter::default());
        h.held(&mut m, &rule(1), &l, Millis(1_000));
        let op = HotPolicy { allotments: 8, block: 20, lease_seconds: 60 };
        let (reply, changed) = h.serve(&mut l, LenderCall::SetPolicy { policy: Some(op) }, Millis(2_000));
        assert_eq!(reply, LenderReply::Policy { policy: Some(op), automatic: None });
        assert_eq!(changed, Changed { operator: true, automatic: false });
        // Holds counted while an operator's policy stands change nothing.
        assert!(!h.held(&mut m, &rule(1), &l, Millis(3_000)).any());
        let (reply, changed) = h.serve(&mut l, LenderCall::SetPolicy { policy: None }, Millis(4_000));
        assert_eq!(reply, LenderReply::Policy { policy: None, automatic: None });
        assert_eq!(changed, Changed { operator: true, automatic: true });
        assert_eq!(h, Hotness::default());
    }
}
