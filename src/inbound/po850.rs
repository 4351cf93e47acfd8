//! X12 850 Purchase Order (004010) → a [`PurchaseOrder`]: the segments StockEdge reads from one
//! transaction set whose envelope [`super::x12_read`] already checked. Pure.
//!
//! Read (X12 004010 segment definitions; other segments — N1, REF, DTM, PID, … — are passed over):
//! - `BEG*<purpose>*<type>*<PO number>**<date CCYYMMDD>`: BEG03 (1–22 characters, StockEdge's
//!   order id on the wholesale channel) and BEG05 are required.
//! - `PO1*<line id>*<quantity>*<unit>*<unit price>*<basis>*<qualifier>*<id>*<qualifier>*<id>…`:
//!   PO101 and BEG03 are StockEdge ids (`A-Z a-z 0-9 . _ - : # @`; no `/` in PO101);
//!   PO102 a whole number of units 1..=[`MAX_LINE_QTY`]; PO101 the partner's line number (when
//!   absent, the line's position); the product ids in qualifier/id pairs from PO106: `IN`/`BP`
//!   (buyer's item or part number — the partner's item code of the listing, as the 846 sends it)
//!   and `VN`/`VP`/`SK` (vendor's item or part number, seller's SKU — StockEdge's SKU).
//! - `CTT*<number of PO1>`: when present, must count the PO1 segments.
//!
//! At least one PO1 is required and PO101 values are unique within the order. Each fault is a
//! [`Rejection`] naming the segment (position from ST = 1) and element, for the 997.

use super::x12_read::{Segment, TransactionSet};
use super::x12_reject::{ElementCode, Rejection, SegmentCode, SegmentFault, SetCode, SetRef};
use crate::stock::Token;

/// PO102 upper bound (the inbound lines' limit).
pub const MAX_LINE_QTY: i64 = 1_000_000;
/// PO1 segments read per order.
pub const MAX_PO_LINES: usize = 1_000;
/// BEG03 (element 324, Purchase Order Number) is 1–22 characters.
pub const MAX_PO_NUMBER_LEN: usize = 22;

/// One PO1 line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoLine {
    /// PO101, or the line's position (1, 2, …) when the partner sent none.
    pub line_id: String,
    pub qty: i64,
    /// PO103 (`EA` when absent).
    pub unit: String,
    /// PO104 as sent.
    pub price: String,
    /// The partner's item code (`IN`, else `BP`).
    pub item_code: Option<String>,
    /// StockEdge's SKU as the partner sent it (`VN`, else `VP`, else `SK`).
    pub vendor_sku: Option<String>,
    /// Every qualifier/id pair as sent (echoed in the 855's PO1).
    pub ids: Vec<(String, String)>,
}

/// A purchase order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchaseOrder {
    /// ST02, for the 997/855.
    pub set: SetRef,
    /// BEG03.
    pub number: String,
    /// BEG05 (CCYYMMDD).
    pub date: String,
    pub lines: Vec<PoLine>,
}

fn fault(set: &SetRef, s: &Segment, position: usize, element: usize, code: ElementCode, why: String) -> Rejection {
    Rejection::segment(
        set.clone(),
        SegmentFault {
            id: s.id.clone(),
            position,
            code: SegmentCode::ElementErrors,
            element: Some((element, code, s.el(element).to_owned())),
        },
        format!("{} (position {position}) element {element:02}: {why}", s.id),
    )
}

fn missing_segment(set: &SetRef, id: &str, why: &str) -> Rejection {
    Rejection::segment(
        set.clone(),
        SegmentFault { id: id.to_owned(), position: 0, code: SegmentCode::MandatoryMissing, element: None },
        why.to_owned(),
    )
}

fn first_of(ids: &[(String, String)], qualifiers: &[&str]) -> Option<String> {
    qualifiers.iter().find_map(|q| ids.iter().find(|(k, _)| k == q).map(|(_, v)| v.clone()))
}

fn printable(v: &str) -> bool {
    v.chars().all(|c| (' '..='~').contains(&c))
}

