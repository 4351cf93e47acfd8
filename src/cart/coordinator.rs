//! The cart coordinator's protocol: all-or-nothing create, commit, extend and release over
//! several SKU ledgers, written against two ports so that it runs the same under workerd (Durable
//! Object stubs, SQLite) and in native tests (in-memory ledgers with injected faults).
//!
//! Rules:
//! - the next phase is saved before any SKU is touched, and a resume alarm is set while in a
//!   transitional phase; [`resume`] finishes or undoes it;
//! - every SKU step is idempotent (hold ids are the reservation id), so re-driving is safe;
//! - a commit first pins every hold (so none can expire), and only once all are pinned commits
//!   them; a commit that cannot pin every hold commits nothing.

use futures::future::join_all;

use serde::{Deserialize, Serialize};

use super::plan::Part;
use super::reservation::{End, Phase, Reservation, Status};
use crate::stock::limits::COMMIT_MARGIN_MS;
use crate::stock::{Command, HoldStatus, LedgerError, Location, OrderKey, Sku};
use crate::time::Millis;

/// How long a coordinator waits before finishing a step it was interrupted in (ms).
pub const RESUME_DELAY_MS: i64 = 2_000;

/// What a SKU ledger answered to one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkuReply {
    /// Applied, or already applied.
    Done,
    /// Refused: not enough stock.
    Short { location: Location, requested: i64, available: i64 },
    /// Refused: the hold is not held (or not there).
    NotHeld(Option<HoldStatus>),
    /// Could not be reached or failed: try again later.
    Unavailable(String),
}

impl SkuReply {
    /// What a ledger's refusal of a hold command means to a cart: the one reading of a
    /// [`LedgerError`] for carts. A hold that is gone or belongs to other lines is not held;
    /// any other refusal cannot be settled by the cart and is treated as a SKU to retry.
    pub fn refused(e: LedgerError) -> SkuReply {
        match e {
            LedgerError::InsufficientStock { location, requested, available } => {
                SkuReply::Short { location, requested, available }
            }
            LedgerError::HoldNotHeld(status) => SkuReply::NotHeld(Some(status)),
            LedgerError::HoldNotFound | LedgerError::HoldConflict => SkuReply::NotHeld(None),
            e => SkuReply::Unavailable(format!("the ledger refused: {e}")),
        }
    }
}

/// Sends commands to SKU ledgers.
#[allow(async_fn_in_trait)]
pub trait SkuPort {
    async fn send(&self, sku: &Sku, cmd: Command) -> SkuReply;
}

/// The coordinator's record could not be written: the step stops where it is (its phase, saved
/// before, or the one before it, tells the resume alarm what to finish or undo).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("the cart record could not be saved: {0}")]
pub struct SaveError(pub String);

/// Persists the coordinator's record, synchronously, and schedules its resume alarm.
pub trait CartStore {
    fn save(&self, r: &Reservation) -> Result<(), SaveError>;
    fn resume_at(&self, at: Option<Millis>);
}

/// A short line of a refused cart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortLine {
    pub sku: String,
    pub location: String,
    pub requested: i64,
    pub available: i64,
}

/// Why a cart step did not succeed. Travels to the Worker as is (serde); `api::problem::from_cart`
/// maps it to HTTP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartError {
    /// Some lines are short. Nothing stays held: what was placed is released at once, or by
    /// the coordinator's alarm if a SKU could not be reached to release it.
    Short(Vec<ShortLine>),
    /// The cart is not held; the status it is in.
    NotHeld(Status),
    /// A SKU could not be reached; the step is left for [`resume`] or a retry.
    Unavailable(String),
    /// The coordinator's record could not be written; the step is left for [`resume`] or a retry.
    NotSaved(SaveError),
}

impl From<SaveError> for CartError {
    fn from(e: SaveError) -> CartError {
        CartError::NotSaved(e)
    }
}

async fn fan_out<P: SkuPort>(port: &P, parts: &[Part], cmd: impl Fn(&Part) -> Command) -> Vec<SkuReply> {
    join_all(parts.iter().map(|p| port.send(&p.sku, cmd(p)))).await
}

fn hold(r: &Reservation) -> crate::stock::HoldId {
    r.hold_id()
}

/// How a coordinator starts on a create request, given the record it already has.
#[derive(Clone, Debug, PartialEq)]
pub enum Start {
    /// Nothing recorded: create `new`.
    Fresh(Reservation),
    /// Decided before: answer as recorded.
    Replay(Reservation),
    /// Interrupted while being created: finish it with [`resume`].
    Resume(Reservation),
    /// The id was used for another request.
    Conflict,
}

