//! The answers to an inbound 850 interchange: an 855 Purchase Order Acknowledgment (004010)
//! per accepted interchange, or a 997 Functional Acknowledgment rejecting the group. Pure.
//!
//! ```text
//! ISA*…*<our id>*ZZ*<their ISA06>*…~      (our envelope: sync::x12::isa, delimiters * ~ >)
//! GS*PR*<our id>*<their GS02>*CCYYMMDD*HHMM*<n>*X*004010~
//! ST*855*0001~                            (one set per purchase order, in the 850's order)
//! BAK*00*<AD|AC>*<PO number>*<PO date>~    (AD: every line accepted as ordered; AC: with changes)
//! PO1*<line id>*<qty>*<unit>*<price>**<qualifier>*<id>…~   (the 850's line, echoed)
//! ACK*IA*<qty>*<unit>~                    (IA accepted; IB backordered; IR rejected: no listing)
//! CTT*<PO1 count>~
//! SE*<count>*0001~ GE*<sets>*<n>~ IEA*1*<n>~
//!
//! GS*FA*…~ ST*997*0001~ AK1*<their GS01>*<their GS06>~
//! [AK2*<ST01>*<ST02>~ [AK3*<segment>*<position>**<code>~ [AK4*<element>**<code>*<bad value>~]] AK5*R*<code>~]
//! AK9*R*<sets>*<sets received>*0[*<code>]~ SE…~ GE…~ IEA…~
//! ```
//!
//! A line split between stock and backorder gets two ACKs (`IA` for the covered units, `IB` for
//! the rest).

use crate::sync::x12::{gs, isa, segment, stamp, Envelope, Usage, X12Error, COMPONENT, ELEMENT, SEGMENT};
use crate::time::Millis;

use super::po850::{PoLine, PurchaseOrder};
use super::x12_read::{GroupHeader, InterchangeHeader};
use super::x12_reject::Rejection;

/// ACK01 codes StockEdge answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AckCode {
    /// `IA`: accepted, StockEdge had the units.
    #[serde(rename = "IA")]
    Accepted,
    /// `IB`: backordered: sold, but not covered by stock (counted as oversold).
    #[serde(rename = "IB")]
    Backordered,
    /// `IR`: rejected: no listing of the channel maps the line (listed as unmatched).
    #[serde(rename = "IR")]
    Rejected,
}

impl AckCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::Accepted => "IA",
            AckCode::Backordered => "IB",
            AckCode::Rejected => "IR",
        }
    }
}

/// One ACK of a line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ack {
    pub code: AckCode,
    pub qty: i64,
}

/// A purchase order with the ACKs of each of its lines (same order as `order.lines`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledged<'a> {
    pub order: &'a PurchaseOrder,
    pub acks: Vec<Vec<Ack>>,
}

/// Control numbers of our answer (ISA13, GS06).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    pub interchange: u32,
    pub group: u32,
}

/// A value from the partner's document made safe for ours: printable ASCII without our
/// delimiters, at most `max` characters.
fn clean(v: &str, max: usize) -> String {
    v.chars().filter(|c| (' '..='~').contains(c) && ![ELEMENT, SEGMENT, COMPONENT].contains(c)).take(max).collect()
}

/// Our answer's GS03 for a partner's group: its GS02 made safe for our delimiters (2–15
/// characters), else its ISA06 (the authenticated partner's id), so a partner's code never makes
/// our answer unwritable.
pub fn answer_gs03(gs02: &str, isa06: &str) -> String {
    let cleaned = clean(gs02.trim(), 15);
    if cleaned.trim().len() >= 2 {
        return cleaned;
    }
    // An ISA06 may be a single character: X12 pads an identifier shorter than its minimum
    // length with spaces.
    match clean(isa06.trim(), 15) {
        id if id.is_empty() => "UNKNOWN".to_owned(),
        id => format!("{id:<2}"),
    }
}

/// Our envelope for the answer to an interchange `header`/`group`: from `our_id` (ISA06 and
/// GS02, the channel's `sender_id`) back to the partner's ISA05/ISA06 and (made writable by
/// [`answer_gs03`]) its GS02, in the interchange's own test/production usage.
pub fn answer_envelope(our_id: &str, header: &InterchangeHeader, group: &GroupHeader) -> Envelope {
    Envelope {
        sender_qualifier: "ZZ".into(),
        sender_id: our_id.to_owned(),
        receiver_qualifier: header.sender_qualifier.clone(),
        receiver_id: header.sender_id.clone(),
        application_sender: our_id.to_owned(),
        application_receiver: answer_gs03(&group.application_sender, &header.sender_id),
        usage: if header.usage == "T" { Usage::Test } else { Usage::Production },
    }
}

