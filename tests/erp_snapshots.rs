//! Property tests for ERP snapshots (`src/erp`, `Command::ErpSnapshot`): an ERP that is the
//! master of physical stock sends snapshots as of points in its history, late and out of order,
//! while StockEdge records its own sales, checkouts, cancellations and fulfilments and sends them
//! to the ERP as order documents that arrive late too.
//!
//! The generated world, per location: the true shelf `P`, the ERP's books (`H` on hand, `C`
//! committed, its own orders `O` that StockEdge never sees), each StockEdge order's documents and
//! how many of them the ERP has received (in order, per order). A snapshot records the ERP's
//! figure (`H − C`, or `H` for an ERP on the on-hand basis, which then takes no orders of its
//! own), what it had received, and an independent oracle: the on hand StockEdge must end with if
//! this is the latest snapshot — `P − O` at the snapshot, less the units StockEdge ships after it.
//! The oracle knows nothing of pending documents or of the formula in `erp::decide`.
//!
//! Properties (2,000 cases each in a normal `cargo test`; `PROPTEST_CASES=N` for N):
//! - `any_delivery_order_ends_in_the_same_state`: two delivery orders of the snapshots (random
//!   delays and ties, one run restored from storage halfway) end in the same levels, equal to the
//!   oracle at every location — no StockEdge document lost or counted twice;
//! - in the same runs: every snapshot leaves reserved and committed units and the holds as they
//!   were; a snapshot older than the applied one answers `stale` and changes nothing; replaying
//!   the journal from empty rebuilds the levels and the version; the invariants hold throughout.
//!
//! The scripted tests at the end are the cases: a snapshot taken before 3 storefront
//! sales and arriving after them, and one taken after the ERP received them.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use stockedge::erp::{AsOf, Basis, Figure, Seen, SeenOrder, SnapshotLine};
use stockedge::stock::{
    invariants, journal, Cause, Command, Effect, Entry, Ledger, Levels, Location, OrderKey, SaleLine, Token,
};
use stockedge::time::Millis;

const CASES: u32 = 2_000;
const MAX_STEPS: usize = 60;
const LOCS: [&str; 2] = ["main", "east"];
/// The shelf each location starts with: far above what a run can sell, so that StockEdge never
/// refuses a shipment for want of on hand (which would make runs diverge for another reason).
const START: i64 = 1_000;
/// Holds never expire within a run.
const FAR: Millis = Millis(1 << 50);

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

// --- the generated world ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Act {
    /// A channel sale of one or two lines at one location.
    Sale {
        loc: usize,
        qty: i64,
        second: Option<i64>,
    },
    /// A storefront checkout: a hold, committed into an order or left held.
    Checkout {
        loc: usize,
        qty: i64,
        commit: bool,
    },
    Release {
        hold: usize,
    },
    Cancel {
        order: usize,
    },
    Fulfil {
        order: usize,
        qty: i64,
    },
    /// The ERP receives the next document of an order (documents of one order arrive in order).
    Receive {
        order: usize,
    },
    /// The ERP's own movements, which StockEdge learns only from snapshots.
    Receipt {
        loc: usize,
        qty: i64,
    },
    Shrink {
        loc: usize,
        qty: i64,
    },
    OwnOrder {
        loc: usize,
        qty: i64,
    },
    OwnShip {
        loc: usize,
        qty: i64,
    },
    Snapshot {
        loc: usize,
        all_lines: bool,
    },
}

fn act() -> impl Strategy<Value = Act> {
    let l = 0..LOCS.len();
    prop_oneof![
        3 => (l.clone(), 1..=5i64, proptest::option::of(1..=3i64))
            .prop_map(|(loc, qty, second)| Act::Sale { loc, qty, second }),
        2 => (l.clone(), 1..=4i64, any::<bool>()).prop_map(|(loc, qty, commit)| Act::Checkout { loc, qty, commit }),
        1 => (0..8usize).prop_map(|hold| Act::Release { hold }),
        1 => (0..12usize).prop_map(|order| Act::Cancel { order }),
        2 => (0..12usize, 1..=3i64).prop_map(|(order, qty)| Act::Fulfil { order, qty }),
        5 => (0..12usize).prop_map(|order| Act::Receive { order }),
        1 => (l.clone(), 1..=20i64).prop_map(|(loc, qty)| Act::Receipt { loc, qty }),
        1 => (l.clone(), 1..=10i64).prop_map(|(loc, qty)| Act::Shrink { loc, qty }),
        1 => (l.clone(), 1..=5i64).prop_map(|(loc, qty)| Act::OwnOrder { loc, qty }),
        1 => (l.clone(), 1..=5i64).prop_map(|(loc, qty)| Act::OwnShip { loc, qty }),
        3 => (l, any::<bool>()).prop_map(|(loc, all_lines)| Act::Snapshot { loc, all_lines }),
    ]
}

