//! Flash-sale allotments as `edge::allotment_object` runs them, minus workerd: the real
//! [`Allotment`] core over what the object persists (its `meta` row and one row per hold, written
//! in the same turn as each step, before anything is sent to the SKU), its durable alarm, and the
//! calls between it and the SKU's object (`SkuAction::Lender`: borrow, report, commit) and back
//! (`AllotAction::Recall` before a sale). A restart drops the memory (the loaded allotment and the
//! cached alarm time); the isolate may also die between persisting a step and sending its call,
//! or between the SKU's answer and taking it. Calls to the SKU are lost before or after it
//! applied them (`World::sku_call`), delivered twice, or delivered late with their answer lost.
//!
//! The Worker's side (`edge::hot`): a single-line hold at `main` of a SKU whose policy it knows
//! (cached for `HOT_CACHE_TTL_MS`) goes to allotment `home::pick(caller, K)` under an id that names
//! it; an allotment answering "not hot" sends it back to the SKU.

use std::collections::{BTreeMap, BTreeSet};

use stockedge::allot::allotment::{AllotHold, HoldRequest, Meta};
use stockedge::allot::limits::HOT_CACHE_TTL_MS;
use stockedge::allot::{home, lender, AllotHome, Allotment, Commit, HotPolicy, LenderCall, LenderReply, Reserve};
use stockedge::api::allot_call::{self, AllotAction, AllotAnswer};
use stockedge::api::cart_call::{CartAnswer, CartRefusal, CartResult};
use stockedge::api::idempotency::Keyed;
use stockedge::api::sku_call::{SkuAction, SkuAnswer};
use stockedge::cart::{CartError, Shown};
use stockedge::stock::limits::HOLD_RETENTION_MS;
use stockedge::stock::{Command, Sku, Token};
use stockedge::time::Millis;

use crate::world::World;

/// One allotment object: `(SKU, index)`.
pub type AllotKey = (Sku, u32);

/// One allotment object's rows, durable alarm and isolate memory.
pub struct AllotObject {
    pub sku: Sku,
    pub index: u32,
    /// The `meta` row and the `holds` rows (`None`: never used).
    pub stored: Option<(Meta, BTreeMap<Token, AllotHold>)>,
    /// The durable alarm.
    pub alarm: Option<Millis>,
    /// The loaded allotment (`None`: not loaded since the last restart).
    mem: Option<Allotment>,
    /// The alarm time this isolate set last (`alarm_at`).
    alarm_at: Option<i64>,
}

impl AllotObject {
    pub fn new(sku: Sku, index: u32) -> AllotObject {
        AllotObject { sku, index, stored: None, alarm: None, mem: None, alarm_at: None }
    }

    /// The isolate is evicted: the loaded allotment and the cached alarm time are gone.
    pub fn restart(&mut self) {
        self.mem = None;
        self.alarm_at = None;
    }

    /// The allotment as loaded (for checks): the memory, else what a load reads.
    pub fn view(&self) -> Option<Allotment> {
        self.mem.clone().or_else(|| self.stored.clone().map(|(m, h)| Allotment::restore(m, h.into_values().collect())))
    }

    /// What the memory holds that a load would not read (the shell writes every step's changes
    /// in the step's turn, so a restart loses nothing but the isolate's caches).
    pub fn unsaved(&self) -> Option<String> {
        let a = self.mem.as_ref()?;
        let Some((meta, holds)) = &self.stored else { return Some("an allotment never stored".into()) };
        if &a.meta != meta {
            return Some(format!("meta {:?} stored as {meta:?}", a.meta));
        }
        (&a.holds != holds).then(|| format!("holds {:?} stored as {holds:?}", a.holds))
    }

    /// `SkuAllotment::with`: loads, creates under `incarnation` if asked and never used, runs `f`
    /// and writes what changed.
    pub fn with<T>(&mut self, incarnation: Option<String>, f: impl FnOnce(&mut Allotment) -> T) -> Option<T> {
        if self.mem.is_none() {
            self.mem = self.stored.clone().map(|(m, h)| Allotment::restore(m, h.into_values().collect()));
        }
        if self.mem.is_none() {
            let inc = incarnation?;
            self.mem = Some(Allotment::new(self.sku.clone(), self.index, inc));
        }
        let a = self.mem.as_mut()?;
        let out = f(a);
        let changes = a.take_changes();
        let (meta, holds) = self.stored.get_or_insert_with(|| (a.meta.clone(), BTreeMap::new()));
        if changes.meta {
            *meta = a.meta.clone();
        }
        for id in changes.holds {
            match a.holds.get(&id) {
                Some(h) => holds.insert(id, h.clone()),
                None => holds.remove(&id),
            };
        }
        Some(out)
    }

