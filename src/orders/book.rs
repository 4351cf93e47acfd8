//! The order book of one order (channel, order id): which SKU lines it sold, whether it was
//! cancelled, what shipped — and the SKU commands each request turns into.
//!
//! One book per order means every sale, cancellation and fulfilment of that order is decided
//! in one place, in order. The SKU ledgers stay the authority on quantities; the book knows
//! which ledgers an order touched, so a cancellation reaches all of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::line::Line;
use crate::stock::{Command, Location, OrderKey, SaleLine, Sku, Token};

/// One sold line, as the book records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookLine {
    pub sku: Sku,
    pub line_id: Token,
    pub location: Location,
    pub qty: i64,
}

/// Commands for the SKU ledgers, grouped per SKU, that a request was turned into. Kept in the
/// book until every ledger confirmed, so an interrupted request is finished by re-sending them
/// (each is idempotent: sale lines by line id, cancel by order, fulfilments by shipment id).
pub type Plan = Vec<(Sku, Vec<Command>)>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    pub order: OrderKey,
    pub lines: Vec<BookLine>,
    pub cancelled: bool,
    /// Units shipped per (SKU, location).
    pub shipped: BTreeMap<String, i64>,
    pub shipments: u64,
    /// A plan not yet confirmed by every ledger.
    pub pending: Option<Plan>,
}

/// Why the book refused a request. Travels to the Worker as is (serde);
/// `api::problem::from_book` maps it to HTTP.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookError {
    #[error("the order was cancelled")]
    Cancelled,
    #[error("no units of this order are recorded")]
    NotFound,
    #[error("{sku} at {location}: {requested} to ship, {open} open on the order")]
    OverFulfilment { sku: String, location: String, requested: i64, open: i64 },
    #[error("{sku}: {requested} to ship from {location}, {on_hand} on hand")]
    NotOnHand { sku: Sku, location: Location, requested: i64, on_hand: i64 },
}

/// Checks a fulfilment plan against the units each ledger has on hand (`on_hand(sku,
/// location)`, read just before), so that a shipment the ledgers would refuse in part ships
/// nothing at all.
pub fn check_on_hand(plan: &Plan, on_hand: impl Fn(&Sku, &Location) -> i64) -> Result<(), BookError> {
    for (sku, commands) in plan {
        for c in commands {
            let Command::Fulfil { location, qty, .. } = c else { continue };
            let have = on_hand(sku, location);
            if have < *qty {
                return Err(BookError::NotOnHand {
                    sku: sku.clone(),
                    location: location.clone(),
                    requested: *qty,
                    on_hand: have,
                });
            }
        }
    }
    Ok(())
}

fn shipped_key(sku: &Sku, location: &Location) -> String {
    format!("{sku} {location}")
}

/// The default line id of a line that names none: its SKU and location.
pub fn default_line_id(sku: &Sku, location: &Location) -> Token {
    Token::parse(&format!("{sku}@{location}"))
        .unwrap_or_else(|_| Token::parse("line").unwrap_or_else(|_| unreachable!()))
}

fn group(commands: Vec<(Sku, Command)>) -> Plan {
    let mut by_sku: BTreeMap<Sku, Vec<Command>> = BTreeMap::new();
    for (sku, c) in commands {
        by_sku.entry(sku).or_default().push(c);
    }
    by_sku.into_iter().collect()
}

impl Book {
    pub fn new(order: OrderKey) -> Book {
        Book { order, lines: Vec::new(), cancelled: false, shipped: BTreeMap::new(), shipments: 0, pending: None }
    }

