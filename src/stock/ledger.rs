//! The ledger of one SKU: levels per location, holds, orders, version and journal.
//!
//! Sans-IO: [`Ledger::apply`] takes a command and the current time and changes the state in
//! memory; [`Ledger::take_changes`] hands the shell exactly what it must persist (in one storage
//! transaction) — dirty levels, holds and orders, and the new journal entries.

use std::collections::{BTreeMap, BTreeSet};

use super::command::{Accepted, Command, Effect, SaleLine};
use super::error::LedgerError;
use super::hold::{Hold, HoldStatus};
use super::ids::{HoldId, Location, OrderKey, Token};
use super::journal::{Cause, Entry, Op};
use super::levels::{Deltas, Levels, Totals};
use super::limits::{HOLD_RETENTION_MS, MAX_BACKORDER_LIMIT, MAX_LINE_QTY, MAX_ON_HAND};
use super::order::{hold_line_id, Order, OrderLine};
use crate::erp::{Document, Track};
use crate::time::Millis;

/// Everything the shell must write after one or more applied commands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub levels: BTreeSet<Location>,
    pub holds: BTreeSet<HoldId>,
    pub removed_holds: BTreeSet<HoldId>,
    pub orders: BTreeSet<OrderKey>,
    pub entries: Vec<Entry>,
    /// Version, sequence or backorder allowance moved.
    pub meta: bool,
    /// Locations whose ERP watermark (`erp::track::Head`: the snapshot applied, the next
    /// document number) changed.
    pub erp: BTreeSet<Location>,
    /// ERP pending documents added or changed (location, number): one row each.
    pub erp_documents: BTreeSet<(Location, u64)>,
    /// ERP pending documents the ERP was shown to have (location, number): their rows go.
    pub erp_forgotten: BTreeSet<(Location, u64)>,
    /// Locations whose ERP fell behind with this change (their unconfirmed documents reached
    /// `erp::limits::MAX_PENDING_DOCUMENTS`), with the count: the event carries an `erp_behind`
    /// alert for each.
    pub erp_behind: BTreeMap<Location, usize>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

/// The persisted state of a ledger, as loaded by the shell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub levels: BTreeMap<Location, Levels>,
    pub backorder_limit: i64,
    pub version: u64,
    pub last_seq: u64,
    pub holds: Vec<Hold>,
    pub orders: Vec<(OrderKey, Order)>,
    /// The locations under an ERP and what each keeps (`erp::Track`).
    pub erp: BTreeMap<Location, Track>,
}

#[derive(Clone, Debug, Default)]
pub struct Ledger {
    levels: BTreeMap<Location, Levels>,
    backorder_limit: i64,
    version: u64,
    last_seq: u64,
    holds: BTreeMap<HoldId, Hold>,
    /// Deadlines of the holds that can expire (held, not pinned), earliest first.
    deadlines: BTreeSet<(Millis, HoldId)>,
    orders: BTreeMap<OrderKey, Order>,
    /// Locations under an ERP (from their first applied snapshot on).
    erp: BTreeMap<Location, Track>,
    changes: Changes,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn restore(s: Snapshot) -> Self {
        let holds: BTreeMap<HoldId, Hold> = s.holds.into_iter().map(|h| (h.id.clone(), h)).collect();
        let deadlines = holds
            .values()
            .filter(|h| h.status == HoldStatus::Held && !h.pinned)
            .map(|h| (h.expires_at, h.id.clone()))
            .collect();
        Ledger {
            levels: s.levels,
            backorder_limit: s.backorder_limit,
            version: s.version,
            last_seq: s.last_seq,
            holds,
            deadlines,
            orders: s.orders.into_iter().collect(),
            erp: s.erp,
            changes: Changes::default(),
        }
    }

    /// Keeps the deadline index in step with hold `id`: indexed iff held and not pinned.
    fn reindex(&mut self, id: &HoldId, old_deadline: Option<Millis>) {
        if let Some(at) = old_deadline {
            self.deadlines.remove(&(at, id.clone()));
        }
        if let Some(h) = self.holds.get(id) {
            if h.status == HoldStatus::Held && !h.pinned {
                self.deadlines.insert((h.expires_at, id.clone()));
            }
        }
    }

