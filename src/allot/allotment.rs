//! The holder's side: one allotment of a hot SKU answers holds from the blocks its SKU lent it.
//!
//! Sans-IO: each step changes the state in memory and says what to send to the SKU
//! ([`LenderCall`]); the shell persists ([`Allotment::take_changes`]) before it sends and hands
//! the SKU's answer back. The SKU's ledger stays the truth: a hold is only ever placed on units
//! of a block the SKU lent and has not taken back (a block's holds end [`LEASE_MARGIN_MS`]
//! before its lease), and a commit counts only when the SKU's ledger has applied it.
//!
//! Per block the allotment keeps cumulative counters (committed, returned) that it reports to
//! the SKU; the SKU applies only what is new, so reports may be lost, repeated or reordered.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::lender::LenderCall;
use super::limits::{LEASE_MARGIN_MS, REPORT_INTERVAL_MS, SHORT_RECHECK_MS};
use crate::api::order_call::OrderCall;
use crate::cart::registration::{Delivery, Owed};
use crate::cart::{CartError, Part, ShortLine, Shown, Status};
use crate::stock::limits::{COMMIT_MARGIN_MS, MIN_TTL_SECONDS};
use crate::stock::{HoldId, HoldStatus, LedgerError, Location, OrderKey, Report, Sku, Token};
use crate::time::Millis;

/// A block lent by the SKU, as the allotment keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub lend: HoldId,
    pub location: Location,
    pub lent: i64,
    pub committed: i64,
    pub returned: i64,
    /// The lease's end: the SKU takes back what is left then.
    pub expires_at: Millis,
    /// Units of the block its customers hold now (holds being committed included).
    #[serde(default)]
    pub held: i64,
}

/// One customer's hold in an allotment: `qty` units of one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllotHold {
    pub id: Token,
    pub lend: HoldId,
    pub qty: i64,
    pub expires_at: Millis,
    pub status: HoldStatus,
    /// Sent to the SKU to commit, answer not yet in: the units stay held, whatever the time.
    pub committing: bool,
    pub channel: Option<Token>,
    pub reference: Option<String>,
    pub order: Option<OrderKey>,
    pub updated_at: Millis,
}

/// A request to hold `qty` units under `id` (the Worker chose the id; it names this allotment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldRequest {
    pub id: Token,
    pub qty: i64,
    pub ttl_seconds: i64,
    pub channel: Option<Token>,
    pub reference: Option<String>,
    /// The block size of the SKU's policy: what to borrow when no block has room.
    pub block: i64,
}

/// What a hold request comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reserve {
    /// Held (or a repeat of a hold): answer `201` with it.
    Held(Shown),
    /// No block has room: send this borrow, then [`Allotment::reserve_after`].
    Borrow(LenderCall),
    /// Refused.
    Refused(CartError),
    /// The SKU is not hot any more: hold at the SKU instead.
    NotHot,
}

/// What a commit request comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Commit {
    /// Send this to the SKU, then [`Allotment::committed`].
    Send(LenderCall),
    /// Answer now.
    Done(Result<Shown, CartError>),
}

/// What the shell must write after a step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub holds: BTreeSet<Token>,
    pub meta: bool,
}

/// The allotment's meta row: everything but the holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub sku: Sku,
    pub index: u32,
    /// Random per memory of this allotment: a lend id names it, so an allotment that lost its
    /// storage never mistakes an old block for a new one.
    pub incarnation: String,
    pub next_lend: u64,
    pub blocks: BTreeMap<HoldId, Block>,
    /// When the blocks must next be reported to the SKU (holds changed since the last report).
    pub report_due: Option<Millis>,
    /// Until when the SKU is taken to have nothing to lend (it said so last).
    #[serde(default)]
    pub short_until: Option<Millis>,
    /// The order desk registrations of holds committed at the SKU that their desk has not
    /// answered yet (`cart::registration::Owed`, as a cart coordinator keeps its own): sent again
    /// until it answers ([`Allotment::owed_registrations`]), so that an order cancelled at its
    /// desk first still cancels the line.
    #[serde(default)]
    pub registrations: Owed,
    /// Rows written before `registrations`: the ids of the holds whose registration was owed,
    /// their calls rebuilt from the holds on [`Allotment::restore`] (never written again).
    #[serde(default, rename = "owed", skip_serializing)]
    pub legacy_owed: BTreeSet<Token>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allotment {
    pub meta: Meta,
    pub holds: BTreeMap<Token, AllotHold>,
    changes: Changes,
}

