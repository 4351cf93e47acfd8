//! `POST /v1/edi/850`: a partner's X12 interchange read (envelope, control numbers, counts), its
//! 850 purchase orders, and the answer written back: an 855 per accepted interchange, a 997
//! rejecting the group otherwise.
//!
//! Input: the interchange text. The answer's envelope is the edge's own (`answer_envelope`).
//! Contract: whatever the partner sent, once the reader accepts or rejects it with a reason,
//! StockEdge can write its answer (no 500), and that answer is itself a well-formed interchange our reader reads back:
//! same number of sets, the right functional group (`PR` for the 855, `FA` for the 997), every
//! purchase order's lines acknowledged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::inbound::po850::{purchase_order, PurchaseOrder};
use stockedge::inbound::x12_ack::{acknowledgment, answer_envelope, functional_ack, Ack, AckCode, Acknowledged, Control};
use stockedge::inbound::x12_read::{read, GroupHeader, InterchangeHeader, ReadError};
use stockedge::inbound::x12_reject::Rejection;
use stockedge_fuzz::NOW;

const CONTROL: Control = Control { interchange: 41, group: 41 };

/// ISA06 is checked against the partner id the operator configured before anything is answered,
/// so only ids an operator could configure (1–15 printable characters, no delimiter) get here.
fn configurable(id: &str) -> bool {
    (1..=15).contains(&id.len()) && id.chars().all(|c| (' '..='~').contains(&c) && !"*~>".contains(c))
}

fn reject(header: &InterchangeHeader, group: &GroupHeader, received: usize, r: &Rejection) {
    let text = functional_ack(&answer_envelope("STOCKEDGE", header, group), CONTROL, group, received, r, NOW)
        .unwrap_or_else(|e| panic!("no 997 for {header:?} {group:?}: {e}"));
    let back = read(&text).unwrap_or_else(|e| panic!("our 997 does not read: {e}\n{text}"));
    assert_eq!((back.group.functional_id.as_str(), back.sets.len()), ("FA", 1), "{text}");
}

fn accept(header: &InterchangeHeader, group: &GroupHeader, orders: &[PurchaseOrder]) {
    let acked: Vec<Acknowledged<'_>> = orders
        .iter()
        .map(|po| Acknowledged {
            order: po,
            acks: po.lines.iter().map(|l| vec![Ack { code: AckCode::Accepted, qty: l.qty }]).collect(),
        })
        .collect();
    let text = acknowledgment(&answer_envelope("STOCKEDGE", header, group), CONTROL, &acked, NOW)
        .unwrap_or_else(|e| panic!("no 855 for {header:?} {group:?}: {e}"));
    let back = read(&text).unwrap_or_else(|e| panic!("our 855 does not read: {e}\n{text}"));
    assert_eq!((back.group.functional_id.as_str(), back.sets.len()), ("PR", orders.len()), "{text}");
    for (set, po) in back.sets.iter().zip(orders) {
        let po1 = set.body.iter().filter(|s| s.id == "PO1").count();
        let ack = set.body.iter().filter(|s| s.id == "ACK").count();
        assert_eq!((po1, ack), (po.lines.len(), po.lines.len()), "{text}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match read(text) {
        Ok(x) if configurable(&x.header.sender_id) => {
            let orders: Result<Vec<PurchaseOrder>, Rejection> = x.sets.iter().map(purchase_order).collect();
            match orders {
                Ok(orders) => {
                    for po in &orders {
                        assert!(!po.lines.is_empty() && po.lines.iter().all(|l| l.qty > 0), "{po:?}");
                    }
                    accept(&x.header, &x.group, &orders)
                }
                Err(r) => reject(&x.header, &x.group, x.sets.len(), &r),
            }
        }
        Err(ReadError::Rejected(r)) if configurable(&r.header.sender_id) => {
            reject(&r.header, &r.group, r.received, &r.rejection)
        }
        _ => {}
    }
});