    /// Records sold lines (new line ids only) and plans a `Sale` per SKU. A cancelled order
    /// records nothing and plans nothing: its late sale is ignored.
    pub fn sell(&mut self, lines: &[Line]) -> Plan {
        if self.cancelled {
            return Vec::new();
        }
        let mut per_sku: BTreeMap<Sku, Vec<SaleLine>> = BTreeMap::new();
        for l in lines {
            let line_id = l.line_id.clone().unwrap_or_else(|| default_line_id(&l.sku, &l.location));
            let known = self.lines.iter().any(|b| b.sku == l.sku && b.line_id == line_id);
            let dup_in_request = per_sku.get(&l.sku).is_some_and(|v| v.iter().any(|s| s.line_id == line_id));
            if dup_in_request {
                continue;
            }
            if !known {
                self.lines.push(BookLine {
                    sku: l.sku.clone(),
                    line_id: line_id.clone(),
                    location: l.location.clone(),
                    qty: l.qty,
                });
            }
            // Known lines are sent again too: the ledger ignores them, and a sale whose earlier
            // delivery did not reach every ledger is completed.
            let recorded = self.lines.iter().find(|b| b.sku == l.sku && b.line_id == line_id);
            let (location, qty) = recorded.map(|b| (b.location.clone(), b.qty)).unwrap_or((l.location.clone(), l.qty));
            per_sku.entry(l.sku.clone()).or_default().push(SaleLine { line_id, location, qty });
        }
        per_sku
            .into_iter()
            .map(|(sku, lines)| (sku, vec![Command::Sale { order: self.order.clone(), lines }]))
            .collect()
    }

    /// Records committed storefront lines (from a reservation commit) so that cancellation and
    /// fulfilment can reach their ledgers. Plans nothing while the order stands: the ledgers
    /// already hold them. An order cancelled before its lines were attached (the cancellation
    /// reached the desk before the commit's registration did) plans a `Cancel` on each ledger
    /// whose lines are new to the book, so that the units its cancellation could not reach go
    /// back to available — as they would have had the registration come first.
    pub fn attach(&mut self, lines: Vec<BookLine>) -> Plan {
        let mut fresh: Vec<Sku> = Vec::new();
        for l in lines {
            if !self.lines.iter().any(|b| b.sku == l.sku && b.line_id == l.line_id) {
                if !fresh.contains(&l.sku) {
                    fresh.push(l.sku.clone());
                }
                self.lines.push(l);
            }
        }
        if !self.cancelled {
            return Vec::new();
        }
        fresh.sort();
        fresh
            .into_iter()
            .map(|s| (s, vec![Command::Cancel { order: self.order.clone(), reason: Some("order_cancelled".into()) }]))
            .collect()
    }

    /// Marks the order cancelled and plans a `Cancel` on every ledger it touched.
    pub fn cancel(&mut self, reason: Option<String>) -> Plan {
        self.cancelled = true;
        let mut skus: Vec<&Sku> = self.lines.iter().map(|l| &l.sku).collect();
        skus.sort();
        skus.dedup();
        skus.into_iter()
            .map(|s| (s.clone(), vec![Command::Cancel { order: self.order.clone(), reason: reason.clone() }]))
            .collect()
    }

    /// Units sold and not shipped of `sku` at `location`.
    pub fn open(&self, sku: &Sku, location: &Location) -> i64 {
        if self.cancelled {
            return 0;
        }
        let sold: i64 = self.lines.iter().filter(|l| &l.sku == sku && &l.location == location).map(|l| l.qty).sum();
        sold - self.shipped.get(&shipped_key(sku, location)).copied().unwrap_or(0)
    }

    /// Checks every line against what is open, then records the shipment and plans a
    /// `Fulfil` per (SKU, location). All lines or none.
    pub fn fulfil(&mut self, lines: &[Line]) -> Result<Plan, BookError> {
        if self.cancelled {
            return Err(BookError::Cancelled);
        }
        if self.lines.is_empty() {
            return Err(BookError::NotFound);
        }
        let mut want: BTreeMap<(Sku, Location), i64> = BTreeMap::new();
        for l in lines {
            *want.entry((l.sku.clone(), l.location.clone())).or_default() += l.qty;
        }
        for ((sku, location), qty) in &want {
            let open = self.open(sku, location);
            if *qty > open {
                return Err(BookError::OverFulfilment {
                    sku: sku.to_string(),
                    location: location.to_string(),
                    requested: *qty,
                    open,
                });
            }
        }
        self.shipments += 1;
        let shipment = Token::parse(&format!("shipment-{}", self.shipments)).unwrap_or_else(|_| unreachable!());
        let mut commands = Vec::new();
        for ((sku, location), qty) in want {
            *self.shipped.entry(shipped_key(&sku, &location)).or_default() += qty;
            commands
                .push((sku, Command::Fulfil { order: self.order.clone(), location, qty, shipment: shipment.clone() }));
        }
        Ok(group(commands))
    }

