//! An order desk object as `edge::order_object` runs it: the book (`orders::Book`) is its only
//! stored state; a plan is saved as pending (with an alarm) before any ledger is told, cleared
//! once every ledger confirmed, and re-sent by the next call or the alarm otherwise. The ledger
//! calls go through the world (faults included), so a desk may stop half way: its pending plan
//! finishes the rest.

use stockedge::api::order_call::OrderAction;
use stockedge::orders::{check_on_hand, Book, Plan};
use stockedge::stock::{Location, OrderKey, Sku};
use stockedge::time::Millis;

/// `cart::coordinator::RESUME_DELAY_MS`: the desk's alarm after saving a pending plan.
pub const DESK_RESUME_MS: i64 = stockedge::cart::coordinator::RESUME_DELAY_MS;

#[derive(Default)]
pub struct Desk {
    pub book: Option<Book>,
    pub alarm: Option<Millis>,
}

/// What a desk answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeskAnswer {
    Done,
    /// A ledger could not be reached: the plan stays pending (`OrderRefusal::Unavailable`).
    Unavailable,
    /// The desk itself could not be reached, or its answer was lost (a transport error).
    Unreachable,
    /// The book or a ledger refused.
    Refused(String),
}

impl DeskAnswer {
    /// How a keeper's registration sent to the desk is settled (`cart::registration::Delivery`,
    /// as `edge::order_client::register` takes a reply).
    pub fn delivery(&self) -> stockedge::cart::registration::Delivery {
        use stockedge::cart::registration::Delivery;
        match self {
            DeskAnswer::Done | DeskAnswer::Unavailable => Delivery::Taken,
            DeskAnswer::Refused(why) => Delivery::Refused(why.clone()),
            DeskAnswer::Unreachable => Delivery::Unreached,
        }
    }
}

/// The ledger side a desk talks to (the world, with its faults).
pub trait Ledgers {
    /// `Apply { commands }` at `sku`: `None` when unreachable, else `Err` with a ledger refusal.
    fn apply(&self, sku: &Sku, commands: Vec<stockedge::stock::Command>) -> Option<Result<(), String>>;
    /// The on hand of `sku` at `location` (`None`: unreachable).
    fn on_hand(&self, sku: &Sku, location: &Location) -> Option<i64>;
    /// Whether the desk's isolate dies in the middle of sending (after some ledgers were told).
    fn crash_mid_send(&self) -> bool;
    fn now(&self) -> Millis;
}

enum Sent {
    Confirmed(Vec<Result<(), String>>),
    Pending,
    Crashed,
}

fn send(ledgers: &impl Ledgers, plan: &Plan) -> Sent {
    let mut parts = Vec::new();
    let mut pending = false;
    for (sku, commands) in plan {
        if ledgers.crash_mid_send() {
            return Sent::Crashed;
        }
        match ledgers.apply(sku, commands.clone()) {
            Some(r) => parts.push(r),
            None => pending = true,
        }
    }
    if pending {
        Sent::Pending
    } else {
        Sent::Confirmed(parts)
    }
}

impl Desk {
    fn run(&mut self, ledgers: &impl Ledgers, book: &mut Book, plan: Plan) -> Sent {
        book.pending = Some(plan.clone());
        self.book = Some(book.clone());
        self.alarm = Some(Millis(ledgers.now().0 + DESK_RESUME_MS));
        let sent = send(ledgers, &plan);
        if let Sent::Confirmed(parts) = &sent {
            let refused: Vec<Sku> =
                plan.iter().zip(parts).filter(|(_, p)| p.is_err()).map(|((sku, _), _)| sku.clone()).collect();
            book.confirmed(&plan, &refused);
            self.book = Some(book.clone());
            self.alarm = None;
        }
        sent
    }

    /// `OrderDesk::call`.
    pub fn call(&mut self, ledgers: &impl Ledgers, order: &OrderKey, action: OrderAction) -> DeskAnswer {
        let mut book = self.book.clone().unwrap_or_else(|| Book::new(order.clone()));
        if let Some(plan) = book.pending.clone() {
            match self.run(ledgers, &mut book, plan) {
                Sent::Confirmed(_) => {}
                Sent::Pending | Sent::Crashed => return DeskAnswer::Unavailable,
            }
        }
        let plan = match action {
            OrderAction::Attach { lines } => {
                let plan = book.attach(lines);
                if plan.is_empty() {
                    self.book = Some(book);
                    return DeskAnswer::Done;
                }
                plan
            }
            OrderAction::Sell { .. } if book.cancelled => return DeskAnswer::Done,
            OrderAction::Sell { lines } => book.sell(&lines),
            OrderAction::Cancel { reason } => book.cancel(reason),
            OrderAction::Fulfil { lines } => match book.fulfil(&lines) {
                Ok(plan) => {
                    let unreachable = std::cell::Cell::new(false);
                    let have = |sku: &Sku, loc: &Location| match ledgers.on_hand(sku, loc) {
                        Some(n) => n,
                        None => {
                            unreachable.set(true);
                            0
                        }
                    };
                    let checked = check_on_hand(&plan, have);
                    if unreachable.get() {
                        return DeskAnswer::Unavailable;
                    }
                    if let Err(e) = checked {
                        return DeskAnswer::Refused(e.to_string());
                    }
                    plan
                }
                Err(e) => return DeskAnswer::Refused(e.to_string()),
            },
        };
        let parts = match self.run(ledgers, &mut book, plan.clone()) {
            Sent::Confirmed(parts) => parts,
            Sent::Pending | Sent::Crashed => return DeskAnswer::Unavailable,
        };
        if let Some(e) = parts.iter().find_map(|p| p.as_ref().err()) {
            return DeskAnswer::Refused(e.clone());
        }
        DeskAnswer::Done
    }

    /// `OrderDesk::alarm`.
    pub fn alarm(&mut self, ledgers: &impl Ledgers) {
        self.alarm = None;
        if let Some(mut book) = self.book.clone() {
            if let Some(plan) = book.pending.clone() {
                self.run(ledgers, &mut book, plan);
            }
        }
    }
}
