//! Bulk stock files: reading channel exports and StockEdge's own CSV, planning the import, and
//! writing exports. Pure: no I/O beyond `std::io::Read`/`Write`, no clock, no `worker` types.
//!
//! The HTTP side (docs/api.md): `POST /v1/imports?format=shopify|shopify-inventory|woocommerce|csv&mode=set|adjust&dry_run=…`
//! and `GET /v1/exports?format=…`. The edge does:
//!
//! ```text
//! let reader = StockReader::new(body, ReadOptions::new(format, mode))?;   // header, format
//! let plan = plan(&mut reader, mode, |sku, loc| current level)?;         // report + batches
//! // dry_run: answer plan (+ reader.location_mappings()); else send plan.batches, one DO call each
//! ```
//!
//! Layout, one concept per file:
//! - [`format`](mod@format): the formats, their signatures, detection from the header; [`Basis`].
//! - [`header`]: header names and lookup. [`row`]: [`RowOutcome`] and checked cells.
//! - [`shopify_product`], [`shopify_inventory`], [`woocommerce`], [`plain`]: one row → one outcome.
//! - [`quantity`], [`policy`], [`location_map`]: cell values.
//! - [`lines`]: byte limit, physical line numbers, open quotes. [`reader`]: the streaming reader.
//! - [`plan`](mod@plan): per-row diff, duplicates, per-SKU batches. [`export`]: writers.
//! - [`mapping`]: saved column mappings (any CSV: columns by name, separator, location names).
//! - [`jobs`]: files applied as chunked jobs; [`attempt`]: one attempt at a chunk, planned once.
//! - [`mode`], [`limits`], [`error`].

pub mod apply;
pub mod attempt;
pub mod error;
pub mod export;
pub mod format;
pub mod header;
pub mod jobs;
pub mod limits;
pub mod lines;
pub mod location_map;
pub mod mapping;
pub mod mode;
pub mod plain;
pub mod plan;
pub mod policy;
pub mod quantity;
pub mod reader;
pub mod row;
pub mod shopify_inventory;
pub mod shopify_product;
pub mod woocommerce;

pub use error::{ExportError, ImportError};
pub use export::{write_export, ExportRow, ExportSummary};
pub use format::{Basis, Format};
pub use location_map::{location_from_name, LocationMap, LocationMapping};
pub use mapping::{Delimiter, Mapping};
pub use mode::Mode;
pub use plan::{plan, plan_rows, Batch, Change, Plan, RowReport, Status, Summary};
pub use policy::BackorderPolicy;
pub use reader::{read_all, ReadOptions, StockReader};
pub use row::RowOutcome;
