//! ASC X12 846 Inventory Inquiry/Advice, version 004010: the interchange a wholesale trading
//! partner receives with our available quantities.
//!
//! Structure written (X12 envelope rules; segment definitions from the X12 004010 reference,
//! stedi.com/edi/x12-004010/segment/BIA and …/QTY, element 374 for DTM qualifiers; 846 layouts
//! of Walmart's and Logicbroker's 4010 implementation guides):
//!
//! ```text
//! ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261129*2256*U*00401*000000001*0*P*>~
//! GS*IB*SENDER*RECEIVER*20261129*2256*1*X*004010~
//! ST*846*0001~
//! BIA*00*SI*<reference>*20261129*2256~
//! LIN**IN*<partner's item code>*VN*<our SKU>~     (per item; `LIN**VN*<SKU>` without a code)
//! QTY*33*<available>*EA~
//! DTM*007*<CCYYMMDD>*<HHMM>~                       (optional: when the quantity took effect)
//! SE*<segments from ST to SE>*0001~
//! GE*<transaction sets>*1~
//! IEA*<functional groups>*000000001~
//! ```
//!
//! - ISA is fixed-width: 16 elements padded to their exact sizes, 106 characters with the
//!   segment terminator; ISA16 (the 105th character) is the component separator `>`.
//! - Element separator `*`, segment terminator `~`, component separator `>`; no value may
//!   contain them.
//! - GS01 `IB` is the functional identifier of 846; GS08 `004010`; ISA11 `U` and ISA12 `00401`.
//! - BIA01 `00` original, BIA02 `SI` seller inventory report; QTY01 `33` quantity available for
//!   sale; LIN qualifiers `IN` buyer's item number and `VN` vendor's (seller's) item number.
//! - Control numbers come in from the caller (they are per trading partner and must never be
//!   reused); a long item list is split into several transaction sets of at most
//!   `max_lines_per_set` items, numbered from `ControlNumbers::transaction`.

use chrono::{Datelike, Timelike};

use crate::time::Millis;

pub const ELEMENT: char = '*';
pub const SEGMENT: char = '~';
pub const COMPONENT: char = '>';
/// The LIN loop repeats at most 10,000 times in a 004010 846.
pub const MAX_LINES_PER_SET: usize = 10_000;
/// LIN03/LIN05 (element 234, Product/Service ID) are 1–48 characters in 004010.
pub const MAX_ITEM_ID_LEN: usize = 48;
/// BIA03 (element 127, Reference Identification) is 1–30 characters in 004010.
pub const MAX_REFERENCE_LEN: usize = 30;
/// The largest interchange, group or transaction-set control number (nine digits).
pub const MAX_CONTROL_NUMBER: u32 = 999_999_999;

/// Why a document could not be written (or, in the tests' checker, read).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum X12Error {
    #[error("{element}: {reason} ({value:?})")]
    Value { element: &'static str, value: String, reason: &'static str },
    #[error("{0}")]
    Structure(String),
}

fn bad(element: &'static str, value: &str, reason: &'static str) -> X12Error {
    X12Error::Value { element, value: value.to_owned(), reason }
}

/// ISA15: whether the interchange is live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    Production,
    Test,
}

/// Who sends to whom, per trading partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// ISA05, e.g. `ZZ` (mutually defined), `01` (DUNS), `12` (phone).
    pub sender_qualifier: String,
    /// ISA06, 1–15 characters (padded).
    pub sender_id: String,
    /// ISA07.
    pub receiver_qualifier: String,
    /// ISA08, 1–15 characters (padded).
    pub receiver_id: String,
    /// GS02, 2–15 characters.
    pub application_sender: String,
    /// GS03, 2–15 characters.
    pub application_receiver: String,
    pub usage: Usage,
}

/// The control numbers of one interchange: ISA13/IEA02, GS06/GE02, and the first ST02/SE02.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlNumbers {
    pub interchange: u32,
    pub group: u32,
    pub transaction: u32,
}