    /// `schedule`: the alarm at the next hold deadline, report, lease end or commit retry.
    pub fn schedule(&mut self, now: Millis) {
        let next = self.mem.as_ref().and_then(|a| a.wake_at(now));
        let Some(want) = next.map(|m| m.0) else { return };
        if matches!(self.alarm_at, Some(c) if c <= want && c > now.0) {
            return;
        }
        self.alarm = Some(Millis(want));
        self.alarm_at = Some(want);
    }
}

/// The first 8 bytes of a stable hash of `s`: the random part of a keyed client's hold id.
fn random_of(s: &str) -> [u8; 8] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h.to_be_bytes()
}

impl World {
    /// Runs `f` on allotment `key`'s object (created if new).
    pub fn allot_obj<T>(&self, key: &AllotKey, f: impl FnOnce(&mut AllotObject) -> T) -> T {
        let mut allots = self.allots.borrow_mut();
        let o = allots.entry(key.clone()).or_insert_with(|| AllotObject::new(key.0.clone(), key.1));
        f(o)
    }

    fn allot_with<T>(&self, key: &AllotKey, create: bool, f: impl FnOnce(&mut Allotment) -> T) -> Option<T> {
        let incarnation = create.then(|| format!("{:08x}", self.below(1 << 32)));
        self.allot_obj(key, |o| o.with(incarnation, f))
    }

    pub fn allot_restart(&self, key: &AllotKey) {
        self.stats.borrow_mut().restarts += 1;
        self.log(|| format!("allotment {}#{} restarts", key.0, key.1));
        self.allot_obj(key, AllotObject::restart);
    }

    /// Whether the allotment's isolate dies here (between a write and a send, or an answer and
    /// its write).
    fn allot_dies(&self, key: &AllotKey) -> bool {
        let dies = self.chance(self.f().crash / 3);
        if dies {
            self.stats.borrow_mut().crashes += 1;
            self.allot_restart(key);
        }
        dies
    }

    /// A call from an allotment to its SKU (`ask_sku`): `None` when no answer came back. It may
    /// also be delivered twice, or late (its answer lost).
    pub fn lender_call(&self, s: &Sku, call: LenderCall) -> Option<LenderReply> {
        let f = self.f();
        if self.chance(f.lender_delay) {
            let at = Millis(self.now().0 + self.range(1, 8_000));
            self.log(|| format!("lender call to {s} delayed until {}", at.0 - crate::world::EPOCH.0));
            self.delayed.borrow_mut().push((s.clone(), call, at));
            return None;
        }
        let twice = self.chance(f.lender_dup);
        let action = SkuAction::Lender { call };
        let mut reply = self.sku_call(s, action.clone(), None);
        if twice {
            self.log(|| format!("lender call to {s} delivered twice"));
            reply = self.sku_call(s, action, None);
        }
        match reply? {
            Keyed::Answered(Ok(SkuAnswer::Lender(r))) | Keyed::Replayed(Ok(SkuAnswer::Lender(r))) => Some(r),
            other => panic!("the SKU answered a lender call with {other:?}"),
        }
    }

    /// A late lender call arrives (nobody waits for its answer).
    pub fn deliver_delayed(&self, i: usize) {
        let (s, call, _) = self.delayed.borrow_mut().swap_remove(i);
        self.log(|| format!("late lender call arrives at {s}"));
        let _ = self.sku_call(&s, SkuAction::Lender { call }, None);
    }

    /// A call to an allotment object through its stub (`SkuAllotment::fetch`): `None` when the
    /// caller got no answer.
    pub fn allot_call(&self, key: &AllotKey, id: Token, action: AllotAction) -> Option<AllotAnswer> {
        let f = self.f();
        self.stats.borrow_mut().allot_calls += 1;
        if self.chance(f.lost_before) {
            self.log(|| format!("call to allotment {}#{} lost before", key.0, key.1));
            return None;
        }
        let answer = self.allot_act(key, id, action);
        if answer.is_some() {
            let now = self.now();
            self.allot_obj(key, |o| o.schedule(now));
        }
        if self.chance(f.lost_after) {
            self.log(|| format!("answer of allotment {}#{} lost", key.0, key.1));
            return None;
        }
        answer
    }

