//! A small X12 reader: splits an interchange into segments and checks its envelope and the 846
//! segment grammar — what the tests use to prove that what `stockedge::sync::x12` writes is valid:
//! ISA fixed width (106 characters), SE01 = segments of the set counting ST and SE, SE02 = ST02,
//! GE01 = transaction sets of the group, GE02 = GS06, IEA01 = functional groups, IEA02 = ISA13.

use stockedge::sync::x12::X12Error;

/// One segment: its id and its elements (ISA01… as `elements[0]`…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    pub elements: Vec<String>,
}

impl Segment {
    /// Element `n`, counting from 1 as X12 does (`""` when absent).
    pub fn el(&self, n: usize) -> &str {
        self.elements.get(n.wrapping_sub(1)).map_or("", String::as_str)
    }
}

fn broken(what: impl Into<String>) -> X12Error {
    X12Error::Structure(what.into())
}

/// The widths of ISA01…ISA16.
const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

/// Splits an interchange into segments. The delimiters are read from the ISA segment (element
/// separator at position 4, component separator at 105, segment terminator at 106); line breaks
/// after a terminator are ignored.
pub fn parse(text: &str) -> Result<Vec<Segment>, X12Error> {
    let text = text.trim_start();
    if !text.starts_with("ISA") || !text.is_ascii() || text.len() < 106 {
        return Err(broken("an interchange starts with a 106-character ISA segment"));
    }
    let bytes = text.as_bytes();
    let element = bytes[3] as char;
    let terminator = bytes[105] as char;
    let isa = &text[..105];
    let fields: Vec<&str> = isa.split(element).collect();
    if fields.len() != 17 || fields.iter().skip(1).zip(ISA_WIDTHS).any(|(f, w)| f.len() != w) {
        return Err(broken(format!("ISA is not fixed-width: {isa:?}")));
    }
    if fields[16] == element.to_string() || fields[16] == terminator.to_string() {
        return Err(broken("ISA16 must differ from the other delimiters"));
    }
    let mut segments = Vec::new();
    for raw in text.split(terminator) {
        let raw = raw.trim_matches(|c| c == '\r' || c == '\n');
        if raw.is_empty() {
            continue;
        }
        let mut parts = raw.split(element).map(str::to_owned);
        let id = parts.next().unwrap_or_default();
        if id.is_empty() || id.len() > 3 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(broken(format!("bad segment id in {raw:?}")));
        }
        segments.push(Segment { id, elements: parts.collect() });
    }
    if !text.trim_end().ends_with(terminator) {
        return Err(broken("the last segment is not terminated"));
    }
    Ok(segments)
}

/// One 846 transaction set as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetSummary {
    pub control: String,
    /// SE01 (checked against the count).
    pub segments: usize,
    /// Per LIN: (partner item code, our SKU, quantity available).
    pub lines: Vec<(Option<String>, String, i64)>,
}

/// What [`check_846`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeSummary {
    pub interchange_control: String,
    pub group_control: String,
    pub sets: Vec<SetSummary>,
}

impl EnvelopeSummary {
    pub fn line_count(&self) -> usize {
        self.sets.iter().map(|s| s.lines.len()).sum()
    }
}

/// Checks an interchange holding one functional group of 846 transaction sets: envelope counts
/// and control numbers, and per set `ST BIA (LIN QTY DTM?)* CTT? SE`.
pub fn check_846(text: &str) -> Result<EnvelopeSummary, X12Error> {
    let segs = parse(text)?;
    let (first, last) = (segs.first().ok_or_else(|| broken("empty"))?, segs.last().ok_or_else(|| broken("empty"))?);
    if first.id != "ISA" || last.id != "IEA" {
        return Err(broken("an interchange is ISA … IEA"));
    }
    let groups = segs.iter().filter(|s| s.id == "GS").count();
    if last.el(1) != groups.to_string() {
        return Err(broken(format!("IEA01 is {} but there are {groups} functional groups", last.el(1))));
    }
    if last.el(2) != first.el(13) {
        return Err(broken("IEA02 differs from ISA13"));
    }
    if groups != 1 || segs[1].id != "GS" || segs[segs.len() - 2].id != "GE" {
        return Err(broken("expected exactly one functional group right inside the interchange"));
    }
    let gs = &segs[1];
    let ge = &segs[segs.len() - 2];
    if gs.el(1) != "IB" || gs.el(8) != "004010" {
        return Err(broken("GS01 must be IB (846) and GS08 004010"));
    }
    if ge.el(2) != gs.el(6) {
        return Err(broken("GE02 differs from GS06"));
    }
    let body = &segs[2..segs.len() - 2];
    let mut sets = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let st = &body[i];
        if st.id != "ST" || st.el(1) != "846" {
            return Err(broken(format!("expected ST*846, found {}", st.id)));
        }
        let end = body[i..].iter().position(|s| s.id == "SE").map(|p| i + p).ok_or_else(|| broken("ST without SE"))?;
        let set = &body[i..=end];
        let se = &body[end];
        if se.el(1) != set.len().to_string() {
            return Err(broken(format!("SE01 is {} but the set has {} segments", se.el(1), set.len())));
        }
        if se.el(2) != st.el(2) || st.el(2).len() < 4 || st.el(2).len() > 9 {
            return Err(broken("SE02 must equal ST02 (4-9 characters)"));
        }
        sets.push(SetSummary {
            control: st.el(2).to_owned(),
            segments: set.len(),
            lines: grammar(&set[1..set.len() - 1])?,
        });
        i = end + 1;
    }
    if ge.el(1) != sets.len().to_string() {
        return Err(broken(format!("GE01 is {} but the group has {} transaction sets", ge.el(1), sets.len())));
    }
    Ok(EnvelopeSummary { interchange_control: first.el(13).to_owned(), group_control: gs.el(6).to_owned(), sets })
}

