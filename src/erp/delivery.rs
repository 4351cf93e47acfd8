//! Orders out (issue 13 point 3): which ERP documents a SKU's committed order changes call for,
//! and what to do for one of them given what StockEdge already knows of it.
//!
//! The events arrive per SKU (`sync::StockChanged::orders`, one SKU ledger's change), so StockEdge
//! sends the ERP **one document per order and SKU**: its external reference is
//! [`reference`] — the order key (`external_ref`) and the SKU, `web/1001|TEE-1` — so a retry, a
//! redelivered message or a lost answer finds the document instead of creating a second one. The
//! document's lines are the SKU's units at each warehouse of the connection (a sale at two
//! locations one ERP masters is one document with two lines).
//!
//! - A sale (a marketplace sale or a committed checkout): the document is created unless it
//!   exists ([`Step::Create`]). An order cancelled in StockEdge before its sale reached the ERP is
//!   not created (StockEdge remembers the cancellation, `Known::Cancelled`).
//! - A cancellation: the document is cancelled if it exists; either way the cancellation is
//!   remembered, so a sale delivered late (the queue does not keep order) does not create it.
//! - A fulfilment: nothing is sent to a vendor ERP. The ERP's own warehouse posts the delivery
//!   against its sales order; the fulfilment is confirmed as it is (on the `available` basis every
//!   connector reads, a shipment changes StockEdge's and the ERP's available alike,
//!   `erp::decide`). The webhook ERP ([`Fulfilments::Sent`]) is told of each shipment
//!   (`order.fulfilled`), once the order's sale reached it.
//!
//! - Units of an order added later (a second sale of the SKU in the same order, recorded by
//!   another change): the order's document belongs to the change whose sale first reached it
//!   (its record keeps that change's time, `erp_deliveries.sale_change_at`), so another change's
//!   sale is an **addition**
//!   ([`split_addition`]): its own document, reference [`addition_reference`]
//!   (`web/1001|TEE-1+<ms of the change>`), created once like any other. Redelivered, each change
//!   finds its own document; delivered out of order, whichever change came first owns the first
//!   document and the other is the addition, so no units are lost or sent twice. An order already
//!   cancelled takes no addition; a cancellation cancels the order's additions too.
//!
//! Once a document is delivered the shell confirms it to the SKU's ledger
//! (`Command::ErpReceived` through the last change's time), so the next snapshot as of the
//! confirmation or later counts it as seen and the track (`erp::Track`) does not fill up.

use super::connection::ErpKind;
use super::connectors::order::{external_ref, ErpOrderLine};
use super::order_change::{ChangeKind, OrderChange};
use crate::stock::{Location, OrderKey, Sku, Token};
use crate::time::Millis;

/// The ERP document's external reference for `order`'s lines of `sku`.
pub fn reference(order: &OrderKey, sku: &Sku) -> String {
    format!("{}|{}", external_ref(order), sku)
}

/// The reference of the document for units the change first recorded at `since` added to the
/// order whose document is `reference` ([`split_addition`]).
pub fn addition_reference(reference: &str, since: Millis) -> String {
    format!("{reference}+{}", since.0)
}

/// Splits `d` when its sale adds units to an order whose document belongs to another change's
/// sale (the document's record keeps that change's time, `sale_by`; `None`: no sale has reached
/// it yet): the delivery of `d`'s other steps to the order's document, and the addition — the
/// sale as its own document, [`addition_reference`]. No addition when the document is `d`'s own
/// (a redelivery) or no sale's yet, when `d` has no sale, or when the order is cancelled (its
/// late sale is never created).
pub fn split_addition(d: &Delivery, known: &Known, sale_by: Option<Millis>) -> (Delivery, Option<Delivery>) {
    let is_sale = |s: &Step| matches!(s, Step::Create { .. });
    let theirs = sale_by.is_some_and(|t| t != d.since);
    if !theirs || matches!(known, Known::Cancelled { .. }) || !d.steps.iter().any(is_sale) {
        return (d.clone(), None);
    }
    let (sales, others): (Vec<Step>, Vec<Step>) = d.steps.iter().cloned().partition(is_sale);
    let addition = Delivery { reference: addition_reference(&d.reference, d.since), steps: sales, ..d.clone() };
    (Delivery { steps: others, ..d.clone() }, Some(addition))
}