/// Decides how to treat a create of `new` given the `existing` record under the same id.
/// A creation that failed without an answer (a SKU was unreachable and everything was
/// released) starts afresh as a new attempt, under new hold ids.
pub fn start_create(existing: Option<Reservation>, new: Reservation) -> Start {
    match existing {
        None => Start::Fresh(new),
        Some(e) if e.fingerprint != new.fingerprint => Start::Conflict,
        Some(e) if e.answer.is_some() => Start::Replay(e),
        Some(e) if e.phase == (Phase::Ended { outcome: End::Rejected }) => {
            Start::Fresh(Reservation { attempt: e.attempt + 1, ..new })
        }
        Some(e) => Start::Resume(e),
    }
}

/// Whether a finished creation step's outcome is final, to be recorded and replayed: a held
/// cart (201) or a refusal (409); not an unreachable SKU, nor a creation undone with no answer.
pub fn is_final_answer(r: &Reservation, result: &Result<(), CartError>) -> bool {
    match result {
        Ok(()) => r.phase == Phase::Held,
        Err(CartError::Unavailable(_) | CartError::NotSaved(_)) => false,
        Err(_) => true,
    }
}

/// Keeps a creation's final answer in its record (whoever finished it: the request or the
/// alarm), as shown at `now`, for its retries. Returns whether the record changed (to be saved).
pub fn record_answer(r: &mut Reservation, result: &Result<(), CartError>, now: Millis) -> bool {
    if r.answer.is_some() || !is_final_answer(r, result) {
        return false;
    }
    r.answer = Some(result.clone().map(|()| r.shown(now)));
    true
}

fn transition<S: CartStore>(store: &S, r: &mut Reservation, phase: Phase, now: Millis) -> Result<(), SaveError> {
    r.phase = phase;
    store.save(r)?;
    store.resume_at(r.in_transition().then(|| Millis(now.0 + RESUME_DELAY_MS)));
    Ok(())
}

fn first_unavailable(replies: &[SkuReply]) -> Option<String> {
    replies.iter().find_map(|x| match x {
        SkuReply::Unavailable(why) => Some(why.clone()),
        _ => None,
    })
}

/// Releases every hold of the cart and ends it with `outcome`. If a SKU cannot be reached the
/// cart stays in `Releasing` for [`resume`]; the holds expire by their own deadline regardless.
async fn release_all<P: SkuPort, S: CartStore>(
    port: &P,
    store: &S,
    r: &mut Reservation,
    outcome: End,
    now: Millis,
) -> Result<bool, SaveError> {
    transition(store, r, Phase::Releasing { outcome }, now)?;
    let replies = fan_out(port, &r.parts, |_| Command::Release { hold: hold(r) }).await;
    if first_unavailable(&replies).is_some() {
        return Ok(false);
    }
    transition(store, r, Phase::Ended { outcome }, now)?;
    Ok(true)
}

/// Places every hold of a cart in phase `Creating` (already saved by the caller).
pub async fn create<P: SkuPort, S: CartStore>(
    port: &P,
    store: &S,
    r: &mut Reservation,
    now: Millis,
) -> Result<(), CartError> {
    let replies = fan_out(port, &r.parts, |p| Command::Reserve {
        hold: hold(r),
        lines: p.lines.clone(),
        expires_at: r.expires_at,
        channel: r.channel.clone(),
        reference: r.reference.clone(),
    })
    .await;
    if replies.iter().all(|x| *x == SkuReply::Done) {
        transition(store, r, Phase::Held, now)?;
        return Ok(());
    }
    let short: Vec<ShortLine> = r
        .parts
        .iter()
        .zip(&replies)
        .filter_map(|(p, x)| match x {
            SkuReply::Short { location, requested, available } => Some(ShortLine {
                sku: p.sku.to_string(),
                location: location.to_string(),
                requested: *requested,
                available: *available,
            }),
            _ => None,
        })
        .collect();
    let expired = replies.iter().any(|x| matches!(x, SkuReply::NotHeld(_)));
    let outcome = if expired { End::Expired } else { End::Rejected };
    release_all(port, store, r, outcome, now).await?;
    if let Some(why) = first_unavailable(&replies) {
        return Err(CartError::Unavailable(why));
    }
    if !short.is_empty() {
        return Err(CartError::Short(short));
    }
    Err(CartError::NotHeld(Status::Expired))
}

