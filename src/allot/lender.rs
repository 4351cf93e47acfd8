//! The SKU's side of lending: the calls an allotment (or the Worker) makes on a SKU's ledger
//! object about blocks, and the pure handler that answers them from the ledger and the SKU's
//! hot policy. Every change goes through [`Ledger::apply`], so it is journaled, persisted and
//! checked like any other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::hotness::AutoHot;
use super::policy::HotPolicy;
use crate::stock::{Command, HoldId, Ledger, LedgerError, Location, OrderKey, Report, Token};
use crate::time::Millis;

/// A call about lending, carried by `SkuAction::Lender`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "lender", rename_all = "snake_case")]
pub enum LenderCall {
    /// The SKU's hot policy (what the Worker caches).
    Policy,
    /// Set (`Some`) or clear (`None`) the SKU's hot policy.
    SetPolicy { policy: Option<HotPolicy> },
    /// Allotment `allotment` reports its blocks, then asks for block `lend` of `want` units.
    Borrow { lend: HoldId, allotment: u32, want: i64, reports: Vec<Report> },
    /// Allotment reports its blocks (units given back, units held).
    Report { reports: Vec<Report> },
    /// Commit `qty` units of block `lend` to `order` for allotment hold `hold`.
    Commit { lend: HoldId, hold: HoldId, qty: i64, order: OrderKey, channel: Option<Token>, reference: Option<String> },
}

/// The SKU's answer to a [`LenderCall`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum LenderReply {
    /// The SKU's hot policy in force (none: not hot); `automatic` when automatic hotness set it
    /// (`allot::hotness`).
    Policy {
        policy: Option<HotPolicy>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        automatic: Option<AutoHot>,
    },
    /// Block `lend` is lent: `qty` units at `location` until `expires_at`.
    Granted { lend: HoldId, location: Location, qty: i64, expires_at: Millis },
    /// The SKU is not hot (or not for this allotment): hold at the SKU instead.
    NotHot,
    /// No unit is free to lend.
    Short { available: i64 },
    /// Reports applied.
    Reported,
    /// The hold's units are committed (now, or by an earlier repeat of the call).
    Committed,
    /// The ledger refused the call (a commit whose block's lease ended: `hold_not_held`).
    Refused { error: LedgerError },
}

/// Applies reports one by one; a report the ledger refuses (about a lend that is not one) is
/// skipped: it cannot hold units back from anyone.
fn apply_reports(ledger: &mut Ledger, reports: Vec<Report>, now: Millis) {
    for report in reports {
        let _ = ledger.apply(Command::Report { report }, now);
    }
}

/// Answers `call` on `ledger` at `now` under `policy`, the policy in force. The SKU object answers
/// `Policy` and `SetPolicy` through `hotness::Hotness::serve`, which stores the policy and knows
/// its source; here they only echo a policy.
pub fn serve(ledger: &mut Ledger, policy: Option<&HotPolicy>, call: LenderCall, now: Millis) -> LenderReply {
    match call {
        LenderCall::Policy => LenderReply::Policy { policy: policy.copied(), automatic: None },
        LenderCall::SetPolicy { policy } => LenderReply::Policy { policy, automatic: None },
        LenderCall::Report { reports } => {
            apply_reports(ledger, reports, now);
            LenderReply::Reported
        }
        LenderCall::Borrow { lend, allotment, want, reports } => {
            apply_reports(ledger, reports, now);
            let Some(p) = policy.filter(|p| allotment < p.allotments) else { return LenderReply::NotHot };
            let expires_at = now.plus_seconds(p.lease_seconds);
            let qty = want.max(1);
            let cmd = Command::Lend { lend: lend.clone(), allotment, location: Location::main(), qty, expires_at };
            match ledger.apply(cmd, now) {
                Ok(_) => granted(ledger, &lend),
                Err(LedgerError::InsufficientStock { available, .. }) => LenderReply::Short { available },
                Err(error) => LenderReply::Refused { error },
            }
        }
        LenderCall::Commit { lend, hold, qty, order, channel, reference } => {
            match ledger.apply(Command::CommitLent { lend, hold, qty, order, channel, reference }, now) {
                Ok(_) => LenderReply::Committed,
                Err(error) => LenderReply::Refused { error },
            }
        }
    }
}

/// The grant of lend `lend` as the ledger holds it (a repeat of a borrow answers the same).
fn granted(ledger: &Ledger, lend: &HoldId) -> LenderReply {
    match ledger.hold(lend).and_then(|h| h.lend.as_ref().map(|l| (h, l))) {
        Some((h, l)) => LenderReply::Granted {
            lend: lend.clone(),
            location: h.lines.keys().next().cloned().unwrap_or_default(),
            qty: l.lent,
            expires_at: h.expires_at,
        },
        None => LenderReply::Refused { error: LedgerError::HoldNotFound },
    }
}

/// A block to ask back before a sale: the allotment, the lend and how many units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recall {
    pub allotment: u32,
    pub lend: HoldId,
    pub want: i64,
}

/// The blocks to ask back so that the sales among `commands` are covered by free units rather
/// than recorded oversold: per location, what the sales take beyond the free units and the
/// backorder room, asked of the live lends there, the most unlent units (as last reported)
/// first. The caller asks the first block it has not asked yet, applies its report and asks
/// again, until the list is empty (covered) or every block was asked. A sale is never refused;
/// if the blocks cannot give (customers hold their units, or a recall is lost), the sale is
/// recorded oversold, honestly.
pub fn recalls(ledger: &Ledger, commands: &[Command]) -> Vec<Recall> {
    let mut wanted: BTreeMap<Location, i64> = BTreeMap::new();
    for cmd in commands {
        if let Command::Sale { order, lines } = cmd {
            // Lines already recorded (a repeated sale) take nothing.
            let known = ledger.order(order);
            if known.is_some_and(|o| o.cancelled) {
                continue;
            }
            for l in lines.iter().filter(|l| !known.is_some_and(|o| o.lines.contains_key(&l.line_id))) {
                *wanted.entry(l.location.clone()).or_default() += l.qty;
            }
        }
    }
    let totals = ledger.totals();
    let mut room = (ledger.backorder_limit() - totals.shortfall()).max(0);
    let mut out = Vec::new();
    for (location, qty) in wanted {
        // `net` is below zero when the location is already short: ask for that too.
        let free = ledger.level(&location).net();
        let short = qty - free - room;
        room = (room - (qty - free.max(0)).max(0)).max(0);
        if short <= 0 {
            continue;
        }
        let mut lends: Vec<_> = ledger.live_lends().filter(|(h, _)| h.lines.contains_key(&location)).collect();
        lends.sort_by_key(|(h, l)| (std::cmp::Reverse(l.unlent()), h.id.clone()));
        // Each block is asked for all that is short; it gives only what no customer holds.
        for (h, l) in lends {
            out.push(Recall { allotment: l.allotment, lend: h.id.clone(), want: short.min(l.remaining()) });
        }
    }
    out
}