impl Allotment {
    /// A fresh allotment `index` of `sku` with memory `incarnation`.
    pub fn new(sku: Sku, index: u32, incarnation: String) -> Allotment {
        let meta = Meta {
            sku,
            index,
            incarnation,
            next_lend: 0,
            blocks: BTreeMap::new(),
            report_due: None,
            short_until: None,
            registrations: Owed::default(),
            legacy_owed: BTreeSet::new(),
        };
        Allotment { meta, holds: BTreeMap::new(), changes: Changes { holds: BTreeSet::new(), meta: true } }
    }

    /// The allotment as stored.
    pub fn restore(meta: Meta, holds: Vec<AllotHold>) -> Allotment {
        let mut a = Allotment {
            meta,
            holds: holds.into_iter().map(|h| (h.id.clone(), h)).collect(),
            changes: Changes::default(),
        };
        for id in std::mem::take(&mut a.meta.legacy_owed) {
            let Some(h) = a.holds.get(&id) else { continue };
            let shown = a.shown(h, h.updated_at);
            if let Some(order) = shown.order.clone() {
                a.meta.registrations.owe(&shown.id, &shown.parts, order);
            }
            a.changes.meta = true;
        }
        a
    }

    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    fn touch(&mut self, id: &Token, now: Millis) {
        self.changes.holds.insert(id.clone());
        self.changes.meta = true;
        if self.meta.report_due.is_none() {
            self.meta.report_due = Some(Millis(now.0 + REPORT_INTERVAL_MS));
        }
    }

    /// Units of block `lend` its customers hold (committing holds included).
    pub fn held_in(&self, lend: &HoldId) -> i64 {
        self.meta.blocks.get(lend).map(|b| b.held).unwrap_or(0)
    }

    /// Units of block `b` free for new holds.
    pub fn free_in(&self, b: &Block) -> i64 {
        b.lent - b.committed - b.returned - b.held
    }

    /// Whether block `b` may still take a hold of the shortest time-to-live before its lease ends.
    fn usable(b: &Block, now: Millis) -> bool {
        b.expires_at.0 - LEASE_MARGIN_MS - MIN_TTL_SECONDS * 1_000 > now.0
    }

    /// Ends the holds whose deadline has come (not those being committed) and forgets the
    /// blocks whose lease ended (the SKU has taken them back) once nothing of them is in flight.
    pub fn expire_due(&mut self, now: Millis) {
        let due: Vec<Token> = self
            .holds
            .values()
            .filter(|h| h.status == HoldStatus::Held && !h.committing && h.expires_at <= now)
            .map(|h| h.id.clone())
            .collect();
        for id in due {
            self.end(&id, HoldStatus::Expired, now);
        }
        // Blocks past their lease, or all committed, with nothing of them held (a block with
        // units given back stays until its lease ends, so that its reports keep saying so).
        let dead: Vec<HoldId> = self
            .meta
            .blocks
            .values()
            .filter(|b| b.held == 0 && (b.expires_at <= now || b.committed >= b.lent))
            .map(|b| b.lend.clone())
            .collect();
        for lend in dead {
            self.meta.blocks.remove(&lend);
            self.changes.meta = true;
        }
    }

    /// The hold as an answer shows it.
    pub fn shown(&self, h: &AllotHold, now: Millis) -> Shown {
        let status = match h.status {
            HoldStatus::Held if h.committing => Status::Pending,
            HoldStatus::Held if h.expires_at <= now => Status::Expired,
            HoldStatus::Held => Status::Held,
            HoldStatus::Committed => Status::Committed,
            HoldStatus::Released => Status::Released,
            HoldStatus::Expired => Status::Expired,
        };
        let location = self.meta.blocks.get(&h.lend).map(|b| b.location.clone()).unwrap_or_default();
        Shown {
            id: h.id.clone(),
            status,
            expires_at: h.expires_at,
            parts: vec![Part { sku: self.meta.sku.clone(), lines: vec![(location, h.qty)] }],
            channel: h.channel.clone(),
            reference: h.reference.clone(),
            order: h.order.clone(),
        }
    }

