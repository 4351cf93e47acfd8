use super::*;

fn loc(s: &str) -> Location {
    Location::parse(s).expect("location")
}
fn tok(s: &str) -> Token {
    Token::parse(s).expect("token")
}
fn order(ch: &str, id: &str) -> OrderKey {
    OrderKey { channel: tok(ch), order_id: tok(id) }
}
fn stocked(n: i64) -> Ledger {
    let mut l = Ledger::new();
    l.apply(
        Command::Set { location: loc("main"), on_hand: n, expected_version: None, cause: Cause::default() },
        Millis(0),
    )
    .expect("set");
    l
}
fn reserve(l: &mut Ledger, id: &str, qty: i64, expires: i64, now: i64) -> Result<Accepted, LedgerError> {
    l.apply(
        Command::Reserve {
            hold: tok(id),
            lines: vec![(loc("main"), qty)],
            expires_at: Millis(expires),
            channel: None,
            reference: None,
        },
        Millis(now),
    )
}

#[test]
fn hold_takes_from_available_and_refuses_beyond_it() {
    let mut l = stocked(5);
    reserve(&mut l, "r1", 3, 1_000, 1).expect("fits");
    assert_eq!(l.totals().available, 2);
    let err = reserve(&mut l, "r2", 3, 1_000, 2).expect_err("short");
    assert_eq!(err, LedgerError::InsufficientStock { location: loc("main"), requested: 3, available: 2 });
    assert_eq!(l.totals().reserved, 3, "a refused hold changes nothing");
}

#[test]
fn same_hold_id_is_idempotent_and_conflicting_lines_are_refused() {
    let mut l = stocked(5);
    let v = reserve(&mut l, "r1", 2, 1_000, 1).expect("first").version;
    let again = reserve(&mut l, "r1", 2, 1_000, 2).expect("replay");
    assert_eq!(again, Accepted { effect: Effect::Duplicate, version: v });
    assert_eq!(reserve(&mut l, "r1", 3, 1_000, 3), Err(LedgerError::HoldConflict));
    assert_eq!(l.totals().reserved, 2);
}

#[test]
fn due_holds_expire_before_any_command_and_commit_after_expiry_fails() {
    let mut l = stocked(5);
    reserve(&mut l, "r1", 5, 1_000, 1).expect("hold");
    let err = l.apply(Command::Commit { hold: tok("r1"), order: order("direct", "o1") }, Millis(1_000));
    assert_eq!(err, Err(LedgerError::HoldNotHeld(HoldStatus::Expired)));
    assert_eq!(l.totals().available, 5);
    let ops: Vec<Op> = l.take_changes().entries.iter().map(|e| e.op).collect();
    assert_eq!(ops, vec![Op::Set, Op::Reserve, Op::Expire]);
}

#[test]
fn pinned_hold_survives_its_deadline_until_committed() {
    let mut l = stocked(5);
    reserve(&mut l, "r1", 2, 1_000, 1).expect("hold");
    l.apply(Command::Pin { hold: tok("r1") }, Millis(900)).expect("pin");
    assert_eq!(l.expire_due(Millis(5_000)), 0);
    l.apply(Command::Commit { hold: tok("r1"), order: order("direct", "o1") }, Millis(5_000)).expect("commit");
    let t = l.totals();
    assert_eq!((t.on_hand, t.reserved, t.committed, t.available), (5, 0, 2, 3));
}

#[test]
fn unpinning_a_hold_past_its_deadline_expires_it() {
    let mut l = stocked(5);
    reserve(&mut l, "r1", 2, 1_000, 1).expect("hold");
    l.apply(Command::Pin { hold: tok("r1") }, Millis(900)).expect("pin");
    l.apply(Command::Unpin { hold: tok("r1") }, Millis(2_000)).expect("unpin");
    assert_eq!(l.hold(&tok("r1")).map(|h| h.status), Some(HoldStatus::Expired));
}

#[test]
fn release_returns_units_and_repeats_are_harmless() {
    let mut l = stocked(5);
    reserve(&mut l, "r1", 2, 1_000, 1).expect("hold");
    l.apply(Command::Release { hold: tok("r1") }, Millis(2)).expect("release");
    let again = l.apply(Command::Release { hold: tok("r1") }, Millis(3)).expect("again");
    assert_eq!(again.effect, Effect::HoldAlready(HoldStatus::Released));
    assert_eq!(l.totals().available, 5);
    let commit = l.apply(Command::Commit { hold: tok("r1"), order: order("direct", "o") }, Millis(4));
    assert_eq!(commit, Err(LedgerError::HoldNotHeld(HoldStatus::Released)));
}

#[test]
fn marketplace_sale_beyond_stock_is_recorded_as_oversold() {
    let mut l = stocked(2);
    let sale = Command::Sale {
        order: order("amazon", "A-1"),
        lines: vec![SaleLine { line_id: tok("1"), location: loc("main"), qty: 5 }],
    };
    l.apply(sale.clone(), Millis(1)).expect("always recorded");
    let t = l.totals();
    assert_eq!((t.available, t.committed, t.oversold), (0, 5, 3));
    assert_eq!(l.apply(sale, Millis(2)).expect("dup").effect, Effect::Duplicate);
    assert_eq!(l.totals().committed, 5, "a repeated line is applied once");
    // Stock received covers the oversell.
    l.apply(Command::Adjust { location: loc("main"), delta: 3, cause: Cause::default() }, Millis(3)).expect("adjust");
    assert_eq!(l.totals().oversold, 0);
}

