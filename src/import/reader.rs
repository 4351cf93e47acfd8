//! The streaming reader: a file in, one [`RowOutcome`] per data row out.
//!
//! Contract:
//! - Takes any `std::io::Read` and never holds more than the parser's read-ahead plus the row
//!   being read; a 100,000-row file is read in constant memory (besides the location names met).
//! - The header row is read by [`StockReader::new`]; with no format given the format is
//!   recognised from it ([`Format::detect`]), with one given its columns must be there.
//! - Each data row yields exactly one `Ok(RowOutcome)`. Blank rows (every cell empty or white
//!   space, such as the `,,,,` lines spreadsheets leave) yield nothing.
//! - A row is an [`RowOutcome::Error`] when it has another number of cells than the header
//!   ("ragged"), is longer than [`MAX_RECORD_BYTES`], has a cell the format reads that is not
//!   UTF-8, too long, or holds a line break, or opens a quote that the file never closes; or when
//!   its values are wrong (see each format's module). Cells the format does not read are not
//!   looked at, so a product name in Latin-1 does not stop a row whose SKU is ASCII.
//! - `Err(ImportError)` ends the iteration: the file is over [`ReadOptions::max_bytes`], or the
//!   input failed. Rows before it were already yielded.
//!
//! Quoting follows RFC 4180 as the `csv` crate reads it (lenient: `"a"b` reads as `ab`); what
//! the crate cannot refuse shows up as the row errors above.

use std::io::Read;

use csv::{ByteRecord, ReaderBuilder};

use super::error::ImportError;
use super::format::{Basis, Format};
use super::header::Header;
use super::limits::{MAX_IMPORT_FILE_BYTES, MAX_RECORD_BYTES};
use super::lines::{line_breaks, SkipBom, Watched};
use super::location_map::{LocationMap, LocationMapping};
use super::mapping::{self, Mapping};
use super::mode::Mode;
use super::row::{Context, Row, RowOutcome};
use super::{plain, shopify_inventory, shopify_product, woocommerce};

/// How to read a file.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// `format=`; `None` recognises it from the header.
    pub format: Option<Format>,
    /// `mode=`: decides whether a negative quantity is an error (`set`) or a decrease (`adjust`).
    pub mode: Mode,
    /// Yield rows the channel does not track (Shopify tracker empty, WooCommerce `Stock` empty)
    /// as `Stock { quantity: None, tracked: false }` instead of skipping them.
    pub keep_untracked: bool,
    /// Bytes after which reading stops with [`ImportError::FileTooLarge`].
    pub max_bytes: u64,
    /// A saved column mapping (`mapping=`) and the separator to read with: the file is read
    /// through it (as a plain, on-hand file) and `format` is not used.
    pub mapping: Option<(Mapping, mapping::Delimiter)>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            mode: Mode::Set,
            keep_untracked: false,
            max_bytes: MAX_IMPORT_FILE_BYTES,
            mapping: None,
        }
    }
}

impl ReadOptions {
    pub fn new(format: Option<Format>, mode: Mode) -> Self {
        ReadOptions { format, mode, ..ReadOptions::default() }
    }
}

/// The columns of the format being read.
#[derive(Clone, Debug)]
enum Layout {
    ShopifyProduct(shopify_product::Columns),
    ShopifyInventory(shopify_inventory::Columns),
    WooCommerce(woocommerce::Columns),
    Plain(plain::Columns),
    Mapped(mapping::Columns),
}

/// Reads stock rows from a CSV file, one at a time.
pub struct StockReader<R: Read> {
    csv: csv::Reader<Watched<SkipBom<R>>>,
    header: Header,
    format: Format,
    layout: Layout,
    options: ReadOptions,
    record: ByteRecord,
    locations: LocationMap,
    rows: u64,
    done: bool,
}

