//! Property tests for the pure stock ledger (`src/stock`).
//!
//! Case counts in a normal `cargo test` run (debug build):
//! - `random_sequences_keep_every_invariant`: 2,500 sequences
//! - `restore_then_continue_is_deterministic`: 2,500 sequences
//! - `the_same_sale_twice_equals_once`:        2,500 sequences (random prefix, then the sale)
//! - `cancel_and_sale_commute`:                2,500 sequences (random prefix, then both orders)
//!
//! = 10,000 random command sequences of 1..=40 steps each, over 2 or 3 locations, with a clock
//! that moves forward by random steps (holds expire; now and then it jumps past the 7-day hold
//! retention so that `prune` has work). Failure persistence is off (no files are written); a
//! failure prints the shrunk sequence. `PROPTEST_CASES=N` runs N cases per property instead.
//!
//! The scripted tests at the end pin down bugs these properties found (commit overwriting an
//! order line, long hold ids, pin and the version, empty reserves) so they stay fixed.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use stockedge::stock::limits::HOLD_RETENTION_MS;
use stockedge::stock::{
    invariants, journal, Accepted, Cause, Changes, Command, Effect, Entry, Hold, HoldStatus, Ledger, LedgerError,
    Levels, Location, Order, OrderKey, SaleLine, Snapshot, Token,
};
use stockedge::time::Millis;

const CASES: u32 = 2_500;
const MAX_STEPS: usize = 40;

const LOCS: [&str; 3] = ["main", "east", "west"];
const HOLDS: [&str; 4] = ["h0", "h1", "h2", "h3"];
const CHANNELS: [&str; 2] = ["direct", "amz"];
const ORDER_IDS: [&str; 2] = ["o0", "o1"];
const LINE_IDS: [&str; 3] = ["l0", "l1", "l2"];
const SHIPMENTS: [&str; 2] = ["s0", "s1"];
const N_ORDERS: usize = CHANNELS.len() * ORDER_IDS.len();

/// [`CASES`] per property; `PROPTEST_CASES=N` runs N instead (for longer runs).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn loc(s: &str) -> Location {
    Location::parse(s).expect("location")
}
fn tok(s: &str) -> Token {
    Token::parse(s).expect("token")
}

// --- the generated scenario ----------------------------------------------------------------------

/// `expected_version` of a `Set`.
#[derive(Clone, Debug)]
enum Expect {
    Unconditional,
    Current,
    Stale,
}

/// A command in terms of small indices; turned into a [`Command`] against the live ledger.
/// Location indices are taken modulo the scenario's number of locations.
#[derive(Clone, Debug)]
enum Act {
    Set {
        loc: usize,
        on_hand: i64,
        expect: Expect,
    },
    Adjust {
        loc: usize,
        delta: i64,
    },
    Policy {
        limit: i64,
    },
    /// `ttl` may be ≤ 0: the hold is due at once.
    Reserve {
        hold: usize,
        lines: Vec<(usize, i64)>,
        ttl: i64,
    },
    /// The same hold id with the lines it already has (a client's retry), or one unit at
    /// the first location if there is no such hold.
    ReserveAgain {
        hold: usize,
        ttl: i64,
    },
    Extend {
        hold: usize,
        ttl: i64,
    },
    Pin {
        hold: usize,
    },
    Unpin {
        hold: usize,
    },
    Commit {
        hold: usize,
        order: usize,
    },
    Release {
        hold: usize,
    },
    /// Lines are (line id, location, qty); line ids repeat within and across sales.
    Sale {
        order: usize,
        lines: Vec<(usize, usize, i64)>,
    },
    Cancel {
        order: usize,
    },
    /// `order` picks among the orders the ledger knows. Shipment ids repeat: a repeated
    /// shipment ships nothing.
    Fulfil {
        order: usize,
        loc: usize,
        qty: i64,
        shipment: usize,
    },
    /// The shell's alarm: `expire_due(now)`.
    Expire,
    /// `prune(now)`.
    Prune,
}

#[derive(Clone, Debug)]
struct Step {
    /// How far the clock moves before this step (ms, ≥ 0).
    dt: i64,
    act: Act,
}

#[derive(Clone, Debug)]
struct Scenario {
    nlocs: usize,
    steps: Vec<Step>,
}

fn qty() -> impl Strategy<Value = i64> {
    // Mostly valid (1..=6); 0 and −1 are refused as out of range.
    prop_oneof![12 => 1i64..=6, 1 => -1i64..=0]
}

