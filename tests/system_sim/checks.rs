//! The invariants: the ones checked after every step, and the ones checked once faults have
//! stopped and everything has drained. Each returns the first violation it finds, in words.

use std::collections::BTreeMap;

use stockedge::api::requests::direct;
use stockedge::cart::Phase;
use stockedge::import::{RowOutcome, Status};
use stockedge::inbound::apply::token_of;
use stockedge::stock::{invariants, journal, HoldStatus, Location, Op, OrderKey, Sku};

use crate::carts::{Shopper, Told};
use crate::sync::{channel_token, final_quantity, product_of};
use crate::world::{World, ALARM_LATE_MAX};

impl World {
    /// After every step.
    pub fn check_step(&self) -> Result<(), String> {
        self.stats.borrow_mut().checks += 1;
        let now = self.now();
        let woo = channel_token();
        let mut skus = self.skus.borrow_mut();
        for (s, o) in skus.iter_mut() {
            // The journal replays to the stored levels; nothing stored is negative.
            let stored = o.stored.rows.levels();
            for (l, on_hand, reserved, committed) in &stored {
                if *on_hand < 0 || *reserved < 0 || *committed < 0 {
                    return Err(format!("{s} at {l}: a negative quantity ({on_hand}, {reserved}, {committed})"));
                }
                let r = o.replayed.get(&Location::parse(l).map_err(|e| e.to_string())?).copied().unwrap_or_default();
                if (r.on_hand, r.reserved, r.committed) != (*on_hand, *reserved, *committed) {
                    return Err(format!("{s} at {l}: stored levels {stored:?} but the journal replays to {r:?}"));
                }
            }
            let alarm = o.stored.alarm;
            let l = o.ledger_view();
            let t = l.totals();
            if t.backordered > l.backorder_limit() {
                return Err(format!("{s}: {} backordered beyond the allowance {}", t.backordered, l.backorder_limit()));
            }
            // No hold outlives its deadline plus the alarm bound.
            for h in l.holds() {
                // (A lend too: units lent to an allotment come back when its lease ends.)
                if h.status == HoldStatus::Held && !h.pinned && now.0 > h.expires_at.0 + ALARM_LATE_MAX {
                    return Err(format!(
                        "{s}: hold {} still held {} ms after its deadline (alarm bound {ALARM_LATE_MAX} ms; alarm {:?})",
                        h.id,
                        now.0 - h.expires_at.0,
                        alarm.map(|a| a.0 - h.expires_at.0)
                    ));
                }
            }
            // Each marketplace line applied at most once (by line id, with the store's quantity).
            let store = self.store.borrow();
            for (key, order) in l.orders().filter(|(k, _)| k.channel == woo) {
                let Some(lines) = store.lines_by_token.get(&key.order_id) else {
                    return Err(format!("{s}: order {key:?} the store never placed"));
                };
                for (line_id, line) in &order.lines {
                    match lines.iter().find(|(id, ls, _)| id == line_id && ls == s) {
                        Some((_, _, qty)) if *qty == line.qty => {}
                        other => {
                            return Err(format!(
                                "{s}: order {key:?} line {line_id} has {} (store: {other:?})",
                                line.qty
                            ))
                        }
                    }
                }
            }
        }
        drop(skus);
        self.check_allotments()?;
        if let Some(v) = self.store.borrow().violations.first() {
            return Err(v.clone());
        }
        Ok(())
    }