    /// `SkuAllotment::act` (`None`: the isolate died on the way).
    fn allot_act(&self, key: &AllotKey, id: Token, action: AllotAction) -> Option<AllotAnswer> {
        let t = self.now();
        let current = |r: Result<Shown, CartError>| -> AllotAnswer {
            AllotAnswer::Cart(r.map(CartAnswer::Current).map_err(CartRefusal::Cart))
        };
        Some(match action {
            AllotAction::Create { sku, request, .. } => {
                let first = self.allot_with(key, true, |a| a.reserve(&request, t));
                let answer = match first {
                    Some(Reserve::Borrow(call)) => {
                        if self.allot_dies(key) {
                            return None;
                        }
                        self.stats.borrow_mut().borrows += 1;
                        let reply = self.lender_call(&sku, call);
                        if self.allot_dies(key) {
                            return None;
                        }
                        let now = self.now();
                        self.allot_with(key, false, |a| a.reserve_after(&request, reply, now))
                    }
                    other => other,
                };
                match answer {
                    Some(Reserve::Held(shown)) => allot_call::created(shown),
                    Some(Reserve::Refused(e)) => AllotAnswer::Cart(Err(CartRefusal::Cart(e))),
                    Some(Reserve::NotHot) => AllotAnswer::NotHot,
                    Some(Reserve::Borrow(_)) | None => allot_call::not_found(&id),
                }
            }
            AllotAction::Get => match self.allot_with(key, false, |a| a.get(&id, t)).flatten() {
                Some(shown) => current(Ok(shown)),
                None => allot_call::not_found(&id),
            },
            AllotAction::Release => match self.allot_with(key, false, |a| a.release(&id, t)).flatten() {
                Some(r) => current(r),
                None => allot_call::not_found(&id),
            },
            AllotAction::Extend { ttl_seconds } => {
                match self.allot_with(key, false, |a| a.extend(&id, ttl_seconds, t)).flatten() {
                    Some(r) => current(r),
                    None => allot_call::not_found(&id),
                }
            }
            AllotAction::Commit { order_id } => {
                match self.allot_with(key, false, |a| a.commit(&id, order_id, t)).flatten() {
                    None => allot_call::not_found(&id),
                    Some(Commit::Done(r)) => current(r),
                    Some(Commit::Send(call)) => {
                        if self.allot_dies(key) {
                            return None;
                        }
                        let reply = self.lender_call(&key.0, call);
                        if self.allot_dies(key) {
                            return None;
                        }
                        let now = self.now();
                        let r = self.allot_with(key, false, |a| a.committed(&id, reply, now));
                        let r = r.unwrap_or(Err(CartError::NotHeld(stockedge::cart::Status::Rejected)));
                        if r.is_ok() {
                            self.stats.borrow_mut().allot_commits += 1;
                            self.allot_register_owed(key, Some(&id));
                        }
                        current(r)
                    }
                }
            }
            AllotAction::Recall { lend, want } => {
                let report = self.allot_with(key, false, |a| a.recall(&lend, want, t));
                AllotAnswer::Report(report.unwrap_or(stockedge::stock::Report { lend, returned: 0, held: 0 }))
            }
        })
    }

    /// `SkuAllotment::register_owed`: the registrations the allotment owes (only hold `only`'s
    /// when given) to their order desks; each desk's answer settles its own, an unreached desk
    /// leaves it for the alarm.
    fn allot_register_owed(&self, key: &AllotKey, only: Option<&Token>) {
        let owed = self.allot_with(key, false, |a| a.owed_registrations()).unwrap_or_default();
        for (id, call) in owed.into_iter().filter(|(id, _)| only.is_none_or(|o| o == id)) {
            let delivery = self.desk_call(&call.order, call.action).delivery();
            self.allot_with(key, false, |a| a.registered(&id, &delivery));
        }
    }

    /// `SkuAllotment::alarm`.
    pub fn allot_alarm(&self, key: &AllotKey) {
        self.stats.borrow_mut().alarms += 1;
        self.log(|| format!("allotment {}#{}: alarm", key.0, key.1));
        self.allot_obj(key, |o| {
            o.alarm = None;
            o.alarm_at = None;
        });
        let t = self.now();
        let due = self.allot_with(key, false, |a| {
            a.expire_due(t);
            a.prune(Millis(t.0 - HOLD_RETENTION_MS));
            let reports = a.meta.report_due.is_some_and(|at| at <= t).then(|| a.reports(t));
            (a.meta.sku.clone(), reports, a.pending_commits())
        });
        if let Some((sku, reports, commits)) = due {
            if let Some(reports) = reports {
                self.lender_call(&sku, LenderCall::Report { reports });
            }
            for call in commits {
                let LenderCall::Commit { hold, .. } = &call else { continue };
                let hold = hold.clone();
                let reply = self.lender_call(&sku, call);
                let now = self.now();
                self.allot_with(key, false, |a| a.committed(&hold, reply, now));
            }
            self.allot_register_owed(key, None);
        }
        let now = self.now();
        self.allot_obj(key, |o| o.schedule(now));
    }