/// Reads one 850 transaction set.
pub fn purchase_order(set: &TransactionSet) -> Result<PurchaseOrder, Rejection> {
    let set_ref = SetRef { id: set.id.clone(), control: set.control.clone() };
    if set.id != "850" {
        return Err(Rejection::set(
            set_ref,
            SetCode::NotSupported,
            format!("transaction set {} is not an 850 purchase order", set.id),
        ));
    }
    let mut beg: Option<(String, String)> = None;
    let mut lines: Vec<PoLine> = Vec::new();
    let mut ctt: Option<(usize, &Segment)> = None;
    for (i, s) in set.body.iter().enumerate() {
        let position = i + 2; // ST is 1
        match s.id.as_str() {
            "BEG" => {
                let number = s.el(3);
                if number.is_empty() {
                    return Err(fault(
                        &set_ref,
                        s,
                        position,
                        3,
                        ElementCode::MandatoryMissing,
                        "the PO number is required".into(),
                    ));
                }
                if number.len() > MAX_PO_NUMBER_LEN || Token::parse(number).is_err() {
                    return Err(fault(
                        &set_ref,
                        s,
                        position,
                        3,
                        ElementCode::InvalidCharacter,
                        format!("the PO number must be 1–{MAX_PO_NUMBER_LEN} of A-Z a-z 0-9 . _ - : / # @"),
                    ));
                }
                let date = s.el(5);
                if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(fault(
                        &set_ref,
                        s,
                        position,
                        5,
                        ElementCode::InvalidCharacter,
                        "the PO date must be CCYYMMDD".into(),
                    ));
                }
                beg = Some((number.to_owned(), date.to_owned()));
            }
            "PO1" => {
                if lines.len() == MAX_PO_LINES {
                    return Err(fault(
                        &set_ref,
                        s,
                        position,
                        1,
                        ElementCode::InvalidCode,
                        format!("more than {MAX_PO_LINES} PO1 lines"),
                    ));
                }
                let qty = match s.el(2).parse::<i64>() {
                    Ok(q) if (1..=MAX_LINE_QTY).contains(&q) => q,
                    _ => {
                        return Err(fault(
                            &set_ref,
                            s,
                            position,
                            2,
                            if s.el(2).is_empty() {
                                ElementCode::MandatoryMissing
                            } else {
                                ElementCode::InvalidCharacter
                            },
                            format!("the quantity must be a whole number 1..={MAX_LINE_QTY}"),
                        ))
                    }
                };
                let line_id = if s.el(1).is_empty() { (lines.len() + 1).to_string() } else { s.el(1).to_owned() };
                if lines.iter().any(|l| l.line_id == line_id)
                    || line_id.contains('/')
                    || Token::parse(&line_id).is_err()
                {
                    return Err(fault(
                        &set_ref,
                        s,
                        position,
                        1,
                        ElementCode::InvalidCode,
                        format!("line id {line_id:?} is repeated, or not 1–128 of A-Z a-z 0-9 . _ - : # @"),
                    ));
                }
                let mut ids = Vec::new();
                let mut n = 6;
                while n < s.elements.len() {
                    let (q, v) = (s.el(n), s.el(n + 1));
                    if !q.is_empty() && !v.is_empty() {
                        if !printable(v) {
                            return Err(fault(
                                &set_ref,
                                s,
                                position,
                                n + 1,
                                ElementCode::InvalidCharacter,
                                "product id is not printable ASCII".into(),
                            ));
                        }
                        ids.push((q.to_owned(), v.to_owned()));
                    }
                    n += 2;
                }
                lines.push(PoLine {
                    line_id,
                    qty,
                    unit: if s.el(3).is_empty() { "EA".to_owned() } else { s.el(3).to_owned() },
                    price: s.el(4).to_owned(),
                    item_code: first_of(&ids, &["IN", "BP"]),
                    vendor_sku: first_of(&ids, &["VN", "VP", "SK"]),
                    ids,
                });
            }
            "CTT" => ctt = Some((position, s)),
            _ => {}
        }
    }
    let Some((number, date)) = beg else {
        return Err(missing_segment(&set_ref, "BEG", "the purchase order has no BEG segment"));
    };
    if lines.is_empty() {
        return Err(missing_segment(&set_ref, "PO1", "the purchase order has no PO1 line"));
    }
    if let Some((position, s)) = ctt {
        if s.el(1).parse::<usize>().ok() != Some(lines.len()) {
            return Err(fault(
                &set_ref,
                s,
                position,
                1,
                ElementCode::InvalidCode,
                format!("CTT01 says {} lines; the order has {} PO1 segments", s.el(1), lines.len()),
            ));
        }
    }
    Ok(PurchaseOrder { set: set_ref, number, date, lines })
}