    /// Once faults stopped and everything drained.
    pub fn check_settled(&self, shoppers: &[Shopper]) -> Result<(), String> {
        let mut skus = self.skus.borrow_mut();
        let ledgers: BTreeMap<Sku, stockedge::stock::Ledger> =
            skus.iter_mut().map(|(s, o)| (s.clone(), o.ledger_view().clone())).collect();
        for (s, o) in skus.iter() {
            let l = &ledgers[s];
            invariants::check(l).map_err(|e| format!("{s}: {e}"))?;
            // Journal replay = state.
            let r = journal::replay(&o.stored.journal).map_err(|e| format!("{s}: journal: {e}"))?;
            let levels: BTreeMap<Location, _> = l.levels().iter().map(|(k, v)| (k.clone(), *v)).collect();
            let replayed: BTreeMap<Location, _> = r.levels.iter().map(|(k, v)| (k.clone(), *v)).collect();
            if replayed != levels || r.version != l.version() || r.backorder_limit != l.backorder_limit() {
                return Err(format!("{s}: the journal replays to {r:?}, the ledger is at {levels:?} v{}", l.version()));
            }
            if l.totals().reserved != 0 {
                return Err(format!("{s}: {} units still reserved after every deadline", l.totals().reserved));
            }
            if !o.stored.outbox.is_empty() {
                return Err(format!("{s}: {} outbox rows never sent", o.stored.outbox.len()));
            }
            if !o.stored.registrations.is_empty() {
                return Err(format!(
                    "{s}: {} order desk registrations never carried out",
                    o.stored.registrations.len()
                ));
            }
        }
        // Carts: all or nothing, and as told.
        let carts = self.carts.borrow();
        for sh in shoppers.iter().filter(|sh| sh.allot.is_none()) {
            let record = match &sh.single {
                Some(s) => skus[s].reservation_record(&sh.id).cloned(),
                None => carts.get(&sh.id).and_then(|c| c.record.clone()),
            };
            let Some(r) = record else {
                if matches!(sh.told, Told::Committed(_)) {
                    return Err(format!("{}: told committed, no record", sh.id));
                }
                continue;
            };
            if r.in_transition() {
                return Err(format!("{}: still {:?} after the world settled", sh.id, r.phase));
            }
            let committed = matches!(r.phase, Phase::Committed { .. });
            for p in &r.parts {
                let status = ledgers[&p.sku].hold(&r.hold_id()).map(|h| h.status);
                if committed != (status == Some(HoldStatus::Committed)) {
                    return Err(format!("{}: {:?} but its hold at {} is {status:?}", sh.id, r.phase, p.sku));
                }
            }
            if let Told::Committed(order) = &sh.told {
                if r.order() != Some(order) {
                    return Err(format!("{}: told committed to {order:?}, record {:?}", sh.id, r.phase));
                }
            }
        }
        drop(carts);
        // Orders: a cancelled book leaves no open unit of its order anywhere; every desk settled.
        for (key, desk) in self.desks.borrow().iter() {
            let Some(book) = &desk.book else { continue };
            if book.pending.is_some() {
                return Err(format!("desk {key:?}: a plan still pending"));
            }
            if book.cancelled {
                for (s, l) in &ledgers {
                    if let Some(o) = l.order(key) {
                        let open: i64 = o.lines.values().map(|x| x.open()).sum();
                        if open != 0 {
                            return Err(format!(
                                "{s}: order {key:?} was cancelled at its desk, {open} units still committed"
                            ));
                        }
                    }
                }
            }
        }
        // Marketplace orders: every line delivered by either path applied exactly once.
        for (id, lines, cancelled) in self.market_truth() {
            let key = OrderKey { channel: channel_token(), order_id: token_of(&id.to_string()) };
            for (line, s, qty) in &lines {
                let o = ledgers[s].order(&key);
                let got = o.and_then(|o| o.lines.get(&token_of(&line.to_string())));
                match (cancelled, got) {
                    (false, Some(g)) if g.qty == *qty && !g.cancelled => {}
                    // Cancelled: nothing of it stays committed (a cancellation that came first
                    // leaves a tombstone in the ledgers its book knew, or nothing at all).
                    (true, _) if got.is_none_or(|g| g.open() == 0) => {}
                    _ => {
                        return Err(format!(
                            "{s}: order {id} line {line}: store {qty} cancelled {cancelled}, ledger {got:?}"
                        ))
                    }
                }
            }
        }
        // Imports: each job applied at most once per ledger (one transition per job and SKU),
        // every row of the file reported once, and every row reported exactly as applied — the
        // rows reported `applied` add up, per SKU and location, to what the ledger journaled for
        // the job, however often their chunk ran and whether or not it was given up.
        for job in &self.imports.borrow().jobs {
            let mut reported: BTreeMap<(Sku, Location), i64> = BTreeMap::new();
            for (n, c) in job.chunks.iter().enumerate() {
                let Some(report) = &c.report else {
                    return Err(format!("import {}: chunk {n} never finished", job.id));
                };
                let lines: Vec<u64> = report.iter().map(|r| r.line).collect();
                let want: Vec<u64> = c.outcomes.iter().map(RowOutcome::line).collect();
                if lines != want {
                    return Err(format!("import {}: chunk {n} reports lines {lines:?}, has {want:?}", job.id));
                }
                for r in report.iter().filter(|r| r.status == Status::Applied) {
                    let (Some(s), Some(l), Some(q)) = (&r.sku, &r.location, r.quantity) else {
                        return Err(format!("import {}: applied row {} without a level", job.id, r.line));
                    };
                    *reported.entry((s.clone(), l.clone())).or_default() += q;
                }
            }
            for (s, o) in skus.iter() {
                let entries: Vec<_> = o
                    .stored
                    .journal
                    .iter()
                    .filter(|e| e.op == Op::Import && e.cause.import_id.as_deref() == Some(&job.id))
                    .collect();
                let mut versions: Vec<u64> = entries.iter().map(|e| e.version).collect();
                versions.dedup();
                if versions.len() > 1 {
                    return Err(format!("import {}: applied {} times to {s}", job.id, versions.len()));
                }
                let mut journaled: BTreeMap<(Sku, Location), i64> = BTreeMap::new();
                for e in entries {
                    *journaled.entry((s.clone(), e.location.clone())).or_default() += e.deltas.on_hand;
                }
                for (k, v) in &journaled {
                    if reported.get(k).copied().unwrap_or(0) != *v {
                        return Err(format!("import {}: {k:?} journaled {v}, reported {:?}", job.id, reported.get(k)));
                    }
                }
                for (k, v) in reported.iter().filter(|(k, v)| &k.0 == s && **v != 0) {
                    if journaled.get(k) != Some(v) {
                        return Err(format!("import {}: {k:?} reported {v}, journaled {:?}", job.id, journaled.get(k)));
                    }
                }
            }
        }
        // Units: on hand is what it started at, plus the imports, less what the desks shipped.
        for (s, l) in &ledgers {
            for (location, lv) in l.levels() {
                let mut want = self.initial.get(&(s.clone(), location.clone())).copied().unwrap_or(0);
                // The imports as journaled (each at most once, checked above).
                let o = &skus[s];
                want += o
                    .stored
                    .journal
                    .iter()
                    .filter(|e| e.op == Op::Import && &e.location == location)
                    .map(|e| e.deltas.on_hand)
                    .sum::<i64>();
                for desk in self.desks.borrow().values() {
                    if let Some(b) = &desk.book {
                        want -= b.shipped.get(&format!("{s} {location}")).copied().unwrap_or(0);
                    }
                }
                if lv.on_hand != want {
                    return Err(format!(
                        "{s} at {location}: on hand {} but the external changes make {want}",
                        lv.on_hand
                    ));
                }
            }
        }
        drop(skus);
        self.check_listings()?;
        self.check_allotments_settled(shoppers)?;
        let _ = direct();
        Ok(())
    }
}