    /// Reports of every block, after giving back the free units of blocks too close to their
    /// lease's end to take more holds. Clears the report deadline.
    pub fn reports(&mut self, now: Millis) -> Vec<Report> {
        self.expire_due(now);
        let lends: Vec<HoldId> = self.meta.blocks.keys().cloned().collect();
        let mut out = Vec::with_capacity(lends.len());
        for lend in lends {
            let Some(b) = self.meta.blocks.get(&lend).cloned() else { continue };
            let free = self.free_in(&b);
            let mut b2 = b.clone();
            if !Self::usable(&b, now) && free > 0 {
                b2.returned += free;
                self.meta.blocks.insert(lend.clone(), b2.clone());
            }
            out.push(Report { lend: lend.clone(), returned: b2.returned, held: self.held_in(&lend) });
        }
        self.meta.report_due = None;
        self.changes.meta = true;
        out
    }

    /// A repeat of an existing hold, or the refusal of an id taken by other lines.
    fn repeat(&self, req: &HoldRequest, now: Millis) -> Option<Reserve> {
        let h = self.holds.get(&req.id)?;
        if h.qty != req.qty {
            return Some(Reserve::Refused(CartError::NotHeld(Status::Rejected)));
        }
        Some(Reserve::Held(self.shown(h, now)))
    }

    /// Places `req` on a usable block with room (the fullest first, so blocks drain in turn).
    fn place(&mut self, req: &HoldRequest, now: Millis) -> Option<Shown> {
        let block = self
            .meta
            .blocks
            .values()
            .filter(|b| Self::usable(b, now) && self.free_in(b) >= req.qty)
            .min_by_key(|b| (self.free_in(b), b.lend.clone()))?
            .clone();
        let deadline = now.plus_seconds(req.ttl_seconds).min(Millis(block.expires_at.0 - LEASE_MARGIN_MS));
        let hold = AllotHold {
            id: req.id.clone(),
            lend: block.lend.clone(),
            qty: req.qty,
            expires_at: deadline,
            status: HoldStatus::Held,
            committing: false,
            channel: req.channel.clone(),
            reference: req.reference.clone(),
            order: None,
            updated_at: now,
        };
        let shown = self.shown(&hold, now);
        self.holds.insert(req.id.clone(), hold);
        if let Some(b) = self.meta.blocks.get_mut(&block.lend) {
            b.held += req.qty;
        }
        self.touch(&req.id, now);
        Some(shown)
    }

    /// Holds `req` from a block, or says which block to borrow first.
    pub fn reserve(&mut self, req: &HoldRequest, now: Millis) -> Reserve {
        self.expire_due(now);
        if let Some(r) = self.repeat(req, now) {
            return r;
        }
        if let Some(shown) = self.place(req, now) {
            return Reserve::Held(shown);
        }
        if self.meta.short_until.is_some_and(|until| until > now) {
            return Reserve::Refused(self.short(req, now));
        }
        let lend = self.next_lend_id();
        let reports = self.reports(now);
        Reserve::Borrow(LenderCall::Borrow { lend, allotment: self.meta.index, want: req.block.max(req.qty), reports })
    }

    fn next_lend_id(&mut self) -> HoldId {
        self.meta.next_lend += 1;
        self.changes.meta = true;
        let id = format!("lend.{}.{}.{}", self.meta.index, self.meta.incarnation, self.meta.next_lend);
        Token::parse(&id).unwrap_or_else(|_| unreachable!("digits, dots and hex form a token"))
    }

    /// Takes a block the SKU granted (a repeat grant changes nothing).
    pub fn granted(&mut self, lend: HoldId, location: Location, qty: i64, expires_at: Millis) {
        if self.meta.blocks.contains_key(&lend) {
            return;
        }
        let block = Block { lend: lend.clone(), location, lent: qty, committed: 0, returned: 0, expires_at, held: 0 };
        self.meta.blocks.insert(lend, block);
        self.changes.meta = true;
    }

