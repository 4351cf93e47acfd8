//! Reading an inbound X12 interchange: delimiters from the ISA, segments, and the envelope
//! (ISA/GS/ST … SE/GE/IEA) with its control numbers and counts checked. Pure.
//!
//! Contract:
//! - The ISA is fixed width (106 characters with its terminator): the element separator is the
//!   4th character, the component separator ISA16 (the 105th), the segment terminator the 106th.
//!   Line breaks after a terminator are ignored (many senders wrap each segment). Text before the
//!   ISA other than white space or a byte-order mark makes the interchange unreadable.
//! - One functional group per interchange (GS … GE), holding one or more transaction sets.
//! - Checked, each failure a [`Rejection`] that says what a 997 reports (AK3/AK4 where a segment
//!   or element is at fault, the AK5 and AK9 codes): IEA02 = ISA13, IEA01 = number of groups;
//!   GE02 = GS06, GE01 = number of sets; SE02 = ST02, SE01 = number of segments from ST to SE;
//!   every ST closed by an SE before the GE, every GS by a GE before the IEA; nothing after IEA.
//! - An interchange whose ISA or GS cannot be read at all is [`ReadError::Unreadable`]: there is
//!   no group to acknowledge, so the edge answers a problem instead of a 997.

use super::x12_reject::{GroupCode, Rejection, SetCode, SetRef};

/// The delimiters of one interchange, as its ISA declares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delimiters {
    pub element: char,
    pub component: char,
    pub segment: char,
}

/// One segment: its id and elements (`elements[0]` is element 01).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    pub elements: Vec<String>,
}

impl Segment {
    /// Element `n` (1-based), `""` when absent.
    pub fn el(&self, n: usize) -> &str {
        n.checked_sub(1).and_then(|i| self.elements.get(i)).map_or("", |s| s.trim())
    }
}

/// The ISA's parties and control number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterchangeHeader {
    pub sender_qualifier: String,
    pub sender_id: String,
    pub receiver_qualifier: String,
    pub receiver_id: String,
    pub control: u32,
    /// ISA15: `P` production, `T` test.
    pub usage: String,
}

/// The GS of the one functional group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupHeader {
    /// GS01, e.g. `PO` for 850s.
    pub functional_id: String,
    pub application_sender: String,
    pub application_receiver: String,
    pub control: u32,
    /// GS08, e.g. `004010`.
    pub version: String,
}

/// One transaction set: ST01, ST02 and the segments between ST and SE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionSet {
    pub id: String,
    pub control: String,
    pub body: Vec<Segment>,
}

/// A read interchange with its envelope checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interchange {
    pub delimiters: Delimiters,
    pub header: InterchangeHeader,
    pub group: GroupHeader,
    pub sets: Vec<TransactionSet>,
}

/// Why an interchange was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// No ISA or GS that can be read: nothing to acknowledge.
    #[error("{0}")]
    Unreadable(String),
    /// The envelope is wrong: answered with a 997 rejecting the group.
    #[error("{}", .0.rejection.message)]
    Rejected(Box<Rejected>),
}

/// A group rejected for its envelope, with what the 997 needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    pub header: InterchangeHeader,
    pub group: GroupHeader,
    /// Transaction sets (ST segments) the interchange holds.
    pub received: usize,
    pub rejection: Rejection,
}

/// The ISA's length with its terminator.
pub const ISA_LEN: usize = 106;

/// The width of each ISA element, ISA01 to ISA16: the ISA is fixed-width (which is how its
/// delimiters are found at fixed places), so an element of another width is a malformed ISA,
/// not a value to carry into our answer's envelope.
const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

/// ISA05 and ISA07, the id qualifiers (`ZZ`, `01`, `12`, …): codes of letters and digits.
const ISA_QUALIFIERS: [usize; 2] = [4, 6];

fn unreadable(m: impl Into<String>) -> ReadError {
    ReadError::Unreadable(m.into())
}

/// The delimiters and the ISA's elements.
fn isa(text: &str) -> Result<(Delimiters, Vec<String>), ReadError> {
    if !text.starts_with("ISA") {
        return Err(unreadable("the interchange must begin with an ISA segment"));
    }
    let chars: Vec<char> = text.chars().take(ISA_LEN).collect();
    if chars.len() < ISA_LEN {
        return Err(unreadable(format!("the ISA segment must be {ISA_LEN} characters long")));
    }
    let d = Delimiters { element: chars[3], component: chars[104], segment: chars[105] };
    if d.element.is_alphanumeric() || d.segment.is_alphanumeric() || d.element == d.segment {
        return Err(unreadable("the ISA does not declare usable element and segment separators"));
    }
    let isa: String = chars[..105].iter().collect();
    let elements: Vec<String> = isa.split(d.element).skip(1).map(str::to_owned).collect();
    if elements.len() != 16 {
        return Err(unreadable(format!(
            "the ISA must have 16 elements separated by {:?} in its {ISA_LEN} characters",
            d.element
        )));
    }
    for (i, (e, width)) in elements.iter().zip(ISA_WIDTHS).enumerate() {
        if e.chars().count() != width {
            return Err(unreadable(format!(
                "ISA{:02} must be {width} characters wide (the ISA is fixed-width)",
                i + 1
            )));
        }
    }
    for i in ISA_QUALIFIERS {
        if !elements[i].bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(unreadable(format!("ISA{:02} must be a qualifier code of two letters or digits", i + 1)));
        }
    }
    Ok((d, elements))
}

