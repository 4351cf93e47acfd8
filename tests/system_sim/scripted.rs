//! The bugs this simulation found, each pinned as a fixed sequence in a quiet world (no random
//! fault; the faults of the sequence are forced). Each failed before its fix.

use stockedge::api::order_call::OrderAction;
use stockedge::api::requests::direct;
use stockedge::stock::{HoldStatus, OrderKey};
use stockedge::time::Millis;

use crate::cart_parts;
use crate::carts::{Shopper, Told};
use crate::woo_store::{Order, PushFault};
use crate::world::{sku, tok, Lose, World, EPOCH};

fn storefront(id: &str) -> OrderKey {
    OrderKey { channel: direct(), order_id: tok(&format!("o-{id}")) }
}

fn committed(w: &World, s: &str) -> i64 {
    w.skus.borrow_mut().get_mut(&sku(s)).map_or(0, |o| o.ledger_view().totals().committed)
}

fn cart(id: &str, skus: &[&str]) -> Shopper {
    Shopper {
        id: tok(id),
        parts: cart_parts(skus),
        single: None,
        ttl_seconds: 60,
        told: Told::Nothing,
        gave_up: false,
        allot: None,
    }
}

/// Bug 1 (`orders::Book::attach`): an order cancelled at its desk before the commit's
/// registration reached it kept the cart's units committed for good.
#[test]
fn an_order_cancelled_before_its_commit_registered_returns_the_units() {
    let w = World::quiet(5);
    let mut s = cart("c1", &["A", "B/2"]);
    w.cart_create(&mut s);
    assert_eq!(s.told, Told::Held);
    assert_eq!(w.desk_call(&storefront("c1"), OrderAction::Cancel { reason: None }), crate::desk::DeskAnswer::Done);
    w.cart_commit(&mut s);
    assert_eq!(s.told, Told::Committed(storefront("c1")), "the cart commits whole");
    assert_eq!((committed(&w, "A"), committed(&w, "B/2")), (0, 0), "the cancellation reached both ledgers");
}

/// Bug 2 (`sync::coalesce`): a push of version 9 timed out after the store applied it; the
/// queue then delivered version 8 alone, and the consumer pushed 8 over 9.
#[test]
fn no_listing_receives_an_older_version_after_a_push_that_timed_out() {
    let w = World::quiet(5);
    let a = sku("A");
    let state = |v: u64, n: i64| stockedge::sync::StockChanged::current(a.clone(), v, n, n, 0, EPOCH);
    let message = |v: u64, n: i64| crate::queue::Message { body: state(v, n), visible_at: EPOCH, attempts: 1 };
    w.stock_queue.borrow_mut().messages.clear();
    // One batch with 8 and 9: the push of 9 times out after the store applied it.
    w.forced.borrow_mut().pushes.push_back(PushFault::TimeoutAfter);
    w.consume(vec![message(8, 4), message(9, 3)]);
    // Both are retried; the queue brings 8 back first, alone, then 9.
    w.stock_queue.borrow_mut().messages.clear();
    w.consume(vec![message(8, 4)]);
    w.consume(vec![message(9, 3)]);
    assert_eq!(w.store.borrow().violations, Vec::<String>::new());
    assert_eq!(w.store.borrow().products[&crate::world::PRODUCT_BASE].version, Some(9), "the store ends at 9");
}

/// Bug 3 (`inbound::poll::feeds::woo_cursor`): an order placed in the second StockEdge was
/// connected, its webhook lost, was never read by the poll (the feed's lower bound is exclusive).
#[test]
fn the_poll_finds_an_order_of_the_connection_s_first_second() {
    let w = World::quiet(5);
    let at = Millis(EPOCH.0 + 400);
    w.store.borrow_mut().place(Order {
        id: 1,
        lines: vec![(11, 101, sku("A"), 2)],
        cancelled: false,
        created: at,
        modified: at,
    });
    w.advance_to(Millis(EPOCH.0 + crate::inbound::POLL_EVERY_MS + 1)).expect("no violation");
    assert_eq!(committed(&w, "A"), 2, "the poll applied the order");
}

