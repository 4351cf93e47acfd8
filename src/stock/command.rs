//! The commands a SKU ledger accepts. Each is applied whole or not at all.

use serde::{Deserialize, Serialize};

use super::hold::HoldStatus;
use super::ids::{HoldId, Location, OrderKey, Token};
use super::journal::Cause;
use super::lend::Report;
use crate::erp::SnapshotLine;
use crate::time::Millis;

/// A line of a sale made on another channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    pub line_id: Token,
    pub location: Location,
    pub qty: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Set on_hand at a location (cycle count), optionally only if the SKU is at `expected_version`.
    Set { location: Location, on_hand: i64, expected_version: Option<u64>, cause: Cause },
    /// Add `delta` to on_hand at a location; refused if on_hand would go negative.
    Adjust { location: Location, delta: i64, cause: Cause },
    /// Set the backorder allowance: holds may promise up to this many units beyond the shelf.
    Policy { backorder_limit: i64 },
    /// Hold units until `expires_at`. Replaying the same hold id with the same lines is a no-op.
    Reserve {
        hold: HoldId,
        lines: Vec<(Location, i64)>,
        expires_at: Millis,
        channel: Option<Token>,
        reference: Option<String>,
    },
    /// Move a held hold's deadline.
    Extend { hold: HoldId, expires_at: Millis },
    /// Keep a held hold from expiring while its cart commits (first phase of a cart commit).
    Pin { hold: HoldId },
    /// Undo [`Command::Pin`]; a hold past its deadline then expires at once.
    Unpin { hold: HoldId },
    /// Turn a held hold into committed units of `order`.
    Commit { hold: HoldId, order: OrderKey },
    /// Return a held hold's units.
    Release { hold: HoldId },
    /// Record a sale made elsewhere: always applied, even beyond what is available.
    /// Lines already recorded (by line id) are skipped.
    Sale { order: OrderKey, lines: Vec<SaleLine> },
    /// Return an order's open units to available. Cancelling an unknown order leaves a
    /// tombstone so that its sale, if it arrives later, is ignored.
    Cancel { order: OrderKey, reason: Option<String> },
    /// Ship units of an order: on_hand and committed both fall. `shipment` names this
    /// fulfilment within the order; repeating a shipment id is a no-op.
    Fulfil { order: OrderKey, location: Location, qty: i64, shipment: Token },
    // --- lending to allotments (`stock::lend`, `allot`) -------------------------------------
    /// Lend a block of up to `qty` units at `location` to allotment `allotment` until
    /// `expires_at`. Only units free on the shelf are lent (never the backorder allowance); what
    /// is free is granted, at least one unit, else the lend is refused as short. Repeating a lend
    /// id is a no-op.
    Lend { lend: HoldId, allotment: u32, location: Location, qty: i64, expires_at: Millis },
    /// An allotment's report about one of its blocks: units given back (cumulative) and held now.
    /// The difference to the last `returned` seen goes back to available; a report about a lend
    /// that has ended changes nothing.
    Report { report: Report },
    /// Commit `qty` units of lend `lend` to `order` for the allotment's hold `hold`: the units
    /// move from the lend to `committed` and the hold is recorded committed under its own id,
    /// exactly as a [`Command::Commit`] of a hold of this ledger. Repeating it is a no-op.
    CommitLent {
        lend: HoldId,
        hold: HoldId,
        qty: i64,
        order: OrderKey,
        channel: Option<Token>,
        reference: Option<String>,
    },
    // --- the ERP as the master of physical stock (`erp`) -----------------------------------
    /// Apply an ERP snapshot line at its location (`erp::decide`): on hand becomes the ERP's
    /// figure brought forward by the order documents the ERP had not seen; reserved and
    /// committed stay. A line as of a point no later than the one applied there is ignored.
    ErpSnapshot { line: Box<SnapshotLine> },
    /// The ERP confirmed it has `order` as StockEdge had it at `through` (a delivery of the order
    /// to the ERP answered, `edge::erp_orders`): the order's documents recorded at or before
    /// `through` at `locations` (those the confirming connection masters; empty: every location
    /// of this SKU under an ERP) are marked received at `at`, so the first snapshot as of `at` or
    /// later counts them as seen (`erp::decide`). Changes no quantity; repeating it changes
    /// nothing (`duplicate`).
    ErpReceived {
        order: OrderKey,
        through: Millis,
        at: Millis,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        locations: Vec<Location>,
    },
}

/// What an accepted command did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The ledger changed. The version moves with every change to quantities, deadlines or
    /// policy; pinning and unpinning a hold change neither and leave the version as it is.
    Applied,
    /// Nothing to do: the command repeats one already applied.
    Duplicate,
    /// A sale for an order whose cancellation arrived first; nothing was committed.
    OrderAlreadyCancelled,
    /// The hold is already in this terminal state (release of an expired hold, say).
    HoldAlready(HoldStatus),
    /// An ERP snapshot line as of a point no later than the one applied at its location: ignored.
    Stale,
    /// An ERP snapshot line that agreed with StockEdge's on hand: nothing journaled, its as-of
    /// point recorded (later lines must be newer).
    InStep,
}

/// The answer to an accepted command: what it did and the version the SKU is at after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub effect: Effect,
    pub version: u64,
}
