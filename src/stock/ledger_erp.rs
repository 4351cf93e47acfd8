//! The ledger's side of ERP snapshots (`erp`): order documents kept for a location under an ERP,
//! their confirmed deliveries, and a snapshot line applied to on hand. Reserved and committed
//! units are never touched here.

use super::super::command::Effect;
use super::super::error::{Incomparable, LedgerError};
use super::super::ids::{Location, OrderKey};
use super::super::journal::{Cause, Op};
use super::super::levels::Deltas;
use super::Ledger;
use crate::erp::{self, Applied, Decision, Document, Pending, SnapshotLine, Track};
use crate::time::Millis;

impl Ledger {
    /// Refuses a new hold at `locations` when the ERP mastering one of them is behind: it has not
    /// been shown to have `erp::limits::MAX_PENDING_DOCUMENTS` of the SKU's order documents there.
    /// A hold is the one order change a storefront can still decline before it is made; sales,
    /// commits of holds already granted, cancellations and fulfilments happened elsewhere (or were
    /// promised) and are always recorded (`erp_note`).
    pub(super) fn erp_room<'a>(&self, mut locations: impl Iterator<Item = &'a Location>) -> Result<(), LedgerError> {
        match locations.find_map(|l| self.erp.get(l).filter(|t| t.is_full()).map(|t| (l, t))) {
            Some((location, t)) => Err(LedgerError::ErpBehind { location: location.clone(), pending: t.unconfirmed() }),
            None => Ok(()),
        }
    }

    /// Keeps an order document's change at `location` for the ERP, when the location is under one.
    /// Never refused and nothing forgotten: when the document makes the ERP behind (its
    /// unconfirmed documents reach the limit) the change carries an `erp_behind` alert.
    pub(super) fn erp_note(&mut self, location: &Location, document: Document, d: Deltas, now: Millis) {
        if d.on_hand == 0 && d.committed == 0 {
            return;
        }
        if let Some(track) = self.erp.get_mut(location) {
            let p = Pending { document, at: now, on_hand: d.on_hand, committed: d.committed, received: None };
            let seq = track.record(p);
            let unconfirmed = track.unconfirmed();
            if unconfirmed == erp::limits::MAX_PENDING_DOCUMENTS {
                self.changes.erp_behind.insert(location.clone(), unconfirmed);
            }
            self.changes.erp.insert(location.clone());
            self.changes.erp_documents.insert((location.clone(), seq));
        }
    }

    /// `Command::ErpReceived`: marks the order's documents received at the locations the
    /// confirmation covers (`erp::track::confirms_at`).
    pub(super) fn erp_received(
        &mut self,
        order: &OrderKey,
        through: Millis,
        at: Millis,
        locations: &[Location],
    ) -> Effect {
        let mut changed = false;
        for (location, track) in self.erp.iter_mut().filter(|(l, _)| erp::track::confirms_at(locations, l)) {
            for seq in track.receive(order, through, at) {
                self.changes.erp_documents.insert((location.clone(), seq));
                changed = true;
            }
        }
        if changed {
            Effect::Applied
        } else {
            Effect::Duplicate
        }
    }

    pub(super) fn erp_snapshot(&mut self, line: SnapshotLine, now: Millis) -> Result<Effect, LedgerError> {
        let quantity = line.figure.quantity;
        if !(-erp::limits::MAX_ERP_QUANTITY..=erp::limits::MAX_ERP_QUANTITY).contains(&quantity) {
            return Err(LedgerError::OutOfRange { field: "quantity".into(), value: quantity });
        }
        if line.as_of.is_empty() {
            return Err(LedgerError::OutOfRange { field: "as_of".into(), value: 0 });
        }
        let location = line.location.clone();
        let level = self.level(&location);
        let empty = Track::default();
        let decision = erp::decide(self.erp.get(&location).unwrap_or(&empty), &level, &line);
        let (on_hand, computed, seen) = match decision {
            Decision::Stale => return Ok(Effect::Stale),
            // A connector names its points one way; a line that cannot be ordered is refused.
            Decision::Incomparable { applied, snapshot } => {
                let points = Incomparable { location, given: line.as_of, applied, snapshot };
                return Err(LedgerError::IncomparableAsOf(Box::new(points)));
            }
            Decision::Apply { on_hand, computed, seen } => (on_hand, computed, seen),
        };
        let track = self.erp.entry(location.clone()).or_default();
        track.forget(&seen);
        for seq in seen {
            self.changes.erp_documents.remove(&(location.clone(), seq));
            self.changes.erp_forgotten.insert((location.clone(), seq));
        }
        track.applied =
            Some(Applied { snapshot: line.snapshot.clone(), as_of: line.as_of, figure: line.figure, at: now });
        self.changes.erp.insert(location.clone());
        if on_hand == level.on_hand && self.levels.contains_key(&location) {
            return Ok(Effect::InStep);
        }
        let cause = Cause {
            snapshot: Some(line.snapshot.to_string()),
            reason: (computed != on_hand).then(|| "erp_over_committed".to_owned()),
            ..Cause::default()
        };
        let d = Deltas { on_hand: on_hand - level.on_hand, ..Deltas::default() };
        self.transition(now, Op::ErpSnapshot, cause, vec![(location, d)]);
        Ok(Effect::Applied)
    }
}
