use std::cell::RefCell;
use std::collections::BTreeMap;

use futures::executor::block_on;

use super::*;
use crate::api::cart_call::{render, render_keyed};
use crate::cart::coordinator::{self, SaveError};
use crate::cart::{CartStore, Part, SkuPort};
use crate::stock::{Cause, Location, Op};

const T0: Millis = Millis(1_000_000);

fn sku() -> Sku {
    Sku::parse("TEE").expect("sku")
}

fn stocked(n: i64) -> Ledger {
    let mut l = Ledger::new();
    let set = Command::Set { location: Location::main(), on_hand: n, expected_version: None, cause: Cause::default() };
    l.apply(set, Millis(1)).expect("set");
    l.take_changes();
    l
}

fn new(id: &str, qty: i64, fingerprint: &str) -> Reservation {
    Reservation {
        id: Token::parse(id).expect("id"),
        parts: vec![Part { sku: sku(), lines: vec![(Location::main(), qty)] }],
        expires_at: Millis(T0.0 + 60_000),
        phase: Phase::Creating,
        channel: None,
        reference: Some("cart-9".into()),
        created_at: T0,
        fingerprint: fingerprint.into(),
        answer: None,
        attempt: 0,
    }
}

fn token(s: &str) -> Token {
    Token::parse(s).expect("token")
}

/// Creates and returns the saved record.
fn held(l: &mut Ledger, id: &str, qty: i64) -> Reservation {
    let step = create(l, &sku(), None, new(id, qty, "f"), false, T0);
    assert!(matches!(step.reply, Keyed::Answered(Ok(CartAnswer::Created(_)))), "{:?}", step.reply);
    step.save.expect("saved")
}

#[test]
fn a_creation_holds_once_and_repeats_replay_its_first_answer() {
    let mut l = stocked(5);
    let first = create(&mut l, &sku(), None, new("r1", 2, "f"), false, T0);
    let saved = first.save.clone().expect("saved");
    assert_eq!(l.level(&Location::main()).reserved, 2);
    let entries = l.take_changes().entries;
    assert_eq!((entries[0].op, entries[0].cause.reservation_id.as_deref()), (Op::Reserve, Some("r1")));
    // Later, the same request again: the same answer, flagged, nothing held twice.
    let again = create(&mut l, &sku(), Some(saved.clone()), new("r1", 2, "f"), false, Millis(T0.0 + 5_000));
    let (Keyed::Answered(a), Keyed::Replayed(b)) = (&first.reply, &again.reply) else { panic!("{again:?}") };
    assert_eq!(render(a.clone()).text(), render(b.clone()).text());
    assert_eq!(render(a.clone()).status(), 201);
    assert_eq!((again.save, l.level(&Location::main()).reserved), (None, 2));
    assert!(l.take_changes().is_empty());
}

#[test]
fn another_request_under_the_id_is_a_conflict_or_a_reused_key() {
    let mut l = stocked(5);
    let saved = held(&mut l, "r1", 2);
    let other = create(&mut l, &sku(), Some(saved.clone()), new("r1", 3, "g"), false, T0);
    assert_eq!(other.reply, Keyed::Answered(Err(CartRefusal::Conflict { id: token("r1") })));
    let keyed = create(&mut l, &sku(), Some(saved), new("r1", 3, "g"), true, T0);
    assert_eq!(keyed.reply, Keyed::KeyReused);
    assert_eq!(l.level(&Location::main()).reserved, 2);
}

#[test]
fn a_short_creation_holds_nothing_and_its_refusal_is_kept() {
    let mut l = stocked(1);
    let first = create(&mut l, &sku(), None, new("r1", 3, "f"), false, T0);
    let Keyed::Answered(Err(CartRefusal::Cart(CartError::Short(lines)))) = &first.reply else { panic!("{first:?}") };
    assert_eq!((lines[0].sku.as_str(), lines[0].requested, lines[0].available), ("TEE", 3, 1));
    assert_eq!(l.level(&Location::main()).reserved, 0);
    let saved = first.save.expect("the refusal is kept");
    let again = create(&mut l, &sku(), Some(saved.clone()), new("r1", 3, "f"), false, T0);
    assert!(matches!(&again.reply, Keyed::Replayed(Err(CartRefusal::Cart(CartError::Short(_))))));
    let get = act(&mut l, Some(saved), token("r1"), CartAction::Get, T0);
    assert_eq!(get.reply, Keyed::Answered(Err(CartRefusal::Rejected { id: token("r1") })));
}

