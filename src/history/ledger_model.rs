//! The sequential specification of one SKU: the real ledger (`stock::Ledger`) and the views the
//! API builds its answers from (`api::views`), so a history is checked against the code that
//! decides, not against a re-statement of it.
//!
//! A recorded call becomes the ledger command the SKU's object applies for it (a one-hop
//! reservation's `Reserve`, `Commit`, `Release`, `Extend`; a sale's `Sale`; an adjustment's
//! `Adjust`) or a read of the state, at location `main`. What the model abstracts:
//! - Time. Every command is applied at instant 0 and holds are due far in the future: the
//!   recorder's holds live minutes and its runs last seconds, so no hold expires during a
//!   history (an expiry would show as a `released`/`not_held` status `expired` the model never
//!   answers: the history would be refused, not wrongly accepted). An extend moves the deadline
//!   to a value no other call uses, as the recorder's strictly growing TTLs do.
//! - Names. Hold ids are renamed `h<n>` (holds of reserves never answered `p<index>`, which no
//!   later call can name); orders keep their ids. The ledger's answers do not depend on names.
//! - What the record does not compare: a hold's `expires_at`, the sale's other fields.

use std::collections::{BTreeMap, HashMap};

use super::fingerprint;
use super::model::Model;
use super::record::{Call, History, Outcome, RecordError};
use super::search::{check, Timed, Verdict};
use crate::api::views::{AvailabilityItem, SkuView};
use crate::stock::{
    Cause, Command, Effect, HoldId, HoldStatus, Ledger, LedgerError, Levels, Location, OrderKey, SaleLine, Sku,
    Snapshot, Token,
};
use crate::time::Millis;

/// Where the model's holds are due: later than any run.
const DEADLINE: Millis = Millis(1 << 50);

/// One recorded call made ready for the ledger: the command's arguments and what it answered.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerOp {
    pub act: Act,
    /// The recorded outcome; `None`: never seen (the call may have done what it does, or nothing).
    pub expect: Option<Outcome>,
}

/// A call in the ledger's terms.
#[derive(Clone, Debug, PartialEq)]
pub enum Act {
    /// `shown`: the hold id the answer named (empty when it named none).
    Reserve {
        hold: HoldId,
        shown: String,
        qty: i64,
    },
    Commit {
        hold: HoldId,
        order: OrderKey,
    },
    Release {
        hold: HoldId,
    },
    Extend {
        hold: HoldId,
        expires_at: Millis,
    },
    Sale {
        order: OrderKey,
        line: Token,
        qty: i64,
    },
    Adjust {
        delta: i64,
    },
    Read,
}

/// The ledger of `sku` as a [`Model`].
#[derive(Clone, Debug)]
pub struct LedgerModel {
    pub sku: Sku,
}

/// The model's state: the SKU's ledger.
pub type LedgerState = Ledger;

