//! One seed's run: random steps by every actor with faults on, the clock moved from timer to
//! timer (alarms fire late, some twice), the step invariants after every step; then faults stop,
//! the world drains (alarms, queues, polls, operators' retries and reconciliation) and the settled
//! invariants are checked.

use stockedge::stock::Sku;
use stockedge::time::Millis;

use crate::carts::{Shopper, Told};
use crate::world::{sku, Faults, Stats, World, ALARM_LATE_MAX, SKUS};

/// The lateness of the alarm set for `at` at object `salt` (0..=ALARM_LATE_MAX), fixed by the
/// alarm's time so that an alarm keeps its lateness however often the clock looks at it.
fn late(at: Millis, salt: u64) -> i64 {
    let h = (at.0 as u64 ^ salt.wrapping_mul(0x9E37_79B9)).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 33;
    (h % (ALARM_LATE_MAX as u64 + 1)) as i64
}

#[derive(Clone, Debug)]
enum Timer {
    Sku(Sku),
    Ghost(usize),
    Cart(stockedge::stock::Token),
    Desk(stockedge::stock::OrderKey),
    Poll,
    Allot(crate::allot::AllotKey),
    AllotGhost(usize),
    Delayed(usize),
}

impl World {
    /// The earliest timer due at or before `until`.
    fn next_timer(&self, until: Millis) -> Option<(Millis, Timer)> {
        let mut best: Option<(Millis, Timer)> = None;
        let mut consider = |at: Millis, t: Timer| {
            if at <= until && best.as_ref().is_none_or(|(b, _)| at < *b) {
                best = Some((at, t));
            }
        };
        for (i, (s, o)) in self.skus.borrow().iter().enumerate() {
            if let Some(at) = o.stored.alarm {
                consider(Millis(at.0 + late(at, i as u64)), Timer::Sku(s.clone()));
            }
        }
        for (i, (_, at)) in self.ghosts.borrow().iter().enumerate() {
            consider(*at, Timer::Ghost(i));
        }
        for (id, c) in self.carts.borrow().iter() {
            if let Some(at) = c.alarm {
                consider(Millis(at.0 + late(at, 7)), Timer::Cart(id.clone()));
            }
        }
        for (k, d) in self.desks.borrow().iter() {
            if let Some(at) = d.alarm {
                consider(Millis(at.0 + late(at, 11)), Timer::Desk(k.clone()));
            }
        }
        consider(self.inbound.borrow().next_poll, Timer::Poll);
        for (k, o) in self.allots.borrow().iter() {
            if let Some(at) = o.alarm {
                consider(Millis(at.0 + late(at, 13 + u64::from(k.1))), Timer::Allot(k.clone()));
            }
        }
        for (i, (_, at)) in self.allot_ghosts.borrow().iter().enumerate() {
            consider(*at, Timer::AllotGhost(i));
        }
        for (i, (_, _, at)) in self.delayed.borrow().iter().enumerate() {
            consider(*at, Timer::Delayed(i));
        }
        best
    }

    /// Moves the clock to `until`, firing every timer on the way at its time.
    pub fn advance_to(&self, until: Millis) -> Result<(), String> {
        while let Some((at, timer)) = self.next_timer(until) {
            self.now.set(Millis(at.0.max(self.now().0)));
            match timer {
                Timer::Sku(s) => {
                    self.sku_alarm(&s);
                    if self.chance(self.f().alarm_twice) {
                        let again = Millis(self.now().0 + self.range(0, ALARM_LATE_MAX));
                        self.ghosts.borrow_mut().push((s, again));
                    }
                }
                Timer::Ghost(i) => {
                    let (s, _) = self.ghosts.borrow_mut().swap_remove(i);
                    self.log(|| format!("{s}: the alarm fires again"));
                    self.sku_alarm(&s);
                }
                Timer::Cart(id) => self.cart_alarm(&id),
                Timer::Desk(k) => self.desk_alarm(&k),
                Timer::Poll => self.poll(),
                Timer::Allot(k) => {
                    self.allot_alarm(&k);
                    if self.chance(self.f().alarm_twice) {
                        let again = Millis(self.now().0 + self.range(0, ALARM_LATE_MAX));
                        self.allot_ghosts.borrow_mut().push((k, again));
                    }
                }
                Timer::AllotGhost(i) => {
                    let (k, _) = self.allot_ghosts.borrow_mut().swap_remove(i);
                    self.log(|| format!("allotment {}#{}: the alarm fires again", k.0, k.1));
                    self.allot_alarm(&k);
                }
                Timer::Delayed(i) => self.deliver_delayed(i),
            }
            self.bury();
            self.check_step()?;
        }
        self.now.set(Millis(until.0.max(self.now().0)));
        Ok(())
    }