fn act() -> impl Strategy<Value = Act> {
    let l = 0usize..3;
    let h = 0usize..HOLDS.len();
    let o = 0usize..N_ORDERS;
    let expect = prop_oneof![3 => Just(Expect::Unconditional), 1 => Just(Expect::Current), 1 => Just(Expect::Stale)];
    prop_oneof![
        3 => (l.clone(), -1i64..=15, expect).prop_map(|(loc, on_hand, expect)| Act::Set { loc, on_hand, expect }),
        3 => (l.clone(), -6i64..=8).prop_map(|(loc, delta)| Act::Adjust { loc, delta }),
        1 => (-1i64..=6).prop_map(|limit| Act::Policy { limit }),
        10 => (h.clone(), prop::collection::vec((l.clone(), qty()), 1..=3), -50i64..=1_500)
            .prop_map(|(hold, lines, ttl)| Act::Reserve { hold, lines, ttl }),
        2 => (h.clone(), -50i64..=1_500).prop_map(|(hold, ttl)| Act::ReserveAgain { hold, ttl }),
        3 => (h.clone(), -50i64..=1_500).prop_map(|(hold, ttl)| Act::Extend { hold, ttl }),
        3 => h.clone().prop_map(|hold| Act::Pin { hold }),
        2 => h.clone().prop_map(|hold| Act::Unpin { hold }),
        5 => (h.clone(), o.clone()).prop_map(|(hold, order)| Act::Commit { hold, order }),
        3 => h.prop_map(|hold| Act::Release { hold }),
        4 => (o.clone(), prop::collection::vec((0usize..LINE_IDS.len(), l.clone(), qty()), 1..=3))
            .prop_map(|(order, lines)| Act::Sale { order, lines }),
        2 => o.clone().prop_map(|order| Act::Cancel { order }),
        3 => (o, l, prop_oneof![8 => 1i64..=4, 1 => Just(0i64)], 0usize..SHIPMENTS.len())
            .prop_map(|(order, loc, qty, shipment)| Act::Fulfil { order, loc, qty, shipment }),
        1 => Just(Act::Expire),
        1 => Just(Act::Prune),
    ]
}

