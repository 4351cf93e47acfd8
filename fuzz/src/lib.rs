//! What the fuzz targets share: cutting one input into header values and a body, a reader that
//! hands bytes over in small pieces, and the contract every accepted inbound delivery meets.
//!
//! Every target asserts a contract, not only "no panic": an accepted value re-validates (or
//! round-trips through its serialised form), and what a parser refuses it refuses with its typed
//! error. A failed assertion is a crash, which libFuzzer saves under `fuzz/artifacts/<target>/`.

use std::io::Read;

use stockedge::inbound::limits::{MAX_ID_LEN, MAX_LEVEL, MAX_LINES_PER_ORDER, MAX_LINE_QTY};
use stockedge::inbound::{AuthError, EventKind, InboundError, InboundEvent, InboundOutcome, Received};
use stockedge::time::Millis;

/// The clock every target runs at: 2026-12-06T11:45:00Z.
pub const NOW: Millis = Millis(1_796_557_500_000);

/// The webhook secret the signed cases use.
pub const SECRET: &[u8] = b"fuzz-webhook-secret";

/// The first `n` lines of `data` (lossy UTF-8, without the `\n`) and the bytes after them; lines
/// missing at the end are empty.
pub fn lines_then_body(data: &[u8], n: usize) -> (Vec<String>, &[u8]) {
    let mut rest = data;
    let mut lines = Vec::with_capacity(n);
    for _ in 0..n {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                lines.push(String::from_utf8_lossy(&rest[..i]).into_owned());
                rest = &rest[i + 1..];
            }
            None => {
                lines.push(String::from_utf8_lossy(rest).into_owned());
                rest = &[];
            }
        }
    }
    (lines, rest)
}