impl World {
    /// After every step, for the SKUs that lend: every allotment's memory is what its rows
    /// hold; every block an allotment keeps agrees with
    /// the SKU's lend (same size, never a commit the SKU has not applied, never a return the
    /// allotment has not made), its customers hold no more units than the SKU still lends it (no
    /// unit promised twice), and a block the SKU took back backs no live hold; no allotment hold
    /// outlives its deadline plus the alarm bound.
    pub fn check_allotments(&self) -> Result<(), String> {
        let now = self.now();
        let allots = self.allots.borrow();
        if allots.is_empty() {
            return Ok(());
        }
        let mut skus = self.skus.borrow_mut();
        // (The ledger's full invariant sweep runs after every command in debug builds, this one
        // included; here only the allotments against it, from their rows: equal to their memory.)
        for ((s, k), o) in allots.iter() {
            if let Some(diff) = o.unsaved() {
                return Err(format!("{s}#{k}: a restart would lose {diff}"));
            }
            let Some((meta, holds)) = &o.stored else { continue };
            let l = skus.get_mut(s).map(|o| o.ledger_view()).ok_or("an allotment of no SKU")?;
            for b in meta.blocks.values() {
                let committed_at_sku = |id: &stockedge::stock::Token| {
                    l.hold(id).is_some_and(|x| x.status == HoldStatus::Committed && x.lend.is_none())
                };
                let promised: i64 = holds
                    .values()
                    .filter(|h| h.lend == b.lend && h.status == HoldStatus::Held)
                    .filter(|h| h.committing || h.expires_at > now)
                    .filter(|h| !committed_at_sku(&h.id))
                    .map(|h| h.qty)
                    .sum();
                let lend = l.hold(&b.lend).and_then(|h| h.lend.as_ref().map(|x| (h.status, x)));
                match lend {
                    Some((HoldStatus::Held, x)) => {
                        if x.lent != b.lent || x.allotment != *k || b.committed > x.committed || b.returned < x.returned
                        {
                            return Err(format!("{s}#{k}: block {b:?} but the SKU's lend is {x:?}"));
                        }
                        if promised > x.remaining() {
                            return Err(format!(
                                "{s}#{k}: block {} has {promised} units promised, the SKU lends {}",
                                b.lend,
                                x.remaining()
                            ));
                        }
                    }
                    _ => {
                        let live: i64 = holds
                            .values()
                            .filter(|h| h.lend == b.lend && h.status == HoldStatus::Held && !h.committing)
                            .filter(|h| h.expires_at > now)
                            .map(|h| h.qty)
                            .sum();
                        if live > 0 {
                            return Err(format!(
                                "{s}#{k}: block {} is back at the SKU ({lend:?}) but backs {live} held units",
                                b.lend
                            ));
                        }
                    }
                }
            }
            for h in holds.values() {
                if h.status == HoldStatus::Held && !h.committing && now.0 > h.expires_at.0 + ALARM_LATE_MAX {
                    return Err(format!(
                        "{s}#{k}: hold {} still held {} ms after its deadline (alarm {:?})",
                        h.id,
                        now.0 - h.expires_at.0,
                        o.alarm
                    ));
                }
            }
        }
        Ok(())
    }

