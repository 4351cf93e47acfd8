//! The linearizability checker (`stockedge::history`) on histories whose answer is known:
//! histories that are not linearizable (a stale read after a completed reserve, two reserves of
//! the last unit both held, a read of a value never reached, a commit after a completed release,
//! a sale's answer that ignores a completed hold, a pending call undone) are refused; concurrent
//! overlaps and calls never answered are accepted where some order explains them; and every
//! history made by running the ledger sequentially and then widening each call into a random
//! interval around its instant is accepted (property test), while the same history with one read
//! answering a version never reached is refused.

use proptest::prelude::*;

use stockedge::history::ledger_model::{prepare, LedgerModel};
use stockedge::history::{check_history, Call, History, Initial, Outcome, Recorded, Verdict};
use stockedge::stock::{Effect, HoldStatus, Ledger};

const SKU: &str = "LIN-A";
const BUDGET: u64 = 1_000_000;

fn rec(invoke: f64, returned: Option<f64>, call: Call, outcome: Option<Outcome>) -> Recorded {
    Recorded { client: 0, invoke, returned, call, outcome, note: None }
}

/// A call answered `outcome` over `[invoke, returned]`.
fn done(invoke: f64, returned: f64, call: Call, outcome: Outcome) -> Recorded {
    rec(invoke, Some(returned), call, Some(outcome))
}

fn history(on_hand: i64, backorder_limit: i64, ops: Vec<Recorded>) -> History {
    History { sku: SKU.into(), initial: Initial { on_hand, backorder_limit, version: 1 }, ops }
}

fn verdict(h: &History) -> Verdict {
    check_history(h, BUDGET).expect("a valid history")
}

fn linearizable(h: &History) -> bool {
    match verdict(h) {
        Verdict::Linearizable { .. } => true,
        Verdict::NotLinearizable { .. } => false,
        v @ Verdict::GaveUp { .. } => panic!("the search gave up: {v:?}"),
    }
}

fn reserve(qty: i64) -> Call {
    Call::Reserve { qty }
}
fn held(hold: &str) -> Outcome {
    Outcome::Held { hold: hold.into() }
}
fn read(available: i64, sellable: i64, version: u64) -> Outcome {
    Outcome::Read { available, sellable, version }
}
fn commit(hold: &str, order: &str) -> Call {
    Call::Commit { hold: hold.into(), order: order.into() }
}
fn release(hold: &str) -> Call {
    Call::Release { hold: hold.into() }
}

#[test]
fn a_read_after_a_completed_reserve_must_see_it() {
    let stale =
        history(5, 0, vec![done(0.0, 10.0, reserve(1), held("h1")), done(20.0, 30.0, Call::Read, read(5, 5, 1))]);
    let v = verdict(&stale);
    assert!(matches!(v, Verdict::NotLinearizable { blocked: Some(1), .. }), "{v:?}");
    let fresh =
        history(5, 0, vec![done(0.0, 10.0, reserve(1), held("h1")), done(20.0, 30.0, Call::Read, read(4, 4, 2))]);
    assert!(linearizable(&fresh));
    // Overlapping the reserve, the read may see the SKU before it or after it.
    for seen in [read(5, 5, 1), read(4, 4, 2)] {
        let h = history(5, 0, vec![done(0.0, 10.0, reserve(1), held("h1")), done(5.0, 15.0, Call::Read, seen)]);
        assert!(linearizable(&h));
    }
}

#[test]
fn two_holds_of_the_last_unit_cannot_both_be_held() {
    let both = history(1, 0, vec![done(0.0, 10.0, reserve(1), held("h1")), done(5.0, 15.0, reserve(1), held("h2"))]);
    assert!(!linearizable(&both));
    let one = history(
        1,
        0,
        vec![done(0.0, 10.0, reserve(1), held("h1")), done(5.0, 15.0, reserve(1), Outcome::Short { available: 0 })],
    );
    assert!(linearizable(&one));
    // Short, but naming a unit that was there to hold: no order explains it.
    let wrong = history(
        1,
        0,
        vec![done(0.0, 10.0, reserve(1), held("h1")), done(5.0, 15.0, reserve(1), Outcome::Short { available: 1 })],
    );
    assert!(!linearizable(&wrong));
    // The backorder allowance is sellable: two holds of one unit on the shelf and one allowed.
    let backordered =
        history(1, 1, vec![done(0.0, 10.0, reserve(1), held("h1")), done(5.0, 15.0, reserve(1), held("h2"))]);
    assert!(linearizable(&backordered));
}

