//! The simulated world: every object and queue of one seed, the clock, the faults, and the calls
//! between them as the Worker's shell makes them (a SKU call may be lost before or after the
//! ledger applies it; after each call the SKU object registers, schedules its alarm and flushes
//! its outbox, as `SkuLedger::fetch` does).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use stockedge::allot::{AutoRule, HotPolicy};
use stockedge::api::idempotency::Keyed;
use stockedge::api::order_call::OrderAction;
use stockedge::api::sku_call::{hold_reply, SkuAction, SkuAnswer, SkuReplyKeyed};
use stockedge::cart::{Reservation, SkuPort, SkuReply};
use stockedge::catalog::ListingRule;
use stockedge::stock::outbox::resend_at;
use stockedge::stock::{Command, Location, OrderKey, Sku, Token};
use stockedge::sync::StockChanged;
use stockedge::time::Millis;

use crate::allot::{AllotKey, AllotObject};
use crate::desk::{Desk, DeskAnswer, Ledgers};
use crate::imports::Imports;
use crate::inbound::Inbound;
use crate::queue::Queue;
use crate::rng::Rng;
use crate::sku_object::SkuObject;
use crate::sync::SyncDb;
use crate::woo_store::WooStore;

pub const SKUS: [&str; 3] = ["A", "B/2", "C-3"];
/// The SKU some seeds make hot (flash-sale allotments).
pub const HOT_SKU: &str = "A";
/// The share of seeds (per mille) in which [`HOT_SKU`] is hot, unless `SIM_HOT` says otherwise.
/// A hot seed costs about twice a plain one (its flash sale doubles the shoppers).
pub const DEFAULT_HOT_SHARE: u64 = 250;

/// `SIM_HOT` (per mille), read once.
pub fn hot_share() -> u64 {
    static SHARE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SHARE.get_or_init(|| {
        std::env::var("SIM_HOT").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_HOT_SHARE).min(1_000)
    })
}
pub const LOCS: [&str; 2] = ["main", "east"];
/// The WooCommerce product id of each SKU's listing.
pub const PRODUCT_BASE: i64 = 101;
/// The latest an alarm fires after its time (ms): the bound of "no hold outlives its deadline".
pub const ALARM_LATE_MAX: i64 = 3_000;
/// The simulation's epoch: 2026-07-01T00:00:00Z.
pub const EPOCH: Millis = Millis(1_782_864_000_000);

pub fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("sku")
}
pub fn loc(s: &str) -> Location {
    Location::parse(s).expect("location")
}
pub fn tok(s: &str) -> Token {
    Token::parse(s).expect("token")
}

/// Fault rates of a seed, per mille. All zero once faults stop.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// A SKU call is lost before the ledger sees it.
    pub lost_before: u64,
    /// The ledger applies a SKU call and its reply is lost.
    pub lost_after: u64,
    /// A SKU object restarts between two steps.
    pub restart: u64,
    /// An alarm fires a second time.
    pub alarm_twice: u64,
    /// A queue delivery is delivered again.
    pub duplicate: u64,
    /// The outbox's queue send fails / is lost with the isolate / hangs past its lease.
    pub outbox_fail: u64,
    pub outbox_lost: u64,
    /// A cart coordinator or an order desk dies in the middle of a step.
    pub crash: u64,
    /// The store's answers to pushes: 429, 503, timeout (before / after applying), silent.
    pub throttled: u64,
    pub unavailable: u64,
    pub timeout: u64,
    pub silent: u64,
    /// Webhooks lost, duplicated; polls failing.
    pub webhook_lost: u64,
    pub webhook_dup: u64,
    pub poll_fail: u64,
    /// The import consumer's D1 write (a chunk's plan, or its report after applying) fails.
    pub import_fail: u64,
    /// A call from an allotment to its SKU is delivered twice / late (its answer lost).
    pub lender_dup: u64,
    pub lender_delay: u64,
}