fn dt() -> impl Strategy<Value = i64> {
    prop_oneof![
        60 => 0i64..=50,
        30 => 51i64..=400,
        8 => 401i64..=2_000,
        2 => Just(HOLD_RETENTION_MS + 1),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (dt(), act()).prop_map(|(dt, act)| Step { dt, act })
}

/// A sequence of up to [`MAX_STEPS`] steps: first stock counts at each location (and sometimes a
/// backorder allowance), then random steps.
fn scenario() -> impl Strategy<Value = Scenario> {
    (2usize..=3, prop::collection::vec(0i64..=15, 3), 0i64..=3, prop::collection::vec(step(), 1..=MAX_STEPS - 4))
        .prop_map(|(nlocs, stock, limit, random)| {
            let mut steps: Vec<Step> = stock
                .into_iter()
                .take(nlocs)
                .enumerate()
                .map(|(loc, on_hand)| Step { dt: 0, act: Act::Set { loc, on_hand, expect: Expect::Unconditional } })
                .collect();
            if limit > 0 {
                steps.push(Step { dt: 0, act: Act::Policy { limit } });
            }
            steps.extend(random);
            Scenario { nlocs, steps }
        })
}

fn order_key(i: usize) -> OrderKey {
    OrderKey { channel: tok(CHANNELS[i / ORDER_IDS.len()]), order_id: tok(ORDER_IDS[i % ORDER_IDS.len()]) }
}

fn loc_of(i: usize, nlocs: usize) -> Location {
    loc(LOCS[i % nlocs])
}

fn sale_command(order: usize, lines: &[(usize, usize, i64)], nlocs: usize) -> Command {
    Command::Sale {
        order: order_key(order),
        lines: lines
            .iter()
            .map(|(id, l, q)| SaleLine { line_id: tok(LINE_IDS[*id]), location: loc_of(*l, nlocs), qty: *q })
            .collect(),
    }
}

/// The command for `act` against `ledger` at `now`; `None` for the non-command steps.
fn command(act: &Act, ledger: &Ledger, now: Millis, nlocs: usize) -> Option<Command> {
    let hold = |i: usize| tok(HOLDS[i]);
    Some(match act {
        Act::Set { loc, on_hand, expect } => Command::Set {
            location: loc_of(*loc, nlocs),
            on_hand: *on_hand,
            expected_version: match expect {
                Expect::Unconditional => None,
                Expect::Current => Some(ledger.version()),
                Expect::Stale => Some(ledger.version() + 1),
            },
            cause: Cause { reason: Some("cycle_count".into()), ..Cause::default() },
        },
        Act::Adjust { loc, delta } => Command::Adjust {
            location: loc_of(*loc, nlocs),
            delta: *delta,
            cause: Cause { reason: Some("received".into()), ..Cause::default() },
        },
        Act::Policy { limit } => Command::Policy { backorder_limit: *limit },
        Act::Reserve { hold: h, lines, ttl } => Command::Reserve {
            hold: hold(*h),
            lines: lines.iter().map(|(l, q)| (loc_of(*l, nlocs), *q)).collect(),
            expires_at: Millis(now.0 + ttl),
            channel: None,
            reference: None,
        },
        Act::ReserveAgain { hold: h, ttl } => Command::Reserve {
            hold: hold(*h),
            lines: match ledger.hold(&hold(*h)) {
                Some(existing) => existing.lines.iter().map(|(l, q)| (l.clone(), *q)).collect(),
                None => vec![(loc_of(0, nlocs), 1)],
            },
            expires_at: Millis(now.0 + ttl),
            channel: None,
            reference: None,
        },
        Act::Extend { hold: h, ttl } => Command::Extend { hold: hold(*h), expires_at: Millis(now.0 + ttl) },
        Act::Pin { hold: h } => Command::Pin { hold: hold(*h) },
        Act::Unpin { hold: h } => Command::Unpin { hold: hold(*h) },
        Act::Commit { hold: h, order } => Command::Commit { hold: hold(*h), order: order_key(*order) },
        Act::Release { hold: h } => Command::Release { hold: hold(*h) },
        Act::Sale { order, lines } => sale_command(*order, lines, nlocs),
        Act::Cancel { order } => Command::Cancel { order: order_key(*order), reason: Some("customer".into()) },
        Act::Fulfil { order, loc, qty, shipment } => Command::Fulfil {
            // An order the ledger knows, when there is one.
            order: match ledger.orders().count() {
                0 => order_key(*order),
                n => ledger.orders().nth(order % n).map(|(k, _)| k.clone()).expect("order"),
            },
            location: loc_of(*loc, nlocs),
            qty: *qty,
            shipment: tok(SHIPMENTS[*shipment]),
        },
        Act::Expire | Act::Prune => return None,
    })
}

// --- the harness ---------------------------------------------------------------------------------

/// What the shell would have persisted from `take_changes` alone.
#[derive(Clone, Debug, Default)]
struct Persisted {
    levels: BTreeMap<Location, Levels>,
    holds: BTreeMap<Token, Hold>,
    orders: BTreeMap<OrderKey, Order>,
    version: u64,
    last_seq: u64,
    backorder_limit: i64,
}

impl Persisted {
    fn of(s: &Snapshot) -> Persisted {
        Persisted {
            levels: s.levels.clone(),
            holds: s.holds.iter().map(|h| (h.id.clone(), h.clone())).collect(),
            orders: s.orders.iter().cloned().collect(),
            version: s.version,
            last_seq: s.last_seq,
            backorder_limit: s.backorder_limit,
        }
    }

    fn absorb(&mut self, l: &Ledger, c: &Changes) {
        for loc in &c.levels {
            self.levels.insert(loc.clone(), l.level(loc));
        }
        for id in &c.holds {
            match l.hold(id) {
                Some(h) => self.holds.insert(id.clone(), h.clone()),
                None => self.holds.remove(id),
            };
        }
        for id in &c.removed_holds {
            self.holds.remove(id);
        }
        for k in &c.orders {
            match l.order(k) {
                Some(o) => self.orders.insert(k.clone(), o.clone()),
                None => self.orders.remove(k),
            };
        }
        if c.meta {
            self.version = l.version();
            self.last_seq = l.last_seq();
            self.backorder_limit = l.backorder_limit();
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            levels: self.levels.clone(),
            backorder_limit: self.backorder_limit,
            version: self.version,
            last_seq: self.last_seq,
            holds: self.holds.values().cloned().collect(),
            orders: self.orders.iter().map(|(k, o)| (k.clone(), o.clone())).collect(),
            erp: BTreeMap::new(),
        }
    }
}

/// What one step did, for comparing two runs.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Observed {
    Applied(Result<Accepted, LedgerError>),
    Expired(usize),
    Pruned(usize),
}

