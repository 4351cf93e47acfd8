//! The input stream, watched on its way into the `csv` parser: byte limit, physical line
//! numbers, and quotes left open; and a byte-order mark taken off its start ([`SkipBom`]).
//!
//! Why not `csv::Position::line()` alone: it is the line count at the moment the previous record
//! ended. With CRLF line endings the `\n` of that ending is only consumed when the next record is
//! read, and blank lines before a record are skipped without moving the record's position, so the
//! count lags (measured with csv 1.x: CRLF files report every record one line early; each blank
//! line makes later records one line earlier still). The byte offset of the position
//! (`Position::byte()`) is exact about where that previous record stopped; this module turns it
//! into the line a spreadsheet shows: the line of the first byte after it that is not `\r`/`\n`.
//!
//! A line ends with `\n`, `\r\n` or a lone `\r` (files saved as "CSV (Macintosh)" end lines with
//! `\r` alone, and the `csv` crate ends records there too). It keeps the runs of consecutive
//! `\r`/`\n` bytes not yet asked about (each with its count of line ends), so memory is bounded by the parser's read-ahead plus the line breaks inside one record.

use std::collections::VecDeque;
use std::io::{self, Read};

/// A reader that counts what passes through it.
pub struct Watched<R> {
    inner: R,
    bytes: u64,
    max_bytes: u64,
    over_limit: bool,
    eof: bool,
    /// Closed runs of line-break bytes: (offset of the first byte, number of line ends).
    runs: VecDeque<(u64, u64)>,
    /// The run being read, if the last byte seen was a line break.
    open_run: Option<(u64, u64)>,
    /// Line breaks before every run already taken out of `runs`.
    lines_before: u64,
    /// Whether the last byte seen was a `\r` (a `\n` right after it ends the same line).
    after_cr: bool,
    /// Quote parity (RFC 4180: `""` inside quotes toggles twice), and where the quote that is
    /// still open was opened.
    open_quote_at: Option<u64>,
}

impl<R: Read> Watched<R> {
    pub fn new(inner: R, max_bytes: u64) -> Self {
        Watched {
            inner,
            bytes: 0,
            max_bytes,
            over_limit: false,
            eof: false,
            runs: VecDeque::new(),
            open_run: None,
            lines_before: 0,
            after_cr: false,
            open_quote_at: None,
        }
    }

    /// The 1-based physical line of the first content byte at or after `byte`, where `byte` is
    /// a record's `csv::Position::byte()`. Calls must come with non-decreasing `byte`.
    pub fn line_at(&mut self, byte: u64) -> u64 {
        while let Some(&(start, newlines)) = self.runs.front() {
            if start > byte {
                break;
            }
            self.lines_before += newlines;
            self.runs.pop_front();
        }
        self.lines_before + 1
    }

    /// Whether reading stopped at the byte limit.
    pub fn over_limit(&self) -> bool {
        self.over_limit
    }

    /// Whether the end of the input was reached.
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Where the quote that is still open was opened (only meaningful at the end of the input).
    pub fn open_quote_at(&self) -> Option<u64> {
        self.open_quote_at
    }

    fn scan(&mut self, chunk: &[u8]) {
        let base = self.bytes;
        for (i, &b) in chunk.iter().enumerate() {
            let at = base + i as u64;
            match b {
                b'\n' | b'\r' => {
                    let run = self.open_run.get_or_insert((at, 0));
                    if ends_line(b, self.after_cr) {
                        run.1 += 1;
                    }
                    self.after_cr = b == b'\r';
                }
                _ => {
                    self.after_cr = false;
                    if let Some(run) = self.open_run.take() {
                        if run.1 > 0 {
                            self.runs.push_back(run);
                        }
                    }
                    if b == b'"' {
                        self.open_quote_at = match self.open_quote_at {
                            Some(_) => None,
                            None => Some(at),
                        };
                    }
                }
            }
        }
    }
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.over_limit {
            return Err(io::Error::other("file too large"));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.eof = true;
            if let Some(run) = self.open_run.take() {
                if run.1 > 0 {
                    self.runs.push_back(run);
                }
            }
            return Ok(0);
        }
        let chunk = buf.get(..n).unwrap_or_default();
        self.scan(chunk);
        self.bytes += n as u64;
        if self.bytes > self.max_bytes {
            self.over_limit = true;
            return Err(io::Error::other("file too large"));
        }
        Ok(n)
    }
}

