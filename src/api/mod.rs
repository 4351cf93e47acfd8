//! The HTTP contract without HTTP: request validation, response views, problem types,
//! idempotency records. The edge translates between these and `worker` types.

pub mod alerts;
pub mod fields;
pub mod idempotency;
pub mod import_mappings;
pub mod import_views;
pub mod key_registry;
pub mod listing_advice;
pub mod listing_preview;
pub mod media_type;
pub mod operator_views;
pub mod overview;
pub mod paging;
pub mod problem;
pub mod reconciliation;
pub mod reply;
pub mod request_log;
pub mod requests;
pub mod views;

pub use problem::{FieldError, Kind, Problem};
pub mod allot_call;
pub mod availability;
pub mod availability_cache;
pub mod cart_call;
pub mod catalog_bodies;
pub mod catalog_routes;
pub mod erp_connections;
pub mod erp_routes;
pub mod erp_snapshot_codes;
pub mod erp_snapshot_csv;
pub mod erp_snapshots;
pub mod local_facts;
pub mod order_call;
pub mod routes;
pub mod sku_call;
pub mod sku_listings;
#[cfg(test)]
pub(crate) mod testing;
pub mod unmatched_map;
