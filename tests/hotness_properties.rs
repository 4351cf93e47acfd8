//! Property tests of a SKU's hotness (`allot::hotness`): random holds at the SKU's object, borrows
//! from allotments, reports giving blocks back, operators setting and clearing a policy, and a
//! clock that ends leases, on a real ledger. After every step:
//! - an operator's policy, while set, is the policy in force;
//! - automatic hotness never ends while a block is lent (units in a block are only reachable
//!   through the allotments, so routing must keep going there);
//! - with no operator policy and no block lent, the SKU is hot only within the cool-down after
//!   its last demand;
//! - it turns on only through a window of at least the threshold's holds, never with the rule off;
//! - every borrow answer agrees with the policy in force (`NotHot` exactly when there is none).
//!
//! 1,000 sequences of 1..=60 steps (`PROPTEST_CASES=N` for more).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use stockedge::allot::hotness::{AutoRule, HoldMeter, Hotness, Source};
use stockedge::allot::{HotPolicy, LenderCall, LenderReply};
use stockedge::stock::{Cause, Command, Ledger, Location, Report, Token};
use stockedge::time::Millis;

#[derive(Clone, Debug)]
enum Step {
    /// `n` holds at the SKU's object, `gap` ms apart.
    Holds {
        n: u32,
        gap: i64,
    },
    Borrow {
        allotment: u32,
        want: i64,
    },
    /// The allotment gives back everything it has not committed of its oldest live block.
    GiveBack,
    Operator(Option<HotPolicy>),
    Tick {
        ms: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1..12u32, 0..400i64).prop_map(|(n, gap)| Step::Holds { n, gap }),
        3 => (0..4u32, 1..12i64).prop_map(|(allotment, want)| Step::Borrow { allotment, want }),
        1 => Just(Step::GiveBack),
        1 => prop_oneof![Just(None), Just(Some(HotPolicy { allotments: 2, block: 4, lease_seconds: 20 }))]
            .prop_map(Step::Operator),
        2 => (0..30_000i64).prop_map(|ms| Step::Tick { ms }),
    ]
}

fn rule() -> impl Strategy<Value = AutoRule> {
    (prop_oneof![Just(None), (1..8u32).prop_map(Some)], 5..40i64, 500..20_000i64).prop_map(
        |(threshold, lease_seconds, cool_down_ms)| AutoRule {
            holds_per_second: threshold,
            policy: HotPolicy { allotments: 4, block: 5, lease_seconds },
            cool_down_ms,
        },
    )
}

struct World {
    ledger: Ledger,
    hotness: Hotness,
    meter: HoldMeter,
    rule: AutoRule,
    now: Millis,
    next_lend: u64,
    /// When the holds of the last second happened.
    holds_in_window: Vec<i64>,
}

impl World {
    fn live_lends(&self) -> bool {
        self.ledger.live_lends().next().is_some()
    }

    fn hold(&mut self) -> Result<(), TestCaseError> {
        let was = self.hotness.automatic;
        self.holds_in_window.retain(|t| self.now.0 - t < 1_000);
        self.holds_in_window.push(self.now.0);
        let changed = self.hotness.held(&mut self.meter, &self.rule, &self.ledger, self.now);
        if changed.automatic && self.hotness.automatic.is_some() && was != self.hotness.automatic {
            let threshold = self.rule.holds_per_second;
            prop_assert!(threshold.is_some(), "turned on with the rule off");
            // The meter's fixed window is within the last second: at least the threshold's holds
            // happened within it.
            prop_assert!(
                self.holds_in_window.len() as u32 >= threshold.unwrap_or(u32::MAX),
                "turned on after {} holds in the last second (threshold {threshold:?})",
                self.holds_in_window.len()
            );
        }
        Ok(())
    }

    fn serve(&mut self, call: LenderCall) -> LenderReply {
        self.hotness.serve(&mut self.ledger, call, self.now).0
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let in_force = self.hotness.effective(&self.ledger, self.now);
        if let Some(p) = self.hotness.operator {
            prop_assert_eq!(in_force, Some((p, Source::Operator)));
            return Ok(());
        }
        match (self.hotness.automatic, in_force) {
            (Some(a), None) => {
                prop_assert!(!self.live_lends(), "automatic hotness ended with a block lent");
                prop_assert!(self.now.0 >= a.last_demand.0 + a.cool_down_ms, "ended within its cool-down");
            }
            (Some(a), Some(_)) => prop_assert!(
                self.live_lends() || self.now.0 < a.last_demand.0 + a.cool_down_ms,
                "hot with no block lent and the cool-down over"
            ),
            (None, Some(_)) => prop_assert!(false, "hot with neither an operator nor automatic hotness"),
            (None, None) => {}
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn hotness_follows_demand_and_never_strands_lent_units(
        rule in rule(),
        on_hand in 0..60i64,
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut ledger = Ledger::new();
        let cause = Cause::default();
        ledger
            .apply(Command::Set { location: Location::main(), on_hand, expected_version: None, cause }, Millis(0))
            .expect("stock");
        let mut w = World {
            ledger,
            hotness: Hotness::default(),
            meter: HoldMeter::default(),
            rule,
            now: Millis(1_000),
            next_lend: 0,
            holds_in_window: Vec::new(),
        };
        for s in steps {
            match s {
                Step::Holds { n, gap } => {
                    for _ in 0..n {
                        w.hold()?;
                        w.check()?;
                        w.now = Millis(w.now.0 + gap);
                    }
                }
                Step::Borrow { allotment, want } => {
                    w.next_lend += 1;
                    let lend = Token::parse(&format!("lend.{allotment}.p.{}", w.next_lend)).expect("id");
                    let in_force = w.hotness.effective(&w.ledger, w.now);
                    let reply = w.serve(LenderCall::Borrow { lend, allotment, want, reports: vec![] });
                    match in_force {
                        Some((p, _)) if allotment < p.allotments => {
                            prop_assert!(reply != LenderReply::NotHot, "hot, yet a borrow was told not hot")
                        }
                        _ => prop_assert_eq!(reply, LenderReply::NotHot),
                    }
                }
                Step::GiveBack => {
                    let oldest = w.ledger.live_lends().next().map(|(h, l)| (h.id.clone(), l.lent - l.committed));
                    if let Some((lend, returned)) = oldest {
                        // `returned` is cumulative: everything not committed.
                        let report = Report { lend, returned, held: 0 };
                        w.serve(LenderCall::Report { reports: vec![report] });
                    }
                }
                Step::Operator(policy) => {
                    w.serve(LenderCall::SetPolicy { policy });
                    if policy.is_none() {
                        prop_assert_eq!(w.hotness, Hotness::default(), "turning ordinary ends automatic hotness");
                    }
                }
                Step::Tick { ms } => {
                    w.now = Millis(w.now.0 + ms);
                    w.ledger.expire_due(w.now);
                }
            }
            w.check()?;
        }
    }
}
