//! What a live value means: the quantity a listing should show now, and the verdict on what the
//! platform shows.
//!
//! **A push in flight is not drift.** The platform lags StockEdge by design: a change committed a
//! moment ago is pushed by the queue consumer shortly after. A listing is *in flight* when its
//! sync record has not accepted the SKU's current version — it has a pending version (a push
//! failed or waits for a retry), or its last accepted version is older than the SKU's (the change
//! is still on the queue) — and then a difference is recorded (`in_flight`) but neither counted as
//! drift nor repaired: the push under way will set the platform's value, and the next
//! reconciliation judges the result. A listing whose record holds the SKU's current version and
//! whose platform shows something else was changed on the platform: drift.

use serde::Serialize;

use crate::catalog::ListingRule;
use crate::inbound::OnDrift;
use crate::sync::StockChanged;

/// The quantity a listing with `rule` should show for the SKU's `state` (its current
/// announcement; `None` for a SKU never stocked, which lists 0): the rule over the sellable
/// units, exactly as the sync planner computes what it pushes (`sync::coalesce`).
pub fn intended(rule: &ListingRule, state: Option<&StockChanged>) -> i64 {
    rule.listed(state.map_or(0, StockChanged::sellable))
}

/// Where a listing's pushes stand against the SKU's current version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InFlight {
    /// The SKU's current version (0: never stocked).
    pub current_version: u64,
    /// The version the listing last accepted, if any.
    pub last_version: Option<u64>,
    /// The newest version seen and not yet accepted, if any.
    pub pending_version: Option<u64>,
}

impl InFlight {
    /// Whether a push toward the current version is still under way (see the module docs).
    pub fn is_in_flight(&self) -> bool {
        let accepted = self.last_version.unwrap_or(0);
        let pending = self.pending_version.is_some_and(|p| p > accepted);
        pending || accepted < self.current_version
    }
}

/// The verdict on one live value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The platform shows what StockEdge intends.
    InSync,
    /// It differs, but a push is under way: not drift yet.
    InFlight,
    /// It differs and nothing StockEdge does explains it: push the intended quantity back.
    Repair,
    /// It differs; the channel says only to report it (`settings.on_drift = "flag"`).
    Flag,
}

impl Verdict {
    /// Whether this is drift (recorded in `drift_events`, counted in the run's `drifted`).
    pub fn is_drift(self) -> bool {
        matches!(self, Verdict::Repair | Verdict::Flag)
    }

    /// The `status` word stored and answered for the read.
    pub fn status(self) -> &'static str {
        match self {
            Verdict::InSync => "in_sync",
            Verdict::InFlight => "in_flight",
            Verdict::Repair | Verdict::Flag => "drifted",
        }
    }

    /// The `action` word (`repaired`, `flagged`), for drift.
    pub fn action(self) -> Option<&'static str> {
        match self {
            Verdict::Repair => Some("repaired"),
            Verdict::Flag => Some("flagged"),
            Verdict::InSync | Verdict::InFlight => None,
        }
    }
}

/// The verdict on `live` against `intended`, given where the listing's pushes stand and the
/// channel's `on_drift` setting.
pub fn decide(intended: i64, live: i64, flight: InFlight, on_drift: OnDrift) -> Verdict {
    if live == intended {
        Verdict::InSync
    } else if flight.is_in_flight() {
        Verdict::InFlight
    } else {
        match on_drift {
            OnDrift::PushBack => Verdict::Repair,
            OnDrift::Flag => Verdict::Flag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::Sku;
    use crate::time::Millis;

    fn settled(version: u64) -> InFlight {
        InFlight { current_version: version, last_version: Some(version), pending_version: None }
    }

    fn state(available: i64, oversold: i64) -> StockChanged {
        StockChanged::current(Sku::parse("A").expect("sku"), 3, available, available, oversold, Millis(0))
    }

    #[test]
    fn intended_is_the_rule_over_sellable_units() {
        let rule = ListingRule { buffer: 2, percent: 50, max_listed: None, zero_at_or_below: None };
        assert_eq!(intended(&rule, Some(&state(12, 0))), 5);
        assert_eq!(intended(&rule, Some(&state(12, 4))), 3, "units owed to oversold orders are not sellable");
        assert_eq!(intended(&rule, None), 0, "a SKU never stocked lists nothing");
    }

    #[test]
    fn equal_values_are_in_sync_whatever_is_in_flight() {
        let flying = InFlight { current_version: 4, last_version: Some(3), pending_version: Some(4) };
        assert_eq!(decide(5, 5, flying, OnDrift::PushBack), Verdict::InSync);
        assert_eq!(decide(5, 5, settled(4), OnDrift::Flag), Verdict::InSync);
    }

    #[test]
    fn a_difference_on_a_settled_listing_is_drift_repaired_or_flagged_by_the_channel_setting() {
        assert_eq!(decide(5, 9, settled(4), OnDrift::PushBack), Verdict::Repair);
        assert_eq!(decide(5, 0, settled(4), OnDrift::Flag), Verdict::Flag);
        assert!(Verdict::Repair.is_drift() && Verdict::Flag.is_drift());
        assert_eq!((Verdict::Repair.status(), Verdict::Repair.action()), ("drifted", Some("repaired")));
        assert_eq!(Verdict::Flag.action(), Some("flagged"));
    }

    #[test]
    fn a_difference_while_a_push_is_under_way_is_not_drift() {
        let queued = InFlight { current_version: 5, last_version: Some(4), pending_version: None };
        let failing = InFlight { current_version: 5, last_version: Some(4), pending_version: Some(5) };
        let never_pushed = InFlight { current_version: 5, last_version: None, pending_version: None };
        for f in [queued, failing, never_pushed] {
            assert!(f.is_in_flight());
            let v = decide(5, 9, f, OnDrift::PushBack);
            assert_eq!(v, Verdict::InFlight);
            assert!(!v.is_drift());
            assert_eq!((v.status(), v.action()), ("in_flight", None));
        }
        // A stale pending version (older than what was accepted) holds nothing back.
        let old_pending = InFlight { current_version: 5, last_version: Some(5), pending_version: Some(4) };
        assert_eq!(decide(5, 9, old_pending, OnDrift::PushBack), Verdict::Repair);
        // A SKU never stocked with no record: nothing in flight.
        let empty = InFlight { current_version: 0, last_version: None, pending_version: None };
        assert_eq!(decide(0, 3, empty, OnDrift::PushBack), Verdict::Repair);
    }
}