impl Faults {
    pub fn of(rng: &mut Rng) -> Faults {
        let mut r = |hi: i64| rng.range(0, hi) as u64;
        Faults {
            lost_before: r(80),
            lost_after: r(80),
            restart: r(60),
            alarm_twice: r(200),
            duplicate: r(200),
            outbox_fail: r(150),
            outbox_lost: r(80),
            crash: r(100),
            throttled: r(120),
            unavailable: r(120),
            timeout: r(100),
            silent: r(80),
            webhook_lost: r(300),
            webhook_dup: r(200),
            poll_fail: r(200),
            import_fail: r(150),
            lender_dup: r(100),
            lender_delay: r(80),
        }
    }
}

/// A cart coordinator object: its stored record and its alarm.
#[derive(Default)]
pub struct CartObject {
    pub record: Option<Reservation>,
    pub alarm: Option<Millis>,
    /// The order desk registration the cart owes (`cart::registration::Owed`), as the
    /// coordinator stores it until the desk answers.
    pub owed: stockedge::cart::registration::Owed,
}

/// What a seed's run counted.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub steps: u64,
    pub checks: u64,
    pub sku_calls: u64,
    pub lost_calls: u64,
    pub restarts: u64,
    pub alarms: u64,
    pub crashes: u64,
    pub deliveries: u64,
    pub pushes: u64,
    pub webhooks: u64,
    pub polls: u64,
    pub imports: u64,
    pub carts_committed: u64,
    pub singles_committed: u64,
    pub market_orders: u64,
    /// Calls to allotment objects, borrows they sent, holds they committed, blocks recalled.
    pub allot_calls: u64,
    pub borrows: u64,
    pub allot_commits: u64,
    pub recalls: u64,
    /// Times a SKU turned hot by itself (`allot::hotness`), and times that ended.
    pub auto_hot_on: u64,
    pub auto_hot_ended: u64,
    /// Listings reconciliation repaired once faults stopped, and push items the store accepted
    /// silently (the only cause a repair may have: `checks::check_settled`).
    pub repairs: u64,
    pub silent_drops: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.steps += o.steps;
        self.checks += o.checks;
        self.sku_calls += o.sku_calls;
        self.lost_calls += o.lost_calls;
        self.restarts += o.restarts;
        self.alarms += o.alarms;
        self.crashes += o.crashes;
        self.deliveries += o.deliveries;
        self.pushes += o.pushes;
        self.webhooks += o.webhooks;
        self.polls += o.polls;
        self.imports += o.imports;
        self.carts_committed += o.carts_committed;
        self.singles_committed += o.singles_committed;
        self.market_orders += o.market_orders;
        self.allot_calls += o.allot_calls;
        self.borrows += o.borrows;
        self.allot_commits += o.allot_commits;
        self.recalls += o.recalls;
        self.auto_hot_on += o.auto_hot_on;
        self.auto_hot_ended += o.auto_hot_ended;
        self.repairs += o.repairs;
        self.silent_drops += o.silent_drops;
    }
}

/// A fault a scripted test forces at the next decision of its kind (`None`: no fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lose {
    None,
    Before,
    After,
}

/// Faults scripted tests force, each taken at the next decision of its kind before any random one.
#[derive(Default)]
pub struct Forced {
    pub sku_calls: std::collections::VecDeque<Lose>,
    pub desk_calls: std::collections::VecDeque<Lose>,
    pub pushes: std::collections::VecDeque<crate::woo_store::PushFault>,
    /// The next outbox send is lost with its isolate (`true`) or goes through.
    pub outbox_lost: std::collections::VecDeque<bool>,
    /// The import consumer's next D1 write (a chunk's plan or report) fails (`true`) or goes through.
    pub import_writes: std::collections::VecDeque<bool>,
}