/// Bug 4 (`stock::outbox::resend_at`): a SKU object whose isolate died while sending its outbox
/// kept the change unsent until its next call or its daily cleanup alarm.
#[test]
fn an_outbox_send_lost_with_its_isolate_is_sent_by_the_alarm() {
    let w = World::quiet(5);
    w.advance_to(Millis(EPOCH.0 + 1)).expect("no violation");
    w.stock_queue.borrow_mut().messages.clear();
    w.forced.borrow_mut().outbox_lost.push_back(true);
    let s = sku("C-3");
    let cmd =
        stockedge::stock::Command::Adjust { location: crate::world::loc("main"), delta: 1, cause: Default::default() };
    w.apply_reply(&s, vec![cmd]);
    w.bury();
    assert!(w.stock_queue.borrow().is_empty(), "the send was lost");
    w.advance_to(Millis(w.now().0 + stockedge::stock::outbox::SEND_LEASE_MS + crate::world::ALARM_LATE_MAX))
        .expect("no violation");
    assert!(w.skus.borrow()[&s].stored.outbox.is_empty(), "the alarm sent the row");
    assert!(!w.stock_queue.borrow().is_empty());
}

/// Bug 5 (`cart::registration::owed`): a commit interrupted after its pins and finished by the
/// coordinator's resume alarm was registered with no order desk, so cancelling the order left its
/// units committed; and (the same cure) a registration lost on its way after a commit the client
/// was told succeeded was never sent again.
#[test]
fn a_commit_finished_by_the_alarm_or_whose_registration_was_lost_reaches_its_desk() {
    let w = World::quiet(5);
    let mut s = cart("c2", &["A", "B/2"]);
    w.cart_create(&mut s);
    // Pins go through; the first commit is lost: the step is left in `Committing`.
    w.forced.borrow_mut().sku_calls.extend([Lose::None, Lose::None, Lose::Before]);
    w.cart_commit(&mut s);
    assert_eq!(s.told, Told::Held, "the client heard nothing final");
    w.advance_to(Millis(w.now().0 + 10_000)).expect("no violation");
    w.desk_call(&storefront("c2"), OrderAction::Cancel { reason: None });
    assert_eq!((committed(&w, "A"), committed(&w, "B/2")), (0, 0), "the cancellation reached the ledgers");

    let mut t = cart("c3", &["A", "C-3"]);
    w.cart_create(&mut t);
    w.forced.borrow_mut().desk_calls.push_back(Lose::Before);
    w.cart_commit(&mut t);
    assert_eq!(t.told, Told::Committed(storefront("c3")));
    w.advance_to(Millis(w.now().0 + 10_000)).expect("no violation");
    w.desk_call(&storefront("c3"), OrderAction::Cancel { reason: None });
    assert_eq!((committed(&w, "A"), committed(&w, "C-3")), (0, 0));
    let held = w.skus.borrow_mut().get_mut(&sku("C-3")).map(|o| o.ledger_view().hold(&tok("c3")).map(|h| h.status));
    assert_eq!(held, Some(Some(HoldStatus::Committed)), "the cart itself stays committed");
}

/// Bug 6 (`orders::Book::confirmed`): a fulfilment left pending (a ledger unreachable) and
/// finished by the desk's alarm after that ledger refused its part kept the part shipped in the
/// book, while the ledger still held it committed.
#[test]
fn a_fulfilment_finished_by_the_alarm_after_a_refusal_ships_nothing_it_did_not() {
    let w = World::quiet(2);
    let order = OrderKey { channel: tok("amazon"), order_id: tok("9") };
    let line = |s: &str, qty: i64| stockedge::orders::Line {
        sku: sku(s),
        qty,
        location: crate::world::loc("main"),
        line_id: None,
    };
    w.desk_call(&order, OrderAction::Sell { lines: vec![line("A", 2)] });
    // The on-hand read passes; the fulfilment itself is lost: pending.
    w.forced.borrow_mut().sku_calls.extend([Lose::None, Lose::Before]);
    assert_eq!(
        w.desk_call(&order, OrderAction::Fulfil { lines: vec![line("A", 2)] }),
        crate::desk::DeskAnswer::Unavailable
    );
    // Stock moves before the alarm: the ledger refuses the shipment.
    let cmd =
        stockedge::stock::Command::Adjust { location: crate::world::loc("main"), delta: -1, cause: Default::default() };
    w.apply_reply(&sku("A"), vec![cmd]);
    w.advance_to(Millis(w.now().0 + 10_000)).expect("no violation");
    let open = w.desks.borrow()[&order].book.as_ref().map(|b| b.open(&sku("A"), &crate::world::loc("main")));
    assert_eq!(open, Some(2), "nothing shipped in the book, as in the ledger");
    assert_eq!(committed(&w, "A"), 2);
}

