//! A deterministic simulation of flash-sale allotments (`stockedge::allot`), one seed per world.
//!
//! One SKU ledger (the real [`Ledger`] behind the real lender handler `allot::lender::serve`)
//! lends blocks to K real [`Allotment`]s. Customers hold, commit, release and extend against the
//! allotments; marketplace sales arrive on the SKU (recalling blocks first, as the SKU object
//! does); restocks arrive; the clock jumps so that holds and leases expire mid-flight. A seeded
//! PRNG injects faults on every message between an allotment and the SKU: lost before it is
//! applied, applied with its answer lost, applied twice, or delayed and applied at a later step
//! (its answer lost). Allotments crash: either they restart from what they stored (they store
//! before each message they send, as the shell does) or they lose their storage too and start
//! afresh under a new incarnation, forgetting their blocks and holds.
//!
//! After every step:
//! - the ledger passes `invariants::check` (lends' counters add up, reserved = holds + lends);
//! - no unit is promised twice: the units an allotment's customers hold from a block (not yet
//!   committed at the SKU) never exceed what the SKU still lends it, and a block the SKU took
//!   back backs no live hold;
//! - every commit a customer was told succeeded is in the SKU's ledger, once, with its order line;
//! - `oversold` only grows on a marketplace sale (lending never creates it), and in runs without
//!   faults a sale that the free units and the blocks' free units cover is never recorded
//!   oversold (the recall works);
//! - every lend the SKU still counts is inside its lease (a crashed allotment's block comes back
//!   when the lease ends).
//!
//! At the end the world settles (time passes every lease): nothing is lent or reserved, and the
//! journal replays to the levels.
//!
//! `cargo test` runs seeds 0..200 (`SIM_SEEDS=N` for more, `SIM_SEED=S` for one with a trace).
//! [`sku_messages_per_hold`] counts what the SKU object receives per hold: the scaling model of
//! docs/architecture.md, "Allotments".

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use stockedge::allot::allotment::{AllotHold, HoldRequest, Meta};
use stockedge::allot::{lender, AllotHome, Allotment, Commit, HotPolicy, LenderCall, LenderReply, Reserve};
use stockedge::cart::CartError;
use stockedge::stock::{
    invariants, journal, Cause, Command, HoldStatus, Ledger, Location, OrderKey, SaleLine, Sku, Token,
};
use stockedge::time::Millis;

const DEFAULT_SEEDS: u64 = 200;
const STEPS: usize = 400;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

fn tok(s: &str) -> Token {
    Token::parse(s).expect("token")
}

/// What a message between an allotment and the SKU suffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Delivered,
    LostBefore,
    AnswerLost,
    Twice,
    Delayed,
}

/// The fault rates of a world (per mille); all zero in a calm world.
#[derive(Clone, Copy)]
struct Faults {
    message: u64,
    crash: u64,
}

struct World {
    rng: Rng,
    now: Millis,
    sku: Sku,
    policy: HotPolicy,
    ledger: Ledger,
    allots: Vec<Allotment>,
    stored: Vec<(Meta, Vec<AllotHold>)>,
    delayed: Vec<LenderCall>,
    faults: Faults,
    /// Holds customers were told are committed: hold id → (qty, order).
    confirmed: BTreeMap<Token, (i64, OrderKey)>,
    /// Holds customers were told are held (id → allotment), to pick from.
    known: Vec<(u32, Token)>,
    next: u64,
    on_hand: i64,
    sold_elsewhere: i64,
    /// Messages the SKU object received (applied), and of them commits; holds placed.
    sku_messages: u64,
    sku_commits: u64,
    holds_placed: u64,
    trace: Vec<String>,
    /// Units per hold: 1..=max_qty.
    max_qty: i64,
    /// Whether allotments store their state (off where nothing crashes, to keep it quick).
    persist: bool,
}