    /// Finishes a hold request after the borrow it needed, given the SKU's answer (`None`: the
    /// SKU could not be reached).
    pub fn reserve_after(&mut self, req: &HoldRequest, reply: Option<super::LenderReply>, now: Millis) -> Reserve {
        use super::LenderReply as R;
        match reply {
            Some(R::Granted { lend, location, qty, expires_at }) => {
                self.granted(lend, location, qty, expires_at);
                if let Some(r) = self.repeat(req, now) {
                    return r;
                }
                match self.place(req, now) {
                    Some(shown) => Reserve::Held(shown),
                    None => Reserve::Refused(self.short(req, now)),
                }
            }
            Some(R::Short { .. }) => {
                self.meta.short_until = Some(Millis(now.0 + SHORT_RECHECK_MS));
                self.changes.meta = true;
                Reserve::Refused(self.short(req, now))
            }
            Some(R::NotHot) => Reserve::NotHot,
            Some(other) => {
                Reserve::Refused(CartError::Unavailable(format!("the SKU answered a borrow with {other:?}")))
            }
            None => Reserve::Refused(CartError::Unavailable("the SKU could not be reached to borrow".into())),
        }
    }

    /// The insufficient-stock refusal of `req`: the most any one block could still give.
    fn short(&self, req: &HoldRequest, now: Millis) -> CartError {
        let available = self
            .meta
            .blocks
            .values()
            .filter(|b| Self::usable(b, now))
            .map(|b| self.free_in(b))
            .max()
            .unwrap_or(0)
            .max(0);
        CartError::Short(vec![ShortLine {
            sku: self.meta.sku.to_string(),
            location: Location::main().to_string(),
            requested: req.qty,
            available,
        }])
    }

    fn not_found(&self) -> CartError {
        CartError::NotHeld(Status::Rejected)
    }

    /// The hold `id` as it is now (`None`: unknown here).
    pub fn get(&mut self, id: &Token, now: Millis) -> Option<Shown> {
        self.expire_due(now);
        self.holds.get(id).map(|h| self.shown(h, now))
    }

    /// Starts (or resumes) the commit of hold `id` into order `order_id` (default: the id).
    pub fn commit(&mut self, id: &Token, order_id: Option<Token>, now: Millis) -> Option<Commit> {
        self.expire_due(now);
        let h = self.holds.get(id)?.clone();
        if h.committing {
            return Some(Commit::Send(self.commit_call(&h)));
        }
        match h.status {
            HoldStatus::Committed => return Some(Commit::Done(Ok(self.shown(&h, now)))),
            HoldStatus::Held if now.0 < h.expires_at.0 - COMMIT_MARGIN_MS => {}
            HoldStatus::Held => {
                self.end(id, HoldStatus::Expired, now);
                return Some(Commit::Done(Err(CartError::NotHeld(Status::Expired))));
            }
            _ => return Some(Commit::Done(Err(CartError::NotHeld(self.shown(&h, now).status)))),
        }
        let channel =
            h.channel.clone().unwrap_or_else(|| Token::parse(OrderKey::DIRECT).unwrap_or_else(|_| id.clone()));
        let order = OrderKey { channel, order_id: order_id.unwrap_or_else(|| id.clone()) };
        let h = self.holds.get_mut(id)?;
        h.committing = true;
        h.order = Some(order);
        h.updated_at = now;
        let call = self.commit_call(&self.holds.get(id)?.clone());
        self.touch(id, now);
        Some(Commit::Send(call))
    }

    fn commit_call(&self, h: &AllotHold) -> LenderCall {
        LenderCall::Commit {
            lend: h.lend.clone(),
            hold: h.id.clone(),
            qty: h.qty,
            order: h.order.clone().unwrap_or_else(|| OrderKey { channel: h.id.clone(), order_id: h.id.clone() }),
            channel: h.channel.clone(),
            reference: h.reference.clone(),
        }
    }

    /// Every hold being committed, to send again (after a lost answer or a restart).
    pub fn pending_commits(&self) -> Vec<LenderCall> {
        self.holds.values().filter(|h| h.committing).map(|h| self.commit_call(h)).collect()
    }

    /// The registrations of committed holds their order desk has not answered yet, by hold id,
    /// to send (again).
    pub fn owed_registrations(&self) -> Vec<(Token, OrderCall)> {
        self.meta.registrations.due()
    }