#[test]
fn a_read_of_a_state_never_reached_is_refused() {
    for never in [read(3, 3, 1), read(5, 5, 7), read(5, 6, 1)] {
        let h = history(5, 0, vec![done(0.0, 1.0, Call::Read, never.clone())]);
        assert!(!linearizable(&h), "{never:?}");
    }
    // Reads in sequence may not go back: after seeing the hold, a later read cannot miss it.
    let back = history(
        5,
        0,
        vec![
            done(0.0, 100.0, reserve(2), held("h1")),
            done(10.0, 20.0, Call::Read, read(3, 3, 2)),
            done(30.0, 40.0, Call::Read, read(5, 5, 1)),
        ],
    );
    assert!(!linearizable(&back));
}

#[test]
fn a_commit_after_a_completed_release_is_refused() {
    let ops = |commit_says: Outcome| {
        vec![
            done(0.0, 1.0, reserve(1), held("h1")),
            done(2.0, 3.0, release("h1"), Outcome::Released { status: HoldStatus::Released }),
            done(4.0, 5.0, commit("h1", "o1"), commit_says),
        ]
    };
    assert!(!linearizable(&history(5, 0, ops(Outcome::Committed))));
    assert!(linearizable(&history(5, 0, ops(Outcome::NotHeld { status: HoldStatus::Released }))));
    // Concurrent, one of the two wins, and the other says so; both winning is not possible.
    let race = |c: Outcome, r: Outcome| {
        history(
            5,
            0,
            vec![
                done(0.0, 1.0, reserve(1), held("h1")),
                done(2.0, 10.0, commit("h1", "o1"), c),
                done(3.0, 9.0, release("h1"), r),
            ],
        )
    };
    let released = Outcome::Released { status: HoldStatus::Released };
    assert!(linearizable(&race(Outcome::Committed, Outcome::NotHeld { status: HoldStatus::Committed })));
    assert!(linearizable(&race(Outcome::NotHeld { status: HoldStatus::Released }, released.clone())));
    assert!(!linearizable(&race(Outcome::Committed, released)));
}

#[test]
fn a_sale_cannot_ignore_a_hold_that_was_held_before_it() {
    let sale = Call::Sale { channel: "amazon".into(), order: "113-1".into(), qty: 1 };
    let sold = |oversold, version| Outcome::Sold { effect: Effect::Applied, available: 0, oversold, version };
    // The last unit held, then sold elsewhere: the sale is recorded oversold.
    let after =
        |answer| history(1, 0, vec![done(0.0, 1.0, reserve(1), held("h1")), done(2.0, 3.0, sale.clone(), answer)]);
    assert!(linearizable(&after(sold(1, 3))));
    assert!(!linearizable(&after(sold(0, 3))));
    // Even overlapping: had the sale come first, the hold would have been refused.
    let overlap =
        history(1, 0, vec![done(0.0, 10.0, reserve(1), held("h1")), done(2.0, 8.0, sale.clone(), sold(0, 2))]);
    assert!(!linearizable(&overlap));
    let overlap_short = history(
        1,
        0,
        vec![done(0.0, 10.0, reserve(1), Outcome::Short { available: 0 }), done(2.0, 8.0, sale, sold(0, 2))],
    );
    assert!(linearizable(&overlap_short));
}

#[test]
fn a_call_never_answered_may_have_happened_or_not_but_not_both() {
    let pending = rec(0.0, None, reserve(1), None);
    for seen in [read(1, 1, 2), read(2, 2, 1)] {
        let h = history(2, 0, vec![pending.clone(), done(10.0, 11.0, Call::Read, seen)]);
        assert!(linearizable(&h));
    }
    let both = history(
        2,
        0,
        vec![pending.clone(), done(10.0, 11.0, Call::Read, read(1, 1, 2)), done(20.0, 21.0, Call::Read, read(2, 2, 1))],
    );
    assert!(!linearizable(&both));
    // Not before it was sent.
    let early = history(2, 0, vec![done(0.0, 1.0, Call::Read, read(1, 1, 2)), rec(5.0, None, reserve(1), None)]);
    assert!(!linearizable(&early));
}

