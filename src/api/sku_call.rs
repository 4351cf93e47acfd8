//! The typed calls between the Worker and a SKU ledger object: the request, the reply (typed
//! ledger refusals, with their SKU), the pure handlers that answer from the in-memory ledger, and
//! the one rendering of a reply as HTTP. The object only loads, persists and sends.
//!
//! A single-SKU reservation lives in its SKU's ledger ([`SkuAction::Reservation`], decided by
//! `cart::single`): the call carries the cart's own [`CartAction`] and the reply the cart's own
//! answer or refusal, so both paths render through `cart_call::render`, byte for byte. A bundle
//! SKU's ledger knows its components ([`SkuAction::SetBundle`], told by the catalogue) and refuses
//! a hold or an availability read of the bundle with them ([`SkuRefusal::Bundle`]), so the Worker
//! expands it without reading the catalogue.

use serde::{Deserialize, Serialize};

use super::cart_call::{CartAction, CartAnswer, CartRefusal, CartReply};
use super::idempotency::Keyed;
use super::problem::{from_ledger, Kind, Problem};
use super::reply::HttpReply;
use super::views::{AvailabilityItem, EntryView, JournalPage, SkuView};
use crate::allot::{LenderCall, LenderReply};
use crate::cart::SkuReply;
use crate::catalog::Component;
use crate::stock::{Command, Effect, Entry, Ledger, LedgerError, Sku, Token};
use crate::time::Millis;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SkuAction {
    /// The full state (`GET /v1/skus/{sku}`); refused as never stocked if the SKU was never touched.
    Get,
    /// One availability item; unknown SKUs read as 0.
    Availability,
    /// A page of the journal (read from storage by the object, paged by [`journal_page`]).
    Journal { after: u64, limit: usize },
    /// The newest `limit` entries of the journal, oldest first (`next` absent): what the buffer
    /// advisor reads a listing's sales from (`GET /v1/channels/{c}/listings/{sku}/advice`).
    JournalTail { limit: usize },
    /// Apply commands in order, all or none: if one is refused, none of them applies.
    Apply { commands: Vec<Command> },
    /// A step of the single-SKU reservation `id` this ledger keeps (`cart::single`): its
    /// creation (one part, this SKU), a read, commit, release or extension. A bundle refuses
    /// a creation ([`SkuRefusal::Bundle`]).
    Reservation { id: Token, call: CartAction },
    /// The catalogue's word on whether this SKU is a bundle, and of what (`None`: not a bundle).
    /// Sent before a bundle definition's write or removal is acknowledged.
    SetBundle { components: Option<Vec<Component>> },
    // --- flash-sale allotments (`allot`) ------------------------------------------------------
    /// A call about the SKU's hot policy or the blocks it lends (`allot::lender`).
    Lender { call: LenderCall },
    // --- end of flash-sale allotments --------------------------------------------------------
    /// Only the kept answer of the call's Idempotency-Key: replayed (or refused as reused) as for
    /// any keyed call; a key with no answer kept answers [`SkuAnswer::NotKept`], and nothing is
    /// carried out or recorded. Asked before a gate in front of the ledger (the ERP-master guard)
    /// answers instead of it, so that a repeat still gets its first answer.
    Recall,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkuCall {
    pub sku: Sku,
    #[serde(flatten)]
    pub action: SkuAction,
    /// `Idempotency-Key` and request fingerprint, when the client sent a key.
    #[serde(default)]
    pub idempotency: Option<(String, String)>,
}

/// The state after applied commands and what the last one did (docs/api.md: the state plus
/// `effect`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    #[serde(flatten)]
    pub state: SkuView,
    pub effect: Effect,
}

/// What a ledger answers when it answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkuAnswer {
    State(SkuView),
    Applied(Applied),
    Availability(AvailabilityItem),
    Journal(JournalPage),
    /// A single-SKU reservation as the cart answers it.
    Reservation(CartAnswer),
    /// The bundle definition as now known (`SetBundle`).
    Bundle {
        components: Option<Vec<Component>>,
    },
    // --- flash-sale allotments (`allot`) ------------------------------------------------------
    Lender(LenderReply),
    // --- end of flash-sale allotments --------------------------------------------------------
    /// [`SkuAction::Recall`] of a key with no answer kept.
    NotKept,
}