impl World {
    fn new(seed: u64, faults: Faults) -> World {
        let mut rng = Rng(seed);
        let k = rng.range(1, 5) as u32;
        let policy = HotPolicy { allotments: k, block: rng.range(1, 8), lease_seconds: rng.range(5, 40) };
        let sku = Sku::parse("HOT-1").expect("sku");
        let mut ledger = Ledger::new();
        let on_hand = rng.range(0, 60);
        let cause = Cause { reason: Some("received".into()), ..Cause::default() };
        ledger
            .apply(Command::Set { location: Location::main(), on_hand, expected_version: None, cause }, Millis(0))
            .expect("stock");
        let allots: Vec<Allotment> =
            (0..k).map(|i| Allotment::new(sku.clone(), i, format!("{:08x}", rng.next() as u32))).collect();
        let stored = allots.iter().map(|a| (a.meta.clone(), a.holds.values().cloned().collect())).collect();
        World {
            rng,
            now: Millis(1_000),
            sku,
            policy,
            ledger,
            allots,
            stored,
            delayed: Vec::new(),
            faults,
            confirmed: BTreeMap::new(),
            known: Vec::new(),
            next: 0,
            on_hand,
            sold_elsewhere: 0,
            sku_messages: 0,
            sku_commits: 0,
            holds_placed: 0,
            trace: vec![format!("policy {policy:?}, on hand {on_hand}")],
            max_qty: 3,
            persist: true,
        }
    }

    fn fate(&mut self) -> Fate {
        if !self.rng.chance(self.faults.message) {
            return Fate::Delivered;
        }
        match self.rng.below(4) {
            0 => Fate::LostBefore,
            1 => Fate::AnswerLost,
            2 => Fate::Twice,
            _ => Fate::Delayed,
        }
    }

    fn serve(&mut self, call: LenderCall) -> LenderReply {
        self.sku_messages += 1;
        if matches!(call, LenderCall::Commit { .. }) {
            self.sku_commits += 1;
        }
        lender::serve(&mut self.ledger, Some(&self.policy), call, self.now)
    }

    /// Sends `call` to the SKU through the faulty network.
    fn send_to_sku(&mut self, call: LenderCall) -> Option<LenderReply> {
        let fate = self.fate();
        self.trace.push(format!("  → sku {fate:?} {}", short(&call)));
        match fate {
            Fate::Delivered => Some(self.serve(call)),
            Fate::LostBefore => None,
            Fate::AnswerLost => {
                self.serve(call);
                None
            }
            Fate::Twice => {
                self.serve(call.clone());
                Some(self.serve(call))
            }
            Fate::Delayed => {
                self.delayed.push(call);
                None
            }
        }
    }

    fn store(&mut self, k: usize) {
        if !self.persist {
            return;
        }
        let a = &self.allots[k];
        self.stored[k] = (a.meta.clone(), a.holds.values().cloned().collect());
    }

    /// The allotment crashes: it restarts from storage, or loses its storage too.
    fn crash(&mut self, k: usize) {
        if self.rng.chance(500) {
            let (meta, holds) = self.stored[k].clone();
            self.allots[k] = Allotment::restore(meta, holds);
            self.trace.push(format!("  allotment {k} restarts from storage"));
        } else {
            let incarnation = format!("{:08x}", self.rng.next() as u32);
            self.allots[k] = Allotment::new(self.sku.clone(), k as u32, incarnation);
            self.store(k);
            self.trace.push(format!("  allotment {k} loses its storage"));
        }
    }

    /// A crash in the middle of a step, between sending and taking the answer.
    fn crashes_mid_step(&mut self) -> bool {
        self.rng.chance(self.faults.crash)
    }

    fn hold(&mut self) {
        let k = self.rng.below(self.policy.allotments as u64) as usize;
        let mut random = [0u8; 8];
        random.copy_from_slice(&self.rng.next().to_be_bytes());
        let id = AllotHome::of(&self.sku, k as u32).reservation_id(random);
        let req = HoldRequest {
            id: id.clone(),
            qty: self.rng.range(1, self.max_qty),
            ttl_seconds: self.rng.range(1, 60),
            channel: None,
            reference: None,
            block: self.policy.block,
        };
        self.trace.push(format!("hold {id} x{} at {k}", req.qty));
        let mut answer = self.allots[k].reserve(&req, self.now);
        if let Reserve::Borrow(call) = answer {
            self.store(k);
            let reply = self.send_to_sku(call);
            if self.crashes_mid_step() {
                return self.crash(k);
            }
            answer = self.allots[k].reserve_after(&req, reply, self.now);
        }
        self.store(k);
        self.trace.push(format!("  = {answer:?}"));
        if let Reserve::Held(_) = answer {
            self.holds_placed += 1;
            self.known.push((k as u32, id));
        }
    }