#[derive(Clone, Debug)]
struct Harness {
    ledger: Ledger,
    nlocs: usize,
    now: Millis,
    /// Every journal entry handed over by `take_changes`, in order.
    log: Vec<Entry>,
    persisted: Persisted,
}

fn nonzero(levels: &BTreeMap<Location, Levels>) -> BTreeMap<Location, Levels> {
    levels.iter().filter(|(_, l)| !l.is_zero()).map(|(k, l)| (k.clone(), *l)).collect()
}

fn nets(levels: &BTreeMap<Location, Levels>) -> BTreeMap<Location, i64> {
    levels.iter().map(|(k, l)| (k.clone(), l.net())).collect()
}

/// State checks that hold after every step.
fn check_state(l: &Ledger) -> Result<(), TestCaseError> {
    if let Err(v) = invariants::check(l) {
        return Err(TestCaseError::fail(format!("invariants::check: {v}")));
    }
    for (loc, lv) in l.levels() {
        prop_assert!(lv.on_hand >= 0 && lv.reserved >= 0 && lv.committed >= 0, "negative at {loc}: {lv:?}");
        prop_assert!(lv.available() >= 0);
    }
    let t = l.totals();
    prop_assert!(t.available >= 0 && t.backordered >= 0 && t.oversold >= 0, "{t:?}");
    prop_assert!(t.backordered <= l.backorder_limit(), "{t:?} limit {}", l.backorder_limit());
    Ok(())
}

impl Harness {
    fn new(nlocs: usize) -> Harness {
        Harness {
            ledger: Ledger::new(),
            nlocs,
            now: Millis(1_000_000),
            log: Vec::new(),
            persisted: Persisted::default(),
        }
    }

    /// Hands over the changes and checks the journal and what the shell would persist.
    fn absorb_changes(&mut self, version_before: u64) -> Result<Changes, TestCaseError> {
        let c = self.ledger.take_changes();
        let mut seq = self.log.last().map_or(0, |e| e.seq);
        let mut version = self.log.last().map_or(0, |e| e.version);
        for e in &c.entries {
            prop_assert_eq!(e.seq, seq + 1, "journal seq not contiguous");
            prop_assert!(
                e.version >= version && e.version > version_before,
                "entry version {} after {}",
                e.version,
                version
            );
            prop_assert!(e.version <= self.ledger.version());
            prop_assert_eq!(e.at, self.now);
            seq = e.seq;
            version = e.version;
        }
        prop_assert_eq!(seq, self.ledger.last_seq(), "last_seq ahead of the journal handed over");
        if self.ledger.version() != version_before {
            prop_assert!(c.meta, "version moved without meta");
        }
        self.log.extend(c.entries.iter().cloned());
        self.persisted.absorb(&self.ledger, &c);
        prop_assert_eq!(self.persisted.snapshot(), self.ledger.snapshot(), "take_changes missed something");
        prop_assert!(self.ledger.take_changes().is_empty());
        Ok(c)
    }

    fn step(&mut self, s: &Step) -> Result<Observed, TestCaseError> {
        self.now = Millis(self.now.0 + s.dt);
        let now = self.now;
        let version_before = self.ledger.version();
        let observed = match &s.act {
            Act::Expire => {
                let n = self.ledger.expire_due(now);
                prop_assert_eq!(self.ledger.expire_due(now), 0, "expire_due is idempotent");
                Observed::Expired(n)
            }
            Act::Prune => {
                let levels = self.ledger.levels().clone();
                let n = self.ledger.prune(now);
                prop_assert_eq!(self.ledger.version(), version_before);
                prop_assert_eq!(&levels, self.ledger.levels());
                Observed::Pruned(n)
            }
            act => {
                let cmd = command(act, &self.ledger, now, self.nlocs).expect("a command");
                Observed::Applied(self.apply(cmd)?)
            }
        };
        check_state(&self.ledger)?;
        prop_assert!(self.ledger.version() >= version_before, "version went backwards");
        self.absorb_changes(version_before)?;
        Ok(observed)
    }