impl LedgerModel {
    /// What the ledger answers to `act`, applying it to `ledger`; `None` for an answer no recorded
    /// outcome can be (a refusal the recorder does not expect, such as an unknown hold).
    pub fn answer(&self, ledger: &mut Ledger, act: &Act) -> Option<Outcome> {
        let now = Millis(0);
        let main = Location::main();
        let outcome = match act {
            Act::Reserve { hold, shown, qty } => {
                let cmd = Command::Reserve {
                    hold: hold.clone(),
                    lines: vec![(main, *qty)],
                    expires_at: DEADLINE,
                    channel: None,
                    reference: None,
                };
                match ledger.apply(cmd, now) {
                    Ok(_) => Some(Outcome::Held { hold: shown.clone() }),
                    Err(LedgerError::InsufficientStock { available, .. }) => Some(Outcome::Short { available }),
                    Err(_) => None,
                }
            }
            Act::Commit { hold, order } => {
                match ledger.apply(Command::Commit { hold: hold.clone(), order: order.clone() }, now) {
                    Ok(_) => Some(Outcome::Committed),
                    Err(LedgerError::HoldNotHeld(status)) => Some(Outcome::NotHeld { status }),
                    Err(_) => None,
                }
            }
            Act::Release { hold } => match ledger.apply(Command::Release { hold: hold.clone() }, now) {
                Ok(a) => match a.effect {
                    Effect::HoldAlready(status) => Some(Outcome::Released { status }),
                    _ => Some(Outcome::Released { status: HoldStatus::Released }),
                },
                Err(LedgerError::HoldNotHeld(status)) => Some(Outcome::NotHeld { status }),
                Err(_) => None,
            },
            Act::Extend { hold, expires_at } => {
                match ledger.apply(Command::Extend { hold: hold.clone(), expires_at: *expires_at }, now) {
                    Ok(_) => Some(Outcome::Extended),
                    Err(LedgerError::HoldNotHeld(status)) => Some(Outcome::NotHeld { status }),
                    Err(_) => None,
                }
            }
            Act::Sale { order, line, qty } => {
                let lines = vec![SaleLine { line_id: line.clone(), location: main, qty: *qty }];
                match ledger.apply(Command::Sale { order: order.clone(), lines }, now) {
                    Ok(a) => {
                        let v = SkuView::of(&self.sku, ledger);
                        Some(Outcome::Sold {
                            effect: a.effect,
                            available: v.available,
                            oversold: v.oversold,
                            version: v.version,
                        })
                    }
                    Err(_) => None,
                }
            }
            Act::Adjust { delta } => {
                let cause = Cause { reason: Some("restock".into()), ..Cause::default() };
                match ledger.apply(Command::Adjust { location: main, delta: *delta, cause }, now) {
                    Ok(_) => {
                        let v = SkuView::of(&self.sku, ledger);
                        Some(Outcome::Adjusted { on_hand: v.on_hand, available: v.available, version: v.version })
                    }
                    Err(_) => None,
                }
            }
            Act::Read => {
                let item = AvailabilityItem::of(&self.sku, ledger);
                Some(Outcome::Read { available: item.available, sellable: item.sellable, version: item.version })
            }
        };
        // The journal entries and dirty sets are the shell's to persist; the model keeps none.
        ledger.take_changes();
        outcome
    }
}

impl Model for LedgerModel {
    type State = LedgerState;
    type Op = LedgerOp;
    type Key = u128;

    fn step(&self, state: &Ledger, op: &LedgerOp) -> Option<Ledger> {
        let mut next = state.clone();
        let answered = self.answer(&mut next, &op.act);
        match &op.expect {
            None => Some(next),
            Some(expected) => (answered.as_ref() == Some(expected)).then_some(next),
        }
    }

    fn key(&self, state: &Ledger) -> u128 {
        fingerprint::of(state)
    }

    /// The ledger's version never goes back (`Ledger::apply` asserts it in every build): a read
    /// that answered a version below the state's, or a sale or adjustment (each moves the version
    /// by one) that answered one at or below it, can no longer be explained.
    fn hopeless(&self, state: &Ledger, op: &LedgerOp) -> bool {
        match op.expect {
            Some(Outcome::Read { version, .. }) => version < state.version(),
            Some(Outcome::Sold { version, .. } | Outcome::Adjusted { version, .. }) => version <= state.version(),
            _ => false,
        }
    }
}

/// A history made ready for the search: the model, its initial state and the timed operations.
pub struct Prepared {
    pub model: LedgerModel,
    pub init: Ledger,
    pub ops: Vec<Timed<LedgerOp>>,
}

fn invalid(field: String, why: impl ToString) -> RecordError {
    RecordError::Invalid { field, why: why.to_string() }
}