/// The documents StockEdge answers an 850 with.
#[derive(Clone, Copy)]
enum Answer {
    /// 855 Purchase Order Acknowledgment (GS01 `PR`).
    Acknowledgment,
    /// 997 Functional Acknowledgment (GS01 `FA`).
    Functional,
}

impl Answer {
    /// GS01 and ST01.
    fn ids(self) -> (&'static str, &'static str) {
        match self {
            Answer::Acknowledgment => ("PR", "855"),
            Answer::Functional => ("FA", "997"),
        }
    }
}

fn wrap(
    envelope: &Envelope,
    control: Control,
    answer: Answer,
    sets: Vec<Vec<String>>,
    now: Millis,
) -> Result<String, X12Error> {
    let t = stamp(now);
    let (functional_id, set_id) = answer.ids();
    let mut out = isa(envelope, control.interchange, now)?;
    out.push_str(&gs(envelope, functional_id, control.group, &t)?);
    let n = sets.len();
    for (i, body) in sets.into_iter().enumerate() {
        let st02 = format!("{:04}", i + 1);
        out.push_str(&segment("ST", &[set_id, &st02]));
        let count = body.len() + 2;
        out.extend(body);
        out.push_str(&segment("SE", &[&count.to_string(), &st02]));
    }
    out.push_str(&segment("GE", &[&n.to_string(), &control.group.to_string()]));
    out.push_str(&segment("IEA", &["1", &format!("{:09}", control.interchange)]));
    Ok(out)
}

fn po1(line: &PoLine) -> String {
    let qty = line.qty.to_string();
    let (id, unit, price) = (clean(&line.line_id, 20), clean(&line.unit, 2), clean(&line.price, 17));
    let ids: Vec<String> = line.ids.iter().flat_map(|(q, v)| [clean(q, 2), clean(v, 48)]).collect();
    let mut elements: Vec<&str> = vec![&id, &qty, &unit, &price, ""];
    elements.extend(ids.iter().map(String::as_str));
    segment("PO1", &elements)
}

/// The 855 interchange acknowledging `orders`.
pub fn acknowledgment(
    envelope: &Envelope,
    control: Control,
    orders: &[Acknowledged<'_>],
    now: Millis,
) -> Result<String, X12Error> {
    let sets = orders
        .iter()
        .map(|a| {
            let changed = a.acks.iter().flatten().any(|k| k.code != AckCode::Accepted);
            let mut body = vec![segment(
                "BAK",
                &["00", if changed { "AC" } else { "AD" }, &clean(&a.order.number, 22), &a.order.date],
            )];
            for (line, acks) in a.order.lines.iter().zip(&a.acks) {
                body.push(po1(line));
                for k in acks {
                    body.push(segment("ACK", &[k.code.as_str(), &k.qty.to_string(), &clean(&line.unit, 2)]));
                }
            }
            body.push(segment("CTT", &[&a.order.lines.len().to_string()]));
            body
        })
        .collect();
    wrap(envelope, control, Answer::Acknowledgment, sets, now)
}

/// The 997 rejecting the partner's group `theirs`; `received`: transaction sets it held.
pub fn functional_ack(
    envelope: &Envelope,
    control: Control,
    theirs: &GroupHeader,
    received: usize,
    rejection: &Rejection,
    now: Millis,
) -> Result<String, X12Error> {
    let mut body = vec![segment("AK1", &[&clean(&theirs.functional_id, 2), &theirs.control.to_string()])];
    if let Some((set, code)) = &rejection.set {
        body.push(segment("AK2", &[&clean(&set.id, 3), &clean(&set.control, 9)]));
        if let Some(f) = &rejection.segment {
            let position = if f.position == 0 { String::new() } else { f.position.to_string() };
            body.push(segment("AK3", &[&clean(&f.id, 3), &position, "", f.code.code()]));
            if let Some((element, code, value)) = &f.element {
                body.push(segment("AK4", &[&element.to_string(), "", code.code(), &clean(value, 99)]));
            }
        }
        body.push(segment("AK5", &["R", code.code()]));
    }
    let received = received.to_string();
    let code = rejection.group.map(|g| g.code()).unwrap_or("");
    body.push(segment("AK9", &["R", &received, &received, "0", code]));
    wrap(envelope, control, Answer::Functional, vec![body], now)
}