    /// Applies `cmd` and checks what it may and may not have changed.
    fn apply(&mut self, cmd: Command) -> Result<Result<Accepted, LedgerError>, TestCaseError> {
        let now = self.now;
        // The state a refused command must leave: the original after the expiry `apply` performs.
        let mut expired_only = self.ledger.clone();
        expired_only.expire_due(now);
        let base = expired_only.snapshot();
        let base_totals = expired_only.totals();

        let res = self.ledger.apply(cmd.clone(), now);
        let after = self.ledger.snapshot();
        match &res {
            Err(_) => prop_assert_eq!(&after, &base, "a refused command changed the ledger"),
            Ok(o) => {
                prop_assert_eq!(o.version, self.ledger.version());
                if o.effect != Effect::Applied {
                    prop_assert_eq!(&after, &base, "{:?} changed the ledger", o.effect);
                } else if matches!(cmd, Command::Pin { .. }) {
                    // Pinning changes the hold, not quantities or deadlines: same version.
                    prop_assert_eq!(o.version, base.version);
                    prop_assert_ne!(&after, &base, "Applied but nothing changed");
                } else if matches!(cmd, Command::Unpin { .. }) {
                    // Same, unless the unpinned hold is past its deadline and expires at once.
                    let expired = self.ledger.holds().any(|h| {
                        h.status == HoldStatus::Expired
                            && base.holds.iter().any(|b| b.id == h.id && b.status == HoldStatus::Held)
                    });
                    prop_assert_eq!(o.version > base.version, expired, "unpin moved the version iff the hold expired");
                    prop_assert_ne!(&after, &base, "Applied but nothing changed");
                } else {
                    prop_assert!(o.version > base.version, "Applied without a new version: {cmd:?}");
                }
            }
        }
        if let Ok(Accepted { effect: Effect::Applied, .. }) = &res {
            match &cmd {
                Command::Reserve { hold, .. } => {
                    let s = self.ledger.totals().shortfall();
                    let bound = base_totals.shortfall().max(self.ledger.backorder_limit());
                    prop_assert!(
                        s <= bound,
                        "reserve took shortfall {} -> {s} (limit {})",
                        base_totals.shortfall(),
                        self.ledger.backorder_limit()
                    );
                    prop_assert_eq!(self.ledger.hold(hold).map(|h| h.status), Some(HoldStatus::Held));
                }
                Command::Commit { hold, order } => {
                    let h = self.ledger.hold(hold).expect("committed hold");
                    let cancelled_first = base.orders.iter().any(|(k, o)| k == order && o.cancelled);
                    let mut want = nets(&base.levels);
                    if cancelled_first {
                        // The cancellation wins: the hold's units return to available.
                        for (l, q) in &h.lines {
                            *want.entry(l.clone()).or_default() += q;
                        }
                    }
                    prop_assert_eq!(
                        want,
                        nets(self.ledger.levels()),
                        "commit changed a net (cancelled first: {})",
                        cancelled_first
                    );
                    prop_assert_eq!(h.status, HoldStatus::Committed);
                    prop_assert_eq!(h.order.as_ref(), Some(order));
                }
                Command::Fulfil { .. } => {
                    prop_assert_eq!(nets(&base.levels), nets(self.ledger.levels()), "fulfil changed a net");
                }
                Command::Release { hold } => {
                    prop_assert_eq!(self.ledger.hold(hold).map(|h| h.status), Some(HoldStatus::Released));
                }
                Command::Sale { .. } | Command::Cancel { .. } => {
                    let on_hand = |s: &Snapshot| s.levels.values().map(|l| l.on_hand).sum::<i64>();
                    prop_assert_eq!(on_hand(&base), on_hand(&after), "sale/cancel moved on_hand");
                }
                _ => {}
            }
        }
        Ok(res)
    }

    fn run(&mut self, steps: &[Step]) -> Result<Vec<Observed>, TestCaseError> {
        steps.iter().map(|s| self.step(s)).collect()
    }

    /// Checks that close a sequence: journal replay and unit conservation.
    fn check_end(&self) -> Result<(), TestCaseError> {
        let r = journal::replay(&self.log).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&r.levels, self.ledger.levels(), "replay levels (exactly, zero rows too)");
        prop_assert_eq!(r.version, self.ledger.version(), "replay version");
        prop_assert_eq!(r.backorder_limit, self.ledger.backorder_limit(), "replay backorder_limit");
        prop_assert_eq!(r.last_seq, self.ledger.last_seq());
        // Units conserved: per location, the journal's deltas add up to the stored levels.
        let mut sums: BTreeMap<Location, Levels> = BTreeMap::new();
        for e in &self.log {
            e.deltas.apply_to(sums.entry(e.location.clone()).or_default());
        }
        prop_assert_eq!(&sums, self.ledger.levels(), "Σ deltas != levels");
        // Restoring the persisted state gives back the same ledger.
        let restored = Ledger::restore(self.persisted.snapshot());
        prop_assert_eq!(restored.snapshot(), self.ledger.snapshot());
        Ok(())
    }
}