#[test]
fn a_commit_moves_the_hold_to_the_order_and_registers_it() {
    let mut l = stocked(5);
    let r = held(&mut l, "r1", 2);
    let step = act(&mut l, Some(r), token("r1"), CartAction::Commit { order_id: Some(token("o-1")) }, T0);
    let Keyed::Answered(Ok(CartAnswer::Current(shown))) = &step.reply else { panic!("{step:?}") };
    assert_eq!(shown.status, Status::Committed);
    let level = l.level(&Location::main());
    assert_eq!((level.reserved, level.committed), (0, 2));
    let order = OrderKey { channel: direct(), order_id: token("o-1") };
    let call = step.register.clone().expect("registration");
    assert_eq!(call.order, order);
    let crate::api::order_call::OrderAction::Attach { lines } = &call.action else { panic!("attach") };
    assert_eq!((lines[0].line_id.as_str(), lines[0].qty), ("res:r1@main", 2));
    assert!(l.order(&order).is_some_and(|o| o.lines.contains_key(&lines[0].line_id)));
    // A repeat answers 200 committed again, changes nothing, and registers again (idempotent).
    let saved = step.save.expect("saved");
    let again = act(&mut l, Some(saved.clone()), token("r1"), CartAction::Commit { order_id: None }, T0);
    assert_eq!(render_keyed(again.reply.clone()).text(), render_keyed(step.reply).text());
    assert_eq!((again.save, again.register.map(|c| c.order)), (None, Some(order)));
    // Committed: not releasable, not extendable.
    let release = act(&mut l, Some(saved), token("r1"), CartAction::Release, T0);
    assert_eq!(release.reply, Keyed::Answered(Err(CartRefusal::Cart(CartError::NotHeld(Status::Committed)))));
}

#[test]
fn a_commit_at_or_past_the_deadline_is_refused_and_returns_the_units() {
    let mut l = stocked(5);
    let r = held(&mut l, "r1", 2);
    let late = Millis(r.expires_at.0 - COMMIT_MARGIN_MS);
    let step = act(&mut l, Some(r), token("r1"), CartAction::Commit { order_id: None }, late);
    assert_eq!(step.reply, Keyed::Answered(Err(CartRefusal::Cart(CartError::NotHeld(Status::Expired)))));
    assert_eq!((step.register, l.level(&Location::main()).reserved), (None, 0));
    let saved = step.save.expect("ended");
    assert_eq!(saved.phase, Phase::Ended { outcome: End::Expired });
    let get = act(&mut l, Some(saved), token("r1"), CartAction::Get, late);
    let Keyed::Answered(Ok(CartAnswer::Current(shown))) = get.reply else { panic!("get") };
    assert_eq!(shown.status, Status::Expired);
}

#[test]
fn the_ledger_expires_the_hold_and_the_record_reads_expired() {
    let mut l = stocked(5);
    let r = held(&mut l, "r1", 2);
    assert_eq!(l.next_deadline(), Some(r.expires_at), "the object's alarm is set to it");
    assert_eq!(l.expire_due(r.expires_at), 1);
    assert_eq!(l.level(&Location::main()).reserved, 0);
    let get = act(&mut l, Some(r.clone()), token("r1"), CartAction::Get, r.expires_at);
    let Keyed::Answered(Ok(CartAnswer::Current(shown))) = get.reply else { panic!("get") };
    assert_eq!(shown.status, Status::Expired);
    let release = act(&mut l, Some(r.clone()), token("r1"), CartAction::Release, r.expires_at);
    let Keyed::Answered(Ok(CartAnswer::Current(shown))) = release.reply else { panic!("release") };
    assert_eq!(shown.status, Status::Expired, "releasing an expired reservation answers it expired");
    let extend = act(&mut l, Some(r), token("r1"), CartAction::Extend { ttl_seconds: 60 }, Millis(T0.0 + 60_001));
    assert_eq!(extend.reply, Keyed::Answered(Err(CartRefusal::Cart(CartError::NotHeld(Status::Expired)))));
}

