//! The ledger's side of lending blocks to allotments (`stock::lend`): lend, report, commit a
//! lent unit, and the reads the lender needs. A child of `ledger` so that it works on the same
//! private state with the same transitions; every change is journaled like any other.

use std::collections::BTreeMap;

use super::super::command::Effect;
use super::super::error::LedgerError;
use super::super::hold::{Hold, HoldStatus};
use super::super::ids::{HoldId, Location, OrderKey, Token};
use super::super::journal::{Cause, Op};
use super::super::lend::{Lend, Report};
use super::super::levels::Deltas;
use super::super::limits::MAX_LINE_QTY;
use super::super::order::{hold_line_id, OrderLine};
use super::Ledger;
use crate::erp::Document;
use crate::time::Millis;

impl Ledger {
    /// The lends still held (blocks out with an allotment), with their remaining units.
    pub fn live_lends(&self) -> impl Iterator<Item = (&Hold, &Lend)> {
        self.holds.values().filter(|h| h.status == HoldStatus::Held).filter_map(|h| h.lend.as_ref().map(|l| (h, l)))
    }

    /// Units lent out that no allotment customer holds, as last reported: what `available`
    /// reports on top of the shelf's free units.
    pub fn unlent(&self) -> i64 {
        self.live_lends().map(|(_, l)| l.unlent()).sum()
    }

    pub(super) fn lend(
        &mut self,
        id: HoldId,
        allotment: u32,
        location: Location,
        qty: i64,
        expires_at: Millis,
        now: Millis,
    ) -> Result<Effect, LedgerError> {
        if !(1..=MAX_LINE_QTY).contains(&qty) {
            return Err(LedgerError::OutOfRange { field: "qty".into(), value: qty });
        }
        if let Some(existing) = self.holds.get(&id) {
            return match &existing.lend {
                Some(l) if l.allotment == allotment => Ok(Effect::Duplicate),
                _ => Err(LedgerError::HoldConflict),
            };
        }
        let free = self.level(&location).available();
        let granted = qty.min(free);
        if granted < 1 {
            return Err(LedgerError::InsufficientStock { location, requested: qty, available: free });
        }
        let cause = Cause { reservation_id: Some(id.to_string()), reason: Some("lend".into()), ..Cause::default() };
        let d = Deltas { reserved: granted, ..Deltas::default() };
        self.transition(now, Op::Lend, cause, vec![(location.clone(), d)]);
        self.holds.insert(
            id.clone(),
            Hold {
                id: id.clone(),
                lines: BTreeMap::from([(location, granted)]),
                expires_at,
                status: HoldStatus::Held,
                pinned: false,
                channel: None,
                reference: None,
                order: None,
                updated_at: now,
                lend: Some(Lend::new(allotment, granted)),
            },
        );
        self.reindex(&id, None);
        self.changes.holds.insert(id);
        Ok(Effect::Applied)
    }

    /// The held lend `id`, its location and record; other holds and unknown ids are refused.
    fn held_lend(&self, id: &HoldId) -> Result<(Location, Lend), LedgerError> {
        let h = self.holds.get(id).ok_or(LedgerError::HoldNotFound)?;
        let lend = h.lend.clone().ok_or(LedgerError::HoldConflict)?;
        if h.status != HoldStatus::Held {
            return Err(LedgerError::HoldNotHeld(h.status));
        }
        let location = h.lines.keys().next().cloned().unwrap_or_default();
        Ok((location, lend))
    }

    /// Writes `lend`'s new counters: its line is what remains; with nothing left the lend ends
    /// released (its `lines` then show the block as lent).
    fn set_lend(&mut self, id: &HoldId, location: Location, lend: Lend, now: Millis) {
        let old = self.deadline_of(id);
        if let Some(h) = self.holds.get_mut(id) {
            let left = lend.remaining();
            if left > 0 {
                h.lines = BTreeMap::from([(location, left)]);
            } else {
                h.lines = BTreeMap::from([(location, lend.lent)]);
                h.status = HoldStatus::Released;
            }
            h.lend = Some(lend);
            h.updated_at = now;
        }
        self.reindex(id, old);
        self.changes.holds.insert(id.clone());
    }