/// Whether byte `b` ends a line, `after_cr` telling whether the byte before it was a `\r` (a
/// `\n` right after a `\r` ends the same line).
fn ends_line(b: u8, after_cr: bool) -> bool {
    b == b'\r' || (b == b'\n' && !after_cr)
}

/// The line ends in `bytes` (`\n`, `\r\n`, a lone `\r`), as [`Watched`] counts them.
pub fn line_breaks(bytes: &[u8]) -> u64 {
    let mut after_cr = false;
    let mut n = 0;
    for &b in bytes {
        if ends_line(b, after_cr) {
            n += 1;
        }
        after_cr = b == b'\r';
    }
    n
}

/// The UTF-8 byte-order mark.
const UTF8_BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// A reader that drops a UTF-8 byte-order mark at the start of the input, however the input is
/// cut into reads. The `csv` crate drops one itself only when its first read holds all three
/// bytes, and takes a first read of exactly those three bytes for the end of the file, so a file
/// streamed in small pieces would read differently from the same bytes in one piece.
pub struct SkipBom<R> {
    inner: R,
    /// The first bytes of the input, read to tell a mark from content.
    head: [u8; 3],
    len: usize,
    /// How many of `head` were handed on.
    pos: usize,
    checked: bool,
}

impl<R: Read> SkipBom<R> {
    pub fn new(inner: R) -> Self {
        SkipBom { inner, head: [0; 3], len: 0, pos: 0, checked: false }
    }
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.checked {
            while self.len < UTF8_BOM.len() {
                let n = self.inner.read(&mut self.head[self.len..])?;
                if n == 0 {
                    break;
                }
                self.len += n;
            }
            self.checked = true;
            if self.head[..self.len] == UTF8_BOM {
                self.len = 0;
            }
        }
        if self.pos < self.len {
            let n = (self.len - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (fields of each record, physical start line) as the import sees them.
    fn lines(data: &[u8]) -> Vec<(String, u64)> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(4)
            .from_reader(Watched::new(data, u64::MAX));
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            let byte = rec.position().map(|p| p.byte()).unwrap_or(0);
            let line = r.get_mut().line_at(byte);
            out.push((String::from_utf8_lossy(rec.get(0).unwrap_or_default()).into_owned(), line));
        }
        out
    }

    #[test]
    fn lf_crlf_blank_lines_and_quoted_breaks() {
        let want = vec![("h".into(), 1), ("a".into(), 2), ("b\nx".into(), 4), ("c".into(), 6), ("d".into(), 8)];
        assert_eq!(lines(b"h,q\na,1\n\n\"b\nx\",2\nc,3\n\nd,4\n"), want);
        let want_crlf = vec![("h".into(), 1), ("a".into(), 2), ("b\r\nx".into(), 4), ("c".into(), 6), ("d".into(), 8)];
        assert_eq!(lines(b"h,q\r\na,1\r\n\r\n\"b\r\nx\",2\r\nc,3\r\n\r\nd,4"), want_crlf);
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let want = vec![("h".into(), 1), ("a".into(), 2), ("b\rx".into(), 4), ("c".into(), 6)];
        assert_eq!(lines(b"h,q\ra,1\r\r\"b\rx\",2\rc,3\r"), want);
        assert_eq!(line_breaks(b"a\rb\r\nc\nd\n\re"), 5);
    }

    #[test]
    fn limit_stops_reading() {
        let mut w = Watched::new(&b"0123456789"[..], 4);
        let mut buf = [0u8; 8];
        assert!(w.read(&mut buf).is_err());
        assert!(w.over_limit());
    }

    #[test]
    fn a_byte_order_mark_is_dropped_whatever_the_reads() {
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        for (input, want) in
            [(&b"\xef\xbb\xbfsku"[..], &b"sku"[..]), (b"\xef\xbb", b"\xef\xbb"), (b"ab", b"ab"), (b"", b"")]
        {
            let mut whole = Vec::new();
            SkipBom::new(input).read_to_end(&mut whole).unwrap();
            let mut trickled = Vec::new();
            SkipBom::new(OneByte(input)).read_to_end(&mut trickled).unwrap();
            assert_eq!((whole.as_slice(), trickled.as_slice()), (want, want));
        }
    }

    #[test]
    fn quote_parity() {
        let mut w = Watched::new(&b"a,\"x\"\"y\",\"open"[..], 100);
        let mut sink = Vec::new();
        w.read_to_end(&mut sink).unwrap();
        assert_eq!(w.open_quote_at(), Some(9));
        assert!(w.at_eof());
    }
}
