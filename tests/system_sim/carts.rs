//! Shoppers: multi-SKU carts through a cart coordinator (the real `cart::coordinator` protocol
//! over the world's SKU calls, with the coordinator's isolate dying at a random await point and
//! its resume alarm finishing the step, as `edge::cart_object` drives it), and single-SKU
//! reservations kept by the SKU's own ledger object (`cart::single`, one hop).

use stockedge::api::cart_call::{CartAction, CartAnswer, CartRefusal};
use stockedge::api::idempotency::Keyed;
use stockedge::api::requests::direct;
use stockedge::api::sku_call::{ledger_cart, LedgerCart, SkuAction};
use stockedge::cart::coordinator::{self, Start, RESUME_DELAY_MS};
use stockedge::cart::plan::Part;
use stockedge::cart::{registration, CartError, CartStore, Phase, Reservation, SaveError, Status};
use stockedge::stock::{OrderKey, Sku, Token};
use stockedge::time::Millis;

use crate::world::{loc, sku, tok, World, LOCS, SKUS};

pub use crate::await_points::{run, YieldOnce};

/// The coordinator's storage: its record and alarm in the world.
struct Slot<'a> {
    world: &'a World,
    id: Token,
}

impl CartStore for Slot<'_> {
    fn save(&self, r: &Reservation) -> Result<(), SaveError> {
        self.world.carts.borrow_mut().entry(self.id.clone()).or_default().record = Some(r.clone());
        Ok(())
    }
    fn resume_at(&self, at: Option<Millis>) {
        self.world.carts.borrow_mut().entry(self.id.clone()).or_default().alarm = at;
    }
}

/// What the shopper was told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Told {
    Nothing,
    Held,
    Short,
    Committed(OrderKey),
    Ended,
}

/// One shopper's cart (multi-SKU, through a coordinator) or single-SKU reservation.
#[derive(Clone, Debug)]
pub struct Shopper {
    pub id: Token,
    pub parts: Vec<Part>,
    /// `Some(sku)`: a single-SKU reservation kept by that ledger.
    pub single: Option<Sku>,
    pub ttl_seconds: i64,
    pub told: Told,
    pub gave_up: bool,
    /// `Some(id)`: the single-SKU reservation an allotment of a hot SKU keeps, under `id`.
    pub allot: Option<Token>,
}

fn fingerprint(parts: &[Part], ttl: i64) -> String {
    format!("{parts:?}/{ttl}")
}

impl World {
    /// The coordinator's resume alarm for cart `id`.
    pub fn cart_alarm(&self, id: &Token) {
        let record = {
            let mut carts = self.carts.borrow_mut();
            let c = carts.entry(id.clone()).or_default();
            c.alarm = None;
            c.record.clone()
        };
        let Some(mut r) = record else { return };
        if !r.in_transition() {
            self.register_owed(id);
            return;
        }
        let before = r.phase.clone();
        self.log(|| format!("cart {id}: resume alarm in {:?}", r.phase));
        let t = self.now();
        let slot = Slot { world: self, id: id.clone() };
        self.arm(id);
        let crash = self.crash_point();
        let out = run(
            async {
                let res = coordinator::resume(self, &slot, &mut r, t).await;
                (r, res)
            },
            crash,
        );
        if let Some((r, res)) = out {
            self.finish_drive(id, r.clone(), &res);
            if let Some(call) = stockedge::cart::registration::owed(&before, &r) {
                self.carts.borrow_mut().entry(id.clone()).or_default().owed.owe_call(r.hold_id(), call);
            }
        }
        self.register_owed(id);
    }

    /// `CartCoordinator::register_owed`: what the cart owes, sent until its desk answers.
    fn register_owed(&self, id: &Token) {
        let due = self.carts.borrow().get(id).map(|c| c.owed.due()).unwrap_or_default();
        for (hold, call) in due {
            let delivery = self.desk_call(&call.order, call.action).delivery();
            self.carts.borrow_mut().entry(id.clone()).or_default().owed.sent(&hold, &delivery);
        }
        let retry = self.carts.borrow().get(id).and_then(|c| c.owed.retry_at(self.now(), RESUME_DELAY_MS));
        if let Some(at) = retry {
            self.carts.borrow_mut().entry(id.clone()).or_default().alarm = Some(at);
        }
    }

    fn arm(&self, id: &Token) {
        let at = Millis(self.now().0 + RESUME_DELAY_MS);
        self.carts.borrow_mut().entry(id.clone()).or_default().alarm = Some(at);
    }

    fn crash_point(&self) -> Option<u32> {
        if self.chance(self.f().crash) {
            self.stats.borrow_mut().crashes += 1;
            Some(self.below(8) as u32)
        } else {
            None
        }
    }

