//! A hold: units of one SKU reserved for a checkout until a deadline.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::ids::{HoldId, Location, OrderKey, Token};
use super::lend::Lend;
use crate::time::Millis;

/// Where a hold is in its life. `Held` is the only state that keeps units reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    Held,
    Committed,
    Released,
    Expired,
}

impl HoldStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Held => "held",
            HoldStatus::Committed => "committed",
            HoldStatus::Released => "released",
            HoldStatus::Expired => "expired",
        }
    }
}

/// One reservation's units in one SKU ledger, per location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub id: HoldId,
    pub lines: BTreeMap<Location, i64>,
    pub expires_at: Millis,
    pub status: HoldStatus,
    /// A pinned hold is being committed by its cart: it does not expire until committed or unpinned.
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub channel: Option<Token>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub order: Option<OrderKey>,
    pub updated_at: Millis,
    /// Set when this hold is a block lent to an allotment (`stock::lend`): its `lines` are then
    /// the units still lent and `expires_at` is the lease's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lend: Option<Lend>,
}

impl Hold {
    pub fn total(&self) -> i64 {
        self.lines.values().sum()
    }

    /// Held, not pinned, and its deadline has come.
    pub fn is_due(&self, now: Millis) -> bool {
        self.status == HoldStatus::Held && !self.pinned && self.expires_at <= now
    }
}