// --- properties ----------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// After every step: invariants, no negative quantity, refused and no-op commands change
    /// nothing beyond the expiry, versions and journal seqs move as promised, reserve respects the
    /// backorder allowance, commit and fulfil keep nets. At the end: replay and conservation.
    #[test]
    fn random_sequences_keep_every_invariant(sc in scenario()) {
        let mut h = Harness::new(sc.nlocs);
        h.run(&sc.steps)?;
        h.check_end()?;
    }

    /// Restoring from `snapshot()` at any point and continuing gives the same answers, journal
    /// and state as continuing the original.
    #[test]
    fn restore_then_continue_is_deterministic(sc in scenario(), split in any::<prop::sample::Index>()) {
        let k = split.index(sc.steps.len() + 1);
        let mut a = Harness::new(sc.nlocs);
        a.run(&sc.steps[..k])?;
        // The shell restarts: it loads the persisted snapshot.
        let mut b = a.clone();
        b.ledger = Ledger::restore(a.persisted.snapshot());
        b.persisted = Persisted::of(&a.persisted.snapshot());
        prop_assert_eq!(b.ledger.snapshot(), a.ledger.snapshot());
        let log_at_split = a.log.len();
        let oa = a.run(&sc.steps[k..])?;
        let ob = b.run(&sc.steps[k..])?;
        prop_assert_eq!(oa, ob);
        prop_assert_eq!(&a.log[log_at_split..], &b.log[log_at_split..]);
        prop_assert_eq!(a.ledger.snapshot(), b.ledger.snapshot());
        prop_assert_eq!(a.ledger.next_deadline(), b.ledger.next_deadline());
        a.check_end()?;
        b.check_end()?;
    }

    /// A sale delivered twice (a retry, at the same or a later time) is recorded once.
    #[test]
    fn the_same_sale_twice_equals_once(
        sc in scenario(),
        order in 0usize..N_ORDERS,
        lines in prop::collection::vec((0usize..LINE_IDS.len(), 0usize..3, qty()), 1..=4),
        gap in dt(),
    ) {
        let mut once = Harness::new(sc.nlocs);
        once.run(&sc.steps)?;
        let sale = Step { dt: 1, act: Act::Sale { order, lines } };
        let first = once.step(&sale)?;
        let mut twice = once.clone();
        once.step(&Step { dt: gap, act: Act::Expire })?;
        let second = twice.step(&Step { dt: gap, ..sale })?;
        if let Observed::Applied(Ok(o)) = &second {
            prop_assert_ne!(&o.effect, &Effect::Applied, "second delivery applied again");
        }
        if let (Observed::Applied(Err(a)), Observed::Applied(Err(b))) = (&first, &second) {
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(once.ledger.snapshot(), twice.ledger.snapshot());
        once.check_end()?;
        twice.check_end()?;
    }

    /// Cancel-then-sale (a tombstone, the late sale ignored) and sale-then-cancel end in the same
    /// levels, totals and holds.
    #[test]
    fn cancel_and_sale_commute(
        sc in scenario(),
        order in 0usize..N_ORDERS,
        lines in prop::collection::vec((0usize..LINE_IDS.len(), 0usize..3, qty()), 1..=4),
    ) {
        let mut a = Harness::new(sc.nlocs);
        a.run(&sc.steps)?;
        let mut b = a.clone();
        let sale = Step { dt: 0, act: Act::Sale { order, lines } };
        let cancel = Step { dt: 0, act: Act::Cancel { order } };
        a.step(&cancel)?;
        a.step(&sale)?;
        b.step(&sale)?;
        b.step(&cancel)?;
        // A tombstone journals a zero entry at `main`, so compare the non-zero levels.
        prop_assert_eq!(nonzero(a.ledger.levels()), nonzero(b.ledger.levels()));
        prop_assert_eq!(a.ledger.totals(), b.ledger.totals());
        prop_assert_eq!(a.ledger.holds().collect::<Vec<_>>(), b.ledger.holds().collect::<Vec<_>>());
        for h in [&a, &b] {
            let o = h.ledger.order(&order_key(order)).expect("order");
            prop_assert!(o.cancelled);
            prop_assert_eq!(o.lines.values().map(|l| l.open()).sum::<i64>(), 0);
        }
        a.check_end()?;
        b.check_end()?;
    }
}