    /// Once settled: nothing lent any more, no allotment hold held or being committed, every
    /// allotment hold committed exactly when the SKU has it committed (to the same order, once),
    /// each client told "committed" is, and every committed hold is on its order's desk.
    pub fn check_allotments_settled(&self, shoppers: &[Shopper]) -> Result<(), String> {
        let allots = self.allots.borrow();
        let mut skus = self.skus.borrow_mut();
        for ((s, k), o) in allots.iter() {
            let Some(a) = o.view() else { continue };
            let l = skus.get_mut(s).map(|o| o.ledger_view().clone()).ok_or("an allotment of no SKU")?;
            if let Some((h, _)) = l.live_lends().next() {
                return Err(format!("{s}: lend {} outlived every lease", h.id));
            }
            if !a.meta.registrations.is_empty() {
                return Err(format!("{s}#{k}: registrations {:?} never reached their desks", a.meta.registrations));
            }
            for h in a.holds.values() {
                if h.status == HoldStatus::Held {
                    return Err(format!("{s}#{k}: hold {h:?} still held (or being committed) after the world settled"));
                }
                let at_sku = l.hold(&h.id).filter(|x| x.lend.is_none());
                let committed = at_sku.is_some_and(|x| x.status == HoldStatus::Committed);
                if (h.status == HoldStatus::Committed) != committed {
                    return Err(format!("{s}#{k}: hold {} is {:?} but at the SKU {at_sku:?}", h.id, h.status));
                }
                if committed && at_sku.and_then(|x| x.order.as_ref()) != h.order.as_ref() {
                    return Err(format!("{s}#{k}: hold {} committed to {:?}, at the SKU {at_sku:?}", h.id, h.order));
                }
                if let (HoldStatus::Committed, Some(order)) = (h.status, &h.order) {
                    let on_desk = self
                        .desks
                        .borrow()
                        .get(order)
                        .and_then(|d| d.book.clone())
                        .is_some_and(|b| b.cancelled || b.lines.iter().any(|x| &x.sku == s));
                    if !on_desk {
                        return Err(format!(
                            "{s}#{k}: hold {} committed to {order:?}, which its desk never heard of",
                            h.id
                        ));
                    }
                }
            }
        }
        for sh in shoppers {
            let Some(id) = &sh.allot else { continue };
            let Told::Committed(order) = &sh.told else { continue };
            let home = stockedge::allot::AllotHome::parse(id.as_str()).ok_or("an allotment shopper's id")?;
            let s = sh.single.clone().ok_or("an allotment shopper of no SKU")?;
            let h = allots.get(&(s.clone(), home.index)).and_then(|o| o.view()).and_then(|a| a.holds.get(id).cloned());
            match h {
                Some(h) if h.status == HoldStatus::Committed && h.order.as_ref() == Some(order) => {}
                other => return Err(format!("{}: told committed to {order:?}, its allotment has {other:?}", sh.id)),
            }
        }
        Ok(())
    }
}