    /// How the order desk took the registration of hold `id` (`Owed::sent`).
    pub fn registered(&mut self, id: &Token, delivery: &Delivery) {
        if self.meta.registrations.sent(id, delivery) {
            self.changes.meta = true;
        }
    }

    /// Whether something sent to the SKU or a desk is still unanswered (commits, registrations):
    /// the shell retries it on its alarm.
    pub fn retry_owed(&self) -> bool {
        !self.meta.registrations.is_empty() || self.holds.values().any(|h| h.committing)
    }

    /// Takes the SKU's answer to a commit of hold `id` (`None`: the SKU could not be reached;
    /// the hold stays being committed and the commit is sent again).
    pub fn committed(
        &mut self,
        id: &Token,
        reply: Option<super::LenderReply>,
        now: Millis,
    ) -> Result<Shown, CartError> {
        use super::LenderReply as R;
        let h = self.holds.get(id).cloned().ok_or_else(|| self.not_found())?;
        if !h.committing {
            return Ok(self.shown(&h, now)).and_then(|s| match h.status {
                HoldStatus::Committed => Ok(s),
                _ => Err(CartError::NotHeld(s.status)),
            });
        }
        match reply {
            Some(R::Committed) => {
                if let Some(b) = self.meta.blocks.get_mut(&h.lend) {
                    b.committed += h.qty;
                }
                if let Some(h) = self.holds.get_mut(id) {
                    h.committing = false;
                }
                self.end(id, HoldStatus::Committed, now);
                let h = self.holds.get(id).cloned().ok_or_else(|| self.not_found())?;
                let shown = self.shown(&h, now);
                if let Some(order) = shown.order.clone() {
                    self.meta.registrations.owe(id, &shown.parts, order);
                }
                Ok(shown)
            }
            Some(R::Refused { error }) => {
                // The block's lease ended before the commit arrived (or the SKU lost it): the
                // hold's units are gone with the block.
                if let Some(h) = self.holds.get_mut(id) {
                    h.committing = false;
                    h.order = None;
                }
                self.end(id, HoldStatus::Expired, now);
                let status = match error {
                    LedgerError::HoldNotHeld(_) | LedgerError::HoldNotFound => Status::Expired,
                    _ => Status::Rejected,
                };
                Err(CartError::NotHeld(status))
            }
            Some(other) => Err(CartError::Unavailable(format!("the SKU answered a commit with {other:?}"))),
            None => Err(CartError::Unavailable("the SKU could not be reached to commit".into())),
        }
    }

    /// Moves hold `id` to `status`; a hold that leaves `Held` frees its units in its block.
    fn end(&mut self, id: &Token, status: HoldStatus, now: Millis) {
        let Some(h) = self.holds.get_mut(id) else { return };
        let left = h.status == HoldStatus::Held && status != HoldStatus::Held;
        h.status = status;
        h.updated_at = now;
        let (lend, qty) = (h.lend.clone(), h.qty);
        if left {
            if let Some(b) = self.meta.blocks.get_mut(&lend) {
                b.held -= qty;
            }
        }
        self.touch(id, now);
    }

    /// Releases hold `id`: its units go back to its block.
    pub fn release(&mut self, id: &Token, now: Millis) -> Option<Result<Shown, CartError>> {
        self.expire_due(now);
        let h = self.holds.get(id)?.clone();
        Some(match (h.status, h.committing) {
            (HoldStatus::Held, false) => {
                self.end(id, HoldStatus::Released, now);
                let h = self.holds.get(id)?.clone();
                Ok(self.shown(&h, now))
            }
            (HoldStatus::Released | HoldStatus::Expired, _) => Ok(self.shown(&h, now)),
            _ => Err(CartError::NotHeld(self.shown(&h, now).status)),
        })
    }