    pub(super) fn report(&mut self, report: Report, now: Millis) -> Result<Effect, LedgerError> {
        let (location, mut lend) = match self.held_lend(&report.lend) {
            Err(LedgerError::HoldNotHeld(status)) => return Ok(Effect::HoldAlready(status)),
            other => other?,
        };
        if report.returned < 0 || report.held < 0 {
            return Err(LedgerError::OutOfRange { field: "report".into(), value: report.returned.min(report.held) });
        }
        let back = report.returned - lend.returned;
        if back > lend.remaining() {
            return Err(LedgerError::OutOfRange { field: "returned".into(), value: report.returned });
        }
        let effect = if back > 0 {
            let cause = Cause {
                reservation_id: Some(report.lend.to_string()),
                reason: Some("returned".into()),
                ..Cause::default()
            };
            let d = Deltas { reserved: -back, ..Deltas::default() };
            self.transition(now, Op::Return, cause, vec![(location.clone(), d)]);
            lend.returned = report.returned;
            Effect::Applied
        } else if report.held != lend.held {
            Effect::Applied
        } else {
            Effect::Duplicate
        };
        // The gauge moves without a version: it changes what `available` reports, not a level.
        lend.held = report.held;
        if effect == Effect::Applied {
            self.set_lend(&report.lend, location, lend, now);
        }
        Ok(effect)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn commit_lent(
        &mut self,
        lend_id: &HoldId,
        hold: HoldId,
        qty: i64,
        order: OrderKey,
        channel: Option<Token>,
        reference: Option<String>,
        now: Millis,
    ) -> Result<Effect, LedgerError> {
        if let Some(existing) = self.holds.get(&hold) {
            return match (existing.status, &existing.order) {
                (HoldStatus::Committed, Some(o)) if *o == order && existing.lend.is_none() => {
                    Ok(Effect::HoldAlready(HoldStatus::Committed))
                }
                _ => Err(LedgerError::HoldConflict),
            };
        }
        if !(1..=MAX_LINE_QTY).contains(&qty) {
            return Err(LedgerError::OutOfRange { field: "qty".into(), value: qty });
        }
        let (location, mut lend) = self.held_lend(lend_id)?;
        if qty > lend.remaining() {
            return Err(LedgerError::InsufficientStock { location, requested: qty, available: lend.remaining() });
        }
        let line_id = hold_line_id(&hold, &location)?;
        if self.orders.get(&order).is_some_and(|o| o.lines.contains_key(&line_id)) {
            return Err(LedgerError::HoldConflict);
        }
        // As a commit of a hold: an order cancelled first keeps its cancellation.
        let cancelled = self.orders.get(&order).is_some_and(|o| o.cancelled);
        let cause = Cause {
            reservation_id: Some(hold.to_string()),
            order_id: Some(order.order_id.to_string()),
            channel: Some(order.channel.to_string()),
            reference: reference.clone(),
            ..Cause::default()
        };
        let d = Deltas { reserved: -qty, committed: qty, ..Deltas::default() };
        self.transition(now, Op::Commit, cause.clone(), vec![(location.clone(), d)]);
        let doc = Document::Sale { order: order.clone(), lines: vec![line_id.clone()] };
        self.erp_note(&location, doc, d, now);
        if cancelled {
            let cause = Cause { reason: Some("order_cancelled".into()), ..cause };
            let back = Deltas { committed: -qty, ..Deltas::default() };
            self.transition(now, Op::Cancel, cause, vec![(location.clone(), back)]);
            self.erp_note(&location, Document::Cancel { order: order.clone() }, back, now);
        }
        let entry = self.orders.entry(order.clone()).or_default();
        entry.lines.insert(line_id, OrderLine { location: location.clone(), qty, fulfilled: 0, cancelled });
        self.changes.orders.insert(order.clone());
        lend.committed += qty;
        lend.held = (lend.held - qty).max(0);
        let expires_at = self.holds.get(lend_id).map(|h| h.expires_at).unwrap_or(now);
        self.set_lend(lend_id, location.clone(), lend, now);
        self.holds.insert(
            hold.clone(),
            Hold {
                id: hold.clone(),
                lines: BTreeMap::from([(location, qty)]),
                expires_at,
                status: HoldStatus::Committed,
                pinned: false,
                channel,
                reference,
                order: Some(order),
                updated_at: now,
                lend: None,
            },
        );
        self.changes.holds.insert(hold);
        Ok(Effect::Applied)
    }
}