pub struct World {
    pub forced: RefCell<Forced>,
    pub now: Cell<Millis>,
    pub rng: RefCell<Rng>,
    pub faults: Cell<Faults>,
    pub seed_faults: Faults,
    pub skus: RefCell<BTreeMap<Sku, SkuObject>>,
    pub desks: RefCell<BTreeMap<OrderKey, Desk>>,
    pub carts: RefCell<BTreeMap<Token, CartObject>>,
    pub stock_queue: RefCell<Queue<StockChanged>>,
    pub store: RefCell<WooStore>,
    pub sync: RefCell<SyncDb>,
    pub inbound: RefCell<Inbound>,
    pub imports: RefCell<Imports>,
    pub stats: RefCell<Stats>,
    /// SKU objects whose isolate dies at the end of the current step.
    pub dying: RefCell<Vec<Sku>>,
    /// Alarms to fire a second time (SKU, when).
    pub ghosts: RefCell<Vec<(Sku, Millis)>>,
    pub trace: RefCell<Option<Vec<String>>>,
    /// Initial on hand per (SKU, location).
    pub initial: BTreeMap<(Sku, Location), i64>,
    /// Allotment objects, the hot policies the Worker learned (until when), lender calls in
    /// flight that arrive late, and allotment alarms to fire a second time.
    pub allots: RefCell<BTreeMap<AllotKey, AllotObject>>,
    pub hot_cache: RefCell<BTreeMap<Sku, (Option<HotPolicy>, i64)>>,
    pub delayed: RefCell<Vec<(Sku, stockedge::allot::LenderCall, Millis)>>,
    pub allot_ghosts: RefCell<Vec<(AllotKey, Millis)>>,
    /// The hot SKU's policy this seed started with (`None`: no SKU is hot).
    pub hot: Option<HotPolicy>,
}