    /// One random step.
    fn step(&self, shoppers: &mut Vec<Shopper>) {
        self.stats.borrow_mut().steps += 1;
        let f = self.f();
        if self.chance(f.restart) {
            let s = sku(SKUS[self.below(SKUS.len() as u64) as usize]);
            self.restart(&s);
        }
        if self.chance(f.restart) {
            let keys: Vec<_> = self.allots.borrow().keys().cloned().collect();
            if !keys.is_empty() {
                self.allot_restart(&keys[self.below(keys.len() as u64) as usize]);
            }
        }
        match self.below(100) {
            0..=14 => {
                let n = shoppers.len() as u64;
                let mut s = self.new_shopper(n);
                self.cart_create(&mut s);
                shoppers.push(s);
            }
            15..=34 => {
                let Some(i) = self.pick(shoppers) else { return };
                let mut s = shoppers[i].clone();
                match (&s.told, self.below(10)) {
                    (Told::Nothing, _) => self.cart_create(&mut s),
                    (Told::Held, 0..=5) | (Told::Committed(_), 0..=1) => self.cart_commit(&mut s),
                    (Told::Held, 6..=7) => self.cart_release(&mut s, None),
                    (Told::Held, _) => {
                        let ttl = self.range(5, 60);
                        self.cart_release(&mut s, Some(ttl))
                    }
                    _ => s.gave_up = true,
                }
                shoppers[i] = s;
            }
            35..=44 => self.market_order(),
            45..=48 => self.market_cancel(),
            49..=58 => self.deliver_webhook(),
            59..=72 => self.deliver_stock_changes(),
            73..=75 => self.deliver_dead_letters(),
            76..=78 => self.import_submit(),
            79..=83 => self.deliver_import(),
            84..=88 => self.operator_cancel(shoppers),
            89..=92 => self.operator_fulfil(),
            // An operator turns the hot SKU ordinary, or hot again.
            93 if self.hot.is_some() => {
                let s = sku(crate::world::HOT_SKU);
                let now_hot = self.skus.borrow().get(&s).is_some_and(|o| o.stored.hotness.operator.is_some());
                self.set_hot_policy(&s, if now_hot { None } else { self.hot });
            }
            // More shoppers where a SKU is hot (most of them hold it: its allotments' traffic).
            94..=99 if self.hot.is_some() => {
                for _ in 0..2 {
                    let n = shoppers.len() as u64;
                    let mut s = self.new_shopper(n);
                    self.cart_create(&mut s);
                    shoppers.push(s);
                }
            }
            _ => {}
        }
    }

    fn pick(&self, shoppers: &[Shopper]) -> Option<usize> {
        let live: Vec<usize> = (0..shoppers.len()).filter(|i| !shoppers[*i].gave_up).collect();
        (!live.is_empty()).then(|| live[self.below(live.len() as u64) as usize])
    }

    /// An operator cancels an order at its desk (a storefront order, committed or about to be).
    fn operator_cancel(&self, shoppers: &[Shopper]) {
        if shoppers.is_empty() {
            return;
        }
        let s = &shoppers[self.below(shoppers.len() as u64) as usize];
        let order = stockedge::stock::OrderKey {
            channel: stockedge::api::requests::direct(),
            order_id: crate::world::tok(&format!("o-{}", s.id)),
        };
        self.log(|| format!("operator cancels {}", order.order_id));
        self.desk_call(&order, stockedge::api::order_call::OrderAction::Cancel { reason: Some("operator".into()) });
    }

    /// An operator ships what is open on some order's book.
    fn operator_fulfil(&self) {
        let books: Vec<stockedge::orders::Book> =
            self.desks.borrow().values().filter_map(|d| d.book.clone()).filter(|b| !b.cancelled).collect();
        if books.is_empty() {
            return;
        }
        let b = &books[self.below(books.len() as u64) as usize];
        let mut lines: Vec<stockedge::orders::Line> = Vec::new();
        for l in &b.lines {
            let open = b.open(&l.sku, &l.location);
            if open > 0 && !lines.iter().any(|x| x.sku == l.sku && x.location == l.location) {
                lines.push(stockedge::orders::Line {
                    sku: l.sku.clone(),
                    qty: open,
                    location: l.location.clone(),
                    line_id: None,
                });
            }
        }
        if lines.is_empty() {
            return;
        }
        self.log(|| format!("operator ships {:?}", lines));
        self.desk_call(&b.order, stockedge::api::order_call::OrderAction::Fulfil { lines });
    }