#[test]
fn release_and_extend_follow_the_cart_rules() {
    let mut l = stocked(5);
    let r = held(&mut l, "r1", 2);
    let at = Millis(T0.0 + 10_000);
    let ext = act(&mut l, Some(r), token("r1"), CartAction::Extend { ttl_seconds: 600 }, at);
    let r = ext.save.expect("moved");
    assert_eq!((r.expires_at, l.next_deadline()), (at.plus_seconds(600), Some(at.plus_seconds(600))));
    let rel = act(&mut l, Some(r), token("r1"), CartAction::Release, at);
    let r = rel.save.expect("released");
    assert_eq!((r.phase.clone(), l.level(&Location::main()).reserved), (Phase::Ended { outcome: End::Released }, 0));
    let again = act(&mut l, Some(r.clone()), token("r1"), CartAction::Release, at);
    assert_eq!((again.save, render_keyed(again.reply).status()), (None, 200));
    let commit = act(&mut l, Some(r), token("r1"), CartAction::Commit { order_id: None }, at);
    assert_eq!(commit.reply, Keyed::Answered(Err(CartRefusal::Cart(CartError::NotHeld(Status::Released)))));
}

#[test]
fn an_unknown_id_is_not_found_and_a_foreign_sku_is_refused() {
    let mut l = stocked(5);
    let get = act(&mut l, None, token("rsk_x"), CartAction::Get, T0);
    assert_eq!(render_keyed(get.reply).status(), 404);
    let other = Sku::parse("OTHER").expect("sku");
    let step = create(&mut l, &other, None, new("r1", 1, "f"), false, T0);
    assert!(matches!(step.reply, Keyed::Answered(Err(CartRefusal::Cart(CartError::Unavailable(_))))));
    assert_eq!((step.save, l.level(&Location::main()).reserved), (None, 0));
}

/// One ledger behind the coordinator's ports.
struct OneLedger<'a>(&'a RefCell<Ledger>);

impl SkuPort for OneLedger<'_> {
    async fn send(&self, _sku: &Sku, cmd: Command) -> crate::cart::SkuReply {
        match self.0.borrow_mut().apply(cmd, T0) {
            Ok(_) => crate::cart::SkuReply::Done,
            Err(e) => crate::cart::SkuReply::refused(e),
        }
    }
}

struct Nowhere;

impl CartStore for Nowhere {
    fn save(&self, _r: &Reservation) -> Result<(), SaveError> {
        Ok(())
    }
    fn resume_at(&self, _at: Option<Millis>) {}
}

/// The coordinator's answer to the same creation, rendered.
fn through_coordinator(stock: i64, qty: i64) -> (u16, String) {
    let ledger = RefCell::new(stocked(stock));
    let mut r = new("r1", qty, "f");
    let result = block_on(coordinator::create(&OneLedger(&ledger), &Nowhere, &mut r, T0));
    coordinator::record_answer(&mut r, &result, T0);
    let reply = r.answer.clone().expect("final").map(CartAnswer::Created).map_err(CartRefusal::Cart);
    let http = render(reply);
    (http.status(), http.text())
}