    fn finish_drive(&self, id: &Token, mut r: Reservation, res: &Result<(), CartError>) {
        let slot = Slot { world: self, id: id.clone() };
        if coordinator::record_answer(&mut r, res, self.now()) {
            let _ = slot.save(&r);
        }
        if !r.in_transition() {
            slot.resume_at(None);
        }
    }

    /// A shopper creates a cart (or retries its creation).
    pub fn cart_create(&self, s: &mut Shopper) {
        if let Some(single) = s.single.clone() {
            if let Some((id, answer)) = self.hot_create(s) {
                if id.is_some() {
                    s.allot = id;
                }
                if let Some(r) = answer {
                    self.told_after(s, "create", r);
                }
                return;
            }
            s.allot = None;
            return self.single_step(
                s,
                &single,
                CartAction::Create {
                    parts: s.parts.clone(),
                    ttl_seconds: s.ttl_seconds,
                    channel: None,
                    reference: None,
                    fingerprint: fingerprint(&s.parts, s.ttl_seconds),
                    keyed: false,
                },
            );
        }
        let t = self.now();
        let new = Reservation::creating(
            s.id.clone(),
            s.parts.clone(),
            s.ttl_seconds,
            None,
            None,
            fingerprint(&s.parts, s.ttl_seconds),
            t,
        );
        let existing = self.carts.borrow().get(&s.id).and_then(|c| c.record.clone());
        let mut r = match coordinator::start_create(existing, new) {
            Start::Conflict => panic!("the shopper repeats its own request"),
            Start::Replay(e) => {
                if let Some(first) = e.answer {
                    s.told = if first.is_ok() { Told::Held } else { Told::Short };
                }
                return;
            }
            Start::Resume(r) | Start::Fresh(r) => r,
        };
        let resume = r.phase == Phase::Creating && self.carts.borrow().get(&s.id).is_some_and(|c| c.record.is_some());
        let slot = Slot { world: self, id: s.id.clone() };
        let _ = slot.save(&r);
        self.arm(&s.id);
        let crash = self.crash_point();
        let out = run(
            async {
                let res = if resume {
                    coordinator::resume(self, &slot, &mut r, t).await
                } else {
                    coordinator::create(self, &slot, &mut r, t).await
                };
                (r, res)
            },
            crash,
        );
        let Some((r, res)) = out else {
            self.log(|| format!("cart {}: coordinator died while creating", s.id));
            return;
        };
        self.finish_drive(&s.id, r.clone(), &res);
        let answer = self.carts.borrow().get(&s.id).and_then(|c| c.record.as_ref().and_then(|r| r.answer.clone()));
        match (answer, res) {
            (Some(Ok(_)), _) => s.told = Told::Held,
            (Some(Err(_)), _) => s.told = Told::Short,
            (None, _) => {}
        }
        self.log(|| format!("cart {}: create → {:?}", s.id, s.told));
    }

    /// A shopper commits (or retries the commit).
    pub fn cart_commit(&self, s: &mut Shopper) {
        let order_id = tok(&format!("o-{}", s.id));
        if let Some(id) = s.allot.clone() {
            let r = self.hot_route(&id, stockedge::api::allot_call::AllotAction::Commit { order_id: Some(order_id) });
            if let Some(r) = r {
                self.told_after(s, "commit", r);
            }
            return;
        }
        if let Some(single) = s.single.clone() {
            return self.single_step(s, &single, CartAction::Commit { order_id: Some(order_id) });
        }
        let Some(mut r) = self.carts.borrow().get(&s.id).and_then(|c| c.record.clone()) else { return };
        if matches!(r.phase, Phase::Ended { .. }) {
            s.told = Told::Ended;
            return;
        }
        let t = self.now();
        let order = OrderKey { channel: r.channel.clone().unwrap_or_else(direct), order_id };
        let slot = Slot { world: self, id: s.id.clone() };
        let _ = slot.save(&r);
        self.arm(&s.id);
        let crash = self.crash_point();
        let key = order.clone();
        let out = run(
            async {
                let res = coordinator::commit(self, &slot, &mut r, key, t).await;
                (r, res)
            },
            crash,
        );
        let Some((r, res)) = out else {
            self.log(|| format!("cart {}: coordinator died while committing", s.id));
            return;
        };
        self.finish_drive(&s.id, r.clone(), &res);
        self.log(|| format!("cart {}: commit → {res:?}", s.id));
        match res {
            Ok(()) => {
                // `CartCoordinator::owe` and `register_owed`: the committed lines, with the
                // order's desk, kept until the desk answers.
                if let Some(call) = registration::attach(&r.hold_id(), &r.parts, order.clone()) {
                    self.carts.borrow_mut().entry(s.id.clone()).or_default().owed.owe_call(r.hold_id(), call);
                }
                self.register_owed(&s.id);
                if s.told != Told::Committed(order.clone()) {
                    self.stats.borrow_mut().carts_committed += 1;
                }
                s.told = Told::Committed(order);
            }
            Err(CartError::NotHeld(_)) => s.told = Told::Ended,
            Err(_) => {}
        }
    }

