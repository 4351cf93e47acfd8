//! A reservation of one SKU, kept by that SKU's ledger object instead of a cart coordinator: one
//! hop for the common checkout. The record is the coordinator's [`Reservation`] (one part), so
//! its answers are the same values, rendered by the same code, byte for byte.
//!
//! Every step is decided here, synchronously, on the ledger and the record together: the object
//! writes the ledger's changes, the record and the order desk registration in one turn, so the
//! protocol needs no transitional phase and no resume. The steps keep the coordinator's rules:
//! - create: the first answer (held `201`, or short `409`) is kept in the record and replayed to
//!   repeats (same id, same request); another request under the id is a conflict (or, when the id
//!   came from an Idempotency-Key, a reused key);
//! - commit: refused once within [`COMMIT_MARGIN_MS`] of the deadline (as a cart, which must pin
//!   every SKU first); a committed reservation answers `200` again; the committed order is
//!   registered with its order desk ([`registration`]);
//! - release: of a held one ends it released (or expired past its deadline); of an ended one
//!   answers it as it is; of a committed one is refused;
//! - extend: moves the hold's deadline while it is held and not past it.
//!
//! Expiry needs no step: the ledger expires the hold at its deadline (the object's alarm, or the
//! next command), and the record shows `expired` from the same deadline.

use super::coordinator::{record_answer, start_create, Start};
use super::reservation::{End, Phase, Reservation, Status};
use super::{CartError, ShortLine, SkuReply};
use crate::api::cart_call::{CartAction, CartAnswer, CartRefusal, CartResult};
use crate::api::idempotency::Keyed;
use crate::api::order_call::OrderCall;
use crate::api::requests::direct;
use crate::stock::limits::COMMIT_MARGIN_MS;
use crate::stock::{Command, Effect, HoldStatus, Ledger, OrderKey, Sku, Token};
use crate::time::Millis;

/// What one step decided: the reply, the record to write (when it changed) and the order desk
/// registration to write with it and carry out.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub reply: Keyed<CartResult>,
    pub save: Option<Reservation>,
    pub register: Option<OrderCall>,
}

impl Step {
    fn answer(result: CartResult) -> Step {
        Step { reply: Keyed::Answered(result), save: None, register: None }
    }
}

/// What a ledger's refusal of this reservation's hold means to it (the cart's reading,
/// [`SkuReply::refused`]): short, not held (a hold that is gone reads as expired), or a refusal
/// the reservation cannot settle.
fn ledger_refusal(e: crate::stock::LedgerError) -> CartError {
    match SkuReply::refused(e) {
        SkuReply::NotHeld(Some(status)) => CartError::NotHeld(hold_status(status)),
        SkuReply::NotHeld(None) => CartError::NotHeld(Status::Expired),
        SkuReply::Short { location, requested, available } => CartError::Short(vec![ShortLine {
            sku: String::new(),
            location: location.to_string(),
            requested,
            available,
        }]),
        SkuReply::Unavailable(why) => CartError::Unavailable(why),
        SkuReply::Done => CartError::Unavailable(String::from("the ledger refused without a reason")),
    }
}

fn hold_status(s: HoldStatus) -> Status {
    match s {
        HoldStatus::Held => Status::Held,
        HoldStatus::Committed => Status::Committed,
        HoldStatus::Released => Status::Released,
        HoldStatus::Expired => Status::Expired,
    }
}

/// Creates `new` (one part: this ledger's SKU `sku`) given the `existing` record under its id.
/// `keyed`: the id came from an Idempotency-Key.
pub fn create(
    ledger: &mut Ledger,
    sku: &Sku,
    existing: Option<Reservation>,
    new: Reservation,
    keyed: bool,
    now: Millis,
) -> Step {
    let id = new.id.clone();
    let mut r = match start_create(existing, new) {
        Start::Conflict if keyed => return Step { reply: Keyed::KeyReused, save: None, register: None },
        Start::Conflict => return Step::answer(Err(CartRefusal::Conflict { id })),
        Start::Replay(e) => {
            let reply = match e.answer.clone() {
                Some(first) => Keyed::Replayed(first.map(CartAnswer::Created).map_err(CartRefusal::Cart)),
                None => Keyed::Answered(Ok(CartAnswer::Current(e.shown(now)))),
            };
            return Step { reply, save: None, register: None };
        }
        // Never recorded without an answer on this path; answer it as it is.
        Start::Resume(e) => return Step::answer(Ok(CartAnswer::Current(e.shown(now)))),
        Start::Fresh(r) => r,
    };
    let [part] = r.parts.as_slice() else {
        return Step::answer(Err(CartRefusal::Cart(CartError::Unavailable(format!(
            "{sku} keeps single-SKU reservations only"
        )))));
    };
    if &part.sku != sku {
        return Step::answer(Err(CartRefusal::Cart(CartError::Unavailable(format!("{sku} was sent {}", part.sku)))));
    }
    let cmd = Command::Reserve {
        hold: r.hold_id(),
        lines: part.lines.clone(),
        expires_at: r.expires_at,
        channel: r.channel.clone(),
        reference: r.reference.clone(),
    };
    let result = match ledger.apply(cmd, now) {
        Ok(_) => {
            r.phase = Phase::Held;
            Ok(())
        }
        Err(e) => match ledger_refusal(e) {
            CartError::Short(mut lines) => {
                for l in &mut lines {
                    l.sku = sku.to_string();
                }
                r.phase = Phase::Ended { outcome: End::Rejected };
                Err(CartError::Short(lines))
            }
            // A hold under this id without a record: the id is taken.
            CartError::NotHeld(_) => return Step::answer(Err(CartRefusal::Conflict { id })),
            other => return Step::answer(Err(CartRefusal::Cart(other))),
        },
    };
    record_answer(&mut r, &result, now);
    let reply = match &r.answer {
        Some(first) => first.clone().map(CartAnswer::Created).map_err(CartRefusal::Cart),
        None => result.map(|()| CartAnswer::Created(r.shown(now))).map_err(CartRefusal::Cart),
    };
    Step { reply: Keyed::Answered(reply), save: Some(r), register: None }
}