#[test]
fn backorder_allowance_lets_holds_go_past_the_shelf_up_to_the_limit() {
    let mut l = stocked(2);
    l.apply(Command::Policy { backorder_limit: 3 }, Millis(1)).expect("policy");
    reserve(&mut l, "r1", 5, 10_000, 2).expect("2 on hand + 3 backorder");
    let t = l.totals();
    assert_eq!((t.available, t.backordered, t.oversold), (0, 3, 0));
    assert!(matches!(reserve(&mut l, "r2", 1, 10_000, 3), Err(LedgerError::InsufficientStock { .. })));
}

#[test]
fn cancel_before_sale_leaves_a_tombstone_that_ignores_the_late_sale() {
    let mut l = stocked(4);
    let key = order("shopify", "1001");
    l.apply(Command::Cancel { order: key.clone(), reason: None }, Millis(1)).expect("cancel first");
    let late = Command::Sale { order: key, lines: vec![SaleLine { line_id: tok("1"), location: loc("main"), qty: 2 }] };
    assert_eq!(l.apply(late, Millis(2)).expect("late").effect, Effect::OrderAlreadyCancelled);
    assert_eq!(l.totals().available, 4);
}

#[test]
fn cancel_returns_open_units_and_fulfil_ships_them() {
    let mut l = stocked(10);
    let key = order("ebay", "E-9");
    let lines = vec![SaleLine { line_id: tok("a"), location: loc("main"), qty: 4 }];
    l.apply(Command::Sale { order: key.clone(), lines }, Millis(1)).expect("sale");
    let ship = |qty, id: &str| Command::Fulfil { order: key.clone(), location: loc("main"), qty, shipment: tok(id) };
    l.apply(ship(1, "s1"), Millis(2)).expect("ship 1");
    assert_eq!(l.apply(ship(1, "s1"), Millis(2)).expect("repeat").effect, Effect::Duplicate);
    let over = l.apply(ship(4, "s2"), Millis(3));
    assert_eq!(over, Err(LedgerError::OverFulfilment { location: loc("main"), requested: 4, open: 3 }));
    l.apply(Command::Cancel { order: key, reason: None }, Millis(4)).expect("cancel");
    let t = l.totals();
    assert_eq!((t.on_hand, t.committed, t.available), (9, 0, 9));
}

#[test]
fn set_with_a_stale_version_is_refused() {
    let mut l = stocked(1);
    let v = l.version();
    let stale =
        Command::Set { location: loc("main"), on_hand: 7, expected_version: Some(v - 1), cause: Cause::default() };
    assert_eq!(l.apply(stale, Millis(1)), Err(LedgerError::VersionConflict { expected: v - 1, actual: v }));
    let fresh = Command::Set { location: loc("main"), on_hand: 7, expected_version: Some(v), cause: Cause::default() };
    assert_eq!(l.apply(fresh, Millis(2)).expect("fresh").version, v + 1);
}

#[test]
fn adjust_below_zero_is_refused() {
    let mut l = stocked(1);
    let err = l.apply(Command::Adjust { location: loc("main"), delta: -2, cause: Cause::default() }, Millis(1));
    assert_eq!(err, Err(LedgerError::NegativeOnHand { location: loc("main"), would_be: -1 }));
}

#[test]
fn journal_replay_rebuilds_levels_and_version() {
    let mut l = stocked(10);
    reserve(&mut l, "r1", 3, 100, 1).expect("hold");
    reserve(&mut l, "r2", 2, 10_000, 2).expect("hold");
    l.apply(Command::Commit { hold: tok("r2"), order: order("direct", "o2") }, Millis(3)).expect("commit");
    l.expire_due(Millis(200));
    let entries = l.take_changes().entries;
    let r = super::super::journal::replay(&entries).expect("replay");
    assert_eq!(r.levels, *l.levels());
    assert_eq!(r.version, l.version());
}

#[test]
fn a_sale_of_two_lines_of_one_sku_journals_both_line_ids_and_a_cancel_releases_both() {
    let mut l = stocked(10);
    let key = order("shopify", "1001");
    let lines = vec![
        SaleLine { line_id: tok("11"), location: loc("main"), qty: 1 },
        SaleLine { line_id: tok("12"), location: loc("main"), qty: 2 },
    ];
    l.take_changes();
    l.apply(Command::Sale { order: key.clone(), lines }, Millis(1)).expect("sale");
    let entries = l.take_changes().entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].cause.line_id.as_deref(), entries[0].cause.line_ids.clone()),
        (None, vec!["11".to_string(), "12".to_string()])
    );
    assert_eq!(l.totals().committed, 3);
    l.apply(Command::Cancel { order: key, reason: None }, Millis(2)).expect("cancel");
    assert_eq!((l.totals().committed, l.totals().available), (0, 10));
}
