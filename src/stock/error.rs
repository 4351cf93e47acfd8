//! Why the ledger refused a command. A refused command changes nothing.

use serde::{Deserialize, Serialize};

use super::hold::HoldStatus;
use super::ids::{Location, Token};
use crate::erp::AsOf;

/// Travels as is between a SKU ledger object and its callers (serde), so a refusal keeps its
/// type until `api::problem::from_ledger` maps it to HTTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerError {
    #[error("{requested} requested at {location}, {available} available")]
    InsufficientStock { location: Location, requested: i64, available: i64 },
    #[error("expected version {expected}, the SKU is at {actual}")]
    VersionConflict { expected: u64, actual: u64 },
    #[error("on_hand at {location} would become {would_be}")]
    NegativeOnHand { location: Location, would_be: i64 },
    #[error("no hold with this id")]
    HoldNotFound,
    #[error("the hold is {}", .0.as_str())]
    HoldNotHeld(HoldStatus),
    #[error("a hold with this id exists with other lines")]
    HoldConflict,
    #[error("the order was cancelled")]
    OrderCancelled,
    #[error("no such order for this SKU")]
    OrderNotFound,
    #[error("{requested} to fulfil at {location}, {open} open on the order")]
    OverFulfilment { location: Location, requested: i64, open: i64 },
    #[error("{requested} to ship from {location}, {on_hand} on hand")]
    NotOnHand { location: Location, requested: i64, on_hand: i64 },
    #[error("{field} out of range: {value}")]
    OutOfRange { field: String, value: i64 },
    /// A snapshot line's as-of point shares no field with the one applied at its location.
    #[error("{0}")]
    IncomparableAsOf(Box<Incomparable>),
    /// The location's ERP has not been shown to have `pending` of StockEdge's order documents
    /// (`erp::limits::MAX_PENDING_DOCUMENTS`): order changes there wait until a snapshot or a
    /// delivery confirmation shows it caught up.
    #[error(
        "the ERP mastering {location} has not been shown to have {pending} order documents: order changes there are \
         refused until its snapshots or delivery confirmations catch up"
    )]
    ErpBehind { location: Location, pending: usize },
}

/// The two as-of points [`LedgerError::IncomparableAsOf`] could not order: the line's (`given`)
/// and that of snapshot `snapshot`, applied at `location`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error(
    "as_of names {given}, but snapshot {snapshot} applied at {location} is as of {applied}: with no common field \
     (sequence or at) neither can be said to be newer; send the same kind of point"
)]
pub struct Incomparable {
    pub location: Location,
    pub given: AsOf,
    pub applied: AsOf,
    pub snapshot: Token,
}