/// Carries out `action` (not a creation) on the record `existing` under `id`, at `now`.
pub fn act(ledger: &mut Ledger, existing: Option<Reservation>, id: Token, action: CartAction, now: Millis) -> Step {
    let Some(mut r) = existing else { return Step::answer(Err(CartRefusal::NotFound { id })) };
    if matches!(r.phase, Phase::Ended { outcome: End::Rejected }) {
        return Step::answer(Err(CartRefusal::Rejected { id }));
    }
    let before = r.clone();
    let result = match action {
        CartAction::Get | CartAction::Create { .. } => Ok(()),
        CartAction::Commit { order_id } => commit(ledger, &mut r, order_id, now),
        CartAction::Release => release(ledger, &mut r, now),
        CartAction::Extend { ttl_seconds } => extend(ledger, &mut r, now.plus_seconds(ttl_seconds), now),
    };
    let register = match (&result, &r.phase) {
        (Ok(()), Phase::Committed { order }) => registration(&r, order.clone()),
        _ => None,
    };
    let save = (r != before).then(|| r.clone());
    let reply = result.map(|()| CartAnswer::Current(r.shown(now))).map_err(CartRefusal::Cart);
    Step { reply: Keyed::Answered(reply), save, register }
}

fn end(ledger: &mut Ledger, r: &mut Reservation, outcome: End, now: Millis) -> Result<End, CartError> {
    let outcome = match ledger.apply(Command::Release { hold: r.hold_id() }, now) {
        Ok(a) if a.effect == Effect::HoldAlready(HoldStatus::Expired) => End::Expired,
        Ok(_) => outcome,
        // Gone from the ledger (pruned long after its end): it can only have expired.
        Err(crate::stock::LedgerError::HoldNotFound) => End::Expired,
        Err(e) => return Err(ledger_refusal(e)),
    };
    r.phase = Phase::Ended { outcome };
    Ok(outcome)
}

fn commit(ledger: &mut Ledger, r: &mut Reservation, order_id: Option<Token>, now: Millis) -> Result<(), CartError> {
    match &r.phase {
        Phase::Committed { .. } => return Ok(()),
        Phase::Held if now.0 >= r.expires_at.0 - COMMIT_MARGIN_MS => {
            end(ledger, r, End::Expired, now)?;
            return Err(CartError::NotHeld(Status::Expired));
        }
        Phase::Held => {}
        _ => return Err(CartError::NotHeld(r.status(now))),
    }
    let order = OrderKey {
        channel: r.channel.clone().unwrap_or_else(direct),
        order_id: order_id.unwrap_or_else(|| r.id.clone()),
    };
    match ledger.apply(Command::Commit { hold: r.hold_id(), order: order.clone() }, now) {
        Ok(_) => {
            r.phase = Phase::Committed { order };
            Ok(())
        }
        Err(e) => match ledger_refusal(e) {
            CartError::NotHeld(status) => {
                if status == Status::Expired {
                    r.phase = Phase::Ended { outcome: End::Expired };
                }
                Err(CartError::NotHeld(status))
            }
            other => Err(other),
        },
    }
}

fn release(ledger: &mut Ledger, r: &mut Reservation, now: Millis) -> Result<(), CartError> {
    let outcome = match &r.phase {
        Phase::Ended { outcome: End::Released | End::Expired } => return Ok(()),
        Phase::Held if now >= r.expires_at => End::Expired,
        Phase::Held => End::Released,
        _ => return Err(CartError::NotHeld(r.status(now))),
    };
    end(ledger, r, outcome, now).map(|_| ())
}

fn extend(ledger: &mut Ledger, r: &mut Reservation, expires_at: Millis, now: Millis) -> Result<(), CartError> {
    match r.phase {
        Phase::Held if now < r.expires_at => {}
        Phase::Held => {
            end(ledger, r, End::Expired, now)?;
            return Err(CartError::NotHeld(Status::Expired));
        }
        _ => return Err(CartError::NotHeld(r.status(now))),
    }
    match ledger.apply(Command::Extend { hold: r.hold_id(), expires_at }, now) {
        Ok(_) => {
            r.expires_at = expires_at;
            Ok(())
        }
        Err(e) => {
            let refused = ledger_refusal(e);
            if refused == CartError::NotHeld(Status::Expired) {
                r.phase = Phase::Ended { outcome: End::Expired };
            }
            Err(refused)
        }
    }
}

/// The order desk call that registers a committed reservation's lines with its order, so that
/// fulfilling or cancelling the order reaches this ledger (as the coordinator registers a cart).
/// Idempotent: the desk keeps each (SKU, line id) once.
pub fn registration(r: &Reservation, order: OrderKey) -> Option<OrderCall> {
    super::registration::attach(&r.hold_id(), &r.parts, order)
}

#[cfg(test)]
#[path = "single_tests.rs"]
mod tests;
