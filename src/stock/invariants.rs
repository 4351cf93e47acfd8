//! The ledger's full invariant sweep, O(holds + orders + locations). Checked after every command
//! in debug builds, and by the property tests and the simulation over random command sequences.
//! Release builds keep only the cheap assertions in [`Ledger::apply`] and its transitions (the
//! touched levels are non-negative, version and sequence move forward, a hold stays within the
//! backorder allowance); docs/architecture.md, "Invariants", says which is which.

use std::collections::BTreeMap;

use super::hold::Hold;
use super::hold::HoldStatus;
use super::ids::Location;
use super::ledger::Ledger;
use super::lend::Lend;

/// Checks that:
/// 1. no stored quantity is negative;
/// 2. `reserved` at each location is exactly the sum of the held holds' units there;
/// 3. `committed` at each location is exactly the sum of open (unshipped, uncancelled) order units;
/// 4. no hold or order line has a non-positive quantity, and no line shipped more than it sold;
/// 5. the deadline index lists exactly the holds that can expire;
/// 6. every lend's counters add up ([`lend_consistent`]).
pub fn check(ledger: &Ledger) -> Result<(), String> {
    let mut reserved: BTreeMap<&Location, i64> = BTreeMap::new();
    for h in ledger.holds() {
        for (loc, q) in &h.lines {
            if *q <= 0 {
                return Err(format!("hold {} has qty {q} at {loc}", h.id));
            }
            if h.status == HoldStatus::Held {
                *reserved.entry(loc).or_default() += q;
            }
        }
    }
    let mut committed: BTreeMap<Location, i64> = BTreeMap::new();
    for h in ledger.holds().filter(|h| h.status == HoldStatus::Committed) {
        if h.order.is_none() {
            return Err(format!("committed hold {} names no order", h.id));
        }
    }
    for (key, order) in ledger.orders() {
        for (id, line) in &order.lines {
            if line.qty <= 0 || line.fulfilled < 0 || line.fulfilled > line.qty {
                return Err(format!("order {key:?} line {id}: qty {} fulfilled {}", line.qty, line.fulfilled));
            }
            *committed.entry(line.location.clone()).or_default() += line.open();
        }
    }
    for (loc, l) in ledger.levels() {
        if l.on_hand < 0 || l.reserved < 0 || l.committed < 0 {
            return Err(format!("negative quantity at {loc}: {l:?}"));
        }
        let want_r = reserved.get(loc).copied().unwrap_or(0);
        if l.reserved != want_r {
            return Err(format!("reserved at {loc} is {} but holds sum to {want_r}", l.reserved));
        }
        let want_c = committed.get(loc).copied().unwrap_or(0);
        if l.committed != want_c {
            return Err(format!("committed at {loc} is {} but open orders sum to {want_c}", l.committed));
        }
    }
    for h in ledger.holds() {
        if let Some(l) = &h.lend {
            lend_consistent(h, l)?;
        }
    }
    if !ledger.deadlines_consistent() {
        return Err("the deadline index does not match the held holds".into());
    }
    if let Some(loc) = reserved.keys().find(|l| !ledger.levels().contains_key(**l)) {
        return Err(format!("holds at {loc}, which has no levels"));
    }
    Ok(())
}

/// A lend's counters add up: it lent at least one unit, none of its counters is negative,
/// committed and returned units never exceed what it lent, a held lend's single line is exactly
/// what remains (at least one unit), and a lend is never pinned.
pub fn lend_consistent(h: &Hold, l: &Lend) -> Result<(), String> {
    if l.lent < 1 || l.committed < 0 || l.returned < 0 || l.held < 0 || l.remaining() < 0 {
        return Err(format!("lend {} has counters {l:?}", h.id));
    }
    if h.pinned {
        return Err(format!("lend {} is pinned", h.id));
    }
    if h.status == HoldStatus::Held && (h.lines.len() != 1 || h.total() != l.remaining() || l.remaining() < 1) {
        return Err(format!("held lend {} has lines {:?} but {} remaining", h.id, h.lines, l.remaining()));
    }
    Ok(())
}