/// Why a ledger did not answer with a state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum SkuRefusal {
    /// `Get` of a SKU whose stock was never set.
    #[error("{sku} has no stock record")]
    NeverStocked { sku: Sku },
    /// The ledger refused a command; nothing of the call applied.
    #[error("{sku}: {error}")]
    Ledger { sku: Sku, error: LedgerError },
    /// A single-SKU reservation's step did not succeed, as the cart refuses it.
    #[error("{0:?}")]
    Reservation(CartRefusal),
    /// The SKU is a bundle of these components: hold or read them instead.
    #[error("{sku} is a bundle")]
    Bundle { sku: Sku, components: Vec<Component> },
}

/// A ledger's reply to one call.
pub type SkuResult = Result<SkuAnswer, SkuRefusal>;
/// A ledger's reply to one call, with the Idempotency-Key's verdict.
pub type SkuReplyKeyed = Keyed<SkuResult>;

/// `Get`: the state at `now`, or never stocked.
pub fn state(ledger: &mut Ledger, sku: &Sku, now: Millis) -> SkuResult {
    ledger.expire_due(now);
    if ledger.version() == 0 {
        return Err(SkuRefusal::NeverStocked { sku: sku.clone() });
    }
    Ok(SkuAnswer::State(SkuView::of(sku, ledger)))
}

/// `Availability`: one item at `now`; an unknown SKU reads as 0; a bundle is refused with its
/// components.
pub fn availability(ledger: &mut Ledger, sku: &Sku, bundle: Option<&[Component]>, now: Millis) -> SkuResult {
    if let Some(components) = bundle {
        return Err(SkuRefusal::Bundle { sku: sku.clone(), components: components.to_vec() });
    }
    ledger.expire_due(now);
    Ok(SkuAnswer::Availability(AvailabilityItem::of(sku, ledger)))
}

/// `Apply`: the commands in order at `now`. A refused command rolls back the ones before it in
/// the same call.
pub fn apply(ledger: &mut Ledger, sku: &Sku, commands: Vec<Command>, now: Millis) -> SkuResult {
    let before = (commands.len() > 1).then(|| ledger.clone());
    let mut effect = Effect::Duplicate;
    for cmd in commands {
        match ledger.apply(cmd, now) {
            Ok(a) => effect = a.effect,
            Err(error) => {
                if let Some(b) = before {
                    *ledger = b;
                }
                return Err(SkuRefusal::Ledger { sku: sku.clone(), error });
            }
        }
    }
    Ok(SkuAnswer::Applied(Applied { state: SkuView::of(sku, ledger), effect }))
}

/// `Journal`: a page of at most `limit` entries from `entries` (read with `limit + 1` rows, so
/// that one more says whether a next page exists).
pub fn journal_page(sku: &Sku, entries: &[Entry], limit: usize) -> SkuResult {
    let page: Vec<EntryView> = entries.iter().take(limit).map(EntryView::from).collect();
    let next = (entries.len() > limit).then(|| page.last().map(|e| e.seq)).flatten();
    Ok(SkuAnswer::Journal(JournalPage { sku: sku.to_string(), entries: page, next }))
}

/// What a cart coordinator makes of a ledger's reply to a hold command.
pub fn hold_reply(reply: SkuResult) -> SkuReply {
    match reply {
        Ok(_) => SkuReply::Done,
        Err(SkuRefusal::Ledger { error, .. }) => SkuReply::refused(error),
        Err(SkuRefusal::NeverStocked { sku }) => SkuReply::Unavailable(format!("{sku} answered a read to a command")),
        Err(e @ (SkuRefusal::Reservation(_) | SkuRefusal::Bundle { .. })) => {
            SkuReply::Unavailable(format!("a ledger answered a hold command with {e}"))
        }
    }
}