    /// The indexed deadline of hold `id`, if it has one.
    fn deadline_of(&self, id: &HoldId) -> Option<Millis> {
        self.holds.get(id).filter(|h| h.status == HoldStatus::Held && !h.pinned).map(|h| h.expires_at)
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            levels: self.levels.clone(),
            backorder_limit: self.backorder_limit,
            version: self.version,
            last_seq: self.last_seq,
            holds: self.holds.values().cloned().collect(),
            orders: self.orders.iter().map(|(k, o)| (k.clone(), o.clone())).collect(),
            erp: self.erp.clone(),
        }
    }

    pub fn version(&self) -> u64 {
        self.version
    }
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }
    pub fn backorder_limit(&self) -> i64 {
        self.backorder_limit
    }
    pub fn levels(&self) -> &BTreeMap<Location, Levels> {
        &self.levels
    }
    pub fn level(&self, location: &Location) -> Levels {
        self.levels.get(location).copied().unwrap_or_default()
    }
    pub fn hold(&self, id: &HoldId) -> Option<&Hold> {
        self.holds.get(id)
    }
    pub fn holds(&self) -> impl Iterator<Item = &Hold> {
        self.holds.values()
    }
    pub fn orders(&self) -> impl Iterator<Item = (&OrderKey, &Order)> {
        self.orders.iter()
    }
    pub fn order(&self, key: &OrderKey) -> Option<&Order> {
        self.orders.get(key)
    }
    /// The ERP track of `location`, if it is under an ERP.
    pub fn erp_track(&self, location: &Location) -> Option<&Track> {
        self.erp.get(location)
    }
    pub fn totals(&self) -> Totals {
        Totals::of(self.levels.values(), self.backorder_limit)
    }

    /// The earliest deadline of a hold that can expire; the shell sets its alarm to it.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Whether the deadline index lists exactly the held, unpinned holds (an invariant).
    pub fn deadlines_consistent(&self) -> bool {
        let expected: BTreeSet<(Millis, HoldId)> = self
            .holds
            .values()
            .filter(|h| h.status == HoldStatus::Held && !h.pinned)
            .map(|h| (h.expires_at, h.id.clone()))
            .collect();
        expected == self.deadlines
    }

    /// Hands over what changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// Expires every unpinned hold whose deadline is at or before `now`. Idempotent.
    /// Returns how many holds expired.
    pub fn expire_due(&mut self, now: Millis) -> usize {
        let due: Vec<HoldId> =
            self.deadlines.iter().take_while(|(at, _)| *at <= now).map(|(_, id)| id.clone()).collect();
        for id in &due {
            self.end_hold(id, HoldStatus::Expired, Op::Expire, now, Some("ttl"));
        }
        due.len()
    }

    /// Forgets terminal holds last touched before `now − HOLD_RETENTION_MS`.
    pub fn prune(&mut self, now: Millis) -> usize {
        let cutoff = Millis(now.0 - HOLD_RETENTION_MS);
        let old: Vec<HoldId> = self
            .holds
            .values()
            .filter(|h| h.status != HoldStatus::Held && h.updated_at < cutoff)
            .map(|h| h.id.clone())
            .collect();
        for id in &old {
            self.holds.remove(id);
            self.changes.holds.remove(id);
            self.changes.removed_holds.insert(id.clone());
        }
        old.len()
    }

    /// Applies `cmd` at `now`, after expiring the holds that are due. A refused command changes
    /// nothing (the expiry before it stands).
    ///
    /// Asserted in every build, release included (cheap, on what the command touched): no level
    /// it touched holds a negative quantity, the version and journal sequence only move forward,
    /// and a hold leaves the shortfall within the backorder allowance (or no worse than before).
    /// Lending (`Lend`, `Report`, `CommitLent`) never grows the shortfall: units lent, held by
    /// allotments' customers and committed from lends stay within what the SKU may sell.
    /// A failed assertion panics: the call fails and nothing of it is written (the shell persists
    /// [`take_changes`](Self::take_changes) only after `apply` returns). The full sweep,
    /// [`invariants::check`](super::invariants::check), runs after every command in debug builds
    /// and tests only.
    pub fn apply(&mut self, cmd: Command, now: Millis) -> Result<Accepted, LedgerError> {
        let (version_before, seq_before) = (self.version, self.last_seq);
        self.expire_due(now);
        // Lending, reports and commits of lent units only move units a lend already holds.
        let lending = matches!(cmd, Command::Lend { .. } | Command::Report { .. } | Command::CommitLent { .. });
        let shortfall_before = if lending { self.totals().shortfall() } else { 0 };
        // A location whose ERP is behind takes no new holds; order changes are always recorded.
        match &cmd {
            Command::Reserve { hold, lines, .. } if !self.holds.contains_key(hold) => {
                self.erp_room(lines.iter().map(|(l, _)| l))?
            }
            Command::Lend { lend, location, .. } if !self.holds.contains_key(lend) => {
                self.erp_room(std::iter::once(location))?
            }
            _ => {}
        }
        let effect = match cmd {
            Command::Set { location, on_hand, expected_version, cause } => {
                self.set(location, on_hand, expected_version, cause, now)?
            }
            Command::Adjust { location, delta, cause } => self.adjust(location, delta, cause, now)?,
            Command::Policy { backorder_limit } => self.policy(backorder_limit, now)?,
            Command::Reserve { hold, lines, expires_at, channel, reference } => {
                self.reserve(hold, lines, expires_at, channel, reference, now)?
            }
            Command::Extend { hold, expires_at } => self.extend(&hold, expires_at, now)?,
            Command::Pin { hold } => self.pin(&hold, true, now)?,
            Command::Unpin { hold } => self.pin(&hold, false, now)?,
            Command::Commit { hold, order } => self.commit(&hold, order, now)?,
            Command::Release { hold } => self.release(&hold, now)?,
            Command::Sale { order, lines } => self.sale(order, lines, now)?,
            Command::Cancel { order, reason } => self.cancel(order, reason, now)?,
            Command::Fulfil { order, location, qty, shipment } => self.fulfil(order, location, qty, shipment, now)?,
            Command::Lend { lend, allotment, location, qty, expires_at } => {
                self.lend(lend, allotment, location, qty, expires_at, now)?
            }
            Command::Report { report } => self.report(report, now)?,
            Command::CommitLent { lend, hold, qty, order, channel, reference } => {
                self.commit_lent(&lend, hold, qty, order, channel, reference, now)?
            }
            Command::ErpSnapshot { line } => self.erp_snapshot(*line, now)?,
            Command::ErpReceived { order, through, at, locations } => {
                self.erp_received(&order, through, at, &locations)
            }
        };
        assert!(
            !lending || self.totals().shortfall() <= shortfall_before,
            "ledger: lending left a shortfall of {} ({shortfall_before} before)",
            self.totals().shortfall()
        );
        assert!(
            self.version >= version_before && self.last_seq >= seq_before,
            "ledger: version or sequence went back ({version_before}, {seq_before} → {}, {})",
            self.version,
            self.last_seq
        );
        #[cfg(debug_assertions)]
        if let Err(v) = super::invariants::check(self) {
            panic!("ledger invariant violated: {v}");
        }
        Ok(Accepted { effect, version: self.version })
    }

    // --- transitions -------------------------------------------------------------------------

    /// Bumps the version and journals `deltas` (one entry per location) under `op`.
    fn transition(&mut self, now: Millis, op: Op, cause: Cause, deltas: Vec<(Location, Deltas)>) {
        self.version += 1;
        self.changes.meta = true;
        for (location, d) in deltas {
            let level = self.levels.entry(location.clone()).or_default();
            d.apply_to(level);
            assert!(
                level.on_hand >= 0 && level.reserved >= 0 && level.committed >= 0,
                "ledger: {op:?} left a negative quantity at {location}: {level:?}"
            );
            self.changes.levels.insert(location.clone());
            self.last_seq += 1;
            self.changes.entries.push(Entry {
                seq: self.last_seq,
                at: now,
                op,
                location,
                deltas: d,
                cause: cause.clone(),
                version: self.version,
            });
        }
    }

    fn set(
        &mut self,
        location: Location,
        on_hand: i64,
        expected: Option<u64>,
        cause: Cause,
        now: Millis,
    ) -> Result<Effect, LedgerError> {
        if !(0..=MAX_ON_HAND).contains(&on_hand) {
            return Err(LedgerError::OutOfRange { field: "on_hand".into(), value: on_hand });
        }
        if let Some(expected) = expected {
            if expected != self.version {
                return Err(LedgerError::VersionConflict { expected, actual: self.version });
            }
        }
        let current = self.level(&location).on_hand;
        if current == on_hand && self.levels.contains_key(&location) {
            return Ok(Effect::Duplicate);
        }
        let op = if cause.import_id.is_some() { Op::Import } else { Op::Set };
        let d = Deltas { on_hand: on_hand - current, ..Deltas::default() };
        self.transition(now, op, cause, vec![(location, d)]);
        Ok(Effect::Applied)
    }

    fn adjust(&mut self, location: Location, delta: i64, cause: Cause, now: Millis) -> Result<Effect, LedgerError> {
        let would_be = self.level(&location).on_hand.saturating_add(delta);
        if would_be < 0 {
            return Err(LedgerError::NegativeOnHand { location, would_be });
        }
        if would_be > MAX_ON_HAND {
            return Err(LedgerError::OutOfRange { field: "on_hand".into(), value: would_be });
        }
        let op = if cause.import_id.is_some() { Op::Import } else { Op::Adjust };
        let d = Deltas { on_hand: delta, ..Deltas::default() };
        self.transition(now, op, cause, vec![(location, d)]);
        Ok(Effect::Applied)
    }

    fn policy(&mut self, limit: i64, now: Millis) -> Result<Effect, LedgerError> {
        if !(0..=MAX_BACKORDER_LIMIT).contains(&limit) {
            return Err(LedgerError::OutOfRange { field: "backorder_limit".into(), value: limit });
        }
        if limit == self.backorder_limit {
            return Ok(Effect::Duplicate);
        }
        self.backorder_limit = limit;
        let cause = Cause { backorder_limit: Some(limit), ..Cause::default() };
        self.transition(now, Op::Policy, cause, vec![(Location::main(), Deltas::default())]);
        Ok(Effect::Applied)
    }

    fn reserve(
        &mut self,
        id: HoldId,
        lines: Vec<(Location, i64)>,
        expires_at: Millis,
        channel: Option<Token>,
        reference: Option<String>,
        now: Millis,
    ) -> Result<Effect, LedgerError> {
        let mut merged: BTreeMap<Location, i64> = BTreeMap::new();
        for (location, qty) in lines {
            if !(1..=MAX_LINE_QTY).contains(&qty) {
                return Err(LedgerError::OutOfRange { field: "qty".into(), value: qty });
            }
            *merged.entry(location).or_default() += qty;
        }
        if merged.is_empty() {
            return Err(LedgerError::OutOfRange { field: "lines".into(), value: 0 });
        }
        if let Some(existing) = self.holds.get(&id) {
            if existing.lines != merged || existing.lend.is_some() {
                return Err(LedgerError::HoldConflict);
            }
            // A repeat of a live hold is a no-op; a hold that has ended cannot hold again.
            return match existing.status {
                HoldStatus::Held => Ok(Effect::Duplicate),
                other => Err(LedgerError::HoldNotHeld(other)),
            };
        }
        // A hold may not push the shortfall past the backorder allowance (nor grow it once past).
        let before = self.totals().shortfall();
        let room = (self.backorder_limit - before).max(0);
        let mut after = self.levels.clone();
        for (location, qty) in &merged {
            after.entry(location.clone()).or_default().reserved += *qty;
        }
        let shortfall_after = Totals::of(after.values(), self.backorder_limit).shortfall();
        if shortfall_after > before && shortfall_after > self.backorder_limit {
            // Report the first line that cannot be covered, with what that location could give.
            let (location, requested) = merged
                .iter()
                .find(|(l, q)| **q > self.level(l).available() + room)
                .or_else(|| merged.iter().next())
                .map(|(l, q)| (l.clone(), *q))
                .unwrap_or_else(|| (Location::main(), 0));
            let available = self.level(&location).available() + room;
            return Err(LedgerError::InsufficientStock { location, requested, available });
        }
        let cause = Cause {
            reservation_id: Some(id.to_string()),
            channel: channel.as_ref().map(|c| c.to_string()),
            reference: reference.clone(),
            ..Cause::default()
        };
        let deltas = merged.iter().map(|(l, q)| (l.clone(), Deltas { reserved: *q, ..Deltas::default() })).collect();
        self.transition(now, Op::Reserve, cause, deltas);
        let shortfall = self.totals().shortfall();
        assert!(
            shortfall <= before.max(self.backorder_limit),
            "ledger: hold {id} left a shortfall of {shortfall} (allowance {}, {before} before)",
            self.backorder_limit
        );
        self.holds.insert(
            id.clone(),
            Hold {
                id: id.clone(),
                lines: merged,
                expires_at,
                status: HoldStatus::Held,
                pinned: false,
                channel,
                reference,
                order: None,
                updated_at: now,
                lend: None,
            },
        );
        self.reindex(&id, None);
        self.changes.holds.insert(id);
        Ok(Effect::Applied)
    }

    /// The hold `id` if it is held; otherwise the error or terminal effect to answer with.
    /// A lend is not a hold of a checkout: these commands refuse it as another hold's id.
    fn held(&self, id: &HoldId) -> Result<&Hold, LedgerError> {
        match self.holds.get(id) {
            None => Err(LedgerError::HoldNotFound),
            Some(h) if h.lend.is_some() => Err(LedgerError::HoldConflict),
            Some(h) if h.status == HoldStatus::Held => Ok(h),
            Some(h) => Err(LedgerError::HoldNotHeld(h.status)),
        }
    }

    fn extend(&mut self, id: &HoldId, expires_at: Millis, now: Millis) -> Result<Effect, LedgerError> {
        let hold = self.held(id)?;
        if hold.expires_at == expires_at {
            return Ok(Effect::Duplicate);
        }
        let locations: Vec<Location> = hold.lines.keys().cloned().collect();
        let cause = Cause { reservation_id: Some(id.to_string()), ..Cause::default() };
        self.transition(now, Op::Extend, cause, locations.into_iter().map(|l| (l, Deltas::default())).collect());
        let old = self.deadline_of(id);
        if let Some(h) = self.holds.get_mut(id) {
            h.expires_at = expires_at;
            h.updated_at = now;
        }
        self.reindex(id, old);
        self.changes.holds.insert(id.clone());
        Ok(Effect::Applied)
    }

    fn pin(&mut self, id: &HoldId, pinned: bool, now: Millis) -> Result<Effect, LedgerError> {
        match self.holds.get(id).map(|h| (h.status, h.lend.is_some())) {
            None => return Err(LedgerError::HoldNotFound),
            Some((_, true)) => return Err(LedgerError::HoldConflict),
            // Unpinning a hold that is no longer held has nothing to undo.
            Some((status, false)) if status != HoldStatus::Held => {
                return if pinned { Err(LedgerError::HoldNotHeld(status)) } else { Ok(Effect::HoldAlready(status)) };
            }
            Some(_) => {}
        }
        let old = self.deadline_of(id);
        if let Some(h) = self.holds.get_mut(id) {
            if h.pinned == pinned {
                return Ok(Effect::Duplicate);
            }
            h.pinned = pinned;
            h.updated_at = now;
        }
        self.reindex(id, old);
        self.changes.holds.insert(id.clone());
        if !pinned {
            self.expire_due(now);
        }
        Ok(Effect::Applied)
    }

    fn commit(&mut self, id: &HoldId, order: OrderKey, now: Millis) -> Result<Effect, LedgerError> {
        let hold = match self.held(id) {
            Err(LedgerError::HoldNotHeld(HoldStatus::Committed)) => {
                return Ok(Effect::HoldAlready(HoldStatus::Committed))
            }
            other => other?,
        };
        let lines = hold.lines.clone();
        let mut line_ids = Vec::with_capacity(lines.len());
        for location in lines.keys() {
            let line_id = hold_line_id(id, location)?;
            if self.orders.get(&order).is_some_and(|o| o.lines.contains_key(&line_id)) {
                return Err(LedgerError::HoldConflict);
            }
            line_ids.push(line_id);
        }
        // Commit into an order that was cancelled first: the cancellation wins — the hold ends
        // committed (its cart stays whole) and its units return to available at once.
        let cancelled = self.orders.get(&order).is_some_and(|o| o.cancelled);
        let cause = Cause {
            reservation_id: Some(id.to_string()),
            order_id: Some(order.order_id.to_string()),
            channel: Some(order.channel.to_string()),
            ..Cause::default()
        };
        let deltas = lines
            .iter()
            .map(|(l, q)| (l.clone(), Deltas { reserved: -q, committed: *q, ..Deltas::default() }))
            .collect();
        self.transition(now, Op::Commit, cause.clone(), deltas);
        for ((location, q), line_id) in lines.iter().zip(&line_ids) {
            let doc = Document::Sale { order: order.clone(), lines: vec![line_id.clone()] };
            self.erp_note(location, doc, Deltas { committed: *q, ..Deltas::default() }, now);
        }
        if cancelled {
            let back = lines.iter().map(|(l, q)| (l.clone(), Deltas { committed: -q, ..Deltas::default() })).collect();
            let cause = Cause { reason: Some("order_cancelled".into()), ..cause };
            self.transition(now, Op::Cancel, cause, back);
            for (location, q) in &lines {
                let doc = Document::Cancel { order: order.clone() };
                self.erp_note(location, doc, Deltas { committed: -q, ..Deltas::default() }, now);
            }
        }
        let old = self.deadline_of(id);
        let entry = self.orders.entry(order.clone()).or_default();
        for ((location, qty), line_id) in lines.iter().zip(line_ids) {
            entry.lines.insert(line_id, OrderLine { location: location.clone(), qty: *qty, fulfilled: 0, cancelled });
        }
        self.changes.orders.insert(order.clone());
        if let Some(h) = self.holds.get_mut(id) {
            h.status = HoldStatus::Committed;
            h.pinned = false;
            h.order = Some(order);
            h.updated_at = now;
        }
        self.reindex(id, old);
        self.changes.holds.insert(id.clone());
        Ok(Effect::Applied)
    }

    fn release(&mut self, id: &HoldId, now: Millis) -> Result<Effect, LedgerError> {
        match self.held(id) {
            Ok(_) => {}
            Err(LedgerError::HoldNotHeld(s @ (HoldStatus::Released | HoldStatus::Expired))) => {
                return Ok(Effect::HoldAlready(s))
            }
            Err(e) => return Err(e),
        }
        self.end_hold(id, HoldStatus::Released, Op::Release, now, None);
        Ok(Effect::Applied)
    }

    /// Ends a held hold: its units leave `reserved`.
    /// A lend's units go back with `op` `return` (reason `lease_ended` when its lease ran out).
    fn end_hold(&mut self, id: &HoldId, status: HoldStatus, op: Op, now: Millis, reason: Option<&str>) {
        let old = self.deadline_of(id);
        let Some(h) = self.holds.get_mut(id) else { return };
        h.status = status;
        h.pinned = false;
        h.updated_at = now;
        let lines = h.lines.clone();
        let (op, reason) = match (&h.lend, status) {
            (Some(_), HoldStatus::Expired) => (Op::Return, Some("lease_ended")),
            (Some(_), _) => (Op::Return, reason),
            (None, _) => (op, reason),
        };
        let cause =
            Cause { reservation_id: Some(id.to_string()), reason: reason.map(str::to_owned), ..Cause::default() };
        let deltas = lines.iter().map(|(l, q)| (l.clone(), Deltas { reserved: -q, ..Deltas::default() })).collect();
        self.transition(now, op, cause, deltas);
        self.reindex(id, old);
        self.changes.holds.insert(id.clone());
    }

    fn sale(&mut self, key: OrderKey, lines: Vec<SaleLine>, now: Millis) -> Result<Effect, LedgerError> {
        for l in &lines {
            if !(1..=MAX_LINE_QTY).contains(&l.qty) {
                return Err(LedgerError::OutOfRange { field: "qty".into(), value: l.qty });
            }
        }
        let existing = self.orders.get(&key);
        if existing.is_some_and(|o| o.cancelled) {
            return Ok(Effect::OrderAlreadyCancelled);
        }
        let mut fresh: BTreeMap<Token, SaleLine> = BTreeMap::new();
        for l in lines {
            let known = existing.is_some_and(|o| o.lines.contains_key(&l.line_id));
            if !known && !fresh.contains_key(&l.line_id) {
                fresh.insert(l.line_id.clone(), l);
            }
        }
        if fresh.is_empty() {
            return Ok(Effect::Duplicate);
        }
        let mut per_location: BTreeMap<Location, i64> = BTreeMap::new();
        for l in fresh.values() {
            *per_location.entry(l.location.clone()).or_default() += l.qty;
        }
        let cause = Cause {
            order_id: Some(key.order_id.to_string()),
            channel: Some(key.channel.to_string()),
            line_id: (fresh.len() == 1).then(|| fresh.keys().next().map(|k| k.to_string())).flatten(),
            line_ids: if fresh.len() > 1 { fresh.keys().map(|k| k.to_string()).collect() } else { Vec::new() },
            ..Cause::default()
        };
        let deltas: Vec<(Location, Deltas)> =
            per_location.into_iter().map(|(l, q)| (l, Deltas { committed: q, ..Deltas::default() })).collect();
        self.transition(now, Op::Sale, cause, deltas.clone());
        for (location, d) in deltas {
            let lines = fresh.iter().filter(|(_, l)| l.location == location).map(|(id, _)| id.clone()).collect();
            self.erp_note(&location, Document::Sale { order: key.clone(), lines }, d, now);
        }
        let order = self.orders.entry(key.clone()).or_default();
        for (id, l) in fresh {
            order.lines.insert(id, OrderLine { location: l.location, qty: l.qty, fulfilled: 0, cancelled: false });
        }
        self.changes.orders.insert(key);
        Ok(Effect::Applied)
    }

    fn cancel(&mut self, key: OrderKey, reason: Option<String>, now: Millis) -> Result<Effect, LedgerError> {
        let cause = Cause {
            order_id: Some(key.order_id.to_string()),
            channel: Some(key.channel.to_string()),
            reason,
            ..Cause::default()
        };
        let order = match self.orders.get(&key) {
            Some(o) if o.cancelled => return Ok(Effect::Duplicate),
            Some(o) => o,
            None => {
                // Tombstone: the sale has not arrived; when it does, it is ignored.
                self.transition(now, Op::Cancel, cause, vec![(Location::main(), Deltas::default())]);
                self.orders.insert(key.clone(), Order { cancelled: true, ..Order::default() });
                self.changes.orders.insert(key);
                return Ok(Effect::Applied);
            }
        };
        let mut per_location: BTreeMap<Location, i64> = BTreeMap::new();
        for line in order.lines.values() {
            *per_location.entry(line.location.clone()).or_default() += line.open();
        }
        let deltas: Vec<(Location, Deltas)> =
            per_location.into_iter().map(|(l, q)| (l, Deltas { committed: -q, ..Deltas::default() })).collect();
        self.transition(now, Op::Cancel, cause, deltas.clone());
        for (location, d) in deltas {
            self.erp_note(&location, Document::Cancel { order: key.clone() }, d, now);
        }
        if let Some(o) = self.orders.get_mut(&key) {
            o.cancelled = true;
            for line in o.lines.values_mut() {
                line.cancelled = true;
            }
        }
        self.changes.orders.insert(key);
        Ok(Effect::Applied)
    }

    fn fulfil(
        &mut self,
        key: OrderKey,
        location: Location,
        qty: i64,
        shipment: Token,
        now: Millis,
    ) -> Result<Effect, LedgerError> {
        if !(1..=MAX_LINE_QTY).contains(&qty) {
            return Err(LedgerError::OutOfRange { field: "qty".into(), value: qty });
        }
        let order = self.orders.get(&key).ok_or(LedgerError::OrderNotFound)?;
        if order.shipments.contains(&shipment) {
            return Ok(Effect::Duplicate);
        }
        let open = order.open_at(&location);
        if qty > open {
            return Err(LedgerError::OverFulfilment { location, requested: qty, open });
        }
        let on_hand = self.level(&location).on_hand;
        if qty > on_hand {
            return Err(LedgerError::NotOnHand { location, requested: qty, on_hand });
        }
        let cause = Cause {
            order_id: Some(key.order_id.to_string()),
            channel: Some(key.channel.to_string()),
            ..Cause::default()
        };
        let d = Deltas { on_hand: -qty, committed: -qty, ..Deltas::default() };
        self.transition(now, Op::Fulfil, cause, vec![(location.clone(), d)]);
        self.erp_note(&location, Document::Fulfil { order: key.clone(), shipment: shipment.clone() }, d, now);
        let mut left = qty;
        if let Some(o) = self.orders.get_mut(&key) {
            o.shipments.insert(shipment);
            for line in o.lines.values_mut().filter(|l| l.location == location) {
                let take = line.open().min(left);
                line.fulfilled += take;
                left -= take;
            }
        }
        self.changes.orders.insert(key);
        Ok(Effect::Applied)
    }
}

#[path = "ledger_lend.rs"]
mod lending;

#[path = "ledger_erp.rs"]
mod erp_snapshots;

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