/// Where a SKU's units at a location go: the connection mastering the location, its warehouse
/// code mapped to the location, and its item code mapped to the SKU (`None`: not mapped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub connection: Token,
    pub warehouse: String,
    pub item: Option<String>,
}

/// What the ERP is asked to do, in the order StockEdge recorded the changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Have the document: create it with these lines unless it exists.
    Create { lines: Vec<ErpOrderLine> },
    /// Cancel the document if it exists; remember the cancellation either way.
    Cancel,
    /// Units shipped (recorded at `at`, the shipment's identity): sent only to an ERP that takes
    /// fulfilments ([`Fulfilments::Sent`]), else confirmed as it is.
    Fulfil { lines: Vec<ErpOrderLine>, at: Millis },
}

/// Whether a connection's ERP is told of shipments (the webhook ERP) or posts them itself (the
/// vendor ERPs, whose warehouses ship against their sales orders).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fulfilments {
    Sent,
    NotSent,
}

/// One document's delivery: the steps one event asks of one connection for one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub connection: Token,
    pub sku: Sku,
    pub order: OrderKey,
    /// [`reference`] of the order and SKU.
    pub reference: String,
    pub steps: Vec<Step>,
    /// The time of the last change delivered: the confirmation covers the order's documents
    /// recorded up to it.
    pub through: Millis,
    /// The time of the first change (the delivery latency is measured from it).
    pub since: Millis,
    /// The location of each warehouse code in the lines (the webhook ERP is sent both): the
    /// locations of the changes delivered (those the connection masters), where the confirmation
    /// marks the order's documents received (`erp::track::confirms_at`).
    pub locations: Vec<(String, Location)>,
}

impl Delivery {
    /// The location the delivery's `warehouse` code stands for.
    pub fn location_of(&self, warehouse: &str) -> Option<&Location> {
        self.locations.iter().find(|(w, _)| w == warehouse).map(|(_, l)| l)
    }

    /// The locations of the changes delivered, each once: what the confirmation covers.
    pub fn delivered_locations(&self) -> Vec<Location> {
        let mut out: Vec<Location> = Vec::new();
        for (_, l) in &self.locations {
            if !out.contains(l) {
                out.push(l.clone());
            }
        }
        out
    }
}

/// A change that cannot be delivered: its SKU has no item code in the connection mastering its
/// location. Permanent until the mapping is added (then a retry delivers it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmapped {
    pub connection: Token,
    pub sku: Sku,
    pub order: OrderKey,
}

/// The deliveries `changes` (one event's, of `sku`) call for, one per (connection, order) in the
/// order of their first change; `route` answers for each location (`None`: no ERP masters it,
/// nothing to deliver).
pub fn plan(
    sku: &Sku,
    changes: &[OrderChange],
    route: impl Fn(&Location) -> Option<Route>,
) -> (Vec<Delivery>, Vec<Unmapped>) {
    let mut out: Vec<Delivery> = Vec::new();
    let mut unmapped: Vec<Unmapped> = Vec::new();
    for c in changes {
        let Some(r) = route(&c.location) else { continue };
        let order = c.order();
        let Some(item) = r.item.clone() else {
            let u = Unmapped { connection: r.connection.clone(), sku: sku.clone(), order };
            if !unmapped.contains(&u) {
                unmapped.push(u);
            }
            continue;
        };
        let i = match out.iter().position(|d| d.connection == r.connection && d.order == order) {
            Some(i) => i,
            None => {
                out.push(Delivery {
                    connection: r.connection.clone(),
                    sku: sku.clone(),
                    reference: reference(&order, sku),
                    order,
                    steps: Vec::new(),
                    through: c.at,
                    since: c.at,
                    locations: Vec::new(),
                });
                out.len() - 1
            }
        };
        let d = &mut out[i];
        d.through = d.through.max(c.at);
        if !d.locations.iter().any(|(w, l)| *w == r.warehouse && *l == c.location) {
            d.locations.push((r.warehouse.clone(), c.location.clone()));
        }
        match (c.kind, d.steps.last_mut()) {
            (ChangeKind::Sale, _) if c.qty == 0 => {}
            (ChangeKind::Sale, Some(Step::Create { lines })) => add(lines, &item, &r.warehouse, c.qty),
            (ChangeKind::Sale, _) => {
                let mut lines = Vec::new();
                add(&mut lines, &item, &r.warehouse, c.qty);
                d.steps.push(Step::Create { lines });
            }
            (ChangeKind::Cancel, Some(Step::Cancel)) => {}
            (ChangeKind::Cancel, _) => d.steps.push(Step::Cancel),
            (ChangeKind::Fulfil, _) if c.qty == 0 => {}
            (ChangeKind::Fulfil, Some(Step::Fulfil { lines, at })) if *at == c.at => {
                add(lines, &item, &r.warehouse, c.qty)
            }
            (ChangeKind::Fulfil, _) => {
                let mut lines = Vec::new();
                add(&mut lines, &item, &r.warehouse, c.qty);
                d.steps.push(Step::Fulfil { lines, at: c.at });
            }
        }
    }
    (out, unmapped)
}