/// One item of the advice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryLine {
    /// The partner's own item code, when it has one (LIN `IN`).
    pub item_code: Option<String>,
    /// Our SKU (LIN `VN`).
    pub sku: String,
    /// Available for sale (QTY `33`).
    pub quantity: i64,
    /// When this quantity took effect (DTM `007`), if the partner wants it.
    pub effective: Option<Millis>,
}

impl InventoryLine {
    /// Whether the line can be written.
    pub fn check(&self) -> Result<(), X12Error> {
        if let Some(code) = &self.item_code {
            value("LIN03", code, 1, MAX_ITEM_ID_LEN)?;
        }
        value("LIN", &self.sku, 1, MAX_ITEM_ID_LEN)?;
        Ok(())
    }
}

/// A value for an element: `min..=max` characters of printable ASCII, none a delimiter.
fn value<'a>(element: &'static str, v: &'a str, min: usize, max: usize) -> Result<&'a str, X12Error> {
    if v.len() < min {
        return Err(bad(element, v, "too short"));
    }
    if v.len() > max {
        return Err(bad(element, v, "too long"));
    }
    if !v.chars().all(|c| (' '..='~').contains(&c) && c != ELEMENT && c != SEGMENT && c != COMPONENT) {
        return Err(bad(element, v, "must be printable ASCII without the delimiters * ~ >"));
    }
    Ok(v)
}

/// `v` padded with spaces to exactly `width` (after checking it fits).
fn fixed(element: &'static str, v: &str, min: usize, width: usize) -> Result<String, X12Error> {
    value(element, v, min, width)?;
    Ok(format!("{v:<width$}"))
}

fn control(element: &'static str, n: u32) -> Result<u32, X12Error> {
    if n == 0 || n > MAX_CONTROL_NUMBER {
        return Err(bad(element, &n.to_string(), "must be 1..=999999999"));
    }
    Ok(n)
}

/// One segment with our delimiters; trailing empty elements are left out, as X12 requires.
/// Shared with the 855/997 writer (`inbound::x12_ack`).
pub fn segment(id: &str, elements: &[&str]) -> String {
    let used = elements.iter().rposition(|e| !e.is_empty()).map_or(0, |i| i + 1);
    let mut s = String::from(id);
    for e in &elements[..used] {
        s.push(ELEMENT);
        s.push_str(e);
    }
    s.push(SEGMENT);
    s
}

/// A time as the envelope writes it.
pub struct Stamp {
    pub yymmdd: String,
    pub ccyymmdd: String,
    pub hhmm: String,
}

/// `t` in the envelope's date and time formats (UTC).
pub fn stamp(t: Millis) -> Stamp {
    let d = chrono::DateTime::from_timestamp_millis(t.0).unwrap_or_default();
    Stamp {
        yymmdd: format!("{:02}{:02}{:02}", d.year().rem_euclid(100), d.month(), d.day()),
        ccyymmdd: format!("{:04}{:02}{:02}", d.year(), d.month(), d.day()),
        hhmm: format!("{:02}{:02}", d.hour(), d.minute()),
    }
}

/// The ISA segment (106 characters with its terminator).
pub fn isa(envelope: &Envelope, interchange: u32, now: Millis) -> Result<String, X12Error> {
    let t = stamp(now);
    let usage = match envelope.usage {
        Usage::Production => "P",
        Usage::Test => "T",
    };
    let control = format!("{:09}", control("ISA13", interchange)?);
    let sender_q = fixed("ISA05", &envelope.sender_qualifier, 2, 2)?;
    let sender = fixed("ISA06", &envelope.sender_id, 1, 15)?;
    let receiver_q = fixed("ISA07", &envelope.receiver_qualifier, 2, 2)?;
    let receiver = fixed("ISA08", &envelope.receiver_id, 1, 15)?;
    let component = COMPONENT.to_string();
    let blank = " ".repeat(10);
    let elements = [
        "00",
        &blank,
        "00",
        &blank,
        &sender_q,
        &sender,
        &receiver_q,
        &receiver,
        &t.yymmdd,
        &t.hhmm,
        "U",
        "00401",
        &control,
        "0",
        usage,
        &component,
    ];
    // Every ISA element is present (fixed width), so no trimming here.
    let mut s = String::from("ISA");
    for e in elements {
        s.push(ELEMENT);
        s.push_str(e);
    }
    s.push(SEGMENT);
    debug_assert_eq!(s.len(), 106);
    Ok(s)
}