impl World {
    pub fn new(seed: u64, trace: bool) -> World {
        let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED);
        let faults = Faults::of(&mut rng);
        let mut skus = BTreeMap::new();
        let mut initial = BTreeMap::new();
        let mut store = WooStore::default();
        let mut rules = Vec::new();
        // A quarter of the seeds (`SIM_HOT`) make one SKU hot: its single-line holds at `main` go to allotments,
        // and its shelf there holds more (a flash sale).
        let hot = rng.chance(hot_share()).then(|| HotPolicy {
            allotments: rng.range(1, 3) as u32,
            block: rng.range(1, 4),
            lease_seconds: rng.range(8, 60),
        });
        for (i, s) in SKUS.iter().enumerate() {
            let mut o = SkuObject::new(sku(s));
            let mut commands = Vec::new();
            for l in LOCS {
                let n = if hot.is_some() && *s == HOT_SKU && l == "main" { rng.range(8, 30) } else { rng.range(0, 12) };
                initial.insert((sku(s), loc(l)), n);
                commands.push(Command::Set {
                    location: loc(l),
                    on_hand: n,
                    expected_version: None,
                    cause: stockedge::stock::Cause { reason: Some("cycle_count".into()), ..Default::default() },
                });
            }
            commands.push(Command::Policy { backorder_limit: rng.range(0, 3) });
            o.call(SkuAction::Apply { commands }, None, EPOCH);
            skus.insert(sku(s), o);
            let rule = ListingRule {
                buffer: rng.range(0, 2),
                percent: [100, 100, 50][rng.below(3) as usize],
                max_listed: rng.chance(300).then(|| rng.range(3, 10)),
                zero_at_or_below: rng.chance(300).then(|| rng.range(0, 2)),
            };
            rules.push((sku(s), rule));
            store
                .products
                .insert(PRODUCT_BASE + i as i64, crate::woo_store::Product { sku: sku(s), quantity: 0, version: None });
        }
        // Of the hot seeds, half start with an operator's policy; the other half let the SKU turn
        // hot by itself (`allot::hotness`) above a low hold rate with a short cool-down, so that
        // it turns hot and ordinary again within a run. The operator's step (run.rs) may set and
        // clear a policy over either.
        if let Some(p) = hot {
            let automatic = rng.chance(500).then(|| AutoRule {
                holds_per_second: Some(rng.range(1, 3) as u32),
                policy: p,
                cool_down_ms: rng.range(1_000, 20_000),
            });
            if let Some(o) = skus.get_mut(&sku(HOT_SKU)) {
                match automatic {
                    Some(rule) => o.auto_rule = rule,
                    None => {
                        let call = stockedge::allot::LenderCall::SetPolicy { policy: Some(p) };
                        o.call(SkuAction::Lender { call }, None, EPOCH);
                    }
                }
            }
        }
        World {
            allots: RefCell::new(BTreeMap::new()),
            hot_cache: RefCell::new(BTreeMap::new()),
            delayed: RefCell::new(Vec::new()),
            allot_ghosts: RefCell::new(Vec::new()),
            hot,
            forced: RefCell::new(Forced::default()),
            now: Cell::new(EPOCH),
            rng: RefCell::new(rng),
            faults: Cell::new(faults),
            seed_faults: faults,
            skus: RefCell::new(skus),
            desks: RefCell::new(BTreeMap::new()),
            carts: RefCell::new(BTreeMap::new()),
            stock_queue: RefCell::new(Queue::new(10, 100)),
            store: RefCell::new(store),
            sync: RefCell::new(SyncDb::new(&rules)),
            inbound: RefCell::new(Inbound::new(EPOCH)),
            imports: RefCell::new(Imports::default()),
            stats: RefCell::new(Stats::default()),
            ghosts: RefCell::new(Vec::new()),
            dying: RefCell::new(Vec::new()),
            trace: RefCell::new(trace.then(Vec::new)),
            initial,
        }
    }

    /// A world without random faults (scripted tests force theirs), every SKU with `on_hand`
    /// units at each location and no backorder allowance.
    pub fn quiet(on_hand: i64) -> World {
        let mut w = World::new(0, true);
        w.faults.set(Faults::default());
        // No SKU hot (a scripted test makes one hot itself).
        w.hot = None;
        if let Some(o) = w.skus.borrow_mut().get_mut(&sku(HOT_SKU)) {
            o.auto_rule = AutoRule::at(None);
            o.stored.hotness = stockedge::allot::Hotness::default();
        }
        for s in SKUS {
            let mut commands: Vec<Command> = LOCS
                .iter()
                .map(|l| Command::Set {
                    location: loc(l),
                    on_hand,
                    expected_version: None,
                    cause: stockedge::stock::Cause::default(),
                })
                .collect();
            commands.push(Command::Policy { backorder_limit: 0 });
            w.sku_call(&sku(s), SkuAction::Apply { commands }, None);
        }
        w
    }

    pub fn now(&self) -> Millis {
        self.now.get()
    }

    pub fn chance(&self, per_mille: u64) -> bool {
        self.rng.borrow_mut().chance(per_mille)
    }

    pub fn below(&self, n: u64) -> u64 {
        self.rng.borrow_mut().below(n)
    }

    pub fn range(&self, lo: i64, hi: i64) -> i64 {
        self.rng.borrow_mut().range(lo, hi)
    }

    pub fn f(&self) -> Faults {
        self.faults.get()
    }

    pub fn log(&self, line: impl FnOnce() -> String) {
        if let Some(t) = self.trace.borrow_mut().as_mut() {
            t.push(format!("{:>8} {}", self.now().0 - EPOCH.0, line()));
        }
    }

    // --- SKU objects ------------------------------------------------------------------------

    /// One call to a SKU object through its stub, faults included: `None` when the caller got no
    /// answer (lost before the ledger saw it, or after it applied it).
    pub fn sku_call(&self, s: &Sku, action: SkuAction, key: Option<(String, String)>) -> Option<SkuReplyKeyed> {
        let f = self.f();
        self.stats.borrow_mut().sku_calls += 1;
        let forced = self.forced.borrow_mut().sku_calls.pop_front();
        if forced == Some(Lose::Before) || (forced.is_none() && self.chance(f.lost_before)) {
            self.stats.borrow_mut().lost_calls += 1;
            self.log(|| format!("call to {s} lost before"));
            return None;
        }
        // `SkuLedger::fetch`: blocks lent to allotments are asked back before a sale.
        if let SkuAction::Apply { commands } = &action {
            self.recall_blocks(s, commands);
        }
        let now = self.now();
        let reply = {
            let mut skus = self.skus.borrow_mut();
            let o = skus.get_mut(s).expect("known SKU");
            o.call(action, key, now)
        };
        self.after_fetch(s);
        if forced == Some(Lose::After) || (forced.is_none() && self.chance(f.lost_after)) {
            self.stats.borrow_mut().lost_calls += 1;
            self.log(|| format!("reply from {s} lost after it applied"));
            return None;
        }
        Some(reply)
    }

    /// What `SkuLedger::fetch` does after answering: registrations, the alarm, the outbox.
    pub fn after_fetch(&self, s: &Sku) {
        let registering = self.skus.borrow_mut().get_mut(s).is_some_and(SkuObject::take_registering);
        if registering {
            self.register_pending(s);
        }
        let now = self.now();
        if let Some(o) = self.skus.borrow_mut().get_mut(s) {
            o.schedule(now);
        }
        self.flush(s);
    }

    /// `register_pending`: each stored registration is sent to its desk; an unreached one stays
    /// and wakes the object later.
    pub fn register_pending(&self, s: &Sku) {
        let regs = self.skus.borrow().get(s).map(SkuObject::registrations).unwrap_or_default();
        let mut unreached = false;
        for (id, call) in regs {
            // `register_pending`: a transport error keeps the registration; any answer ends it.
            match self.desk_call(&call.order, call.action.clone()) {
                DeskAnswer::Unreachable => unreached = true,
                _ => {
                    if let Some(o) = self.skus.borrow_mut().get_mut(s) {
                        o.registered(&id);
                    }
                }
            }
        }
        if unreached {
            let at = Millis(self.now().0 + crate::sku_object::REGISTRATION_RETRY_MS);
            if let Some(o) = self.skus.borrow_mut().get_mut(s) {
                o.wake_by(at);
            }
        }
    }

    /// The outbox sender: batches to the queue while it keeps the turn.
    pub fn flush(&self, s: &Sku) {
        let f = self.f();
        loop {
            let now = self.now();
            let next = self.skus.borrow_mut().get_mut(s).and_then(|o| o.outbox_next(now));
            let Some((batch, events)) = next else { return };
            // `OutboxSender::flush`: the alarm that sends again should this isolate die now.
            if let Some(o) = self.skus.borrow_mut().get_mut(s) {
                o.wake_by(resend_at(now));
            }
            if self.chance(f.outbox_fail) {
                self.log(|| format!("{s}: outbox send failed"));
                if let Some(o) = self.skus.borrow_mut().get_mut(s) {
                    o.outbox_failed(batch, now);
                }
                return;
            }
            let forced = self.forced.borrow_mut().outbox_lost.pop_front();
            if forced.unwrap_or_else(|| self.chance(f.outbox_lost)) {
                // The send's task is lost with the isolate: the queue may or may not have it.
                let delivered = forced.is_none() && self.chance(500);
                self.log(|| format!("{s}: outbox send lost with the isolate (queued: {delivered})"));
                if delivered {
                    let mut q = self.stock_queue.borrow_mut();
                    for e in events {
                        q.send(e, now);
                    }
                }
                // The isolate dies once the work in it stops (not in the middle of the caller).
                self.dying.borrow_mut().push(s.clone());
                return;
            }
            {
                let mut q = self.stock_queue.borrow_mut();
                for e in events {
                    q.send(e, now);
                }
            }
            let keep = self.skus.borrow_mut().get_mut(s).is_some_and(|o| o.outbox_sent(batch));
            if !keep {
                return;
            }
        }
    }

    /// The isolates that died during the step restart.
    pub fn bury(&self) {
        let dying = std::mem::take(&mut *self.dying.borrow_mut());
        for s in dying {
            self.restart(&s);
        }
    }

    pub fn restart(&self, s: &Sku) {
        self.stats.borrow_mut().restarts += 1;
        self.log(|| format!("{s} restarts"));
        if let Some(o) = self.skus.borrow_mut().get_mut(s) {
            o.restart();
        }
    }

    /// A SKU object's alarm handler.
    pub fn sku_alarm(&self, s: &Sku) {
        self.stats.borrow_mut().alarms += 1;
        self.log(|| format!("{s}: alarm"));
        let now = self.now();
        if let Some(o) = self.skus.borrow_mut().get_mut(s) {
            o.alarm_work(now);
        }
        self.register_pending(s);
        if let Some(o) = self.skus.borrow_mut().get_mut(s) {
            o.schedule(now);
        }
        self.flush(s);
    }

    /// `Apply` with one reply read as a hold command's (the coordinator's stub port).
    pub fn apply_reply(&self, s: &Sku, commands: Vec<Command>) -> SkuReply {
        match self.sku_call(s, SkuAction::Apply { commands }, None) {
            None => SkuReply::Unavailable("lost".into()),
            Some(Keyed::Answered(r) | Keyed::Replayed(r)) => hold_reply(r),
            Some(Keyed::KeyReused) => SkuReply::Unavailable("key reused".into()),
        }
    }

    // --- order desks -------------------------------------------------------------------------

    /// One call to an order desk through its stub, faults included (`Unreachable`: lost before
    /// the desk saw it, or its answer lost after).
    pub fn desk_call(&self, order: &OrderKey, action: OrderAction) -> DeskAnswer {
        let f = self.f();
        let forced = self.forced.borrow_mut().desk_calls.pop_front();
        if forced == Some(Lose::Before) || (forced.is_none() && self.chance(f.lost_before / 2)) {
            self.log(|| format!("call to desk {} lost before", order.order_id));
            return DeskAnswer::Unreachable;
        }
        let mut desk = self.desks.borrow_mut().remove(order).unwrap_or_default();
        let answer = desk.call(self, order, action);
        self.desks.borrow_mut().insert(order.clone(), desk);
        self.log(|| format!("desk {}/{}: {answer:?}", order.channel, order.order_id));
        if forced == Some(Lose::After) || (forced.is_none() && self.chance(f.lost_after / 2)) {
            self.log(|| format!("answer of desk {} lost", order.order_id));
            return DeskAnswer::Unreachable;
        }
        answer
    }

    pub fn desk_alarm(&self, order: &OrderKey) {
        let mut desk = self.desks.borrow_mut().remove(order).unwrap_or_default();
        desk.alarm(self);
        self.desks.borrow_mut().insert(order.clone(), desk);
    }
}

