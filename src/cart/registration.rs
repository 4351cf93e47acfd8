//! The order desk call that registers a committed reservation's lines with its order, whoever
//! kept the reservation (a cart coordinator, a SKU ledger, an allotment), so that fulfilling or
//! cancelling the order reaches the ledgers that hold its units; and what a keeper owes until
//! the desk answers ([`Owed`]), one rule for the cart coordinator and the allotment shells and
//! the simulation's copies of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::plan::Part;
use super::reservation::{Phase, Reservation};
use crate::api::idempotency::Keyed;
use crate::api::order_call::{OrderAction, OrderCall, OrderReply};
use crate::fault::ObjectError;
use crate::orders::BookLine;
use crate::stock::order::hold_line_id;
use crate::stock::{HoldId, OrderKey};
use crate::time::Millis;

/// `Attach` of every line of `parts` held under `hold`, one book line per (SKU, location) with
/// the hold's line id. Idempotent at the desk (it keeps each (SKU, line id) once). `None` when
/// there is no line to register.
pub fn attach(hold: &HoldId, parts: &[Part], order: OrderKey) -> Option<OrderCall> {
    let lines: Vec<BookLine> = parts
        .iter()
        .flat_map(|p| {
            p.lines.iter().filter_map(|(loc, qty)| {
                hold_line_id(hold, loc).ok().map(|line_id| BookLine {
                    sku: p.sku.clone(),
                    line_id,
                    location: loc.clone(),
                    qty: *qty,
                })
            })
        })
        .collect();
    (!lines.is_empty()).then_some(OrderCall { order, action: OrderAction::Attach { lines }, idempotency: None })
}

/// The registration a cart's resume alarm owes its order desk: when the alarm finished a commit
/// (the record was `before` a transitional phase and is now committed), nobody else registers it
/// — the request that began the commit was answered without it, and its client may never retry.
/// `None` otherwise. Idempotent at the desk, so the shell keeps it until the desk answers.
pub fn owed(before: &Phase, r: &Reservation) -> Option<OrderCall> {
    let transitional = matches!(before, Phase::Pinning { .. } | Phase::Committing { .. });
    match &r.phase {
        Phase::Committed { order } if transitional => attach(&r.hold_id(), &r.parts, order.clone()),
        _ => None,
    }
}

/// How the order desk took one registration sent to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The desk took it: settled.
    Taken,
    /// The desk answered with a refusal (or the key's verdict): settled too, as sending it again
    /// cannot change the answer; the shell logs it.
    Refused(String),
    /// The desk could not be reached, or its answer was lost: still owed, sent again.
    Unreached,
}

impl Delivery {
    /// How a desk's reply (or the failure to get one) settles a registration.
    pub fn of(reply: &Result<OrderReply, ObjectError>) -> Delivery {
        match reply {
            Ok(Keyed::Answered(Ok(_)) | Keyed::Replayed(Ok(_))) => Delivery::Taken,
            Ok(other) => Delivery::Refused(format!("{other:?}")),
            Err(_) => Delivery::Unreached,
        }
    }
}

/// The order desk registrations a keeper of committed reservations owes — a cart coordinator its
/// cart's, an allotment one per hold it committed — by hold id. A registration is owed (and
/// stored with what the keeper persists) as soon as the commit went through, before it is sent:
/// the client told its commit succeeded has no reason to retry it, so a registration lost on its
/// way must not wait for one. It is forgotten once its desk answered ([`Owed::sent`]) and sent
/// again from the keeper's alarm ([`Owed::retry_at`]) while the desk is unreached. Idempotent at
/// the desk (it keeps each (SKU, line id) once), so sending one twice is harmless.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Owed(BTreeMap<HoldId, OrderCall>);

impl Owed {
    /// Owes the registration of `hold`'s committed `parts` on `order`'s desk ([`attach`]);
    /// answers whether something became owed (nothing for parts without a line).
    pub fn owe(&mut self, hold: &HoldId, parts: &[Part], order: OrderKey) -> bool {
        attach(hold, parts, order).is_some_and(|call| self.owe_call(hold.clone(), call))
    }

    /// Owes `call` for `hold`; answers whether it changed what is owed.
    pub fn owe_call(&mut self, hold: HoldId, call: OrderCall) -> bool {
        self.0.insert(hold, call.clone()).as_ref() != Some(&call)
    }

    /// What to send, oldest hold id first.
    pub fn due(&self) -> Vec<(HoldId, OrderCall)> {
        self.0.iter().map(|(h, c)| (h.clone(), c.clone())).collect()
    }

    /// Takes how the desk took `hold`'s registration: forgotten unless the desk was unreached.
    /// Answers whether it changed what is owed (the keeper writes it then).
    pub fn sent(&mut self, hold: &HoldId, delivery: &Delivery) -> bool {
        *delivery != Delivery::Unreached && self.0.remove(hold).is_some()
    }

