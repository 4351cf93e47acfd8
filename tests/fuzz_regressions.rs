//! Inputs the fuzzers (fuzz/, `scripts/fuzz.sh`) found breaking a parser's contract, pinned with
//! their bytes once fixed. Each test names its fuzz target and what was wrong.

use std::io::Read;

use stockedge::import::mapping::MappedColumns;
use stockedge::import::{read_all, Mapping, Mode, ReadOptions};

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