/// One StockEdge order document as the ERP receives it.
#[derive(Clone, Debug)]
enum Doc {
    Sale { lines: Vec<(Token, i64)> },
    Cancel,
    Fulfil { shipment: Token, qty: i64 },
}

/// A StockEdge order as the world knows it: StockEdge's side and the ERP's.
#[derive(Clone, Debug)]
struct WorldOrder {
    key: OrderKey,
    loc: usize,
    qty: i64,
    fulfilled: i64,
    cancelled: bool,
    docs: Vec<Doc>,
    /// How many of `docs` the ERP has received.
    received: usize,
    // The ERP's view, from the documents received.
    erp_lines: Vec<Token>,
    erp_open: i64,
    erp_cancelled: bool,
    erp_shipments: Vec<Token>,
}

impl WorldOrder {
    fn open(&self) -> i64 {
        if self.cancelled {
            0
        } else {
            self.qty - self.fulfilled
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Books {
    /// The true shelf.
    shelf: i64,
    /// The ERP's on hand and committed.
    on_hand: i64,
    committed: i64,
    /// The ERP's own open orders (in `committed`, unknown to StockEdge).
    own: i64,
    /// Units StockEdge has shipped here so far.
    shipped_by_stockedge: i64,
}

/// A snapshot as taken, with the oracle for it.
#[derive(Clone, Debug)]
struct Taken {
    line: SnapshotLine,
    loc: usize,
    /// How many StockEdge commands had been recorded when it was taken.
    after: usize,
    /// `P − O` (or `P`) at the snapshot, and StockEdge's shipments here until then.
    base: i64,
    shipped_before: i64,
}

/// The world's history: StockEdge's commands in the order it recorded them, and the snapshots.
#[derive(Debug)]
struct History {
    basis: Basis,
    commands: Vec<Command>,
    taken: Vec<Taken>,
    /// Per location: every unit StockEdge shipped there.
    shipped: [i64; 2],
}

fn build(basis: Basis, acts: &[Act]) -> History {
    let mut books = [Books { shelf: START, on_hand: START, ..Books::default() }; 2];
    let mut orders: Vec<WorldOrder> = Vec::new();
    let mut holds: Vec<(Token, bool)> = Vec::new(); // (id, still held)
    let mut commands = Vec::new();
    let mut taken = Vec::new();
    // The first snapshot puts both locations under the ERP before anything happens.
    for (i, l) in LOCS.iter().enumerate() {
        let line = SnapshotLine {
            snapshot: tok(&format!("start-{l}")),
            location: loc(l),
            figure: Figure { basis, quantity: START },
            as_of: AsOf { at: None, sequence: Some(0) },
            seen: Seen::default(),
        };
        taken.push(Taken { line, loc: i, after: 0, base: START, shipped_before: 0 });
    }
    let mut shipments = 0;
    for (step, a) in acts.iter().enumerate() {
        match a.clone() {
            Act::Sale { loc: li, qty, second } => {
                let key = OrderKey { channel: tok("web"), order_id: tok(&format!("o{}", orders.len())) };
                let mut lines = vec![(tok("l0"), qty)];
                lines.extend(second.map(|q| (tok("l1"), q)));
                let sale_lines =
                    lines.iter().map(|(id, q)| SaleLine { line_id: id.clone(), location: loc(LOCS[li]), qty: *q });
                commands.push(Command::Sale { order: key.clone(), lines: sale_lines.collect() });
                let total = lines.iter().map(|(_, q)| q).sum();
                orders.push(order(key, li, total, Doc::Sale { lines }));
            }
            Act::Checkout { loc: li, qty, commit } => {
                let hold = tok(&format!("h{}", holds.len()));
                let lines = vec![(loc(LOCS[li]), qty)];
                commands.push(Command::Reserve {
                    hold: hold.clone(),
                    lines,
                    expires_at: FAR,
                    channel: None,
                    reference: None,
                });
                holds.push((hold.clone(), !commit));
                if commit {
                    let key = OrderKey { channel: tok("direct"), order_id: tok(&format!("c{}", orders.len())) };
                    commands.push(Command::Commit { hold: hold.clone(), order: key.clone() });
                    let line = tok(&format!("res:{hold}@{}", LOCS[li]));
                    orders.push(order(key, li, qty, Doc::Sale { lines: vec![(line, qty)] }));
                }
            }
            Act::Release { hold } => {
                if let Some((id, held)) = holds.get_mut(hold).filter(|(_, held)| *held) {
                    commands.push(Command::Release { hold: id.clone() });
                    *held = false;
                }
            }
            Act::Cancel { order: i } => {
                if let Some(o) = orders.get_mut(i).filter(|o| !o.cancelled) {
                    commands.push(Command::Cancel { order: o.key.clone(), reason: None });
                    o.cancelled = true;
                    o.docs.push(Doc::Cancel);
                }
            }
            Act::Fulfil { order: i, qty } => {
                if let Some(o) = orders.get_mut(i).filter(|o| o.open() >= qty) {
                    shipments += 1;
                    let shipment = tok(&format!("s{shipments}"));
                    let location = loc(LOCS[o.loc]);
                    commands.push(Command::Fulfil { order: o.key.clone(), location, qty, shipment: shipment.clone() });
                    o.fulfilled += qty;
                    o.docs.push(Doc::Fulfil { shipment, qty });
                    let b = &mut books[o.loc];
                    b.shelf -= qty;
                    b.shipped_by_stockedge += qty;
                }
            }
            Act::Receive { order: i } => {
                if let Some(o) = orders.get_mut(i).filter(|o| o.received < o.docs.len()) {
                    let doc = o.docs[o.received].clone();
                    o.received += 1;
                    let b = &mut books[o.loc];
                    match doc {
                        Doc::Sale { lines } => {
                            for (id, q) in lines {
                                o.erp_lines.push(id);
                                o.erp_open += q;
                                b.committed += q;
                            }
                        }
                        Doc::Cancel => {
                            b.committed -= o.erp_open;
                            o.erp_open = 0;
                            o.erp_cancelled = true;
                        }
                        Doc::Fulfil { shipment, qty } => {
                            o.erp_shipments.push(shipment);
                            o.erp_open -= qty;
                            b.committed -= qty;
                            b.on_hand -= qty;
                        }
                    }
                }
            }
            Act::Receipt { loc: li, qty } => {
                let b = &mut books[li];
                b.shelf += qty;
                b.on_hand += qty;
            }
            Act::Shrink { loc: li, qty } => {
                let b = &mut books[li];
                if b.shelf - qty >= START / 2 {
                    b.shelf -= qty;
                    b.on_hand -= qty;
                }
            }
            // An ERP on the on-hand basis takes no orders of its own (docs/erp.md).
            Act::OwnOrder { loc: li, qty } if basis == Basis::Available => {
                let b = &mut books[li];
                b.own += qty;
                b.committed += qty;
            }
            Act::OwnShip { loc: li, qty } => {
                let b = &mut books[li];
                if b.own >= qty {
                    b.own -= qty;
                    b.committed -= qty;
                    b.on_hand -= qty;
                    b.shelf -= qty;
                }
            }
            Act::OwnOrder { .. } => {}
            Act::Snapshot { loc: li, all_lines } => {
                let b = books[li];
                let quantity = match basis {
                    Basis::OnHand => b.on_hand,
                    Basis::Available => b.on_hand - b.committed,
                };
                let seen = orders
                    .iter()
                    .filter(|o| o.loc == li && o.received > 0)
                    .map(|o| SeenOrder {
                        channel: o.key.channel.clone(),
                        order_id: o.key.order_id.clone(),
                        lines: (!all_lines).then(|| o.erp_lines.clone()),
                        cancelled: o.erp_cancelled,
                        shipments: o.erp_shipments.clone(),
                    })
                    .collect();
                let line = SnapshotLine {
                    snapshot: tok(&format!("snap-{step}")),
                    location: loc(LOCS[li]),
                    figure: Figure { basis, quantity },
                    as_of: AsOf { at: Some(Millis(step as i64)), sequence: Some(step as u64 + 1) },
                    seen: Seen { through: None, orders: seen },
                };
                let base = b.shelf - b.own;
                let shipped_before = b.shipped_by_stockedge;
                taken.push(Taken { line, loc: li, after: commands.len(), base, shipped_before });
            }
        }
    }
    History { basis, commands, taken, shipped: [books[0].shipped_by_stockedge, books[1].shipped_by_stockedge] }
}

fn order(key: OrderKey, loc: usize, qty: i64, first: Doc) -> WorldOrder {
    WorldOrder {
        key,
        loc,
        qty,
        fulfilled: 0,
        cancelled: false,
        docs: vec![first],
        received: 0,
        erp_lines: Vec::new(),
        erp_open: 0,
        erp_cancelled: false,
        erp_shipments: Vec::new(),
    }
}

impl History {
    /// What StockEdge's on hand at each location must end as: the latest snapshot's oracle.
    fn oracle(&self) -> [i64; 2] {
        let mut out = [0; 2];
        for (li, slot) in out.iter_mut().enumerate() {
            let latest = self
                .taken
                .iter()
                .filter(|t| t.loc == li)
                .max_by_key(|t| t.line.as_of.sequence)
                .expect("every location has its first snapshot");
            *slot = latest.base - (self.shipped[li] - latest.shipped_before);
        }
        out
    }

    /// StockEdge's inputs in the order it receives them: its commands in order, each snapshot
    /// delivered `delay[i]` commands after it was taken (never before), ties broken by `tie[i]`.
    /// The first snapshots are delivered first.
    fn deliveries(&self, delay: &[usize], tie: &[u8]) -> Vec<Input> {
        let n = self.commands.len();
        let mut slots: Vec<Vec<(u8, usize)>> = vec![Vec::new(); n + 1];
        for (i, t) in self.taken.iter().enumerate() {
            let (at, tb) = if i < LOCS.len() {
                (0, 0)
            } else {
                ((t.after + delay.get(i).copied().unwrap_or(0)).min(n), tie.get(i).copied().unwrap_or(0).max(1))
            };
            slots[at].push((tb, i));
        }
        let mut out = Vec::new();
        for (k, mut s) in slots.into_iter().enumerate() {
            s.sort();
            out.extend(s.into_iter().map(|(_, i)| Input::Snapshot(i)));
            if k < n {
                out.push(Input::Command(k));
            }
        }
        out
    }
}

#[derive(Clone, Copy, Debug)]
enum Input {
    Command(usize),
    Snapshot(usize),
}

// --- running StockEdge ----------------------------------------------------------------------------

struct Run {
    ledger: Ledger,
    journal: Vec<Entry>,
}

impl Run {
    fn step(&mut self, cmd: Command, now: Millis) -> Result<Effect, TestCaseError> {
        let accepted = self.ledger.apply(cmd.clone(), now).map_err(|e| TestCaseError::fail(format!("{cmd:?}: {e}")))?;
        self.journal.extend(self.ledger.take_changes().entries);
        invariants::check(&self.ledger).map_err(TestCaseError::fail)?;
        Ok(accepted.effect)
    }
}

/// Runs `h`'s inputs in `order`, checking after each snapshot that it touched on hand only and
/// that an older one changes nothing; restores the ledger from its snapshot at input `restore_at`.
fn run(h: &History, order: &[Input], restore_at: usize) -> Result<Ledger, TestCaseError> {
    let mut r = Run { ledger: Ledger::new(), journal: Vec::new() };
    let mut applied: BTreeMap<usize, u64> = BTreeMap::new(); // location → applied sequence
    for (k, input) in order.iter().enumerate() {
        if k == restore_at {
            let ledger = Ledger::restore(r.ledger.snapshot());
            prop_assert_eq!(ledger.snapshot(), r.ledger.snapshot());
            r.ledger = ledger;
        }
        let now = Millis(1_000 + k as i64);
        match *input {
            Input::Command(i) => {
                r.step(h.commands[i].clone(), now)?;
            }
            Input::Snapshot(i) => {
                let t = &h.taken[i];
                let before = r.ledger.snapshot();
                let effect = r.step(Command::ErpSnapshot { line: Box::new(t.line.clone()) }, now)?;
                let seq = t.line.as_of.sequence.unwrap_or(0);
                let prior = applied.get(&t.loc).copied();
                if prior.is_some_and(|p| seq <= p) {
                    prop_assert_eq!(effect, Effect::Stale);
                    prop_assert_eq!(&r.ledger.snapshot(), &before, "a stale snapshot changed the ledger");
                } else {
                    prop_assert!(matches!(effect, Effect::Applied | Effect::InStep), "{:?}", effect);
                    applied.insert(t.loc, seq);
                }
                let after = r.ledger.snapshot();
                prop_assert_eq!(&after.holds, &before.holds, "a snapshot touched a hold");
                prop_assert_eq!(&after.orders, &before.orders, "a snapshot touched an order");
                for (l, lv) in &after.levels {
                    let was = before.levels.get(l).copied().unwrap_or_default();
                    prop_assert_eq!((lv.reserved, lv.committed), (was.reserved, was.committed), "at {}", l);
                    if *l != t.line.location {
                        prop_assert_eq!(lv.on_hand, was.on_hand, "a snapshot of another location moved {}", l);
                    }
                }
            }
        }
    }
    // Every snapshot again, now that the latest of each location is applied: all are stale.
    for t in &h.taken {
        let before = r.ledger.snapshot();
        let effect = r.step(Command::ErpSnapshot { line: Box::new(t.line.clone()) }, Millis(1 << 40))?;
        prop_assert_eq!(effect, Effect::Stale);
        prop_assert_eq!(r.ledger.snapshot(), before);
    }
    // The journal, replayed from empty, rebuilds levels and version.
    let replayed = journal::replay(&r.journal).map_err(TestCaseError::fail)?;
    prop_assert_eq!(&replayed.levels, r.ledger.levels());
    prop_assert_eq!(replayed.version, r.ledger.version());
    Ok(r.ledger)
}

fn levels(l: &Ledger) -> BTreeMap<Location, Levels> {
    l.levels().clone()
}

/// A delivery order's delays and tie-breaks, one of each per snapshot.
type Delivery = (Vec<usize>, Vec<u8>);

fn scenario() -> impl Strategy<Value = (Basis, Vec<Act>, Delivery, Delivery, usize)> {
    let basis = prop_oneof![3 => Just(Basis::Available), 1 => Just(Basis::OnHand)];
    let delays = || proptest::collection::vec(0..25usize, MAX_STEPS + 2);
    let ties = || proptest::collection::vec(any::<u8>(), MAX_STEPS + 2);
    (basis, proptest::collection::vec(act(), 1..=MAX_STEPS), (delays(), ties()), (delays(), ties()), 0..(3 * MAX_STEPS))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_delivery_order_ends_in_the_same_state(
        (basis, acts, (delay_a, tie_a), (delay_b, tie_b), restore_at) in scenario()
    ) {
        let h = build(basis, &acts);
        prop_assert_eq!(h.basis, basis);
        // In order: every snapshot applied as soon as it is taken.
        let in_order = run(&h, &h.deliveries(&[], &[]), usize::MAX)?;
        let late_a = run(&h, &h.deliveries(&delay_a, &tie_a), usize::MAX)?;
        let late_b = run(&h, &h.deliveries(&delay_b, &tie_b), restore_at)?;
        prop_assert_eq!(levels(&late_a), levels(&in_order));
        prop_assert_eq!(levels(&late_b), levels(&in_order));
        let oracle = h.oracle();
        for (li, l) in LOCS.iter().enumerate() {
            prop_assert_eq!(in_order.level(&loc(l)).on_hand, oracle[li], "on hand at {}", l);
        }
    }
}

// --- the cases, scripted ------------------------------------------------------------------

fn snapshot(id: &str, quantity: i64, sequence: u64, seen: Seen) -> Command {
    Command::ErpSnapshot {
        line: Box::new(SnapshotLine {
            snapshot: tok(id),
            location: Location::main(),
            figure: Figure { basis: Basis::Available, quantity },
            as_of: AsOf { at: None, sequence: Some(sequence) },
            seen,
        }),
    }
}

/// 10 on the shelf; 3 storefront checkouts of one unit each, committed.
fn three_sales() -> (Ledger, Vec<OrderKey>) {
    let mut l = Ledger::new();
    l.apply(snapshot("s0", 10, 1, Seen::default()), Millis(1)).expect("first snapshot");
    let mut keys = Vec::new();
    for i in 0..3 {
        let hold = tok(&format!("cart-{i}"));
        let order = OrderKey { channel: tok("direct"), order_id: tok(&format!("100{i}")) };
        let reserve = Command::Reserve {
            hold: hold.clone(),
            lines: vec![(Location::main(), 1)],
            expires_at: FAR,
            channel: None,
            reference: None,
        };
        l.apply(reserve, Millis(10 + i)).expect("hold");
        l.apply(Command::Commit { hold, order: order.clone() }, Millis(20 + i)).expect("commit");
        keys.push(order);
    }
    (l, keys)
}

#[test]
fn a_snapshot_taken_before_three_sales_and_arriving_after_them_leaves_available_right() {
    let (mut l, _) = three_sales();
    // Taken before the sales (the ERP had none of them): 10 available in the ERP.
    let effect = l.apply(snapshot("s1", 10, 2, Seen::default()), Millis(30)).expect("applied");
    assert_eq!(effect.effect, Effect::InStep, "nothing to change: the 3 sales stay subtracted");
    assert_eq!(l.totals().available, 7, "not 3 too high");
}

#[test]
fn a_snapshot_after_the_erp_received_the_sales_does_not_subtract_them_again() {
    let (mut l, _) = three_sales();
    // The ERP committed the 3 orders it received: its available is 7.
    let seen = Seen { through: Some(Millis(25)), orders: Vec::new() };
    l.apply(snapshot("s1", 7, 2, seen), Millis(30)).expect("applied");
    assert_eq!(l.totals().available, 7, "not 3 too low");
    assert!(l.erp_track(&Location::main()).is_some_and(|t| t.pending().is_empty()));
}

#[test]
fn out_of_order_snapshots_converge_and_name_themselves_in_the_journal() {
    let (mut a, _) = three_sales();
    let (mut b, _) = three_sales();
    let old = snapshot("s-old", 10, 2, Seen::default());
    let seen = Seen { through: Some(Millis(25)), orders: Vec::new() };
    let new = snapshot("s-new", 12, 3, seen); // 5 received, 3 sales committed: 12 available
    a.apply(old.clone(), Millis(40)).expect("old");
    a.apply(new.clone(), Millis(41)).expect("new");
    b.apply(new, Millis(40)).expect("new");
    assert_eq!(b.apply(old, Millis(41)).expect("old").effect, Effect::Stale);
    assert_eq!(a.levels(), b.levels());
    assert_eq!(a.totals().available, 12);
    let entry = a.take_changes().entries.pop().expect("journaled");
    assert_eq!(entry.cause, Cause { snapshot: Some("s-new".into()), ..Cause::default() });
    assert_eq!(serde_json::to_value(entry.op).expect("op"), "erp_snapshot");
}

#[test]
fn a_snapshot_never_disturbs_live_holds() {
    let mut l = Ledger::new();
    l.apply(snapshot("s0", 5, 1, Seen::default()), Millis(1)).expect("first");
    let reserve = Command::Reserve {
        hold: tok("cart"),
        lines: vec![(Location::main(), 4)],
        expires_at: FAR,
        channel: None,
        reference: None,
    };
    l.apply(reserve, Millis(2)).expect("hold");
    // The ERP sold 3 of its own: 2 available there. The hold stays; StockEdge shows the shortfall.
    l.apply(snapshot("s1", 2, 2, Seen::default()), Millis(3)).expect("applied");
    assert_eq!(l.level(&Location::main()), Levels { on_hand: 2, reserved: 4, committed: 0 });
    assert!(l.hold(&tok("cart")).is_some_and(|h| h.lines.values().sum::<i64>() == 4));
}

#[test]
fn a_snapshot_whose_point_cannot_be_ordered_is_refused_naming_as_of() {
    let mut l = Ledger::new();
    l.apply(snapshot("s0", 5, 1, Seen::default()), Millis(1)).expect("first");
    let mut by_time = snapshot("s1", 6, 2, Seen::default());
    if let Command::ErpSnapshot { line } = &mut by_time {
        line.as_of = AsOf { at: Some(Millis(5)), sequence: None };
    }
    let e = l.apply(by_time, Millis(2)).expect_err("refused");
    assert!(matches!(e, stockedge::stock::LedgerError::IncomparableAsOf(ref p) if p.snapshot.as_str() == "s0"));
    // The refusal says what was compared: the line's point, and the applied snapshot's.
    let message = e.to_string();
    assert!(message.contains("as_of names at 1970-01-01T00:00:00.005Z"), "{message}");
    assert!(message.contains("snapshot s0 applied at main is as of sequence 1"), "{message}");
}

#[test]
fn confirmed_deliveries_are_seen_by_a_later_snapshot_and_not_subtracted_twice() {
    let (mut l, keys) = three_sales();
    // The ERP confirmed two of the orders (their deliveries answered at 50); a snapshot as of 60
    // has them committed: 10 − 2 = 8 available in the ERP, the third still StockEdge's to count.
    for k in &keys[..2] {
        l.apply(
            Command::ErpReceived { order: k.clone(), through: Millis(30), at: Millis(50), locations: vec![] },
            Millis(50),
        )
        .expect("ok");
    }
    let again = Command::ErpReceived { order: keys[0].clone(), through: Millis(30), at: Millis(55), locations: vec![] };
    assert_eq!(l.apply(again, Millis(55)).expect("ok").effect, Effect::Duplicate);
    let line = |id: &str, quantity: i64, sequence: u64, at: i64| Command::ErpSnapshot {
        line: Box::new(SnapshotLine {
            snapshot: tok(id),
            location: Location::main(),
            figure: Figure { basis: Basis::Available, quantity },
            as_of: AsOf { at: Some(Millis(at)), sequence: Some(sequence) },
            seen: Seen::default(),
        }),
    };
    // As of 45, before the confirmations: the ERP's 10 has none of them.
    l.apply(line("s1", 10, 2, 45), Millis(58)).expect("applied");
    assert_eq!(l.totals().available, 7);
    assert_eq!(l.erp_track(&Location::main()).map(|t| t.pending().len()), Some(3));
    l.apply(line("s2", 8, 3, 60), Millis(60)).expect("applied");
    assert_eq!(l.totals().available, 7, "the two confirmed sales are subtracted once");
    assert_eq!(l.erp_track(&Location::main()).map(|t| t.pending().len()), Some(1), "only the unconfirmed one waits");
}

#[test]
fn a_delivery_confirms_the_documents_at_its_own_connections_locations_only() {
    // One order's SKU sold at main and at east, each under its own ERP (two connections): the
    // delivery to main's ERP confirms main's document, not east's, whose ERP has not answered.
    let east = Location::parse("east").expect("location");
    let at = |location: &Location, id: &str, quantity: i64, sequence: u64, time: i64| Command::ErpSnapshot {
        line: Box::new(SnapshotLine {
            snapshot: tok(id),
            location: location.clone(),
            figure: Figure { basis: Basis::Available, quantity },
            as_of: AsOf { at: Some(Millis(time)), sequence: Some(sequence) },
            seen: Seen::default(),
        }),
    };
    let mut l = Ledger::new();
    l.apply(at(&Location::main(), "m0", 10, 1, 1), Millis(1)).expect("main under its ERP");
    l.apply(at(&east, "e0", 10, 1, 1), Millis(1)).expect("east under its ERP");
    let order = OrderKey { channel: tok("amazon"), order_id: tok("split") };
    let sale = Command::Sale {
        order: order.clone(),
        lines: vec![
            SaleLine { line_id: tok("l1"), location: Location::main(), qty: 1 },
            SaleLine { line_id: tok("l2"), location: east.clone(), qty: 2 },
        ],
    };
    l.apply(sale, Millis(10)).expect("sold at both");
    let received = Command::ErpReceived {
        order: order.clone(),
        through: Millis(10),
        at: Millis(20),
        locations: vec![Location::main()],
    };
    assert_eq!(l.apply(received, Millis(20)).expect("ok").effect, Effect::Applied);
    let marked = |l: &Ledger, location: &Location| {
        l.erp_track(location).map(|t| t.pending().values().filter(|p| p.received.is_some()).count())
    };
    assert_eq!(marked(&l, &Location::main()), Some(1), "main's ERP received its part");
    assert_eq!(marked(&l, &east), Some(0), "east's ERP has not: its document still counts as unseen");
    // East's later snapshot (its ERP without the order: 10) keeps the 2 sold there subtracted.
    l.apply(at(&east, "e1", 10, 2, 30), Millis(30)).expect("applied");
    assert_eq!(l.level(&east).on_hand - l.level(&east).committed, 8);
}

/// A location under the ERP whose track holds `n` unconfirmed documents (old cancellations of no
/// effect), restored: recording 10,000 sales one by one would only slow the test down.
fn behind_by(n: usize) -> Ledger {
    use stockedge::erp::{Document, Pending, Track};
    let mut first = Ledger::new();
    first.apply(snapshot("s0", 1_000, 1, Seen::default()), Millis(1)).expect("first snapshot");
    let mut state = first.snapshot();
    let mut track: Track = state.erp[&Location::main()].clone();
    for i in 0..n {
        let order = OrderKey { channel: tok("web"), order_id: tok(&format!("old{i}")) };
        track.record(Pending {
            document: Document::Cancel { order },
            at: Millis(5),
            on_hand: 0,
            committed: 0,
            received: None,
        });
    }
    state.erp.insert(Location::main(), track);
    Ledger::restore(state)
}

fn sale_of(id: &str) -> Command {
    Command::Sale {
        order: OrderKey { channel: tok("amazon"), order_id: tok(id) },
        lines: vec![SaleLine { line_id: tok("l"), location: Location::main(), qty: 1 }],
    }
}

#[test]
fn a_marketplace_sale_is_recorded_when_the_erp_is_behind_and_raises_an_alert_once() {
    use stockedge::erp::limits::MAX_PENDING_DOCUMENTS;
    let mut l = behind_by(MAX_PENDING_DOCUMENTS - 1);
    l.take_changes();
    // The sale that reaches the limit is recorded and raises the alert.
    l.apply(sale_of("n1"), Millis(11)).expect("a sale is never refused");
    let changes = l.take_changes();
    assert_eq!(changes.erp_behind.get(&Location::main()), Some(&MAX_PENDING_DOCUMENTS));
    // Past the limit: still recorded (it happened elsewhere), nothing forgotten, no second alert.
    l.apply(sale_of("n2"), Millis(12)).expect("a sale is never refused");
    let changes = l.take_changes();
    assert!(changes.erp_behind.is_empty(), "raised once, when the limit is reached");
    l.apply(
        Command::Cancel { order: OrderKey { channel: tok("amazon"), order_id: tok("n1") }, reason: None },
        Millis(13),
    )
    .expect("a cancellation is never refused");
    assert_eq!(l.totals().committed, 1);
    assert_eq!(l.erp_track(&Location::main()).map(|t| t.pending().len()), Some(MAX_PENDING_DOCUMENTS + 2));
}

#[test]
fn a_location_whose_erp_is_behind_refuses_new_holds_until_it_catches_up() {
    use stockedge::erp::limits::MAX_PENDING_DOCUMENTS;
    let mut l = behind_by(MAX_PENDING_DOCUMENTS);
    let hold = |id: &str| Command::Reserve {
        hold: tok(id),
        lines: vec![(Location::main(), 1)],
        expires_at: Millis(100_000),
        channel: None,
        reference: None,
    };
    let before = l.snapshot();
    let e = l.apply(hold("h1"), Millis(11)).expect_err("refused");
    assert_eq!(
        e,
        stockedge::stock::LedgerError::ErpBehind { location: Location::main(), pending: MAX_PENDING_DOCUMENTS }
    );
    assert_eq!(l.snapshot(), before, "nothing changed and no document was dropped");
    // A hold at a location no ERP masters is not held up.
    let elsewhere = Command::Reserve {
        hold: tok("h2"),
        lines: vec![(loc("b"), 1)],
        expires_at: Millis(100_000),
        channel: None,
        reference: None,
    };
    l.apply(Command::Adjust { location: loc("b"), delta: 5, cause: Default::default() }, Millis(11)).expect("stock b");
    l.apply(elsewhere, Millis(11)).expect("another location takes holds");
    // Delivery confirmations make room (the confirmed documents wait for a later snapshot).
    for i in 0..10 {
        let order = OrderKey { channel: tok("web"), order_id: tok(&format!("old{i}")) };
        l.apply(Command::ErpReceived { order, through: Millis(5), at: Millis(12), locations: vec![] }, Millis(12))
            .expect("received");
    }
    l.apply(hold("h1"), Millis(13)).expect("accepted again");
    // A snapshot as of a later time drops the confirmed ones.
    let line = Command::ErpSnapshot {
        line: Box::new(SnapshotLine {
            snapshot: tok("s1"),
            location: Location::main(),
            figure: Figure { basis: Basis::Available, quantity: 1_000 },
            as_of: AsOf { at: Some(Millis(20)), sequence: Some(2) },
            seen: Seen::default(),
        }),
    };
    l.apply(line, Millis(20)).expect("applied");
    assert_eq!(l.erp_track(&Location::main()).map(|t| t.pending().len()), Some(MAX_PENDING_DOCUMENTS - 10));
    // A snapshot showing the ERP has them all empties the track.
    let seen = Seen { through: Some(Millis(5)), orders: vec![] };
    l.apply(snapshot("s2", 1_000, 3, seen), Millis(21)).expect("applied");
    assert_eq!(l.erp_track(&Location::main()).map(|t| t.pending().len()), Some(0));
}