    pub fn owes(&self, hold: &HoldId) -> bool {
        self.0.contains_key(hold)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// When the keeper's alarm must come back to send what is still owed: `retry_ms` after
    /// `now`, or never when nothing is.
    pub fn retry_at(&self, now: Millis, retry_ms: i64) -> Option<Millis> {
        (!self.is_empty()).then_some(Millis(now.0 + retry_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::{Location, Sku, Token};
    use crate::time::Millis;

    fn cart(phase: Phase) -> Reservation {
        Reservation {
            id: Token::parse("c1").expect("id"),
            parts: vec![Part { sku: Sku::parse("A").expect("sku"), lines: vec![(Location::main(), 2)] }],
            expires_at: Millis(60_000),
            phase,
            channel: None,
            reference: None,
            created_at: Millis(0),
            fingerprint: "f".into(),
            answer: None,
            attempt: 0,
        }
    }

    /// Found by the system simulation (`tests/system_simulation.rs`): a commit interrupted after
    /// its pins, finished by the resume alarm and never retried by its client, was never
    /// registered, so cancelling the order at its desk left its units committed.
    #[test]
    fn a_commit_finished_by_the_alarm_owes_its_registration() {
        let order = OrderKey { channel: Token::parse("direct").expect("c"), order_id: Token::parse("o1").expect("o") };
        let done = cart(Phase::Committed { order: order.clone() });
        let call = owed(&Phase::Committing { order: order.clone() }, &done).expect("owed");
        assert_eq!(call.order, order);
        assert!(owed(&Phase::Committed { order: order.clone() }, &done).is_none(), "registered by its request");
        assert!(owed(&Phase::Creating, &cart(Phase::Held)).is_none());
    }

    /// A registration is owed until its desk answers — taken or refused alike — and only an
    /// unreached desk keeps it, with the alarm coming back for it.
    #[test]
    fn a_registration_is_owed_until_its_desk_answers() {
        let order = OrderKey { channel: Token::parse("direct").expect("c"), order_id: Token::parse("o1").expect("o") };
        let r = cart(Phase::Committed { order: order.clone() });
        let hold = r.hold_id();
        let mut owed = Owed::default();
        assert_eq!(owed.retry_at(Millis(5), 10), None, "nothing owed, no alarm");
        assert!(owed.owe(&hold, &r.parts, order.clone()));
        assert!(!owed.owe(&hold, &r.parts, order.clone()), "owing it again changes nothing");
        assert!(!owed.owe(&Token::parse("h2").expect("h"), &[], order.clone()), "no line, nothing owed");
        let due = owed.due();
        assert_eq!(due.len(), 1);
        assert_eq!(Some(due[0].1.clone()), attach(&hold, &r.parts, order));
        assert!(!owed.sent(&hold, &Delivery::Unreached), "an unreached desk keeps it owed");
        assert_eq!(owed.retry_at(Millis(5), 10), Some(Millis(15)));
        assert!(owed.sent(&hold, &Delivery::Refused("no".into())), "a refusal settles it");
        assert!(owed.is_empty() && !owed.owes(&hold));
        assert!(!owed.sent(&hold, &Delivery::Taken), "nothing left to forget");
    }

    #[test]
    fn a_desk_s_reply_settles_a_registration_and_a_transport_error_does_not() {
        use crate::api::order_call::OrderState;
        let unreachable = ObjectError::Unreachable { class: "OrderDesk", detail: "reset".into() };
        assert_eq!(Delivery::of(&Err(unreachable)), Delivery::Unreached);
        assert!(matches!(Delivery::of(&Ok(Keyed::KeyReused)), Delivery::Refused(_)));
        let order = OrderKey { channel: Token::parse("direct").expect("c"), order_id: Token::parse("o1").expect("o") };
        let state = OrderState::of(&order, false, Vec::new());
        assert_eq!(Delivery::of(&Ok(Keyed::Answered(Ok(state)))), Delivery::Taken);
    }

    /// Stored as a map of hold id to call: a keeper's rows read back as written.
    #[test]
    fn owed_registrations_are_stored_as_a_map_of_hold_ids() {
        let order = OrderKey { channel: Token::parse("direct").expect("c"), order_id: Token::parse("o1").expect("o") };
        let r = cart(Phase::Committed { order: order.clone() });
        let mut owed = Owed::default();
        owed.owe(&r.hold_id(), &r.parts, order);
        let text = serde_json::to_string(&owed).expect("json");
        assert!(text.starts_with(&format!("{{\"{}\":", r.hold_id())), "{text}");
        assert_eq!(serde_json::from_str::<Owed>(&text).expect("read back"), owed);
    }
}