#[test]
fn an_unexpected_answer_is_never_explained() {
    let h = history(
        5,
        0,
        vec![done(0.0, 1.0, reserve(1), Outcome::Unexpected { status: 500, detail: "/problems/internal".into() })],
    );
    assert!(!linearizable(&h));
}

#[test]
fn adjustments_move_on_hand_and_the_version() {
    let adj = |on_hand, available, version| Outcome::Adjusted { on_hand, available, version };
    let ok = history(
        1,
        0,
        vec![
            done(0.0, 10.0, Call::Adjust { delta: 3 }, adj(4, 4, 2)),
            done(1.0, 9.0, reserve(2), held("h1")),
            done(20.0, 21.0, Call::Read, read(2, 2, 3)),
        ],
    );
    // Only the adjustment first explains a hold of 2 out of 1.
    assert!(linearizable(&ok));
    let skipped = history(1, 0, vec![done(0.0, 1.0, Call::Adjust { delta: 3 }, adj(4, 4, 3))]);
    assert!(!linearizable(&skipped));
}

// --- property: sequential runs widened into concurrent intervals are accepted -------------------

/// One generated step: what kind of call, which hold it picks, its quantity, how far its interval
/// reaches before and after its instant, and whether its answer is lost.
type Step = (u8, usize, i64, f64, f64, bool);

/// Runs the ledger sequentially on `steps` (the call at instant `10 i`), records each answer, and
/// widens each call to `[10 i − before, 10 i + after]`.
fn sequential_history(on_hand: i64, backorder_limit: i64, steps: &[Step]) -> History {
    let mut h = history(on_hand, backorder_limit, Vec::new());
    let p = prepare(&h).expect("empty history prepares");
    let (model, mut ledger): (LedgerModel, Ledger) = (p.model, p.init);
    let mut holds: Vec<String> = Vec::new();
    for (i, &(kind, pick, qty, before, after, lost)) in steps.iter().enumerate() {
        let hold = (!holds.is_empty()).then(|| holds[pick % holds.len()].clone());
        let call = match (kind % 8, hold) {
            (0 | 1, _) | (2..=4, None) => reserve(qty),
            (2, Some(h)) => commit(&h, &format!("o{i}")),
            (3, Some(h)) => release(&h),
            (4, Some(h)) => Call::Extend { hold: h },
            (5, _) => Call::Sale { channel: "amazon".into(), order: format!("s{i}"), qty },
            (6, _) => Call::Adjust { delta: qty },
            _ => Call::Read,
        };
        // The answer the ledger gives at this point of the sequential run.
        let name = format!("rsk_{i}");
        h.ops.push(rec(0.0, None, call.clone(), Some(held(&name))));
        let act = prepare(&h).expect("prepares").ops.pop().expect("the call").op.act;
        let outcome = model.answer(&mut ledger, &act).expect("the generator only makes calls the ledger answers");
        if matches!(outcome, Outcome::Held { .. }) {
            holds.push(name);
        }
        // A reserve answered held is named by later calls: its answer is never lost.
        let lost = lost && !matches!(outcome, Outcome::Held { .. });
        let at = 10.0 * i as f64;
        let last = h.ops.last_mut().expect("pushed");
        *last = rec(at - before, (!lost).then_some(at + after), call, (!lost).then_some(outcome));
    }
    h
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..8, 0usize..64, 1i64..=3, 0.0f64..40.0, 0.0f64..40.0, prop::bool::weighted(0.1))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sequential_runs_with_random_overlap_are_linearizable(
        on_hand in 0i64..6,
        backorder_limit in 0i64..3,
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let h = sequential_history(on_hand, backorder_limit, &steps);
        let v = verdict(&h);
        prop_assert!(v.is_linearizable(), "{v:?} for {h:?}");
    }

    #[test]
    fn a_read_of_a_version_never_reached_is_refused(
        on_hand in 0i64..6,
        steps in prop::collection::vec(step(), 1..40),
        which in 0usize..40,
    ) {
        let mut h = sequential_history(on_hand, 0, &steps);
        // A read of the initial state before every call: some read is always there to spoil.
        h.ops.push(done(-100.0, -99.0, Call::Read, read(on_hand, on_hand, 1)));
        let reads: Vec<usize> = h.ops.iter().enumerate()
            .filter(|(_, o)| matches!(o.outcome, Some(Outcome::Read { .. })))
            .map(|(i, _)| i)
            .collect();
        let i = reads[which % reads.len()];
        if let Some(Outcome::Read { version, .. }) = &mut h.ops[i].outcome {
            *version += 1_000;
        }
        prop_assert!(!linearizable(&h));
    }
}

