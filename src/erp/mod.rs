//! The ERP as the master of physical stock (docs/erp.md): snapshot lines — an ERP's quantity of
//! one SKU at one location, as of a point in the ERP's history, with what the ERP had received of
//! StockEdge's order documents — and the pure decision of what StockEdge's on hand becomes, so
//! that StockEdge's sales, cancellations and fulfilments the ERP had not yet seen are neither lost
//! nor counted twice.
//!
//! - [`snapshot`]: one snapshot line as the ledger receives it.
//! - [`as_of`]: the point in the ERP's history a figure is as of, and which of two is newer.
//! - [`basis`]: whether an ERP figure is on hand or available after its commitments.
//! - [`connector`]: each ERP's fields (SAP Business One, NetSuite, Odoo) as a [`Figure`].
//! - [`connection`]: an ERP connection (kind, base URL, credentials secret, settings, who may
//!   change on hand).
//! - [`mapping`]: ERP warehouse codes to locations and item codes to SKUs.
//! - [`master`]: who may change on hand at a location an ERP masters.
//! - [`adjustment_out`]: a forwarded adjustment request's delivery to its ERP, attempt by attempt.
//! - [`adjustment_send`]: what an attempt sends a vendor ERP so a request is applied once.
//! - [`connectors`]: each ERP's requests and answers as values.
//! - [`document`]: StockEdge's order documents as the ERP receives them.
//! - [`seen`]: which of those documents the ERP had received when it took a snapshot.
//! - [`track`]: per location, the snapshot last applied and the documents the ERP has not seen.
//! - [`decide`]: what a snapshot line does to a location's on hand.
//! - [`order_change`]: the order changes a SKU's committed change announces.
//! - [`delivery`]: which ERP documents those changes call for, and the call each needs.
//! - [`behind`]: the alert a location raises when its ERP falls behind.
//! - [`limits`]: the limits of this module, named once.

pub mod adjustment_out;
pub mod adjustment_send;
pub mod as_of;
pub mod basis;
pub mod behind;
pub mod connection;
pub mod connector;
pub mod connectors;
pub mod decide;
pub mod delivery;
pub mod document;
pub mod limits;
pub mod mapping;
pub mod master;
pub mod order_change;
pub mod seen;
pub mod snapshot;
pub mod track;

pub use as_of::{AsOf, Succession};
pub use basis::{Basis, Figure};
pub use behind::ErpBehindAlert;
pub use decide::{decide, Decision};
pub use document::{Document, Pending};
pub use order_change::{order_changes, ChangeKind, OrderChange};
pub use seen::{Seen, SeenOrder};
pub use snapshot::SnapshotLine;
pub use track::{Applied, Track};