impl<R: Read> StockReader<R> {
    /// Reads the header and settles the format.
    pub fn new(input: R, options: ReadOptions) -> Result<Self, ImportError> {
        let delimiter = options.mapping.as_ref().map_or(b',', |(_, d)| d.byte());
        let mut csv = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(Watched::new(SkipBom::new(input), options.max_bytes));
        let mut record = ByteRecord::new();
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Err(ImportError::EmptyFile),
            Err(e) => return Err(fatal(&csv, &options, e)),
        }
        let header = Header::from_record(&record)?;
        if header.names().iter().all(|n| n.is_empty()) {
            return Err(ImportError::EmptyFile);
        }
        if let Some((mapping, _)) = &options.mapping {
            let layout = Layout::Mapped(mapping::Columns::resolve(&header, mapping)?);
            return Ok(StockReader::start(csv, header, Format::Plain, layout, options, record));
        }
        let format = match options.format {
            Some(f) => f,
            None => Format::detect(&header)?,
        };
        let layout = match format {
            Format::ShopifyProduct => Layout::ShopifyProduct(shopify_product::Columns::resolve(&header)?),
            Format::ShopifyInventory => Layout::ShopifyInventory(shopify_inventory::Columns::resolve(&header)?),
            Format::WooCommerce => Layout::WooCommerce(woocommerce::Columns::resolve(&header)?),
            Format::Plain => Layout::Plain(plain::Columns::resolve(&header)?),
        };
        Ok(StockReader::start(csv, header, format, layout, options, record))
    }

    fn start(
        csv: csv::Reader<Watched<SkipBom<R>>>,
        header: Header,
        format: Format,
        layout: Layout,
        options: ReadOptions,
        record: ByteRecord,
    ) -> Self {
        StockReader {
            csv,
            header,
            format,
            layout,
            options,
            record,
            locations: LocationMap::default(),
            rows: 0,
            done: false,
        }
    }

    /// The format being read (named or recognised).
    pub fn format(&self) -> Format {
        self.format
    }

    /// Which quantity the file's numbers are.
    pub fn basis(&self) -> Basis {
        match &self.layout {
            Layout::ShopifyInventory(c) => c.basis(),
            Layout::Plain(_) | Layout::Mapped(_) => Basis::OnHand,
            Layout::ShopifyProduct(_) | Layout::WooCommerce(_) => Basis::Available,
        }
    }

    /// The header's name(s) of the quantity column(s) read, for the report.
    pub fn quantity_column(&self) -> String {
        match &self.layout {
            Layout::ShopifyProduct(c) => c.quantity_column(&self.header),
            Layout::ShopifyInventory(c) => c.quantity_column(&self.header),
            Layout::WooCommerce(c) => c.quantity_column(&self.header),
            Layout::Plain(c) => c.quantity_column(&self.header),
            Layout::Mapped(c) => c.quantity_column(&self.header),
        }
    }

    /// The header row.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Location names met so far and what they became (Shopify inventory CSV only).
    pub fn location_mappings(&self) -> &[LocationMapping] {
        self.locations.mappings()
    }

    /// The location map itself (for [`LocationMap::collisions`]).
    pub fn location_map(&self) -> &LocationMap {
        &self.locations
    }

    /// Data rows yielded so far.
    pub fn rows_read(&self) -> u64 {
        self.rows
    }

    fn outcome(&mut self) -> Option<RowOutcome> {
        let start = self.record.position().map(|p| p.byte()).unwrap_or(0);
        let line = self.csv.get_mut().line_at(start);
        if self.record.iter().all(|f| f.trim_ascii().is_empty()) {
            return None;
        }
        let breaks: u64 = self.record.iter().map(line_breaks).sum();
        let end_line = line + breaks;
        let row = Row { record: &self.record, header: &self.header, line, end_line };
        let watched = self.csv.get_ref();
        if watched.at_eof() && self.csv.position().byte() >= watched.bytes() {
            if let Some(at) = watched.open_quote_at() {
                if at >= start {
                    return Some(row.error(
                        None,
                        format!("a quote opened in this row is never closed: the row runs on to the end of the file (line {end_line})"),
                    ));
                }
            }
        }
        let bytes: usize = self.record.as_slice().len();
        if bytes > MAX_RECORD_BYTES {
            return Some(row.error(
                None,
                format!("row is {bytes} bytes long (at most {MAX_RECORD_BYTES}); it spans lines {line}–{end_line}: is a quote left open?"),
            ));
        }
        if self.record.len() != self.header.len() {
            let mut message = format!("row has {} cells but the header has {}", self.record.len(), self.header.len());
            if end_line > line {
                message.push_str(&format!("; it spans lines {line}–{end_line}: is a quote left open?"));
            }
            return Some(row.error(None, message));
        }
        let mut ctx = Context {
            mode: self.options.mode,
            keep_untracked: self.options.keep_untracked,
            locations: &mut self.locations,
        };
        Some(match &self.layout {
            Layout::ShopifyProduct(c) => c.read(&row, &mut ctx),
            Layout::ShopifyInventory(c) => c.read(&row, &mut ctx),
            Layout::WooCommerce(c) => c.read(&row, &mut ctx),
            Layout::Plain(c) => c.read(&row, &mut ctx),
            Layout::Mapped(c) => c.read(&row, &mut ctx),
        })
    }
}

fn fatal<R: Read>(csv: &csv::Reader<Watched<SkipBom<R>>>, options: &ReadOptions, e: csv::Error) -> ImportError {
    if csv.get_ref().over_limit() {
        return ImportError::FileTooLarge { max: options.max_bytes };
    }
    ImportError::Io(e.to_string())
}

impl<R: Read> Iterator for StockReader<R> {
    type Item = Result<RowOutcome, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.csv.read_byte_record(&mut self.record) {
                Ok(true) => {
                    if let Some(outcome) = self.outcome() {
                        self.rows += 1;
                        return Some(Ok(outcome));
                    }
                }
                Ok(false) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(fatal(&self.csv, &self.options, e)));
                }
            }
        }
        None
    }
}

impl<R: Read> std::iter::FusedIterator for StockReader<R> {}

/// Reads a whole file into outcomes (tests, small files). Stops at the first fatal error.
pub fn read_all<R: Read>(input: R, options: ReadOptions) -> Result<(Format, Vec<RowOutcome>), ImportError> {
    let reader = StockReader::new(input, options)?;
    let format = reader.format();
    let rows = reader.collect::<Result<Vec<_>, _>>()?;
    Ok((format, rows))
}