/// Commits every hold of a held cart to `order`, or none.
pub async fn commit<P: SkuPort, S: CartStore>(
    port: &P,
    store: &S,
    r: &mut Reservation,
    order: OrderKey,
    now: Millis,
) -> Result<(), CartError> {
    match &r.phase {
        Phase::Committed { .. } => return Ok(()),
        Phase::Committing { order } => {
            let order = order.clone();
            return commit_all(port, store, r, order, now).await;
        }
        Phase::Held if now.0 >= r.expires_at.0 - COMMIT_MARGIN_MS => {
            release_all(port, store, r, End::Expired, now).await?;
            return Err(CartError::NotHeld(Status::Expired));
        }
        Phase::Held => {}
        _ => return Err(CartError::NotHeld(r.status(now))),
    }
    transition(store, r, Phase::Pinning { order: order.clone() }, now)?;
    let replies = fan_out(port, &r.parts, |_| Command::Pin { hold: hold(r) }).await;
    if replies.iter().all(|x| *x == SkuReply::Done) {
        transition(store, r, Phase::Committing { order: order.clone() }, now)?;
        return commit_all(port, store, r, order, now).await;
    }
    if let Some(why) = first_unavailable(&replies) {
        unpin_all(port, store, r, now).await?;
        return Err(CartError::Unavailable(why));
    }
    // A hold is gone (expired before it could be pinned): the cart cannot be committed whole.
    release_all(port, store, r, End::Expired, now).await?;
    Err(CartError::NotHeld(Status::Expired))
}

async fn unpin_all<P: SkuPort, S: CartStore>(
    port: &P,
    store: &S,
    r: &mut Reservation,
    now: Millis,
) -> Result<(), SaveError> {
    let replies = fan_out(port, &r.parts, |_| Command::Unpin { hold: hold(r) }).await;
    if first_unavailable(&replies).is_none() {
        transition(store, r, Phase::Held, now)?;
    }
    Ok(())
}

async fn commit_all<P: SkuPort, S: CartStore>(
    port: &P,
    store: &S,
    r: &mut Reservation,
    order: OrderKey,
    now: Millis,
) -> Result<(), CartError> {
    let replies = fan_out(port, &r.parts, |_| Command::Commit { hold: hold(r), order: order.clone() }).await;
    if let Some(why) = first_unavailable(&replies) {
        return Err(CartError::Unavailable(why));
    }
    // Every hold was pinned, so none can have expired: each SKU answers Done.
    transition(store, r, Phase::Committed { order }, now)?;
    Ok(())
}

/// Moves every hold of a held cart to `expires_at`, or ends the cart if one is gone.
pub async fn extend<P: SkuPort, S: CartStore>(
    port: &P,
    store: &S,
    r: &mut Reservation,
    expires_at: Millis,
    now: Millis,
) -> Result<(), CartError> {
    match r.phase {
        Phase::Held | Phase::Extending { .. } if now < r.expires_at => {}
        // Past the old deadline some holds may have expired: the cart cannot stay whole.
        Phase::Held | Phase::Extending { .. } => {
            release_all(port, store, r, End::Expired, now).await?;
            return Err(CartError::NotHeld(Status::Expired));
        }
        _ => return Err(CartError::NotHeld(r.status(now))),
    }
    transition(store, r, Phase::Extending { expires_at }, now)?;
    let replies = fan_out(port, &r.parts, |_| Command::Extend { hold: hold(r), expires_at }).await;
    if let Some(why) = first_unavailable(&replies) {
        return Err(CartError::Unavailable(why));
    }
    if replies.iter().all(|x| *x == SkuReply::Done) {
        r.expires_at = expires_at;
        transition(store, r, Phase::Held, now)?;
        return Ok(());
    }
    release_all(port, store, r, End::Expired, now).await?;
    Err(CartError::NotHeld(Status::Expired))
}

/// Releases a held cart. Releasing a released or expired cart is a no-op.
pub async fn release<P: SkuPort, S: CartStore>(
    port: &P,
    store: &S,
    r: &mut Reservation,
    now: Millis,
) -> Result<(), CartError> {
    let outcome = match &r.phase {
        Phase::Ended { outcome: End::Released | End::Expired } => return Ok(()),
        Phase::Releasing { outcome } => *outcome,
        Phase::Held | Phase::Extending { .. } | Phase::Pinning { .. } if now >= r.expires_at => End::Expired,
        Phase::Held | Phase::Extending { .. } | Phase::Pinning { .. } => End::Released,
        _ => return Err(CartError::NotHeld(r.status(now))),
    };
    if release_all(port, store, r, outcome, now).await? {
        Ok(())
    } else {
        Err(CartError::Unavailable(String::from("a SKU could not be reached; the release will be retried")))
    }
}