    /// Moves hold `id`'s deadline to `now + ttl`, no later than its block allows.
    pub fn extend(&mut self, id: &Token, ttl_seconds: i64, now: Millis) -> Option<Result<Shown, CartError>> {
        self.expire_due(now);
        let h = self.holds.get(id)?.clone();
        if h.status != HoldStatus::Held || h.committing {
            return Some(Err(CartError::NotHeld(self.shown(&h, now).status)));
        }
        let cap =
            self.meta.blocks.get(&h.lend).map(|b| Millis(b.expires_at.0 - LEASE_MARGIN_MS)).unwrap_or(h.expires_at);
        let deadline = now.plus_seconds(ttl_seconds).min(cap).max(h.expires_at);
        if deadline != h.expires_at {
            if let Some(x) = self.holds.get_mut(id) {
                x.expires_at = deadline;
                x.updated_at = now;
            }
            self.touch(id, now);
        }
        let h = self.holds.get(id)?.clone();
        Some(Ok(self.shown(&h, now)))
    }

    /// The SKU asks block `lend` back for a sale: give up to `want` free units. An unknown block
    /// (lost with this allotment's memory) gives nothing; the SKU takes it back at its lease's end.
    pub fn recall(&mut self, lend: &HoldId, want: i64, now: Millis) -> Report {
        self.expire_due(now);
        let Some(b) = self.meta.blocks.get(lend).cloned() else {
            return Report { lend: lend.clone(), returned: 0, held: 0 };
        };
        let give = want.min(self.free_in(&b)).max(0);
        if give > 0 {
            if let Some(b) = self.meta.blocks.get_mut(lend) {
                b.returned += give;
            }
            self.changes.meta = true;
        }
        let returned = self.meta.blocks.get(lend).map(|b| b.returned).unwrap_or(0);
        Report { lend: lend.clone(), returned, held: self.held_in(lend) }
    }

    /// When the shell's alarm must next fire, at `now` (never before `now + 1`): the earliest hold
    /// deadline, report or block lease end, or `now + REPORT_INTERVAL_MS` while a commit
    /// or a desk registration is owed ([`retry_owed`](Self::retry_owed)). A block past its lease
    /// that still backs held units is no reason to wake: it waits on its holds, which end at their
    /// own deadlines or are being committed (retried at the interval), and the wake that ends them
    /// drops it. So a SKU that stays unreachable during a commit is asked once per interval, not
    /// in a loop of alarms 1 ms apart.
    pub fn wake_at(&self, now: Millis) -> Option<Millis> {
        let holds = self.holds.values().filter(|h| h.status == HoldStatus::Held && !h.committing).map(|h| h.expires_at);
        let blocks = self.meta.blocks.values().filter(|b| b.held == 0 || b.expires_at > now).map(|b| b.expires_at);
        let retry = self.retry_owed().then_some(Millis(now.0 + REPORT_INTERVAL_MS));
        holds.chain(blocks).chain(self.meta.report_due).chain(retry).min().map(|m| Millis(m.0.max(now.0 + 1)))
    }