/// What a ledger's reply to a [`SkuAction::Reservation`] is to the Worker.
#[derive(Clone, Debug, PartialEq)]
pub enum LedgerCart {
    /// The cart's answer or refusal, with the key's verdict: rendered by `cart_call::render_keyed`.
    Reply(CartReply),
    /// The SKU is a bundle: expand it with these components and hold them through a coordinator.
    Bundle(Vec<Component>),
    /// Not a reply to this call (version skew or a bug).
    OutOfContract(String),
}

/// Reads a ledger's reply to a reservation step.
pub fn ledger_cart(reply: SkuReplyKeyed) -> LedgerCart {
    let (reply, replayed) = match reply {
        Keyed::Answered(r) => (r, false),
        Keyed::Replayed(r) => (r, true),
        Keyed::KeyReused => return LedgerCart::Reply(Keyed::KeyReused),
    };
    let cart = match reply {
        Ok(SkuAnswer::Reservation(a)) => Ok(a),
        Err(SkuRefusal::Reservation(r)) => Err(r),
        Err(SkuRefusal::Bundle { components, .. }) => return LedgerCart::Bundle(components),
        other => return LedgerCart::OutOfContract(format!("{other:?}")),
    };
    LedgerCart::Reply(if replayed { Keyed::Replayed(cart) } else { Keyed::Answered(cart) })
}

/// A reservation step's reply as a ledger sends it.
pub fn from_cart(reply: Keyed<super::cart_call::CartResult>) -> SkuReplyKeyed {
    let sku = |r: super::cart_call::CartResult| r.map(SkuAnswer::Reservation).map_err(SkuRefusal::Reservation);
    match reply {
        Keyed::Answered(r) => Keyed::Answered(sku(r)),
        Keyed::Replayed(r) => Keyed::Replayed(sku(r)),
        Keyed::KeyReused => Keyed::KeyReused,
    }
}

/// The HTTP answer for a ledger's reply.
pub fn render(reply: SkuResult) -> HttpReply {
    match reply {
        Ok(SkuAnswer::State(v)) => HttpReply::json(200, &v),
        Ok(SkuAnswer::Applied(a)) => HttpReply::json(200, &a),
        Ok(SkuAnswer::Availability(i)) => HttpReply::json(200, &i),
        Ok(SkuAnswer::Journal(p)) => HttpReply::json(200, &p),
        Ok(SkuAnswer::Reservation(a)) => super::cart_call::render(Ok(a)),
        Ok(SkuAnswer::Bundle { components }) => HttpReply::json(200, &serde_json::json!({ "components": components })),
        Ok(SkuAnswer::Lender(r)) => HttpReply::json(200, &r),
        // A recall's "nothing kept" is read by the caller, never answered as such.
        Ok(SkuAnswer::NotKept) => HttpReply::problem(Problem::new(Kind::Internal, "no answer kept for the key")),
        Err(e @ SkuRefusal::NeverStocked { .. }) => HttpReply::problem(Problem::new(Kind::SkuNotFound, e.to_string())),
        Err(SkuRefusal::Ledger { sku, error }) => HttpReply::problem(from_ledger(sku.as_str(), &error)),
        Err(SkuRefusal::Reservation(r)) => super::cart_call::render(Err(r)),
        Err(e @ SkuRefusal::Bundle { .. }) => HttpReply::problem(Problem::new(Kind::Internal, e.to_string())),
    }
}