/// `BIA (LIN QTY DTM?)* CTT?` between ST and SE.
fn grammar(inner: &[Segment]) -> Result<Vec<(Option<String>, String, i64)>, X12Error> {
    let bia = inner.first().filter(|s| s.id == "BIA").ok_or_else(|| broken("BIA must follow ST"))?;
    if bia.el(1).len() != 2 || bia.el(2).len() != 2 || bia.el(3).is_empty() || bia.el(4).len() != 8 {
        return Err(broken("BIA needs BIA01, BIA02, BIA03 and an 8-digit BIA04"));
    }
    let mut lines = Vec::new();
    let mut k = 1;
    while k < inner.len() {
        let s = &inner[k];
        match s.id.as_str() {
            "LIN" => {
                let pairs: Vec<(&str, &str)> = s
                    .elements
                    .iter()
                    .skip(1)
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .chunks(2)
                    .map(|c| (c[0], *c.get(1).unwrap_or(&"")))
                    .collect();
                let get = |q: &str| pairs.iter().find(|(qual, _)| *qual == q).map(|(_, v)| v.to_string());
                let sku = get("VN").ok_or_else(|| broken("LIN without a VN item"))?;
                let qty =
                    inner.get(k + 1).filter(|q| q.id == "QTY").ok_or_else(|| broken("LIN must be followed by QTY"))?;
                if qty.el(1) != "33" {
                    return Err(broken("QTY01 must be 33 (quantity available for sale)"));
                }
                let n = qty.el(2).parse::<i64>().map_err(|_| broken("QTY02 is not a number"))?;
                lines.push((get("IN"), sku, n));
                k += 2;
                if inner.get(k).is_some_and(|d| d.id == "DTM") {
                    if inner[k].el(1).len() != 3 || inner[k].el(2).len() != 8 {
                        return Err(broken("DTM needs a 3-character qualifier and an 8-digit date"));
                    }
                    k += 1;
                }
            }
            "CTT" if k == inner.len() - 1 => {
                if s.el(1) != lines.len().to_string() {
                    return Err(broken("CTT01 must count the LIN segments"));
                }
                k += 1;
            }
            other => return Err(broken(format!("unexpected {other} in an 846"))),
        }
    }
    Ok(lines)
}

mod tests {
    use super::*;
    use proptest::prelude::*;
    use stockedge::sync::x12::{inventory_advice, ControlNumbers, Envelope, InventoryLine, Usage};
    use stockedge::time::Millis;

    fn document() -> String {
        let envelope = Envelope {
            sender_qualifier: "ZZ".into(),
            sender_id: "SE".into(),
            receiver_qualifier: "01".into(),
            receiver_id: "123456789".into(),
            application_sender: "SE".into(),
            application_receiver: "RC".into(),
            usage: Usage::Test,
        };
        let lines: Vec<InventoryLine> = (0..5)
            .map(|i| InventoryLine {
                item_code: (i % 2 == 0).then(|| format!("C{i}")),
                sku: format!("S{i}"),
                quantity: i,
                effective: (i % 3 == 0).then_some(Millis(0)),
            })
            .collect();
        inventory_advice(
            &envelope,
            ControlNumbers { interchange: 9, group: 8, transaction: 7 },
            "R",
            &lines,
            2,
            Millis(0),
        )
        .unwrap()
    }

    #[test]
    fn a_written_document_checks() {
        let s = check_846(&document()).unwrap();
        assert_eq!(s.sets.len(), 3);
        assert_eq!(s.line_count(), 5);
        assert!(document().contains("*T*>~"), "test usage");
    }

    proptest! {
        /// Whatever is cut from, inserted into or replaced in a valid document, the reader
        /// answers (Ok or Err) without panicking, and never finds lines that are not there.
        #[test]
        fn damaged_documents_never_panic(at in 0usize..400, len in 0usize..20, insert in "[A-Z0-9*~>\\r\\n]{0,8}") {
            let doc = document();
            let at = at.min(doc.len());
            let end = (at + len).min(doc.len());
            let damaged = format!("{}{}{}", &doc[..at], insert, &doc[end..]);
            let _ = parse(&damaged);
            if let Ok(s) = check_846(&damaged) {
                prop_assert!(s.line_count() <= 5 + insert.matches("LIN").count());
            }
        }
    }
}