// --- the generator reaches what the properties are about ----------------------------------------

fn kind(act: &Act) -> &'static str {
    match act {
        Act::Set { .. } => "set",
        Act::Adjust { .. } => "adjust",
        Act::Policy { .. } => "policy",
        Act::Reserve { .. } | Act::ReserveAgain { .. } => "reserve",
        Act::Extend { .. } => "extend",
        Act::Pin { .. } => "pin",
        Act::Unpin { .. } => "unpin",
        Act::Commit { .. } => "commit",
        Act::Release { .. } => "release",
        Act::Sale { .. } => "sale",
        Act::Cancel { .. } => "cancel",
        Act::Fulfil { .. } => "fulfil",
        Act::Expire => "expire",
        Act::Prune => "prune",
    }
}

/// Runs 300 scenarios from a fixed seed and checks that every outcome the properties speak of
/// actually occurs (so a change to the generator cannot quietly make them vacuous).
#[test]
fn the_generator_reaches_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let (mut oversold, mut backordered, mut pinned_past_deadline) = (0, 0, 0);
    for _ in 0..300 {
        let sc = scenario().new_tree(&mut runner).expect("scenario").current();
        let mut h = Harness::new(sc.nlocs);
        for s in &sc.steps {
            let o = h.step(s).expect("step");
            let what = match o {
                Observed::Applied(Ok(o)) => format!("{:?}", o.effect),
                Observed::Applied(Err(e)) => format!("{e:?}"),
                Observed::Expired(n) | Observed::Pruned(n) => (if n > 0 { "some" } else { "none" }).to_string(),
            };
            let what = what.split([' ', '{', '(']).next().unwrap_or_default().to_string();
            *seen.entry(format!("{}:{what}", kind(&s.act))).or_default() += 1;
            let t = h.ledger.totals();
            oversold += usize::from(t.oversold > 0);
            backordered += usize::from(t.backordered > 0);
            pinned_past_deadline += h.ledger.holds().filter(|x| x.pinned && x.expires_at <= h.now).count();
        }
        h.check_end().expect("end");
    }
    let expected = [
        "set:Applied",
        "set:Duplicate",
        "set:VersionConflict",
        "set:OutOfRange",
        "adjust:Applied",
        "adjust:NegativeOnHand",
        "policy:Applied",
        "policy:Duplicate",
        "reserve:Applied",
        "reserve:Duplicate",
        "reserve:HoldNotHeld",
        "reserve:HoldConflict",
        "reserve:InsufficientStock",
        "reserve:OutOfRange",
        "extend:Applied",
        "extend:HoldNotHeld",
        "extend:HoldNotFound",
        "pin:Applied",
        "pin:Duplicate",
        "pin:HoldNotHeld",
        "unpin:Applied",
        "unpin:HoldAlready",
        "commit:Applied",
        "commit:HoldAlready",
        "commit:HoldNotHeld",
        "release:Applied",
        "release:HoldAlready",
        "release:HoldNotHeld",
        "sale:Applied",
        "sale:Duplicate",
        "sale:OrderAlreadyCancelled",
        "sale:OutOfRange",
        "cancel:Applied",
        "cancel:Duplicate",
        "fulfil:Applied",
        "fulfil:Duplicate",
        "fulfil:OverFulfilment",
        "fulfil:NotOnHand",
        "fulfil:OrderNotFound",
        "expire:some",
        "prune:some",
    ];
    let missing: Vec<&str> = expected.iter().copied().filter(|k| !seen.contains_key(*k)).collect();
    assert!(missing.is_empty(), "never reached: {missing:?}\nseen: {seen:#?}");
    assert!(
        oversold > 0 && backordered > 0 && pinned_past_deadline > 0,
        "{oversold} {backordered} {pinned_past_deadline}"
    );
}

// --- bugs these properties found in src/ (fixed), scripted ----------------------------------------

fn set(l: &mut Ledger, location: &str, on_hand: i64, now: i64) {
    l.apply(
        Command::Set { location: loc(location), on_hand, expected_version: None, cause: Cause::default() },
        Millis(now),
    )
    .expect("set");
}

