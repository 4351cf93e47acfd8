//! The ERP connectors without I/O: for each ERP the requests to make, the reading of its
//! answers into [`ErpRow`](super::mapping::ErpRow)s and order receipts, and what to do with a
//! refusal ([`Answer`]). The shell (`src/edge/erp_*.rs`) performs the calls, keeps sessions and
//! tokens, and applies rows through the same path as `POST /v1/erp/snapshots`.
//!
//! - [`answer`]: an ERP's HTTP answer classified: go on, log in again, wait, give up.
//! - [`poll`]: a connection's stock-poll watermark and the stretch being read.
//! - [`order`]: the order document StockEdge sends an ERP, vendor-neutral.
//! - [`sap_b1`]: SAP Business One Service Layer.
//! - [`sap_b1_adjust`]: SAP Business One goods receipts and issues for adjustment requests.
//! - [`odoo`]: Odoo JSON-2 (stock reads).
//! - [`odoo_orders`]: Odoo JSON-2 sales orders (find, create, confirm, cancel).
//! - [`odoo_adjust`]: Odoo JSON-2 inventory counts applied for adjustment requests.
//! - [`netsuite`]: NetSuite REST web services (OAuth 2.0 client credentials, SuiteQL stock,
//!   sales orders).
//! - [`webhook`]: the generic signed-webhook ERP (orders and adjustment requests out).
//! - [`webhook_in`]: the webhook ERP's signed snapshots in (the signature checked).

pub mod answer;
pub mod netsuite;
pub mod odoo;
pub mod odoo_adjust;
pub mod odoo_orders;
pub mod order;
pub mod poll;
pub mod sap_b1;
pub mod sap_b1_adjust;
pub mod webhook;
pub mod webhook_in;

pub use answer::{classify, Answer, CallFailure};
