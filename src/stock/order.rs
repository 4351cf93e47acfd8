//! Orders as one SKU ledger knows them: committed units per line, what shipped, what was cancelled.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::ids::{Location, Token};

/// The order line id of a committed hold's units at `location`: `res:<hold>@<location>`.
/// Client line ids may not start with `res:` (see `api::requests`), so the two never meet.
pub fn hold_line_id(hold: &Token, location: &Location) -> Result<Token, crate::stock::LedgerError> {
    let id = format!("{HOLD_LINE_PREFIX}{hold}@{location}");
    Token::parse(&id)
        .map_err(|_| crate::stock::LedgerError::OutOfRange { field: "hold".into(), value: hold.as_str().len() as i64 })
}

/// The prefix reserved for line ids made from holds.
pub const HOLD_LINE_PREFIX: &str = "res:";

/// One order line of this SKU.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub location: Location,
    pub qty: i64,
    /// Units of this line already shipped.
    pub fulfilled: i64,
    pub cancelled: bool,
}

impl OrderLine {
    /// Units still committed for this line: sold, not shipped, not cancelled.
    pub fn open(&self) -> i64 {
        if self.cancelled {
            0
        } else {
            self.qty - self.fulfilled
        }
    }
}

/// An order's lines for this SKU, keyed by line id. A cancelled order with no lines is a
/// tombstone: a cancellation that arrived before its sale, which makes the late sale a no-op.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub lines: BTreeMap<Token, OrderLine>,
    pub cancelled: bool,
    /// Shipment ids already applied, so that a repeated fulfilment ships nothing.
    #[serde(default)]
    pub shipments: BTreeSet<Token>,
}

impl Order {
    /// Units still committed at `location`.
    pub fn open_at(&self, location: &Location) -> i64 {
        self.lines.values().filter(|l| &l.location == location).map(OrderLine::open).sum()
    }
}