    /// Every ledger answered the pending plan `plan` (applied, or refused: `refused` names the
    /// SKUs that refused their part): the plan is no longer pending, and the shipments of the
    /// refused parts are taken back ([`Book::unship`]) — whoever sent the plan, the request that
    /// made it or the next call or alarm that finished it.
    pub fn confirmed(&mut self, plan: &Plan, refused: &[Sku]) {
        self.pending = None;
        for (sku, commands) in plan {
            if refused.contains(sku) {
                self.unship(sku, commands);
            }
        }
    }

    /// Takes back the shipments of `commands` that a ledger refused, so the order can be
    /// fulfilled again once the ledger agrees.
    pub fn unship(&mut self, sku: &Sku, commands: &[Command]) {
        for c in commands {
            if let Command::Fulfil { location, qty, .. } = c {
                if let Some(n) = self.shipped.get_mut(&shipped_key(sku, location)) {
                    *n -= qty;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, qty: i64, id: Option<&str>) -> Line {
        Line {
            sku: Sku::parse(sku).expect("sku"),
            qty,
            location: Location::main(),
            line_id: id.map(|i| Token::parse(i).expect("id")),
        }
    }

    fn book() -> Book {
        Book::new(OrderKey { channel: Token::parse("shopify").expect("c"), order_id: Token::parse("1001").expect("o") })
    }

    #[test]
    fn a_resent_sale_keeps_the_first_quantities() {
        let mut b = book();
        b.sell(&[line("A", 2, Some("1"))]);
        let plan = b.sell(&[line("A", 9, Some("1"))]);
        assert_eq!(b.lines.len(), 1);
        let Command::Sale { lines, .. } = &plan[0].1[0] else { panic!("sale expected") };
        assert_eq!(lines[0].qty, 2, "the ledger sees the recorded quantity, not the resent one");
    }

    #[test]
    fn cancel_before_sale_ignores_the_sale() {
        let mut b = book();
        assert!(b.cancel(None).is_empty());
        assert!(b.sell(&[line("A", 1, None)]).is_empty());
        assert!(b.lines.is_empty());
    }

    /// Found by the system simulation (`tests/system_simulation.rs`): a storefront order
    /// cancelled at its desk before the commit's registration arrived kept its units committed.
    #[test]
    fn lines_attached_to_a_cancelled_order_are_cancelled_in_their_ledgers() {
        let mut b = book();
        assert!(b.cancel(None).is_empty(), "no line known yet: nothing to tell");
        let attached = |sku: &str, id: &str| BookLine {
            sku: Sku::parse(sku).expect("sku"),
            line_id: Token::parse(id).expect("id"),
            location: Location::main(),
            qty: 1,
        };
        let plan = b.attach(vec![attached("A", "r1@main"), attached("B", "r1@main")]);
        let skus: Vec<String> = plan.iter().map(|(s, _)| s.to_string()).collect();
        assert_eq!(skus, vec!["A", "B"]);
        assert!(plan.iter().all(|(_, c)| matches!(c[..], [Command::Cancel { .. }])));
        assert!(b.attach(vec![attached("A", "r1@main")]).is_empty(), "a repeat has nothing new to cancel");
        let mut open = book();
        assert!(open.attach(vec![attached("A", "r1@main")]).is_empty(), "an order that stands plans nothing");
    }

    #[test]
    fn cancel_reaches_every_sku_the_order_touched() {
        let mut b = book();
        b.sell(&[line("A", 1, None), line("B", 1, None), line("A", 1, Some("x"))]);
        let skus: Vec<String> = b.cancel(None).iter().map(|(s, _)| s.to_string()).collect();
        assert_eq!(skus, vec!["A", "B"]);
    }

    #[test]
    fn fulfilment_is_checked_whole_before_anything_ships() {
        let mut b = book();
        b.sell(&[line("A", 2, None), line("B", 1, None)]);
        let err = b.fulfil(&[line("A", 1, None), line("B", 2, None)]).expect_err("B over");
        assert!(matches!(err, BookError::OverFulfilment { open: 1, requested: 2, .. }));
        assert_eq!(b.open(&Sku::parse("A").expect("s"), &Location::main()), 2, "nothing recorded");
        let plan = b.fulfil(&[line("A", 2, None), line("B", 1, None)]).expect("fits");
        assert_eq!(plan.len(), 2);
        assert_eq!(b.open(&Sku::parse("A").expect("s"), &Location::main()), 0);
    }

    /// A fulfilment that passed the book's check and that one ledger then refused (another
    /// order shipped the same units in between): that SKU's part is taken back and stays open,
    /// the part that shipped stays shipped, and the same fulfilment of the refused part fits
    /// again once the ledger agrees.
    #[test]
    fn a_fulfilment_refused_by_a_ledger_after_the_check_leaves_that_part_open() {
        let mut b = book();
        b.sell(&[line("A", 2, None), line("B", 3, None)]);
        let plan = b.fulfil(&[line("A", 2, None), line("B", 3, None)]).expect("fits the order");
        let (a, bb) = (Sku::parse("A").expect("s"), Sku::parse("B").expect("s"));
        let refused = plan.iter().find(|(s, _)| *s == bb).map(|(_, c)| c.clone()).expect("B's part");
        b.unship(&bb, &refused);
        assert_eq!(b.open(&a, &Location::main()), 0, "A shipped");
        assert_eq!(b.open(&bb, &Location::main()), 3, "B's refused part is open again");
        assert!(matches!(b.fulfil(&[line("A", 1, None)]), Err(BookError::OverFulfilment { open: 0, .. })));
        let again = b.fulfil(&[line("B", 3, None)]).expect("B fits again");
        assert_eq!(again.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>(), vec!["B"]);
        assert_eq!(b.open(&bb, &Location::main()), 0);
    }

    /// Found by the system simulation (`tests/system_simulation.rs`): a fulfilment left pending
    /// (a ledger unreachable) and finished by the desk's alarm after a ledger refused its part
    /// (stock moved meanwhile) kept that part shipped in the book, so the book said shipped what
    /// the ledger still held committed.
    #[test]
    fn a_pending_fulfilment_confirmed_with_a_refusal_takes_that_part_back() {
        let mut b = book();
        b.sell(&[line("A", 2, None), line("B", 1, None)]);
        let plan = b.fulfil(&[line("A", 2, None), line("B", 1, None)]).expect("fits");
        b.pending = Some(plan.clone());
        let (a, bb) = (Sku::parse("A").expect("s"), Sku::parse("B").expect("s"));
        b.confirmed(&plan, std::slice::from_ref(&a));
        assert_eq!(b.pending, None);
        assert_eq!(b.open(&a, &Location::main()), 2, "A's refused part is open again");
        assert_eq!(b.open(&bb, &Location::main()), 0, "B shipped");
    }

    #[test]
    fn a_fulfilment_beyond_what_is_on_hand_names_the_line() {
        let mut b = book();
        b.sell(&[line("A", 2, None), line("B", 3, None)]);
        let plan = b.fulfil(&[line("A", 2, None), line("B", 3, None)]).expect("fits the order");
        let a = Sku::parse("A").expect("s");
        assert_eq!(check_on_hand(&plan, |_, _| 3), Ok(()));
        let err = check_on_hand(&plan, |s, _| if *s == a { 5 } else { 1 }).expect_err("B short");
        assert_eq!(
            err,
            BookError::NotOnHand {
                sku: Sku::parse("B").expect("s"),
                location: Location::main(),
                requested: 3,
                on_hand: 1
            }
        );
    }
}