#[test]
fn versions_that_only_grow_cut_the_search_short() {
    // Twelve holds, and a slow read overlapping all of them that saw six (version 1 + 6). Trying
    // the holds that returned first, the search passes the read's version and, blindly, would
    // then explore the subsets of the twelve that could come before it; knowing that a version
    // once passed never comes back (`Model::hopeless`) undoes each hold as soon as one too many
    // is before the read.
    let mut ops: Vec<Recorded> =
        (0..10).map(|i| done(0.0, 100.0 + i as f64, reserve(1), held(&format!("a{i}")))).collect();
    ops.push(done(90.0, 500.0, Call::Read, read(94, 94, 7)));
    for i in 0..2 {
        ops.push(done(95.0, 150.0 + i as f64, reserve(1), held(&format!("b{i}"))));
    }
    ops.push(done(300.0, 301.0, Call::Read, read(88, 88, 13)));
    let h = history(100, 0, ops);
    // 20 model steps with the pruning, 270 without.
    let v = check_history(&h, 100).expect("valid");
    assert!(v.is_linearizable(), "{v:?}");
}

// --- recorded histories ----------------------------------------------------------------------

/// The files named by `STOCKEDGE_HISTORY_FILES` (paths separated by `:`), as
/// `tests/e2e/linearizability.test.mjs` records them against workerd: every history must be
/// linearizable. Without the variable there is nothing to check (the end-to-end test sets it and
/// runs this test alone: `cargo test` has built it already, so the check compiles nothing).
#[test]
fn recorded_histories_are_linearizable() {
    let Ok(files) = std::env::var("STOCKEDGE_HISTORY_FILES") else { return };
    let paths: Vec<String> = files.split(':').filter(|p| !p.is_empty()).map(str::to_owned).collect();
    let summary = stockedge::history::check_paths(&paths, stockedge::history::report::DEFAULT_BUDGET)
        .unwrap_or_else(|e| panic!("cannot read: {e}"));
    for line in &summary.lines {
        println!("{line}");
    }
    println!("{}", summary.total());
    assert!(summary.histories > 0, "no history in {files}");
    assert_eq!(summary.failed, 0, "{}", summary.lines.join("\n"));
}

#[test]
fn a_refused_history_is_reported_with_the_call_that_cannot_follow() {
    let stale =
        history(5, 0, vec![done(0.0, 10.0, reserve(1), held("h1")), done(20.0, 30.0, Call::Read, read(5, 5, 1))]);
    let file = stockedge::history::HistoryFile { histories: vec![stale] };
    let mut summary = stockedge::history::Summary::default();
    stockedge::history::report::check_file("f.json", &file, BUDGET, &mut summary);
    assert_eq!(summary.total(), "1 histories, 2 calls (0 never answered): 0 linearizable, 1 not");
    let line = &summary.lines[0];
    assert!(line.starts_with("NOT LINEARIZABLE  f.json LIN-A: "), "{line}");
    // The story: one call placed (the hold, version 2), then the read answered version 1.
    assert!(line.contains("linearizes 1 of 2 calls and reaches version 2"), "{line}");
    assert!(line.contains("then call #1"), "{line}");
    assert!(
        line.contains("where the ledger would answer Some(Read { available: 4, sellable: 4, version: 2 })"),
        "{line}"
    );
}