    /// Faults off; alarms, queues, polls and operators until nothing moves.
    pub fn drain(&self) -> Result<(), String> {
        self.faults.set(Faults::default());
        self.log(|| "faults stop".into());
        // Every deadline passes (TTLs are at most 120 s; coordinators and desks resume).
        for _ in 0..200 {
            let t = Millis(self.now().0 + 5_000);
            self.advance_to(t)?;
            self.deliver_everything()?;
            let busy = self.carts.borrow().values().any(|c| c.alarm.is_some())
                || self.desks.borrow().values().any(|d| d.alarm.is_some())
                || !self.delayed.borrow().is_empty()
                || self.allots.borrow().values().filter_map(|o| o.view()).any(|a| a.retry_owed())
                || self
                    .skus
                    .borrow()
                    .values()
                    .any(|o| !o.stored.outbox.is_empty() || !o.stored.registrations.is_empty());
            if !busy && self.now().0 > self.last_deadline() {
                break;
            }
        }
        // A poll past every webhook, then operators: retry failures, reconcile, until in sync.
        for _ in 0..20 {
            let t = Millis(self.now().0 + crate::inbound::POLL_EVERY_MS);
            self.advance_to(t)?;
            self.deliver_everything()?;
            self.deliver_dead_letters();
            let retried = self.retry_failures();
            self.deliver_everything()?;
            let off = self.reconcile();
            self.deliver_everything()?;
            if retried == 0 && off == 0 && self.stock_queue.borrow().is_empty() {
                break;
            }
        }
        Ok(())
    }

    fn last_deadline(&self) -> i64 {
        self.skus
            .borrow_mut()
            .values_mut()
            .flat_map(|o| o.ledger_view().holds().map(|h| h.expires_at.0).collect::<Vec<_>>())
            .max()
            .unwrap_or(0)
            .max(
                self.allots
                    .borrow()
                    .values()
                    .filter_map(|o| o.view())
                    .flat_map(|a| a.wake_at(self.now()))
                    .map(|m| m.0)
                    .max()
                    .unwrap_or(0),
            )
            + ALARM_LATE_MAX
    }

    fn deliver_everything(&self) -> Result<(), String> {
        for _ in 0..1_000 {
            let t = self.now();
            let webhooks_due = self.inbound.borrow().webhooks.iter().any(|w| w.at <= t);
            let stock_due = self.stock_queue.borrow().next_due().is_some_and(|d| d <= t);
            let import_due = self.imports.borrow().queue.next_due().is_some_and(|d| d <= t);
            if !(webhooks_due || stock_due || import_due) {
                // Jump to the next delivery (a retry's delay).
                let next = [self.stock_queue.borrow().next_due(), self.imports.borrow().queue.next_due()]
                    .into_iter()
                    .flatten()
                    .min();
                match next {
                    Some(at) => self.advance_to(at)?,
                    None => return Ok(()),
                }
                continue;
            }
            self.deliver_webhook();
            self.deliver_stock_changes();
            self.deliver_import();
            self.deliver_dead_letters();
            self.bury();
            self.check_step()?;
        }
        Err("the queues never drained".into())
    }

    /// The whole run of one seed.
    pub fn run(&self, steps: u64) -> Result<Vec<Shopper>, String> {
        for s in SKUS {
            self.after_fetch(&sku(s));
        }
        let mut shoppers = Vec::new();
        for _ in 0..steps {
            let dt = if self.chance(100) { self.range(5_000, 90_000) } else { self.range(0, 2_500) };
            self.advance_to(Millis(self.now().0 + dt))?;
            self.step(&mut shoppers);
            self.bury();
            self.check_step()?;
        }
        self.drain()?;
        self.check_step()?;
        self.check_settled(&shoppers)?;
        Ok(shoppers)
    }

    pub fn stats(&self) -> Stats {
        let mut s = *self.stats.borrow();
        for o in self.skus.borrow().values() {
            s.auto_hot_on += o.auto_on;
            s.auto_hot_ended += o.auto_ended;
        }
        s
    }
}