    /// `SkuLedger::recall_blocks`: before a sale, asks blocks back one at a time until the sale
    /// is covered; each report is applied in its own turn.
    pub fn recall_blocks(&self, s: &Sku, commands: &[Command]) {
        let mut asked = BTreeSet::new();
        loop {
            let recalls = self.skus.borrow_mut().get_mut(s).map(|o| o.with_ledger(|l| lender::recalls(l, commands)));
            let Some(r) = recalls.unwrap_or_default().into_iter().find(|r| !asked.contains(&r.lend)) else { return };
            asked.insert(r.lend.clone());
            self.stats.borrow_mut().recalls += 1;
            self.log(|| format!("{s} recalls {} of {}", r.want, r.lend));
            let key = (s.clone(), r.allotment);
            let action = AllotAction::Recall { lend: r.lend.clone(), want: r.want };
            if let Some(AllotAnswer::Report(report)) = self.allot_call(&key, r.lend, action) {
                let t = self.now();
                if let Some(o) = self.skus.borrow_mut().get_mut(s) {
                    o.lender(LenderCall::Report { reports: vec![report] }, t);
                }
            }
        }
    }

    // --- the Worker's side (`edge::hot`) ------------------------------------------------------

    /// The SKU's hot policy as the Worker knows it (`Err`: the SKU could not be asked).
    fn hot_policy(&self, s: &Sku) -> Result<Option<HotPolicy>, ()> {
        let t = self.now().0;
        if let Some((p, until)) = self.hot_cache.borrow().get(s).copied() {
            if until > t {
                return Ok(p);
            }
        }
        let p = match self.sku_call(s, SkuAction::Lender { call: LenderCall::Policy }, None).ok_or(())? {
            Keyed::Answered(Ok(SkuAnswer::Lender(LenderReply::Policy { policy, .. }))) => policy,
            _ => None,
        };
        self.hot_cache.borrow_mut().insert(s.clone(), (p, t + HOT_CACHE_TTL_MS));
        Ok(p)
    }

    /// An operator makes a SKU hot or ordinary (`PUT /v1/skus/{sku}/policy`).
    pub fn set_hot_policy(&self, s: &Sku, policy: Option<HotPolicy>) {
        self.log(|| format!("operator sets the hot policy of {s}: {policy:?}"));
        let call = LenderCall::SetPolicy { policy };
        if self.sku_call(s, SkuAction::Lender { call }, None).is_some() {
            self.hot_cache.borrow_mut().insert(s.clone(), (policy, self.now().0 + HOT_CACHE_TTL_MS));
        }
    }

    /// `hot::create`: holds the shopper's one line in an allotment if its SKU is hot (`Some`:
    /// the answer, `None` in it when none came back); `None`: hold at the SKU as usual.
    pub fn hot_create(&self, sh: &crate::carts::Shopper) -> Option<(Option<Token>, Option<CartResult>)> {
        let s = sh.single.as_ref()?;
        let [part] = sh.parts.as_slice() else { return None };
        let [(location, qty)] = part.lines.as_slice() else { return None };
        if *location != stockedge::stock::Location::main() {
            return None;
        }
        let p = match self.hot_policy(s) {
            Ok(Some(p)) => p,
            Ok(None) => return None,
            Err(()) => return Some((None, None)),
        };
        // A keyed client: its reference picks the allotment, its key the id's random part.
        let caller = sh.id.to_string();
        let home = AllotHome::of(s, home::pick(&caller, p.allotments));
        let id = home.reservation_id(random_of(&caller));
        let request = HoldRequest {
            id: id.clone(),
            qty: *qty,
            ttl_seconds: sh.ttl_seconds,
            channel: None,
            reference: Some(caller),
            block: p.block,
        };
        let action = AllotAction::Create { sku: s.clone(), index: home.index, request };
        match self.allot_call(&(s.clone(), home.index), id.clone(), action) {
            Some(AllotAnswer::NotHot) => {
                self.hot_cache.borrow_mut().remove(s);
                None
            }
            Some(AllotAnswer::Cart(r)) => Some((Some(id), Some(r))),
            Some(other) => panic!("an allotment answered a hold with {other:?}"),
            None => Some((Some(id), None)),
        }
    }

    /// `hot::route`: a step of a hold an allotment keeps.
    pub fn hot_route(&self, id: &Token, action: AllotAction) -> Option<CartResult> {
        let home = AllotHome::parse(id.as_str()).expect("an allotment's id");
        let s = self.hot_sku(&home.object)?;
        match self.allot_call(&(s, home.index), id.clone(), action)? {
            AllotAnswer::Cart(r) => Some(r),
            other => panic!("an allotment answered a reservation step with {other:?}"),
        }
    }

    /// The SKU whose allotment object is named `object`.
    fn hot_sku(&self, object: &str) -> Option<Sku> {
        let skus: Vec<Sku> = self.skus.borrow().keys().cloned().collect();
        skus.into_iter().find(|s| AllotHome::of(s, 0).object.split('.').nth(2) == object.split('.').nth(2))
    }
}