/// Finishes or undoes whatever step the cart was interrupted in (the coordinator's alarm).
pub async fn resume<P: SkuPort, S: CartStore>(
    port: &P,
    store: &S,
    r: &mut Reservation,
    now: Millis,
) -> Result<(), CartError> {
    match r.phase.clone() {
        Phase::Creating => create(port, store, r, now).await,
        Phase::Pinning { .. } => {
            unpin_all(port, store, r, now).await?;
            if r.in_transition() {
                store.resume_at(Some(Millis(now.0 + RESUME_DELAY_MS)));
            }
            Ok(())
        }
        Phase::Committing { order } => commit_all(port, store, r, order, now).await,
        Phase::Extending { expires_at } => extend(port, store, r, expires_at, now).await,
        Phase::Releasing { outcome } => {
            if release_all(port, store, r, outcome, now).await? {
                Ok(())
            } else {
                Err(CartError::Unavailable(String::from("release pending")))
            }
        }
        Phase::Held | Phase::Committed { .. } | Phase::Ended { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use futures::executor::block_on;

    use super::*;
    use crate::stock::Token;

    /// Every SKU applies every command.
    struct Applies;

    impl SkuPort for Applies {
        async fn send(&self, _sku: &Sku, _cmd: Command) -> SkuReply {
            SkuReply::Done
        }
    }

    /// A store whose writes fail from the `fail_from`-th on.
    struct Store {
        saves: Cell<u32>,
        fail_from: u32,
        saved: RefCell<Option<Reservation>>,
    }

    impl CartStore for Store {
        fn save(&self, r: &Reservation) -> Result<(), SaveError> {
            self.saves.set(self.saves.get() + 1);
            if self.saves.get() >= self.fail_from {
                return Err(SaveError("disk full".into()));
            }
            *self.saved.borrow_mut() = Some(r.clone());
            Ok(())
        }
        fn resume_at(&self, _at: Option<Millis>) {}
    }

    fn cart() -> Reservation {
        Reservation {
            id: Token::parse("r1").expect("id"),
            parts: vec![Part { sku: Sku::parse("A").expect("sku"), lines: vec![(Location::main(), 1)] }],
            expires_at: Millis(60_000),
            phase: Phase::Creating,
            channel: None,
            reference: None,
            created_at: Millis(0),
            fingerprint: "f".into(),
            answer: None,
            attempt: 0,
        }
    }

    #[test]
    fn a_record_that_cannot_be_saved_stops_the_step_with_a_typed_error_and_no_answer() {
        let store = Store { saves: Cell::new(0), fail_from: 1, saved: RefCell::new(None) };
        let mut r = cart();
        let result = block_on(create(&Applies, &store, &mut r, Millis(1)));
        assert_eq!(result, Err(CartError::NotSaved(SaveError("disk full".into()))));
        assert!(store.saved.borrow().is_none(), "nothing was saved");
        assert!(!record_answer(&mut r, &result, Millis(1)), "a step left unsaved is not a final answer");
    }

    #[test]
    fn a_release_that_cannot_record_its_end_is_left_to_resume() {
        let store = Store { saves: Cell::new(0), fail_from: 2, saved: RefCell::new(None) };
        let mut r = Reservation { phase: Phase::Held, ..cart() };
        let result = block_on(release(&Applies, &store, &mut r, Millis(1)));
        assert!(matches!(result, Err(CartError::NotSaved(_))));
        let saved = store.saved.borrow().clone().expect("the releasing phase was saved");
        assert_eq!(saved.phase, Phase::Releasing { outcome: End::Released });
        assert!(saved.in_transition(), "the alarm finishes it");
    }

    #[test]
    fn a_held_creation_records_its_first_answer_once() {
        let store = Store { saves: Cell::new(0), fail_from: u32::MAX, saved: RefCell::new(None) };
        let mut r = cart();
        let result = block_on(create(&Applies, &store, &mut r, Millis(1)));
        assert_eq!(result, Ok(()));
        assert!(record_answer(&mut r, &result, Millis(5)));
        let first = r.answer.clone();
        assert!(matches!(&first, Some(Ok(shown)) if shown.status == Status::Held));
        assert!(!record_answer(&mut r, &result, Millis(9)), "kept as first given");
        assert_eq!(r.answer, first);
    }
}