#[test]
fn both_paths_answer_a_creation_with_the_same_bytes() {
    for (stock, qty) in [(5, 2), (1, 3), (0, 1)] {
        let mut l = stocked(stock);
        let step = create(&mut l, &sku(), None, new("r1", qty, "f"), false, T0);
        let Keyed::Answered(reply) = step.reply else { panic!("answered") };
        let http = render(reply);
        assert_eq!((http.status(), http.text()), through_coordinator(stock, qty), "stock {stock}, qty {qty}");
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::stock::invariants;

    #[derive(Clone, Debug)]
    enum Op {
        Create {
            r: usize,
            qty: i64,
            fingerprint: bool,
        },
        Commit {
            r: usize,
        },
        Release {
            r: usize,
        },
        Extend {
            r: usize,
            ttl: i64,
        },
        /// Time passes; the object's alarm may fire.
        Wait {
            ms: i64,
            alarm: bool,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..3usize, 1..4i64, any::<bool>()).prop_map(|(r, qty, fingerprint)| Op::Create { r, qty, fingerprint }),
            (0..3usize).prop_map(|r| Op::Commit { r }),
            (0..3usize).prop_map(|r| Op::Release { r }),
            (0..3usize, 1..90i64).prop_map(|(r, ttl)| Op::Extend { r, ttl }),
            (0..40_000i64, any::<bool>()).prop_map(|(ms, alarm)| Op::Wait { ms, alarm }),
        ]
    }

    proptest! {
        /// Any interleaving of steps on three reservations of one SKU keeps the record and the
        /// ledger in agreement: a held record's hold is held until its deadline, a committed one's
        /// is committed with its order line, a released or refused one holds nothing; the ledger's
        /// invariants hold throughout, and a replay is always the first answer.
        #[test]
        fn records_and_ledger_agree_under_any_interleaving(stock in 0..8i64, ops in prop::collection::vec(op(), 1..40)) {
            let mut l = stocked(stock);
            let mut records: BTreeMap<usize, Reservation> = BTreeMap::new();
            let mut first: BTreeMap<usize, String> = BTreeMap::new();
            let mut now = T0;
            let id = |r: usize| format!("rsk_{r:020}_TEE");
            for op in ops {
                let step = match op {
                    Op::Create { r, qty, fingerprint } => {
                        let fp = if fingerprint { "f" } else { "g" };
                        let mut n = new(&id(r), qty, fp);
                        n.created_at = now;
                        n.expires_at = Millis(now.0 + 30_000);
                        create(&mut l, &sku(), records.get(&r).cloned(), n, false, now)
                    }
                    Op::Commit { r } => act(&mut l, records.get(&r).cloned(), token(&id(r)), CartAction::Commit { order_id: None }, now),
                    Op::Release { r } => act(&mut l, records.get(&r).cloned(), token(&id(r)), CartAction::Release, now),
                    Op::Extend { r, ttl } => act(&mut l, records.get(&r).cloned(), token(&id(r)), CartAction::Extend { ttl_seconds: ttl }, now),
                    Op::Wait { ms, alarm } => {
                        now = Millis(now.0 + ms);
                        if alarm {
                            l.expire_due(now);
                        }
                        continue;
                    }
                };
                if let (Op::Create { r, .. }, Keyed::Replayed(reply)) = (&op, &step.reply) {
                    prop_assert_eq!(first.get(r), Some(&render(reply.clone()).text()));
                }
                if let (Op::Create { r, .. }, Keyed::Answered(reply @ (Ok(_) | Err(CartRefusal::Cart(CartError::Short(_)))))) = (&op, &step.reply) {
                    prop_assert!(first.insert(*r, render(reply.clone()).text()).is_none(), "a second first answer");
                }
                if let Some(saved) = step.save {
                    let r = (0..3).find(|r| saved.id.as_str() == id(*r)).expect("one of ours");
                    records.insert(r, saved);
                }
                prop_assert!(invariants::check(&l).is_ok());
                for (r, rec) in &records {
                    let hold = l.hold(&token(&id(*r))).map(|h| h.status);
                    match &rec.phase {
                        Phase::Held if now < rec.expires_at => prop_assert_eq!(hold, Some(HoldStatus::Held)),
                        Phase::Held => prop_assert!(matches!(hold, Some(HoldStatus::Held | HoldStatus::Expired))),
                        Phase::Committed { order } => {
                            prop_assert_eq!(hold, Some(HoldStatus::Committed));
                            prop_assert!(l.order(order).is_some());
                        }
                        Phase::Ended { outcome: End::Rejected } => prop_assert_eq!(hold, None),
                        Phase::Ended { .. } => prop_assert!(matches!(hold, Some(HoldStatus::Released | HoldStatus::Expired))),
                        other => prop_assert!(false, "a single-SKU record is never {:?}", other),
                    }
                }
            }
        }
    }
}