fn add(lines: &mut Vec<ErpOrderLine>, item: &str, warehouse: &str, qty: i64) {
    match lines.iter_mut().find(|l| l.item == item && l.warehouse == warehouse) {
        Some(l) => l.quantity += qty,
        None => lines.push(ErpOrderLine { item: item.to_owned(), warehouse: warehouse.to_owned(), quantity: qty }),
    }
}

/// What StockEdge knows of a document (D1 `erp_deliveries`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Known {
    /// Nothing confirmed: it may exist in the ERP (a lost answer), so it is looked up first.
    Unknown,
    /// Created (or found) in the ERP under this id.
    Open { document: String },
    /// Cancelled: in the ERP (`document`), or before it ever reached it (`None`).
    Cancelled { document: Option<String> },
}

/// The ERP call one step needs, given what is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// Nothing to send: the step is already done (or needs no ERP call).
    Nothing,
    /// Look the document up by reference; create it with the lines when absent.
    FindOrCreate { lines: Vec<ErpOrderLine> },
    /// Look the document up by reference; cancel it when present.
    FindAndCancel,
    /// Cancel this document.
    Cancel { document: String },
    /// Tell the ERP of this shipment (the webhook ERP).
    Fulfil { lines: Vec<ErpOrderLine>, at: Millis },
    /// Not yet: the shipment of an order whose sale has not reached the ERP (its delivery is
    /// being retried, or the queue delivered the shipment first). The message is retried.
    NotYet,
}

/// Whether an ERP of `kind` is told of shipments.
pub fn fulfilments(kind: ErpKind) -> Fulfilments {
    match kind {
        ErpKind::Webhook => Fulfilments::Sent,
        ErpKind::SapB1 | ErpKind::Odoo | ErpKind::Netsuite => Fulfilments::NotSent,
    }
}

/// The call for `step` when `known`, to an ERP that is or is not told of shipments.
pub fn call(known: &Known, step: &Step, fulfilments: Fulfilments) -> Call {
    match (step, known) {
        (Step::Fulfil { .. }, _) if fulfilments == Fulfilments::NotSent => Call::Nothing,
        (Step::Fulfil { lines, at }, Known::Open { .. }) => Call::Fulfil { lines: lines.clone(), at: *at },
        (Step::Fulfil { .. }, Known::Cancelled { .. }) => Call::Nothing,
        (Step::Fulfil { .. }, Known::Unknown) => Call::NotYet,
        (Step::Create { .. }, Known::Open { .. } | Known::Cancelled { .. }) => Call::Nothing,
        (Step::Create { lines }, Known::Unknown) => Call::FindOrCreate { lines: lines.clone() },
        (Step::Cancel, Known::Cancelled { .. }) => Call::Nothing,
        (Step::Cancel, Known::Open { document }) => Call::Cancel { document: document.clone() },
        (Step::Cancel, Known::Unknown) => Call::FindAndCancel,
    }
}

