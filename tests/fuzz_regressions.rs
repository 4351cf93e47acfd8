//! Inputs the fuzzers (fuzz/, `scripts/fuzz.sh`) found breaking a parser's contract, pinned with
//! their bytes once fixed. Each test names its fuzz target and what was wrong.

use std::io::Read;

use stockedge::import::mapping::MappedColumns;
use stockedge::import::{read_all, Format, Mapping, Mode, ReadOptions, RowOutcome};
use stockedge::inbound::x12_ack::{answer_envelope, answer_gs03, functional_ack, Control};
use stockedge::inbound::x12_read::{read, ReadError};
use stockedge::time::Millis;

/// Hands the input over `step` bytes per `read`, as a network stream may.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// `import_mapped`: a byte-order mark was removed only when the reader's first read held all of
/// its three bytes (the `csv` crate's own check), so a file streamed in small pieces kept it in
/// the first column name and the mapped `Item No.` column was "missing".
#[test]
fn a_byte_order_mark_is_removed_however_the_file_arrives() {
    let file = b"\xef\xbb\xbfItem No.;Qty On Hand\r\n10-102;7\r\n";
    let mapping = Mapping {
        columns: MappedColumns { sku: "Item No.".into(), quantity: "Qty On Hand".into(), location: None },
        delimiter: None,
        locations: Default::default(),
        mode: None,
    };
    let delimiter = mapping.delimiter_for(file);
    let options = ReadOptions { mapping: Some((mapping, delimiter)), ..ReadOptions::new(None, Mode::Set) };
    let whole = read_all(file.as_slice(), options.clone()).expect("reads whole");
    assert_eq!(whole.1.len(), 1);
    for step in 1..=4 {
        assert_eq!(read_all(Trickle { data: file, step }, options.clone()), Ok(whole.clone()), "{step} bytes a read");
    }
    // The formats read the same way.
    let plain = b"\xef\xbb\xbfsku,quantity\nMUG,3\n";
    let whole = read_all(plain.as_slice(), ReadOptions::default()).expect("plain");
    assert_eq!(read_all(Trickle { data: plain, step: 1 }, ReadOptions::default()), Ok(whole));
}

/// `import_plain` (and every format): a lone `\r` ends a record for the `csv` crate but was not
/// counted as a line end, so the row after it was reported on the line before (a "CSV
/// (Macintosh)" file reported every row on line 1).
#[test]
fn a_lone_carriage_return_ends_a_line_in_row_reports() {
    let found = b"sku,quantity,lockatiMon\r\nTEE/RED/M,12,main\r\nM,0,e\nts\rP\"aIN\",\"3\",\r\n,,\r\n";
    let (_, rows) = read_all(found.as_slice(), ReadOptions::new(Some(Format::Plain), Mode::Set)).expect("reads");
    let lines: Vec<u64> = rows.iter().map(RowOutcome::line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5]);
    let mac = b"sku,quantity\rMUG,1\rPIN,x\r";
    let (_, rows) = read_all(mac.as_slice(), ReadOptions::default()).expect("reads");
    assert_eq!(rows.iter().map(RowOutcome::line).collect::<Vec<_>>(), vec![2, 3]);
}

/// `x12_850`: an ISA of 106 characters whose elements were not at their fixed widths (ISA05
/// `ZZBC`, ISA06 shortened) was read, and the partner's four-character qualifier could then not
/// be written into the 997 addressed back to it (a 500 instead of an answer).
#[test]
fn an_isa_element_off_its_fixed_width_is_unreadable() {
    let found = "ISA*00*          *00*          *ZZBC*MEAUY        *ZZ*STOCKEDGE      *261206*1130*U*00401*000000905*0*T*>~\
GS*PO*ACMEBUY*STOCKkDG*00*    E*20261206*11      *0*T*>    *ZZ*AC130*17*X*004010~ST*850*0001~BEG*00*SA*PO-4471**2026001206~\
REF*DP*042~N1*ST*ACME DC 4*92*0042~PO1*1*5*EA*12.50**~~~~~~IN*ACME-PO-44905~";
    match read(found) {
        Err(ReadError::Unreadable(why)) => assert!(why.contains("ISA05"), "{why}"),
        other => panic!("expected the ISA to be unreadable, got {other:?}"),
    }
    let qualifier =
        "ISA*00*          *00*          *Z~*ACMEBUY        *ZZ*STOCKEDGE      *261206*1130*U*00401*000000905*0*T*>|";
    assert!(matches!(read(qualifier), Err(ReadError::Unreadable(why)) if why.contains("ISA05")));
}

/// `x12_850`: this interchange's segment terminator is `;`, so its "GS" runs over the lines below
/// it and GS02 holds `~` and line breaks. The target built its answer's envelope by a copy of the
/// edge's code that had fallen behind it (GS02 echoed as it came), and the 997 written from it did
/// not read back; the writer wrote whatever GS02/GS03 it was given. Now the edge and the target
/// share `answer_envelope`, and the writer refuses a GS02/GS03 it cannot write.
#[test]
fn an_answer_to_any_readable_interchange_reads_back() {
    let text = String::from_utf8_lossy(include_bytes!("fixtures/edi/fuzz_gs02_swallows_segments.x12")).into_owned();
    let Err(ReadError::Rejected(r)) = read(&text) else { panic!("expected a rejected group") };
    assert!(r.group.application_sender.contains('~'), "{:?}", r.group);
    let envelope = answer_envelope("STOCKEDGE", &r.header, &r.group);
    assert_eq!(envelope.application_receiver, "4010ST");
    let answer =
        functional_ack(&envelope, Control { interchange: 2, group: 2 }, &r.group, r.received, &r.rejection, NOW)
            .expect("997");
    let back = read(&answer).unwrap_or_else(|e| panic!("our 997 does not read: {e}\n{answer}"));
    assert_eq!((back.group.functional_id.as_str(), back.group.application_receiver.as_str()), ("FA", "4010ST"));

    // A one-character partner id is padded to GS03's two characters, as X12 pads identifiers.
    assert_eq!(answer_gs03("~", "A"), "A ");
    // The writer refuses an envelope it cannot write rather than writing a broken interchange.
    let mut bad = envelope.clone();
    bad.application_receiver = "AC~ME".into();
    assert!(functional_ack(&bad, Control { interchange: 2, group: 2 }, &r.group, 0, &r.rejection, NOW).is_err());
}

/// 2026-12-06T11:45:00Z, the fuzz targets' clock.
const NOW: Millis = Millis(1_796_557_500_000);