/// GS02 and GS03, the application sender's and receiver's codes: 2–15 characters (X12's AN
/// 2/15) of printable ASCII without our delimiters. The reader holds a partner's GS02 to this
/// rule too, since our answers echo it as their GS03.
pub fn application_id(element: &'static str, v: &str) -> Result<(), X12Error> {
    value(element, v, 2, 15).map(|_| ())
}

/// The GS segment of a functional group `functional_id` (`IB`, `PR`, `FA`) with control number
/// `group`, its codes checked.
pub fn gs(envelope: &Envelope, functional_id: &str, group: u32, t: &Stamp) -> Result<String, X12Error> {
    let group = control("GS06", group)?.to_string();
    application_id("GS02", &envelope.application_sender)?;
    application_id("GS03", &envelope.application_receiver)?;
    Ok(segment(
        "GS",
        &[
            functional_id,
            &envelope.application_sender,
            &envelope.application_receiver,
            &t.ccyymmdd,
            &t.hhmm,
            &group,
            "X",
            "004010",
        ],
    ))
}

/// An 846 interchange for one trading partner: one functional group, one transaction set per
/// `max_lines_per_set` items (at least one set, even for no items).
pub fn inventory_advice(
    envelope: &Envelope,
    numbers: ControlNumbers,
    reference: &str,
    lines: &[InventoryLine],
    max_lines_per_set: usize,
    now: Millis,
) -> Result<String, X12Error> {
    let t = stamp(now);
    let per_set = max_lines_per_set.clamp(1, MAX_LINES_PER_SET);
    for line in lines {
        line.check()?;
    }
    let sets: Vec<&[InventoryLine]> = if lines.is_empty() { vec![&[]] } else { lines.chunks(per_set).collect() };
    let last_st = u64::from(control("ST02", numbers.transaction)?) + sets.len() as u64 - 1;
    if last_st > u64::from(MAX_CONTROL_NUMBER) {
        return Err(bad("ST02", &last_st.to_string(), "must be 1..=999999999"));
    }

    let mut out = isa(envelope, numbers.interchange, now)?;
    out.push_str(&gs(envelope, "IB", numbers.group, &t)?);
    for (i, set) in sets.iter().enumerate() {
        let st02 = format!("{:04}", numbers.transaction as usize + i);
        let reference = if sets.len() > 1 { format!("{reference}-{}", i + 1) } else { reference.to_owned() };
        value("BIA03", &reference, 1, MAX_REFERENCE_LEN)?;
        let mut body =
            vec![segment("ST", &["846", &st02]), segment("BIA", &["00", "SI", &reference, &t.ccyymmdd, &t.hhmm])];
        for line in *set {
            let quantity = line.quantity.to_string();
            body.push(match &line.item_code {
                Some(code) => segment("LIN", &["", "IN", code, "VN", &line.sku]),
                None => segment("LIN", &["", "VN", &line.sku]),
            });
            body.push(segment("QTY", &["33", &quantity, "EA"]));
            if let Some(at) = line.effective {
                let e = stamp(at);
                body.push(segment("DTM", &["007", &e.ccyymmdd, &e.hhmm]));
            }
        }
        let count = (body.len() + 1).to_string();
        body.push(segment("SE", &[&count, &st02]));
        out.extend(body);
    }
    out.push_str(&segment("GE", &[&sets.len().to_string(), &numbers.group.to_string()]));
    out.push_str(&segment("IEA", &["1", &format!("{:09}", numbers.interchange)]));
    Ok(out)
}