/// The HTTP answer for a keyed ledger reply (a replay is flagged).
pub fn render_keyed(reply: SkuReplyKeyed) -> HttpReply {
    HttpReply::keyed(reply, render)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::{Cause, Location};

    fn set(n: i64) -> Command {
        Command::Set { location: Location::main(), on_hand: n, expected_version: None, cause: Cause::default() }
    }

    #[test]
    fn a_refused_command_rolls_back_the_earlier_ones_of_the_call() {
        let sku = Sku::parse("A").expect("sku");
        let mut l = Ledger::new();
        let bad = Command::Adjust { location: Location::main(), delta: -100, cause: Cause::default() };
        let refused = apply(&mut l, &sku, vec![set(5), bad], Millis(1));
        assert!(matches!(refused, Err(SkuRefusal::Ledger { error: LedgerError::NegativeOnHand { .. }, .. })));
        assert_eq!(render(refused).status(), 409);
        assert_eq!(l.version(), 0);
        assert!(l.take_changes().is_empty(), "nothing left to persist");
        let Ok(SkuAnswer::Applied(a)) = apply(&mut l, &sku, vec![set(5)], Millis(2)) else { panic!("applied") };
        assert_eq!((a.state.available, a.effect), (5, Effect::Applied));
    }

    #[test]
    fn unknown_sku_is_404_but_reads_as_zero_availability() {
        let sku = Sku::parse("NEW").expect("sku");
        let mut l = Ledger::new();
        assert_eq!(render(state(&mut l, &sku, Millis(0))).status(), 404);
        let Ok(SkuAnswer::Availability(item)) = availability(&mut l, &sku, None, Millis(0)) else { panic!("item") };
        assert_eq!(item.available, 0);
    }

    #[test]
    fn a_reply_travels_typed_and_renders_the_public_body() {
        let sku = Sku::parse("A").expect("sku");
        let mut l = Ledger::new();
        let first = apply(&mut l, &sku, vec![set(5)], Millis(1));
        let wire = serde_json::to_string(&Keyed::Answered(first.clone())).expect("encode");
        let back: SkuReplyKeyed = serde_json::from_str(&wire).expect("decode");
        assert_eq!(back, Keyed::Answered(first.clone()));
        let body: serde_json::Value = serde_json::from_str(&render(first).text()).expect("json");
        assert_eq!((body["on_hand"].as_i64(), body["effect"].as_str()), (Some(5), Some("applied")));
        let short = apply(&mut l, &sku, vec![set(-1)], Millis(2));
        let wire = serde_json::to_string(&short).expect("encode");
        assert_eq!(serde_json::from_str::<SkuResult>(&wire).expect("decode"), short);
    }

    #[test]
    fn a_reservation_reply_reaches_the_worker_as_the_cart_reply_or_a_bundle() {
        use crate::catalog::Component;
        let id = Token::parse("rsk_x").expect("id");
        let refused = from_cart(Keyed::Replayed(Err(CartRefusal::NotFound { id: id.clone() })));
        let wire: SkuReplyKeyed =
            serde_json::from_str(&serde_json::to_string(&refused).expect("encode")).expect("decode");
        assert_eq!(ledger_cart(wire), LedgerCart::Reply(Keyed::Replayed(Err(CartRefusal::NotFound { id }))));
        assert_eq!(ledger_cart(from_cart(Keyed::KeyReused)), LedgerCart::Reply(Keyed::KeyReused));
        let sku = Sku::parse("KIT").expect("sku");
        let components = vec![Component { sku: Sku::parse("A").expect("sku"), qty: 2 }];
        let mut l = Ledger::new();
        let bundle = availability(&mut l, &sku, Some(&components), Millis(0));
        assert_eq!(bundle, Err(SkuRefusal::Bundle { sku: sku.clone(), components: components.clone() }));
        assert_eq!(ledger_cart(Keyed::Answered(bundle)), LedgerCart::Bundle(components));
        let read = availability(&mut l, &sku, None, Millis(0));
        assert!(matches!(ledger_cart(Keyed::Answered(read)), LedgerCart::OutOfContract(_)));
    }

    #[test]
    fn the_journal_page_says_whether_more_follow() {
        let sku = Sku::parse("A").expect("sku");
        let mut l = Ledger::new();
        for n in 1..=3 {
            apply(&mut l, &sku, vec![set(n)], Millis(n)).expect("set");
        }
        let entries = l.take_changes().entries;
        let Ok(SkuAnswer::Journal(p)) = journal_page(&sku, &entries, 2) else { panic!("page") };
        assert_eq!((p.entries.len(), p.next), (2, Some(entries[1].seq)));
        let Ok(SkuAnswer::Journal(p)) = journal_page(&sku, &entries, 3) else { panic!("page") };
        assert_eq!(p.next, None);
    }
}
