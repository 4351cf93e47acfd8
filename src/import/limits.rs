//! Every limit the bulk import and export enforce, named in one place.
//!
//! The HTTP contract (docs/api.md, `POST /v1/imports`) quotes the synchronous row limit; the others
//! bound memory and make a broken file fail on one row instead of swallowing the rest.

/// Data rows (after the header, blank rows not counted) that one synchronous import may hold.
/// Larger files are refused by [`plan`](super::plan::plan) with
/// [`ImportError::TooManyRows`](super::ImportError::TooManyRows); the edge answers them with a
/// `202` job instead (docs/api.md).
pub const MAX_SYNC_IMPORT_ROWS: usize = 10_000;

/// Bytes of one uploaded file, header included. Reading stops with
/// [`ImportError::FileTooLarge`](super::ImportError::FileTooLarge) past this. A 10,000-variant
/// Shopify product export with HTML descriptions stays well below it.
pub const MAX_IMPORT_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Bytes of one field that the importer interprets (SKU, quantity, location, type, policy…).
/// No legitimate value comes near it; a longer one is a row error, not a truncation.
pub const MAX_FIELD_LEN: usize = 1_024;

/// Bytes of one whole row, every column included (Shopify's `Body (HTML)` can be long). A longer
/// row is almost always a quote left open that swallowed the lines after it; it is a row error.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Columns in the header row. Shopify product exports carry a few dozen plus one per metafield.
pub const MAX_COLUMNS: usize = 1_024;

/// Distinct location names one Shopify inventory file may map (see
/// [`location_map`](super::location_map)); this bounds the mapping report.
pub const MAX_LOCATIONS_PER_FILE: usize = 1_000;

/// Characters of a column or location name a saved mapping names.
pub const MAX_COLUMN_NAME_CHARS: usize = 128;

/// Location changes of one SKU sent in one Durable Object call. A SKU with more changed
/// locations is split into several batches. Same bound as the lines of one request
/// ([`MAX_LINES`](crate::stock::limits::MAX_LINES)).
pub const MAX_BATCH_CHANGES: usize = crate::stock::limits::MAX_LINES;

/// Characters of a file value quoted back in an error message.
pub const MAX_QUOTED_VALUE_CHARS: usize = 40;

/// Distinct SKUs one import may touch and still be applied within its request. Each touched SKU
/// costs two calls to its Durable Object (read, then apply), and one Worker invocation has a
/// bounded number of subrequests and of objects it can keep open; larger files become a job
/// ([`jobs`](super::jobs)) applied in chunks by the `import-jobs` queue consumer.
pub const MAX_SYNC_IMPORT_SKUS: usize = 1_000;

/// Distinct SKUs in one chunk of an import job (one queue message, one consumer invocation).
pub const JOB_CHUNK_SKUS: usize = 250;

/// Rows in one chunk of an import job (a chunk is stored as one D1 row, at most 2 MB). A SKU's
/// rows are never split across chunks, so a SKU with more rows makes a chunk of its own.
pub const JOB_CHUNK_ROWS: usize = 2_000;

/// Times an import job's chunk is begun before its rows are reported as errors (so that the job
/// still ends).
pub const MAX_CHUNK_ATTEMPTS: i64 = 6;

/// How long an unfinished import job may go without a chunk begun or finished before the cron
/// sends its unfinished chunks again (their messages may be lost: a send that failed after the
/// job was stored, an invocation that died between the two). Twice a failed chunk's retry delay,
/// so a job whose chunks are being retried is never taken for stalled.
pub const JOB_STALL_MS: i64 = 30_000;

/// Stalled import jobs one cron run resumes (oldest first; the next run takes the rest).
pub const JOB_RESUME_BATCH: usize = 20;

/// Report rows per `GET /v1/imports/{id}` page, and the page size when none is asked for.
pub const MAX_REPORT_PAGE_ROWS: usize = 5_000;
pub const DEFAULT_REPORT_PAGE_ROWS: usize = 1_000;