impl World {
    /// Once settled: every listing shows its rule over the SKU's final state, and converged
    /// without more reconciliation repairs than the store's silent drops of its pushes explain.
    pub fn check_listings(&self) -> Result<(), String> {
        let listings = self.sync.borrow().listings.clone();
        for l in &listings {
            let state = self.current_state(&l.sku);
            let want = final_quantity(&l.rule, state.as_ref());
            let product = product_of(&listings, &l.sku);
            let live = self.store.borrow().products.get(&product).map_or(0, |p| p.quantity);
            if live != want {
                return Err(format!("listing {}: the store shows {live}, its rule gives {want} ({state:?})", l.sku));
            }
            // Converged, but perhaps only because reconciliation repaired it: a repair is allowed
            // only for a push the store accepted silently (every other fault is answered, and
            // its push retried until it lands), at most one per such push.
            let repairs = self.sync.borrow().repairs.get(&product).copied().unwrap_or(0);
            let silent = self.store.borrow().silent_drops.get(&product).copied().unwrap_or(0);
            if repairs > silent {
                return Err(format!(
                    "listing {}: converged through {repairs} reconciliation repairs, but the store dropped only {silent} of its pushes silently",
                    l.sku
                ));
            }
        }
        self.stats.borrow_mut().silent_drops = self.store.borrow().silent_drops.values().sum();
        Ok(())
    }
}

/// The settled listing check counts the repairs reconciliation made, not only the convergence.
mod repair_checks {
    use crate::woo_store::PushFault;
    use crate::world::{sku, World};

    fn product_of_a(w: &World) -> i64 {
        crate::sync::product_of(&w.sync.borrow().listings, &sku("A"))
    }

    /// A push the store accepted silently is repaired by reconciliation once faults stop: one
    /// repair, explained by the silent drop, and the run settles.
    #[test]
    fn a_silently_dropped_push_is_repaired_once_and_allowed() {
        let w = World::quiet(5);
        w.forced.borrow_mut().pushes.push_back(PushFault::Silent);
        w.drain().expect("no violation");
        assert!(w.store.borrow().silent_drops.values().sum::<u64>() > 0, "the first push was dropped");
        assert!(w.sync.borrow().repairs.values().sum::<u64>() > 0, "reconciliation repaired it");
        w.check_listings().expect("every repair has a silent drop behind it");
    }

    /// A listing that drifted for no fault the simulation injected (here the store's quantity
    /// changed behind StockEdge's back) converges through a repair, and the check refuses it.
    #[test]
    fn a_listing_converged_only_by_an_unexplained_repair_fails_the_run() {
        let w = World::quiet(5);
        w.drain().expect("no violation");
        w.check_listings().expect("in sync without a repair");
        let p = product_of_a(&w);
        w.store.borrow_mut().products.get_mut(&p).expect("product").quantity += 1;
        w.drain().expect("no violation");
        let err = w.check_listings().expect_err("a repair no silent drop explains");
        assert!(err.contains("reconciliation repairs"), "{err}");
    }
}