fn reserve_cmd(id: &str, lines: &[(&str, i64)], expires: i64) -> Command {
    Command::Reserve {
        hold: tok(id),
        lines: lines.iter().map(|(l, q)| (loc(l), *q)).collect(),
        expires_at: Millis(expires),
        channel: None,
        reference: None,
    }
}

/// `commit` names its order lines `{hold}@{location}` and inserts them into the order with
/// `BTreeMap::insert`, overwriting a line of the same id that a sale (or an earlier hold of the
/// same id, pruned and reused) put there. `committed` then exceeds the order's open units:
/// `invariants::check` fails (in debug builds `apply` panics), and cancelling the order can
/// never return the overwritten units.
#[test]
fn commit_never_overwrites_a_sale_line_of_the_same_order() {
    let mut l = Ledger::new();
    set(&mut l, "main", 10, 0);
    let order = OrderKey { channel: tok("direct"), order_id: tok("o1") };
    let sale = SaleLine { line_id: tok("r1@main"), location: loc("main"), qty: 3 };
    l.apply(Command::Sale { order: order.clone(), lines: vec![sale] }, Millis(1)).expect("sale");
    l.apply(reserve_cmd("r1", &[("main", 2)], 1_000), Millis(2)).expect("reserve");
    let commit = std::panic::catch_unwind(move || {
        l.apply(Command::Commit { hold: tok("r1"), order: order.clone() }, Millis(3)).expect("commit");
        l
    });
    let l = commit.expect("commit must not break an invariant (debug builds panic in apply)");
    assert_eq!(l.totals().committed, 5);
    assert_eq!(invariants::check(&l), Ok(()));
}

/// A hold id long enough that `{hold}@{location}` exceeds the 128 characters a token may have
/// (124–128 characters with `main`/`east`; reservation ids may be 128) makes `commit` fall back
/// to the bare hold id as the line id of *every* location: with lines at two locations the
/// second overwrites the first and the ledger's committed units no longer match the order
/// (invariants fail; debug builds panic in `apply`, release builds keep the corrupt state and
/// cancelling the order never returns the lost line's units).
#[test]
fn commit_of_a_hold_id_too_long_for_line_ids_is_refused_whole() {
    let id = "r".repeat(128);
    let mut l = Ledger::new();
    set(&mut l, "main", 10, 0);
    set(&mut l, "east", 10, 0);
    l.apply(reserve_cmd(&id, &[("main", 2), ("east", 3)], 1_000), Millis(1)).expect("reserve");
    let order = OrderKey { channel: tok("direct"), order_id: tok("o1") };
    let before = l.snapshot();
    let res = l.apply(Command::Commit { hold: tok(&id), order }, Millis(2));
    assert!(matches!(&res, Err(LedgerError::OutOfRange { field, .. }) if field == "hold"), "{res:?}");
    assert_eq!(l.snapshot(), before, "nothing committed");
    assert_eq!(invariants::check(&l), Ok(()));
}

/// `Effect::Applied` is documented as "quantities or holds changed; the version moved", but
/// `Pin` and `Unpin` change a hold and answer `Applied` at the same version (no transition, no
/// journal entry, `Changes::meta` false).
#[test]
fn pin_changes_the_hold_but_not_the_version_nor_the_journal() {
    let mut l = Ledger::new();
    set(&mut l, "main", 5, 0);
    let v = l.apply(reserve_cmd("r1", &[("main", 2)], 1_000), Millis(1)).expect("reserve").version;
    l.take_changes();
    let pin = l.apply(Command::Pin { hold: tok("r1") }, Millis(2)).expect("pin");
    assert_eq!((pin.effect, pin.version), (Effect::Applied, v));
    let changes = l.take_changes();
    assert!(changes.entries.is_empty() && !changes.meta);
    assert!(changes.holds.contains(&tok("r1")), "the pinned hold is persisted");
}

/// A `Reserve` with no lines is accepted: it bumps the version and stores a hold with no lines
/// but journals nothing, so `journal::replay` no longer rebuilds the version (the doc promises
/// it does). Later `Extend`/`Commit`/`Cancel` of that hold do the same again.
#[test]
fn empty_reserve_is_refused() {
    let mut l = Ledger::new();
    set(&mut l, "main", 5, 0);
    let v = l.version();
    let res = l.apply(reserve_cmd("r1", &[], 1_000), Millis(1));
    assert_eq!(res, Err(LedgerError::OutOfRange { field: "lines".into(), value: 0 }));
    assert_eq!(l.version(), v);
}