    fn pick(&mut self) -> Option<(usize, Token)> {
        if self.known.is_empty() {
            return None;
        }
        let i = self.rng.below(self.known.len() as u64) as usize;
        let (k, id) = self.known[i].clone();
        Some((k as usize, id))
    }

    fn commit(&mut self) {
        let Some((k, id)) = self.pick() else { return };
        let order_id = if self.rng.chance(500) { None } else { Some(tok(&format!("o-{}", self.bump()))) };
        self.trace.push(format!("commit {id}"));
        let answer = match self.allots[k].commit(&id, order_id, self.now) {
            None => return self.trace.push("  = unknown here".into()),
            Some(Commit::Done(a)) => a,
            Some(Commit::Send(call)) => {
                self.store(k);
                let reply = self.send_to_sku(call);
                if self.crashes_mid_step() {
                    return self.crash(k);
                }
                self.allots[k].committed(&id, reply, self.now)
            }
        };
        self.store(k);
        self.trace.push(format!("  = {answer:?}"));
        if let Ok(shown) = answer {
            let order = shown.order.clone().expect("a committed hold names its order");
            let qty = shown.parts[0].lines[0].1;
            self.confirmed.insert(id, (qty, order));
        }
    }

    fn release_or_extend(&mut self) {
        let Some((k, id)) = self.pick() else { return };
        let answer = if self.rng.chance(500) {
            self.allots[k].release(&id, self.now)
        } else {
            let ttl = self.rng.range(1, 90);
            self.allots[k].extend(&id, ttl, self.now)
        };
        self.store(k);
        self.trace.push(format!("release/extend {id} = {answer:?}"));
    }