/// What is known once `step` is done, given what was known and the document the ERP named
/// (found, created or cancelled; `None` when the ERP has none).
pub fn after(known: Known, step: &Step, document: Option<String>) -> Known {
    match (step, known) {
        (Step::Fulfil { .. }, k) => k,
        (Step::Create { .. }, Known::Unknown) => match document {
            Some(document) => Known::Open { document },
            None => Known::Unknown,
        },
        (Step::Create { .. }, k) => k,
        (Step::Cancel, Known::Open { document }) => Known::Cancelled { document: Some(document) },
        (Step::Cancel, Known::Cancelled { document: d }) => Known::Cancelled { document: d.or(document) },
        (Step::Cancel, Known::Unknown) => Known::Cancelled { document },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> Token {
        Token::parse(s).expect("token")
    }
    fn loc(s: &str) -> Location {
        Location::parse(s).expect("location")
    }
    fn change(order: &str, kind: ChangeKind, location: &str, qty: i64, at: i64) -> OrderChange {
        OrderChange { channel: tok("web"), order_id: tok(order), kind, location: loc(location), qty, at: Millis(at) }
    }
    fn routes(location: &Location) -> Option<Route> {
        let r = |c: &str, w: &str, item: Option<&str>| {
            Some(Route { connection: tok(c), warehouse: w.into(), item: item.map(str::to_owned) })
        };
        match location.as_str() {
            "main" => r("sap", "01", Some("A100")),
            "east" => r("sap", "02", Some("A100")),
            "odoo" => r("odoo", "8", None),
            _ => None,
        }
    }

    #[test]
    fn one_document_per_connection_order_and_sku_with_a_line_per_warehouse() {
        let sku = Sku::parse("TEE-1").expect("sku");
        let changes = [
            change("1", ChangeKind::Sale, "main", 2, 10),
            change("1", ChangeKind::Sale, "east", 1, 10),
            change("2", ChangeKind::Sale, "main", 1, 11),
            change("1", ChangeKind::Cancel, "main", 2, 12),
            change("1", ChangeKind::Cancel, "east", 1, 12),
            change("3", ChangeKind::Sale, "shop", 5, 13),
            change("4", ChangeKind::Sale, "odoo", 1, 14),
            change("2", ChangeKind::Fulfil, "main", 1, 15),
        ];
        let (d, unmapped) = plan(&sku, &changes, routes);
        assert_eq!(d.len(), 2, "order 3 is at a location no ERP masters; order 4's SKU is unmapped");
        assert_eq!(d[0].reference, "web/1|TEE-1");
        assert_eq!(
            d[0].steps,
            vec![
                Step::Create {
                    lines: vec![
                        ErpOrderLine { item: "A100".into(), warehouse: "01".into(), quantity: 2 },
                        ErpOrderLine { item: "A100".into(), warehouse: "02".into(), quantity: 1 },
                    ]
                },
                Step::Cancel,
            ]
        );
        assert_eq!((d[0].since, d[0].through), (Millis(10), Millis(12)));
        assert_eq!(
            d[0].delivered_locations(),
            vec![loc("main"), loc("east")],
            "the confirmation covers both of sap's locations"
        );
        assert_eq!(d[1].delivered_locations(), vec![loc("main")]);
        assert_eq!(d[1].steps.len(), 2);
        assert_eq!(
            d[1].steps[1],
            Step::Fulfil {
                lines: vec![ErpOrderLine { item: "A100".into(), warehouse: "01".into(), quantity: 1 }],
                at: Millis(15)
            }
        );
        assert_eq!(d[0].location_of("02"), Some(&loc("east")));
        assert_eq!(d[0].location_of("09"), None);
        assert_eq!(
            unmapped,
            vec![Unmapped {
                connection: tok("odoo"),
                sku,
                order: OrderKey { channel: tok("web"), order_id: tok("4") }
            }]
        );
    }

    #[test]
    fn a_known_document_is_never_created_again_and_a_cancelled_order_never_created() {
        let create =
            Step::Create { lines: vec![ErpOrderLine { item: "A".into(), warehouse: "01".into(), quantity: 1 }] };
        let open = Known::Open { document: "42".into() };
        let call = |k: &Known, s: &Step| super::call(k, s, Fulfilments::NotSent);
        assert!(matches!(call(&Known::Unknown, &create), Call::FindOrCreate { .. }), "looked up before any create");
        assert_eq!(call(&open, &create), Call::Nothing);
        assert_eq!(call(&open, &Step::Cancel), Call::Cancel { document: "42".into() });
        assert_eq!(call(&Known::Unknown, &Step::Cancel), Call::FindAndCancel);
        // Cancelled before its sale reached the ERP: the late sale is not created.
        let cancelled = after(Known::Unknown, &Step::Cancel, None);
        assert_eq!(cancelled, Known::Cancelled { document: None });
        assert_eq!(call(&cancelled, &create), Call::Nothing);
        assert_eq!(call(&cancelled, &Step::Cancel), Call::Nothing);
        let fulfil = Step::Fulfil { lines: vec![], at: Millis(9) };
        assert_eq!(call(&open, &fulfil), Call::Nothing, "a vendor ERP ships against its own order");
        assert_eq!(after(Known::Unknown, &create, Some("7".into())), Known::Open { document: "7".into() });
        assert_eq!(after(open.clone(), &Step::Cancel, None), Known::Cancelled { document: Some("42".into()) });
    }

    #[test]
    fn the_webhook_erp_is_told_of_shipments_after_their_sale() {
        let fulfil = Step::Fulfil {
            lines: vec![ErpOrderLine { item: "A".into(), warehouse: "01".into(), quantity: 2 }],
            at: Millis(9),
        };
        let open = Known::Open { document: "web/1|A".into() };
        assert_eq!(
            call(&open, &fulfil, Fulfilments::Sent),
            Call::Fulfil {
                lines: vec![ErpOrderLine { item: "A".into(), warehouse: "01".into(), quantity: 2 }],
                at: Millis(9)
            }
        );
        assert_eq!(call(&Known::Unknown, &fulfil, Fulfilments::Sent), Call::NotYet, "never before its sale");
        assert_eq!(call(&Known::Cancelled { document: None }, &fulfil, Fulfilments::Sent), Call::Nothing);
        assert_eq!(after(open.clone(), &fulfil, None), open);
        // Two shipments of one order and SKU are two steps (each its own `at`); one change
        // shipping from two warehouses is one.
        let sku = Sku::parse("TEE-1").expect("sku");
        let changes = [
            change("1", ChangeKind::Sale, "main", 3, 10),
            change("1", ChangeKind::Fulfil, "main", 1, 11),
            change("1", ChangeKind::Fulfil, "east", 1, 11),
            change("1", ChangeKind::Fulfil, "main", 1, 12),
        ];
        let (d, _) = plan(&sku, &changes, routes);
        assert_eq!(d[0].steps.len(), 3);
        assert!(matches!(&d[0].steps[1], Step::Fulfil { lines, at: Millis(11) } if lines.len() == 2));
        assert!(matches!(&d[0].steps[2], Step::Fulfil { lines, at: Millis(12) } if lines[0].quantity == 1));
    }

    mod model {
        use super::*;
        use proptest::prelude::*;

        /// A model ERP with one reference: how many documents were ever created, and the last one's
        /// cancellation.
        #[derive(Default)]
        struct Erp {
            created: u32,
            cancelled: bool,
        }

        /// One delivery as the shell carries it out; `lose` loses the answer of the create or cancel
        /// (the ERP applied it; StockEdge keeps what it knew and the message is delivered again).
        fn deliver(erp: &mut Erp, known: &mut Known, step: &Step, lose: bool) -> bool {
            let document = match call(known, step, Fulfilments::NotSent) {
                Call::Nothing | Call::Fulfil { .. } | Call::NotYet => None,
                Call::FindOrCreate { .. } => {
                    if erp.created == 0 {
                        erp.created += 1;
                        if lose {
                            return false;
                        }
                    }
                    Some("1".to_owned())
                }
                Call::FindAndCancel => {
                    if erp.created == 0 {
                        None
                    } else {
                        erp.cancelled = true;
                        if lose {
                            return false;
                        }
                        Some("1".to_owned())
                    }
                }
                Call::Cancel { .. } => {
                    erp.cancelled = true;
                    if lose {
                        return false;
                    }
                    None
                }
            };
            *known = after(known.clone(), step, document);
            true
        }

        proptest! {
            /// Deliveries repeated, reordered and with lost answers create at most one document, and
            /// once a cancellation was delivered no open document is left.
            #[test]
            fn at_most_one_document_and_cancellations_stick(
                order in proptest::collection::vec((any::<bool>(), any::<bool>()), 1..12),
            ) {
                let create = Step::Create { lines: vec![ErpOrderLine { item: "A".into(), warehouse: "01".into(), quantity: 1 }] };
                let mut erp = Erp::default();
                let mut known = Known::Unknown;
                let mut cancel_delivered = false;
                for (is_cancel, lose) in order {
                    let step = if is_cancel { Step::Cancel } else { create.clone() };
                    // A lost answer: the message is delivered again until it is answered.
                    let mut lost = lose;
                    while !deliver(&mut erp, &mut known, &step, lost) {
                        lost = false;
                    }
                    cancel_delivered |= is_cancel;
                }
                prop_assert!(erp.created <= 1);
                if cancel_delivered {
                    prop_assert!(erp.created == 0 || erp.cancelled);
                }
            }
        }
    }

    #[test]
    fn a_sale_added_to_an_order_by_another_change_is_its_own_document() {
        let t = |ms| Millis(ms);
        let lines = vec![ErpOrderLine { item: "I1".into(), warehouse: "W1".into(), quantity: 1 }];
        let d = Delivery {
            connection: tok("sap"),
            sku: Sku::parse("TEE-1").expect("sku"),
            order: OrderKey { channel: tok("web"), order_id: tok("1001") },
            reference: "web/1001|TEE-1".into(),
            steps: vec![Step::Create { lines: lines.clone() }],
            through: t(20),
            since: t(20),
            locations: vec![("W1".into(), loc("main"))],
        };
        let open = Known::Open { document: "7".into() };
        // The change whose sale made the document (a redelivery), or none yet: no addition.
        assert_eq!(split_addition(&d, &open, Some(t(20))), (d.clone(), None));
        assert_eq!(split_addition(&d, &Known::Unknown, None), (d.clone(), None));
        // Another change's sale: the order's document gets no step, the addition the sale.
        let (base, addition) = split_addition(&d, &open, Some(t(10)));
        assert!(base.steps.is_empty());
        let addition = addition.expect("an addition");
        assert_eq!(addition.reference, "web/1001|TEE-1+20");
        assert_eq!(addition.steps, vec![Step::Create { lines: lines.clone() }]);
        assert_eq!((addition.order.clone(), addition.through, addition.since), (d.order.clone(), t(20), t(20)));
        // Out of order: the later change created the document, the earlier one is the addition.
        let early = Delivery { since: t(5), through: t(5), ..d.clone() };
        assert_eq!(
            split_addition(&early, &Known::Unknown, Some(t(20))).1.map(|a| a.reference),
            Some("web/1001|TEE-1+5".into())
        );
        // A cancelled order takes no addition: its sale is not created at all (`call`).
        assert_eq!(split_addition(&d, &Known::Cancelled { document: None }, Some(t(10))), (d.clone(), None));
        // A cancellation alone is the order's document's, whoever created it.
        let cancel = Delivery { steps: vec![Step::Cancel], ..d.clone() };
        assert_eq!(split_addition(&cancel, &open, Some(t(10))), (cancel.clone(), None));
        // A sale and a cancellation in one change: the cancellation stays with the order's document.
        let both = Delivery { steps: vec![Step::Create { lines: lines.clone() }, Step::Cancel], ..d.clone() };
        let (base, addition) = split_addition(&both, &open, Some(t(10)));
        assert_eq!(base.steps, vec![Step::Cancel]);
        assert_eq!(addition.map(|a| a.steps), Some(vec![Step::Create { lines }]));
    }
}