/// Bug 7 (`stock::alarm`): after its isolate restarted, a SKU object's first call took its empty
/// cache for "no alarm" and moved the durable alarm — here the retry of an order desk
/// registration — back to the next hold deadline or the daily clean-up.
#[test]
fn a_restarted_object_keeps_its_earlier_alarm() {
    let w = World::quiet(5);
    let a = sku("A");
    let mut s = Shopper {
        id: tok("rsk_1"),
        parts: cart_parts(&["A"]),
        single: Some(a.clone()),
        ttl_seconds: 60,
        told: Told::Nothing,
        gave_up: false,
        allot: None,
    };
    w.cart_create(&mut s);
    w.forced.borrow_mut().desk_calls.push_back(Lose::Before);
    w.cart_commit(&mut s);
    assert_eq!(s.told, Told::Committed(storefront("rsk_1")));
    assert_eq!(w.skus.borrow()[&a].stored.registrations.len(), 1, "the registration waits for its retry");
    w.restart(&a);
    w.apply_reply(&a, vec![stockedge::stock::Command::Policy { backorder_limit: 1 }]);
    w.advance_to(Millis(w.now().0 + 10_000)).expect("no violation");
    assert!(w.skus.borrow()[&a].stored.registrations.is_empty(), "the retry alarm carried it out");
}

/// Bug 8 (`import::attempt`): an import chunk run again after a partial application (its ledgers
/// applied, the D1 write of its report failed) was planned again against the levels its first
/// attempt had moved, so its report called a row an error that had been applied: a merchant
/// importing that row again would have applied it twice. A chunk is now planned once and its
/// kept plan applied on every attempt.
#[test]
fn an_import_chunk_run_again_after_applying_reports_its_rows_as_first_applied() {
    use stockedge::import::{RowOutcome, Status};
    let w = World::quiet(5);
    let row = |line: u64, s: &str, quantity: i64| RowOutcome::Stock {
        line,
        sku: sku(s),
        location: crate::world::loc("main"),
        quantity: Some(quantity),
        backorder: None,
        tracked: true,
    };
    // A takes its 5 units to 0 (a second planning finds 0 and calls −5 an error); C-3 gains 2.
    let job = w.import_file(vec![row(2, "A", -5), row(3, "C-3", 2)]);
    // The plan is kept, both ledgers apply, then the report's D1 write fails: the message is retried.
    w.forced.borrow_mut().import_writes.extend([false, true]);
    w.deliver_import();
    assert!(w.imports.borrow().jobs[job].chunks[1].report.is_none(), "the chunk did not finish");
    w.advance_to(Millis(w.now().0 + 20_000)).expect("no violation");
    w.deliver_import();
    let report = w.imports.borrow().jobs[job].chunks[1].report.clone().expect("the re-run finished the chunk");
    let rows: Vec<(u64, Status, Option<i64>, Option<i64>)> =
        report.iter().map(|r| (r.line, r.status, r.before, r.after)).collect();
    assert_eq!(
        rows,
        vec![(2, Status::Applied, Some(5), Some(0)), (3, Status::Applied, Some(5), Some(7))],
        "each row as its first application answered"
    );
    let on_hand = |s: &str| {
        w.skus.borrow_mut().get_mut(&sku(s)).map(|o| o.ledger_view().level(&crate::world::loc("main")).on_hand)
    };
    assert_eq!((on_hand("A"), on_hand("C-3")), (Some(0), Some(7)), "applied once");
}

/// Bug 9 (`allot::allotment`, `edge::allotment_object`): an allotment sent a committed hold's
/// line to its order desk once and forgot it when the call failed; an order cancelled at its desk
/// before that kept the hold's units committed for good. The registration is now owed in the
/// allotment's stored meta until the desk answers, and the alarm sends it again.
#[test]
fn an_allotment_s_lost_registration_reaches_the_desk_of_a_cancelled_order() {
    let w = World::quiet(5);
    let a = sku("A");
    let policy = stockedge::allot::HotPolicy { allotments: 2, block: 2, lease_seconds: 60 };
    w.set_hot_policy(&a, Some(policy));
    let mut s = Shopper {
        id: tok("rsk_1"),
        parts: cart_parts(&["A"]),
        single: Some(a.clone()),
        ttl_seconds: 30,
        told: Told::Nothing,
        gave_up: false,
        allot: None,
    };
    w.cart_create(&mut s);
    assert_eq!(s.told, Told::Held);
    assert!(s.allot.is_some(), "an allotment holds it");
    assert_eq!(w.desk_call(&storefront("rsk_1"), OrderAction::Cancel { reason: None }), crate::desk::DeskAnswer::Done);
    w.forced.borrow_mut().desk_calls.push_back(Lose::Before);
    w.cart_commit(&mut s);
    assert_eq!(s.told, Told::Committed(storefront("rsk_1")));
    assert_eq!(committed(&w, "A"), 1, "committed at the SKU, its registration lost");
    w.advance_to(Millis(w.now().0 + 10_000)).expect("no violation");
    assert_eq!(committed(&w, "A"), 0, "the registration reached the cancelled order's desk, which cancelled the line");
}
