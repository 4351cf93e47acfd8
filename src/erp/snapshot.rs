//! One ERP snapshot line, as the SKU ledger receives it.

use serde::{Deserialize, Serialize};

use super::as_of::AsOf;
use super::basis::Figure;
use super::seen::Seen;
use crate::stock::{Location, Token};

/// The ERP's quantity of this ledger's SKU at `location`, as of `as_of`, with what the ERP had
/// received of StockEdge's orders then. `snapshot` names the snapshot (the journal entry it makes
/// carries it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotLine {
    pub snapshot: Token,
    pub location: Location,
    pub figure: Figure,
    pub as_of: AsOf,
    #[serde(default)]
    pub seen: Seen,
}