/// `(key, value)` pairs from `k=v` lines (a line without `=` is a key with an empty value), as a
/// query string reaches the parsers once the runtime has decoded it.
pub fn pairs(text: &str) -> Vec<(String, String)> {
    text.split(['\n', '&'])
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

/// A reader that returns at most `step` bytes per `read` (the streaming readers must read a file
/// the same whatever the chunking).
pub struct Trickle<'a> {
    pub data: &'a [u8],
    pub step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.max(1).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A platform identifier as the inbound readers keep it: trimmed, 1..=255 bytes, no control
/// characters.
pub fn assert_clean_id(what: &str, s: &str) {
    assert!(!s.is_empty(), "{what} is empty");
    assert!(s.len() <= MAX_ID_LEN, "{what} is {} bytes", s.len());
    assert_eq!(s.trim(), s, "{what} is not trimmed");
    assert!(!s.chars().any(char::is_control), "{what} {s:?} has control characters");
}

/// The contract of one event: bounded lines, clean ids, quantities in range.
pub fn assert_event(e: &InboundEvent) {
    assert!(e.lines.len() <= MAX_LINES_PER_ORDER, "{} lines", e.lines.len());
    if let Some(id) = &e.order_id {
        assert_clean_id("order_id", id);
    }
    for l in &e.lines {
        assert_clean_id("line_id", &l.line_id);
        if let Some(sku) = &l.identity.sku {
            assert_clean_id("sku", sku);
        }
        if let Some(id) = &l.order_line_id {
            assert_clean_id("order_line_id", id);
        }
        match e.kind {
            EventKind::Drift => assert!(l.qty.abs() <= MAX_LEVEL, "drift level {}", l.qty),
            _ => assert!((1..=MAX_LINE_QTY).contains(&l.qty), "line quantity {}", l.qty),
        }
        let _ = l.identity.lookup_keys();
    }
}

/// The contract of an outcome; `Received` values must also survive their JSON form unchanged.
pub fn assert_outcome(o: &InboundOutcome) {
    match o {
        InboundOutcome::Events { events } => events.iter().for_each(assert_event),
        InboundOutcome::Fetch { order } => assert_clean_id("fetch order_id", &order.order_id),
        InboundOutcome::Ignored { .. } | InboundOutcome::Ping => {}
    }
    let json = serde_json::to_string(o).expect("an outcome serialises");
    let back: InboundOutcome = serde_json::from_str(&json).expect("an outcome deserialises");
    assert_eq!(&back, o, "outcome JSON round trip");
}

/// [`assert_outcome`] plus the delivery's own fields.
pub fn assert_received(r: &Received) {
    assert_outcome(&r.outcome);
    if let Some(k) = &r.dedupe_key {
        assert!(!k.chars().any(char::is_control), "dedupe key {k:?}");
    }
    let json = serde_json::to_string(r).expect("a delivery serialises");
    let back: Received = serde_json::from_str(&json).expect("a delivery deserialises");
    assert_eq!(&back, r, "delivery JSON round trip");
}

/// `body` with one bit flipped at a place chosen by `at` (`None` for an empty body).
pub fn flipped(body: &[u8], at: u8) -> Option<Vec<u8>> {
    if body.is_empty() {
        return None;
    }
    let mut b = body.to_vec();
    let i = usize::from(at) * 7919 % b.len();
    b[i] ^= 1 << (at % 8);
    Some(b)
}

/// The signing contract of a webhook receiver, `receive` being the receiver called with the
/// delivery's headers and a body: a delivery `signed` correctly is never refused as unauthorised;
/// an accepted one passes the target's own `accepted` check and [`assert_received`]; and when
/// signed, the same delivery with one bit of its body flipped (chosen by `at`) is refused as a
/// signature mismatch.
pub fn assert_signing(
    signed: bool,
    body: &[u8],
    at: u8,
    receive: impl Fn(&[u8]) -> Result<Received, InboundError>,
    accepted: impl FnOnce(&Received),
) {
    match receive(body) {
        Ok(r) => {
            accepted(&r);
            assert_received(&r);
        }
        Err(InboundError::Unauthorized(e)) => assert!(!signed, "a correctly signed delivery refused: {e}"),
        Err(_) => {}
    }
    if signed {
        if let Some(tampered) = flipped(body, at) {
            let e = receive(&tampered).expect_err("a tampered body");
            assert_eq!(e, InboundError::Unauthorized(AuthError::Mismatch));
        }
    }
}

/// The contract of the streaming CSV reader on one file, read as `format` (or, with flag bit 1,
/// as whatever its header says), in the mode of flag bit 0, keeping untracked rows with bit 2:
/// - reading the whole file and reading it a few bytes at a time give the same outcomes;
/// - rows are reported in file order, each on a later line than the one before (the header is
///   line 1);
/// - a stock row's SKU and location re-validate, its quantity is in the mode's range;
/// - the plan over the rows is made without a panic, and lists every row once.
///
/// Returns the outcomes (for targets that check more).
pub fn check_import(
    flags: u8,
    file: &[u8],
    options: stockedge::import::ReadOptions,
) -> Option<Vec<stockedge::import::RowOutcome>> {
    use stockedge::import::{plan_rows, read_all, Mode, RowOutcome};
    use stockedge::stock::limits::{MAX_ADJUST_DELTA, MAX_ON_HAND};
    use stockedge::stock::{Location, Sku};

    let mode = options.mode;
    let whole = read_all(file, options.clone());
    let trickled = read_all(Trickle { data: file, step: usize::from(flags >> 3) + 1 }, options.clone());
    assert_eq!(whole, trickled, "the outcome depends on how the bytes arrive");
    let (format, rows) = whole.ok()?;
    if let (Some(asked), None) = (options.format, &options.mapping) {
        assert_eq!(format, asked, "read as another format than asked");
    }
    let mut last = 1;
    for r in &rows {
        assert!(r.line() > last, "row on line {} after line {last}", r.line());
        last = r.line();
        match r {
            RowOutcome::Stock { sku, location, quantity, .. } => {
                assert_eq!(Sku::parse(sku.as_str()).as_ref(), Ok(sku));
                assert_eq!(Location::parse(location.as_str()).as_ref(), Ok(location));
                if let Some(q) = quantity {
                    match mode {
                        Mode::Set => assert!((0..=MAX_ON_HAND).contains(q), "set quantity {q}"),
                        Mode::Adjust => assert!(q.abs() <= MAX_ADJUST_DELTA, "adjust quantity {q}"),
                    }
                }
            }
            RowOutcome::Skipped { reason, .. } => assert!(!reason.is_empty()),
            RowOutcome::Error { message, .. } => assert!(!message.is_empty()),
        }
    }
    let plan = plan_rows(rows.clone(), mode, |_, _| Some(3));
    assert_eq!(plan.rows.len(), rows.len(), "the plan reports every row once");
    Some(rows)
}

/// [`check_import`] for one of the four formats, the input's first byte being the flags.
pub fn fuzz_format(data: &[u8], format: stockedge::import::Format) {
    use stockedge::import::{Mode, ReadOptions};
    let Some((&flags, file)) = data.split_first() else { return };
    let mode = if flags & 1 == 0 { Mode::Set } else { Mode::Adjust };
    let mut options = ReadOptions::new(if flags & 2 == 0 { Some(format) } else { None }, mode);
    options.keep_untracked = flags & 4 != 0;
    check_import(flags, file, options);
}