    /// Forgets terminal holds last changed before `cutoff` (not those whose registration is owed).
    pub fn prune(&mut self, cutoff: Millis) {
        let old: Vec<Token> = self
            .holds
            .values()
            .filter(|h| h.status != HoldStatus::Held && h.updated_at < cutoff && !self.meta.registrations.owes(&h.id))
            .map(|h| h.id.clone())
            .collect();
        for id in old {
            self.holds.remove(&id);
            self.changes.holds.insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allot::LenderReply;

    fn tok(s: &str) -> Token {
        Token::parse(s).expect("token")
    }

    /// An allotment with a block of 2 at `main` and one unit held from it, its commit (to
    /// `order`) sent to the SKU: the allotment, the hold's id, the time.
    fn commit_sent(order: Option<Token>) -> (Allotment, Token, Millis) {
        let sku = Sku::parse("HOT").expect("sku");
        let mut a = Allotment::new(sku, 0, "abcd".into());
        let t = Millis(1_000_000);
        a.granted(tok("lend.0.abcd.1"), Location::main(), 2, Millis(t.0 + 60_000));
        let id = tok("hot.0.aaaaaaaaaaaa.0000000000000001");
        let req = HoldRequest { id: id.clone(), qty: 1, ttl_seconds: 30, channel: None, reference: None, block: 2 };
        assert!(matches!(a.reserve(&req, t), Reserve::Held(_)));
        assert!(matches!(a.commit(&id, order, t), Some(Commit::Send(_))));
        (a, id, t)
    }

    #[test]
    fn a_committed_hold_s_registration_is_owed_until_the_desk_answers_and_its_hold_is_kept() {
        let (mut a, id, t) = commit_sent(None);
        assert!(a.owed_registrations().is_empty(), "nothing is owed before the SKU committed");
        a.committed(&id, Some(LenderReply::Committed), t).expect("committed");
        let owed: Vec<Token> = a.owed_registrations().into_iter().map(|(id, _)| id).collect();
        assert_eq!(owed, vec![id.clone()]);
        a.take_changes();
        a.registered(&id, &Delivery::Unreached);
        assert!(!a.take_changes().meta && a.retry_owed(), "an unreached desk leaves it owed");
        assert!(a.retry_owed(), "the shell's alarm sends it again");
        a.prune(Millis(t.0 + 1));
        assert!(a.holds.contains_key(&id), "an owed hold is not pruned");
        a.take_changes();
        a.registered(&id, &Delivery::Taken);
        assert!(a.take_changes().meta, "the acknowledgement is written");
        assert!(a.owed_registrations().is_empty() && !a.retry_owed());
        a.prune(Millis(t.0 + 1));
        assert!(!a.holds.contains_key(&id), "then it is pruned like any other");
    }

    /// A meta row written before `registrations` (the owed holds' ids under `owed`) still owes
    /// their registrations once restored, rebuilt from the holds, and is written in the new form.
    #[test]
    fn owed_hold_ids_of_rows_written_before_registrations_are_still_sent() {
        let (mut a, id, t) = commit_sent(Some(tok("o1")));
        a.committed(&id, Some(LenderReply::Committed), t).expect("committed");
        let expected = a.owed_registrations();
        assert_eq!(expected.len(), 1);
        // The row as the former layout wrote it.
        let mut row = serde_json::to_value(&a.meta).expect("json");
        let map = row.as_object_mut().expect("object");
        map.remove("registrations");
        map.insert("owed".into(), serde_json::json!([id.as_str()]));
        let meta: Meta = serde_json::from_value(row).expect("a former row");
        let mut restored = Allotment::restore(meta, a.holds.values().cloned().collect());
        assert_eq!(restored.owed_registrations(), expected, "the same call, rebuilt from the hold");
        assert!(restored.take_changes().meta, "written in the new form");
        let text = serde_json::to_string(&restored.meta).expect("json");
        assert!(!text.contains("\"owed\""), "{text}");
    }

    #[test]
    fn a_commit_in_flight_past_its_block_s_lease_is_retried_per_interval_not_in_a_loop() {
        let sku = Sku::parse("HOT").expect("sku");
        let mut a = Allotment::new(sku, 0, "abcd".into());
        let t = Millis(1_000_000);
        let lease_end = Millis(t.0 + 60_000);
        a.granted(tok("lend.0.abcd.1"), Location::main(), 2, lease_end);
        let id = tok("hot.0.aaaaaaaaaaaa.0000000000000001");
        let req = HoldRequest { id: id.clone(), qty: 1, ttl_seconds: 30, channel: None, reference: None, block: 2 };
        assert!(matches!(a.reserve(&req, t), Reserve::Held(_)));
        assert_eq!(
            a.wake_at(t),
            Some(Millis(t.0 + REPORT_INTERVAL_MS)),
            "the first report, before the hold's deadline"
        );
        assert!(matches!(a.commit(&id, None, t), Some(Commit::Send(_))));
        // The SKU stays unreachable past the block's lease: the block cannot be dropped (it backs
        // the hold being committed), and the wake is the retry interval, not 1 ms.
        let late = Millis(lease_end.0 + 5_000);
        let _unreachable = a.committed(&id, None, late);
        // What the alarm does at `late`: expire what is due, send the reports.
        a.expire_due(late);
        let _ = a.reports(late);
        assert_eq!(a.meta.blocks.len(), 1, "the block waits on its hold");
        assert_eq!(a.wake_at(late), Some(Millis(late.0 + REPORT_INTERVAL_MS)));
        // Once the SKU answers, the next wake drops the block at once.
        a.committed(&id, Some(LenderReply::Committed), late).expect("committed");
        a.registered(&id, &Delivery::Taken);
        assert_eq!(a.wake_at(late), Some(Millis(late.0 + 1)));
        a.expire_due(late);
        assert!(a.meta.blocks.is_empty());
    }
}