    fn bump(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// A marketplace sale: recall blocks first (as the SKU object does), then record the sale.
    fn sale(&mut self) {
        let qty = self.rng.range(1, 4);
        let n = self.bump();
        let order = OrderKey { channel: tok("amazon"), order_id: tok(&format!("m-{n}")) };
        let lines = vec![SaleLine { line_id: tok("l1"), location: Location::main(), qty }];
        let commands = vec![Command::Sale { order, lines: lines.clone() }];
        self.trace.push(format!("sale x{qty}"));
        // Covered without oversold: free units, backorder room, and what blocks hold free.
        let free_blocks: i64 = self
            .allots
            .iter()
            .map(|a| {
                a.meta
                    .blocks
                    .values()
                    .filter(|b| self.ledger.hold(&b.lend).is_some_and(|h| h.status == HoldStatus::Held))
                    .map(|b| a.free_in(b))
                    .sum::<i64>()
            })
            .sum();
        let coverable = self.ledger.level(&Location::main()).net() + free_blocks >= qty;
        let mut asked = std::collections::BTreeSet::new();
        while let Some(r) = lender::recalls(&self.ledger, &commands).into_iter().find(|r| !asked.contains(&r.lend)) {
            asked.insert(r.lend.clone());
            if self.rng.chance(self.faults.message) {
                self.trace.push(format!("  recall of {} lost", r.lend));
                continue;
            }
            let k = r.allotment as usize;
            let report = self.allots[k].recall(&r.lend, r.want, self.now);
            self.store(k);
            self.send_to_sku(LenderCall::Report { reports: vec![report] });
        }
        let before = self.ledger.totals().oversold;
        self.ledger.apply(commands.into_iter().next().expect("sale"), self.now).expect("a sale is never refused");
        self.sold_elsewhere += qty;
        let after = self.ledger.totals().oversold;
        if self.faults.message == 0 && coverable {
            assert_eq!(after, before, "a coverable sale was recorded oversold: recall failed");
        }
    }

    fn restock(&mut self) {
        let n = self.rng.range(1, 10);
        let cause = Cause { reason: Some("received".into()), ..Cause::default() };
        self.ledger.apply(Command::Adjust { location: Location::main(), delta: n, cause }, self.now).expect("restock");
        self.on_hand += n;
        self.trace.push(format!("restock +{n}"));
    }

    /// Time passes: the SKU's alarm expires leases; each allotment's alarm reports and resends
    /// the commits whose answers it did not get.
    fn tick(&mut self, max_ms: i64) {
        self.now = Millis(self.now.0 + self.rng.range(0, max_ms));
        self.trace.push(format!("tick → {}", self.now.0));
        self.ledger.expire_due(self.now);
        for k in 0..self.allots.len() {
            self.alarm(k);
        }
    }

    fn alarm(&mut self, k: usize) {
        self.allots[k].expire_due(self.now);
        if self.allots[k].meta.report_due.is_some_and(|at| at <= self.now) {
            let reports = self.allots[k].reports(self.now);
            self.store(k);
            self.send_to_sku(LenderCall::Report { reports });
        }
        for call in self.allots[k].pending_commits() {
            let LenderCall::Commit { hold, .. } = &call else { continue };
            let hold = hold.clone();
            let reply = self.send_to_sku(call);
            let answer = self.allots[k].committed(&hold, reply, self.now);
            if let Ok(shown) = answer {
                // The customer learns it on its next read; count it as told.
                let order = shown.order.clone().expect("order");
                self.confirmed.insert(hold, (shown.parts[0].lines[0].1, order));
            }
        }
        self.store(k);
    }

    fn deliver_delayed(&mut self) {
        if self.delayed.is_empty() {
            return;
        }
        let i = self.rng.below(self.delayed.len() as u64) as usize;
        let call = self.delayed.swap_remove(i);
        self.trace.push(format!("late delivery {}", short(&call)));
        self.serve(call);
    }

    fn step(&mut self) {
        let oversold_before = self.ledger.totals().oversold;
        let roll = self.rng.below(100);
        let mut sold = false;
        match roll {
            0..=39 => self.hold(),
            40..=54 => self.commit(),
            55..=64 => self.release_or_extend(),
            65..=71 => {
                self.sale();
                sold = true;
            }
            72..=74 => self.restock(),
            75..=89 => self.tick(4_000),
            90..=94 => self.deliver_delayed(),
            _ => {
                if self.rng.chance(self.faults.crash * 5) {
                    let k = self.rng.below(self.allots.len() as u64) as usize;
                    self.crash(k);
                }
            }
        }
        if !sold {
            assert!(self.ledger.totals().oversold <= oversold_before, "oversold grew without a sale");
        }
        self.check();
    }

    /// The invariants that hold after every step.
    fn check(&self) {
        invariants::check(&self.ledger).unwrap_or_else(|e| panic!("ledger invariant: {e}"));
        for (h, _) in self.ledger.live_lends() {
            assert!(h.expires_at > self.now || self.ledger.next_deadline().is_some_and(|d| d <= self.now));
        }
        for a in &self.allots {
            for b in a.meta.blocks.values() {
                let sku_hold = self.ledger.hold(&b.lend);
                // Units promised from the block: held, not due, not already committed at the SKU.
                let promised: i64 = a
                    .holds
                    .values()
                    .filter(|h| h.lend == b.lend && h.status == HoldStatus::Held)
                    .filter(|h| h.committing || h.expires_at > self.now)
                    .filter(|h| !self.ledger.hold(&h.id).is_some_and(|x| x.status == HoldStatus::Committed))
                    .map(|h| h.qty)
                    .sum();
                match sku_hold.filter(|h| h.status == HoldStatus::Held) {
                    Some(h) => {
                        let remaining = h.lend.as_ref().expect("a lend").remaining();
                        assert!(promised <= remaining, "block {}: {promised} promised, {remaining} lent", b.lend);
                    }
                    None => {
                        let live: i64 = a
                            .holds
                            .values()
                            .filter(|h| h.lend == b.lend && h.status == HoldStatus::Held && !h.committing)
                            .filter(|h| h.expires_at > self.now)
                            .map(|h| h.qty)
                            .sum();
                        assert_eq!(live, 0, "block {} is back at the SKU but backs live holds", b.lend);
                    }
                }
            }
        }
        let mut from_holds = 0;
        for (id, (qty, order)) in &self.confirmed {
            let h = self.ledger.hold(id).unwrap_or_else(|| panic!("confirmed commit {id} unknown to the SKU"));
            assert_eq!((h.status, h.total(), h.order.as_ref()), (HoldStatus::Committed, *qty, Some(order)));
            from_holds += qty;
        }
        let committed_holds: i64 = self
            .ledger
            .holds()
            .filter(|h| h.status == HoldStatus::Committed && h.lend.is_none())
            .map(|h| h.total())
            .sum();
        assert!(from_holds <= committed_holds);
        let l = self.ledger.level(&Location::main());
        assert_eq!(l.committed, committed_holds + self.sold_elsewhere, "each committed unit is in the ledger once");
        assert_eq!(l.on_hand, self.on_hand);
    }

    /// Time passes every lease and hold with a calm network: everything lent comes back.
    fn settle(&mut self) {
        self.faults = Faults { message: 0, crash: 0 };
        for _ in 0..3 {
            self.now = Millis(self.now.0 + 3_600_000);
            self.ledger.expire_due(self.now);
            for k in 0..self.allots.len() {
                self.alarm(k);
            }
        }
        self.check();
        assert_eq!(self.ledger.live_lends().count(), 0, "a lend outlived its lease");
        let l = self.ledger.level(&Location::main());
        assert_eq!(l.reserved, 0, "units stayed reserved after every lease ended");
        for a in &self.allots {
            assert!(a.holds.values().all(|h| h.status != HoldStatus::Held), "a hold outlived its block");
        }
    }
}

fn short(call: &LenderCall) -> String {
    match call {
        LenderCall::Borrow { lend, want, reports, .. } => format!("borrow {lend} x{want} ({} reports)", reports.len()),
        LenderCall::Report { reports } => format!("report {reports:?}"),
        LenderCall::Commit { hold, qty, .. } => format!("commit {hold} x{qty}"),
        other => format!("{other:?}"),
    }
}

fn run(seed: u64) -> World {
    let faults =
        if seed.is_multiple_of(4) { Faults { message: 0, crash: 0 } } else { Faults { message: 80, crash: 20 } };
    let mut w = World::new(seed, faults);
    for _ in 0..STEPS {
        w.step();
    }
    w.settle();
    let mut ledger = w.ledger.clone();
    let entries = ledger.take_changes().entries;
    let replayed = journal::replay(&entries).expect("the journal replays");
    assert_eq!(&replayed.levels, ledger.levels());
    assert_eq!(replayed.version, ledger.version());
    w
}

fn seeds() -> Vec<u64> {
    if let Ok(s) = std::env::var("SIM_SEED") {
        return vec![s.parse().expect("SIM_SEED")];
    }
    let n = std::env::var("SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEEDS);
    (0..n).collect()
}

#[test]
fn allotments_never_oversell_under_faults() {
    let mut failures = Vec::new();
    for seed in seeds() {
        let trace = std::sync::Mutex::new(Vec::new());
        let result = catch_unwind(AssertUnwindSafe(|| {
            let w = run(seed);
            *trace.lock().expect("trace") = w.trace;
        }));
        if std::env::var("SIM_SEED").is_ok() {
            for line in trace.lock().expect("trace").iter() {
                eprintln!("{line}");
            }
        }
        if result.is_err() {
            failures.push(seed);
        }
    }
    assert!(failures.is_empty(), "failing seeds: {failures:?} (rerun one with SIM_SEED=<seed>)");
}

#[test]
fn a_lost_allotment_gives_its_block_back_at_the_lease_end() {
    let mut w = World::new(7, Faults { message: 0, crash: 0 });
    w.policy = HotPolicy { allotments: 1, block: 5, lease_seconds: 30 };
    w.hold();
    assert_eq!(w.ledger.live_lends().count(), 1);
    let available_before = w.ledger.level(&Location::main()).available();
    let incarnation = "feedface".to_owned();
    w.allots[0] = Allotment::new(w.sku.clone(), 0, incarnation);
    w.now = Millis(w.now.0 + 29_000);
    w.ledger.expire_due(w.now);
    assert_eq!(w.ledger.live_lends().count(), 1, "still inside its lease");
    w.now = Millis(w.now.0 + 1_001);
    w.ledger.expire_due(w.now);
    assert_eq!(w.ledger.live_lends().count(), 0);
    assert!(w.ledger.level(&Location::main()).available() > available_before);
}

#[test]
fn a_commit_that_arrives_after_the_lease_is_refused_and_the_hold_ends() {
    let mut w = World::new(3, Faults { message: 0, crash: 0 });
    w.policy = HotPolicy { allotments: 1, block: 5, lease_seconds: 10 };
    w.on_hand = 5;
    let cause = Cause::default();
    w.ledger
        .apply(Command::Set { location: Location::main(), on_hand: 5, expected_version: None, cause }, w.now)
        .expect("set");
    w.hold();
    let (_, id) = w.known[0].clone();
    let Some(Commit::Send(call)) = w.allots[0].commit(&id, None, w.now) else { panic!("a commit to send") };
    w.now = Millis(w.now.0 + 11_000);
    w.ledger.expire_due(w.now);
    let reply = w.serve(call);
    assert!(matches!(reply, LenderReply::Refused { .. }));
    let answer = w.allots[0].committed(&id, Some(reply), w.now);
    assert!(matches!(answer, Err(CartError::NotHeld(_))));
    assert_eq!(w.ledger.level(&Location::main()).committed, 0);
    assert_eq!(w.ledger.level(&Location::main()).reserved, 0);
}

/// The scaling model: with K allotments, what does the SKU object receive per hold? Holds land
/// on the allotments; the SKU sees borrows (one per block), reports (at most one per allotment
/// per `REPORT_INTERVAL_MS` while holds change) and commits (one per order, as without
/// allotments). Printed for docs/architecture.md; asserted so that it can fail.
#[test]
fn sku_messages_per_hold() {
    for (k, block) in [(1u32, 10i64), (4, 10), (4, 50), (16, 50)] {
        let mut w = World::new(11, Faults { message: 0, crash: 0 });
        w.policy = HotPolicy { allotments: k, block, lease_seconds: 600 };
        w.allots = (0..k).map(|i| Allotment::new(w.sku.clone(), i, format!("{i:08x}"))).collect();
        w.max_qty = 1;
        w.persist = false;
        let cause = Cause::default();
        w.ledger
            .apply(Command::Set { location: Location::main(), on_hand: 100_000, expected_version: None, cause }, w.now)
            .expect("set");
        // 1,000 holds over 1 s of simulated time; half of them commit, the rest lapse.
        for i in 0..1_000 {
            w.hold();
            if i % 2 == 0 {
                w.commit_last();
            }
            if i % 100 == 99 {
                w.now = Millis(w.now.0 + 100);
                for a in 0..w.allots.len() {
                    w.alarm(a);
                }
            }
        }
        let non_commit = w.sku_messages - w.sku_commits;
        let per_hold = non_commit as f64 / w.holds_placed as f64;
        eprintln!(
            "K={k} block={block}: {} holds, SKU received {} borrows+reports ({per_hold:.4}/hold) and {} commits",
            w.holds_placed, non_commit, w.sku_commits
        );
        assert!(w.holds_placed >= 990);
        // At least one borrow per block of `block` holds, and no more than that plus the reports.
        let floor = w.holds_placed as f64 / block as f64 / 1.5;
        assert!((non_commit as f64) >= floor.min(w.holds_placed as f64));
        let reports_bound = (k as u64) * 2; // ≤ K × (1 s / 1 s interval), with slack
        assert!(non_commit <= w.holds_placed / block as u64 + k as u64 + reports_bound, "{non_commit}");
    }
}

impl World {
    /// Commits the hold placed last (the scaling model's checkout).
    fn commit_last(&mut self) {
        let Some((k, id)) = self.known.last().cloned() else { return };
        let Some(Commit::Send(call)) = self.allots[k as usize].commit(&id, None, self.now) else { return };
        let reply = self.send_to_sku(call);
        self.allots[k as usize].committed(&id, reply, self.now).expect("committed");
    }
}

/// Once the SKU has said it has nothing to lend, an allotment refuses the holds it cannot place
/// without asking again for `SHORT_RECHECK_MS`: a sold-out stampede stays off the SKU object.
#[test]
fn a_sold_out_stampede_stays_off_the_sku() {
    let mut w = World::new(5, Faults { message: 0, crash: 0 });
    w.policy = HotPolicy { allotments: 4, block: 5, lease_seconds: 600 };
    w.allots = (0..4).map(|i| Allotment::new(w.sku.clone(), i, format!("{i:08x}"))).collect();
    w.stored = w.allots.iter().map(|a| (a.meta.clone(), Vec::new())).collect();
    w.max_qty = 1;
    w.on_hand = 20;
    let cause = Cause::default();
    w.ledger
        .apply(Command::Set { location: Location::main(), on_hand: 20, expected_version: None, cause }, w.now)
        .expect("set");
    for _ in 0..60 {
        w.hold();
    }
    assert_eq!(w.holds_placed, 20, "every unit held, none twice");
    let before = w.sku_messages;
    for _ in 0..400 {
        w.hold();
    }
    assert_eq!(w.holds_placed, 20);
    assert_eq!(w.sku_messages, before, "refused without asking the SKU");
    w.check();
}