    /// A shopper releases (or extends) its cart.
    pub fn cart_release(&self, s: &mut Shopper, extend: Option<i64>) {
        if let Some(id) = s.allot.clone() {
            use stockedge::api::allot_call::AllotAction;
            let action = match extend {
                Some(ttl_seconds) => AllotAction::Extend { ttl_seconds },
                None => AllotAction::Release,
            };
            if let Some(r) = self.hot_route(&id, action) {
                self.told_after(s, if extend.is_some() { "extend" } else { "release" }, r);
            }
            return;
        }
        if let Some(single) = s.single.clone() {
            let action = match extend {
                Some(ttl_seconds) => CartAction::Extend { ttl_seconds },
                None => CartAction::Release,
            };
            return self.single_step(s, &single, action);
        }
        let Some(mut r) = self.carts.borrow().get(&s.id).and_then(|c| c.record.clone()) else { return };
        let t = self.now();
        let slot = Slot { world: self, id: s.id.clone() };
        let _ = slot.save(&r);
        self.arm(&s.id);
        let crash = self.crash_point();
        let out = run(
            async {
                let res = match extend {
                    Some(ttl) => coordinator::extend(self, &slot, &mut r, t.plus_seconds(ttl), t).await,
                    None => coordinator::release(self, &slot, &mut r, t).await,
                };
                (r, res)
            },
            crash,
        );
        if let Some((r, res)) = out {
            self.finish_drive(&s.id, r, &res);
            self.log(|| format!("cart {}: {} → {res:?}", s.id, if extend.is_some() { "extend" } else { "release" }));
            if extend.is_none() && res.is_ok() {
                s.told = Told::Ended;
            }
        }
    }

    /// One step of a single-SKU reservation at its ledger.
    fn single_step(&self, s: &mut Shopper, single: &Sku, action: CartAction) {
        let step = match action {
            CartAction::Commit { .. } => "commit",
            CartAction::Release => "release",
            CartAction::Create { .. } => "create",
            _ => "other",
        };
        let reply = self.sku_call(single, SkuAction::Reservation { id: s.id.clone(), call: action }, None);
        let Some(reply) = reply else { return };
        let answer = match ledger_cart(reply) {
            LedgerCart::Reply(Keyed::Answered(r) | Keyed::Replayed(r)) => r,
            other => panic!("a reservation step answered {other:?}"),
        };
        self.told_after(s, step, answer);
    }

    /// What a single-SKU reservation's client learns from the answer to its `step`.
    fn told_after(&self, s: &mut Shopper, step: &str, answer: stockedge::api::cart_call::CartResult) {
        let (commit, release, create) = (step == "commit", step == "release", step == "create");
        self.log(|| format!("single {} ({:?}) {step}: → {answer:?}", s.id, s.allot));
        match answer {
            Ok(CartAnswer::Created(shown)) if create => {
                s.told = if shown.status == Status::Held { Told::Held } else { Told::Ended }
            }
            Ok(CartAnswer::Current(shown)) if commit => {
                if let Some(order) = shown.order {
                    if s.told != Told::Committed(order.clone()) {
                        self.stats.borrow_mut().singles_committed += 1;
                    }
                    s.told = Told::Committed(order);
                }
            }
            Ok(_) if release => s.told = Told::Ended,
            Ok(_) => {}
            Err(CartRefusal::Cart(CartError::Short(_))) => s.told = Told::Short,
            Err(CartRefusal::Cart(CartError::NotHeld(_))) => s.told = Told::Ended,
            Err(_) => {}
        }
    }

    /// A new shopper: a multi-SKU cart (2–3 SKUs) or a single-SKU reservation.
    pub fn new_shopper(&self, n: u64) -> Shopper {
        let single = self.chance(450);
        let count = if single { 1 } else { 2 + self.below(2) as usize };
        let first = self.below(SKUS.len() as u64) as usize;
        let parts: Vec<Part> = (0..count)
            .map(|i| {
                let s = sku(SKUS[(first + i) % SKUS.len()]);
                let l = loc(LOCS[self.below(LOCS.len() as u64) as usize]);
                Part { sku: s, lines: vec![(l, self.range(1, 3))] }
            })
            .collect();
        // Where a SKU is hot, most single-line holds are of it at `main`: its allotments' traffic.
        let mut parts = parts;
        if single && self.hot.is_some() && self.chance(700) {
            parts[0].sku = sku(crate::world::HOT_SKU);
            parts[0].lines[0].0 = loc("main");
        }
        let id = if single { tok(&format!("rsk_s{n}")) } else { tok(&format!("cart-{n}")) };
        Shopper {
            single: single.then(|| parts[0].sku.clone()),
            id,
            parts,
            ttl_seconds: self.range(5, 120),
            told: Told::Nothing,
            gave_up: false,
            allot: None,
        }
    }
}