/// Turns `history` into ledger operations (see the module's documentation for the renaming).
pub fn prepare(history: &History) -> Result<Prepared, RecordError> {
    history.validate()?;
    let sku = Sku::parse(&history.sku).map_err(|e| invalid("sku".into(), e))?;
    let token = |field: String, s: &str| Token::parse(s).map_err(|e| invalid(field, e));
    let mut holds: HashMap<String, HoldId> = HashMap::new();
    let mut named = |name: &str| -> Result<HoldId, RecordError> {
        let n = holds.len();
        match holds.get(name) {
            Some(id) => Ok(id.clone()),
            None => {
                let id = token(format!("hold {name}"), &format!("h{n}"))?;
                holds.insert(name.to_owned(), id.clone());
                Ok(id)
            }
        }
    };
    let direct = token("channel".into(), OrderKey::DIRECT)?;
    let line = token("line".into(), &format!("{sku}@main"))?;
    let mut ops = Vec::with_capacity(history.ops.len());
    for (index, r) in history.ops.iter().enumerate() {
        let act = match &r.call {
            Call::Reserve { qty } => match &r.outcome {
                Some(Outcome::Held { hold }) => Act::Reserve { hold: named(hold)?, shown: hold.clone(), qty: *qty },
                _ => Act::Reserve {
                    hold: token(format!("ops[{index}]"), &format!("p{index}"))?,
                    shown: String::new(),
                    qty: *qty,
                },
            },
            Call::Commit { hold, order } => Act::Commit {
                hold: named(hold)?,
                order: OrderKey { channel: direct.clone(), order_id: token(format!("ops[{index}].order"), order)? },
            },
            Call::Release { hold } => Act::Release { hold: named(hold)? },
            // Each extend moves the deadline somewhere no other call does.
            Call::Extend { hold } => {
                Act::Extend { hold: named(hold)?, expires_at: Millis(DEADLINE.0 + 1 + index as i64) }
            }
            Call::Sale { channel, order, qty } => Act::Sale {
                order: OrderKey {
                    channel: token(format!("ops[{index}].channel"), channel)?,
                    order_id: token(format!("ops[{index}].order"), order)?,
                },
                line: line.clone(),
                qty: *qty,
            },
            Call::Adjust { delta } => Act::Adjust { delta: *delta },
            Call::Read => Act::Read,
        };
        let returned = r.outcome.as_ref().and(r.returned);
        ops.push(Timed { op: LedgerOp { act, expect: r.outcome.clone() }, invoke: r.invoke, returned });
    }
    let i = history.initial;
    let init = Ledger::restore(Snapshot {
        levels: BTreeMap::from([(Location::main(), Levels { on_hand: i.on_hand, reserved: 0, committed: 0 })]),
        backorder_limit: i.backorder_limit,
        version: i.version,
        ..Snapshot::default()
    });
    Ok(Prepared { model: LedgerModel { sku }, init, ops })
}

/// Checks `history` against the ledger, giving up after `budget` model steps.
pub fn check_history(history: &History, budget: u64) -> Result<Verdict, RecordError> {
    let p = prepare(history)?;
    Ok(check(&p.model, p.init, &p.ops, budget))
}

/// A refused history's story, for a person: the longest order found, the state it reached, and the
/// call that could not come next, with what the ledger would have answered instead.
pub fn explain(history: &History, verdict: &Verdict) -> String {
    let Verdict::NotLinearizable { longest, blocked, .. } = verdict else {
        return format!("{verdict:?}");
    };
    let Ok(p) = prepare(history) else { return String::from("the history does not prepare") };
    let mut ledger = p.init.clone();
    for &i in longest {
        p.model.answer(&mut ledger, &p.ops[i].op.act);
    }
    let t = ledger.totals();
    let mut s = format!(
        "{}: the longest order found linearizes {} of {} calls and reaches version {}, on hand {}, reserved {}, \
         committed {}, available {}",
        history.sku,
        longest.len(),
        history.ops.len(),
        ledger.version(),
        t.on_hand,
        t.reserved,
        t.committed,
        t.available
    );
    if let Some(b) = blocked {
        let r = &history.ops[*b];
        let would = p.model.answer(&mut ledger.clone(), &p.ops[*b].op.act);
        s.push_str(&format!(
            "; then call #{b} (client {}, {:?}, invoked {:.3}, returned {:?}) answered {:?}, where the ledger would \
             answer {:?}",
            r.client, r.call, r.invoke, r.returned, r.outcome, would
        ));
    }
    s
}