impl Ledgers for World {
    fn apply(&self, s: &Sku, commands: Vec<Command>) -> Option<Result<(), String>> {
        match self.sku_call(s, SkuAction::Apply { commands }, None)? {
            Keyed::Answered(Ok(_)) | Keyed::Replayed(Ok(_)) => Some(Ok(())),
            Keyed::Answered(Err(e)) | Keyed::Replayed(Err(e)) => Some(Err(e.to_string())),
            Keyed::KeyReused => None,
        }
    }

    fn on_hand(&self, s: &Sku, location: &Location) -> Option<i64> {
        match self.sku_call(s, SkuAction::Get, None)? {
            Keyed::Answered(Ok(SkuAnswer::State(v))) => {
                Some(v.locations.iter().find(|l| l.location == location.as_str()).map_or(0, |l| l.on_hand))
            }
            _ => Some(0),
        }
    }

    fn crash_mid_send(&self) -> bool {
        let crashed = self.chance(self.f().crash / 3);
        if crashed {
            self.stats.borrow_mut().crashes += 1;
            self.log(|| "desk dies mid-send".into());
        }
        crashed
    }

    fn now(&self) -> Millis {
        self.now()
    }
}

impl SkuPort for World {
    async fn send(&self, s: &Sku, cmd: Command) -> SkuReply {
        crate::carts::YieldOnce(false).await;
        let reply = self.apply_reply(s, vec![cmd]);
        crate::carts::YieldOnce(false).await;
        reply
    }
}