/// Splits the interchange into segments: the delimiters, the ISA's elements and the segments.
fn split(text: &str) -> Result<(Delimiters, Vec<String>, Vec<Segment>), ReadError> {
    let text = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let (d, isa_el) = isa(text)?;
    let mut out = Vec::new();
    for raw in text.split(d.segment) {
        let raw = raw.trim_matches(['\r', '\n']);
        if raw.is_empty() {
            continue;
        }
        let mut parts = raw.split(d.element);
        let id = parts.next().unwrap_or_default().trim().to_owned();
        out.push(Segment { id, elements: parts.map(str::to_owned).collect() });
    }
    Ok((d, isa_el, out))
}

fn number(s: &str) -> Option<u32> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// Reads and checks the envelope of `text`.
pub fn read(text: &str) -> Result<Interchange, ReadError> {
    let (delimiters, isa_el, segs) = split(text)?;
    let header = InterchangeHeader {
        sender_qualifier: isa_el[4].trim().to_owned(),
        sender_id: isa_el[5].trim().to_owned(),
        receiver_qualifier: isa_el[6].trim().to_owned(),
        receiver_id: isa_el[7].trim().to_owned(),
        control: number(&isa_el[12]).ok_or_else(|| unreadable("ISA13 must be a nine-digit control number"))?,
        usage: isa_el[14].trim().to_owned(),
    };
    let gs = segs.get(1).filter(|s| s.id == "GS").ok_or_else(|| unreadable("the ISA must be followed by a GS"))?;
    let group = GroupHeader {
        functional_id: gs.el(1).to_owned(),
        application_sender: gs.el(2).to_owned(),
        application_receiver: gs.el(3).to_owned(),
        control: number(gs.el(6)).ok_or_else(|| unreadable("GS06 must be a group control number"))?,
        version: gs.el(8).to_owned(),
    };
    let received = segs.iter().filter(|s| s.id == "ST").count();
    let reject = |rejection: Rejection| {
        ReadError::Rejected(Box::new(Rejected { header: header.clone(), group: group.clone(), received, rejection }))
    };
    let mut sets = Vec::new();
    let mut i = 2;
    let mut open: Option<(TransactionSet, usize)> = None;
    let mut ge_seen = false;
    while i < segs.len() {
        let s = &segs[i];
        match (s.id.as_str(), &mut open) {
            ("ST", None) if !ge_seen => {
                open = Some((TransactionSet { id: s.el(1).to_owned(), control: s.el(2).to_owned(), body: vec![] }, 1));
            }
            ("SE", Some((set, count))) => {
                let set_ref = SetRef { id: set.id.clone(), control: set.control.clone() };
                let segments_in_set = *count + 1;
                if s.el(2) != set.control {
                    return Err(reject(Rejection::set(
                        set_ref,
                        SetCode::ControlNumberMismatch,
                        format!("SE02 {:?} does not match ST02 {:?}", s.el(2), set.control),
                    )));
                }
                if number(s.el(1)) != u32::try_from(segments_in_set).ok() {
                    return Err(reject(Rejection::set(
                        set_ref,
                        SetCode::SegmentCountMismatch,
                        format!("SE01 says {} segments; the set has {segments_in_set} (ST to SE)", s.el(1)),
                    )));
                }
                sets.push(std::mem::replace(
                    set,
                    TransactionSet { id: String::new(), control: String::new(), body: vec![] },
                ));
                open = None;
            }
            (_, Some((set, count))) if !matches!(s.id.as_str(), "ST" | "GE" | "IEA" | "GS" | "ISA") => {
                set.body.push(s.clone());
                *count += 1;
            }
            (_, Some((set, _))) => {
                let set_ref = SetRef { id: set.id.clone(), control: set.control.clone() };
                return Err(reject(Rejection::set(
                    set_ref,
                    SetCode::TrailerMissing,
                    format!("transaction set {} has no SE before {}", set.control, s.id),
                )));
            }
            ("GE", None) if !ge_seen => {
                if number(s.el(2)) != Some(group.control) {
                    return Err(reject(Rejection::group(
                        GroupCode::ControlNumberMismatch,
                        format!("GE02 {:?} does not match GS06 {}", s.el(2), group.control),
                    )));
                }
                if number(s.el(1)) != u32::try_from(sets.len()).ok() {
                    return Err(reject(Rejection::group(
                        GroupCode::SetCountMismatch,
                        format!("GE01 says {} transaction sets; the group has {}", s.el(1), sets.len()),
                    )));
                }
                ge_seen = true;
            }
            ("IEA", None) if ge_seen => {
                if number(s.el(2)) != Some(header.control) {
                    return Err(reject(Rejection::group(
                        GroupCode::InterchangeMismatch,
                        format!("IEA02 {:?} does not match ISA13 {:09}", s.el(2), header.control),
                    )));
                }
                if number(s.el(1)) != Some(1) {
                    return Err(reject(Rejection::group(
                        GroupCode::InterchangeMismatch,
                        format!("IEA01 says {} functional groups; StockEdge reads interchanges of exactly 1", s.el(1)),
                    )));
                }
                if i + 1 != segs.len() {
                    return Err(reject(Rejection::group(
                        GroupCode::InterchangeMismatch,
                        format!("segment {} follows the IEA", segs[i + 1].id),
                    )));
                }
                return Ok(Interchange { delimiters, header, group, sets });
            }
            (other, None) => {
                let why = if ge_seen {
                    format!("{other} after the GE: StockEdge reads interchanges of exactly one functional group")
                } else {
                    format!("{other} outside a transaction set")
                };
                return Err(reject(Rejection::group(GroupCode::TrailerMissing, why)));
            }
        }
        i += 1;
    }
    let why = if ge_seen { "the interchange has no IEA" } else { "the functional group has no GE" };
    Err(reject(Rejection::group(GroupCode::TrailerMissing, why.to_owned())))
}
