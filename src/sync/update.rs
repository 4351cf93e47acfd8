//! One listing's pending push: the unit the coalescer produces and the adapters send.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::catalog::model::External;
use crate::stock::{Op, Sku, Token};
use crate::time::Millis;

/// A listing: one SKU on one channel (the D1 `listings` primary key).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ListingId {
    pub channel: Token,
    pub sku: Sku,
}

impl fmt::Display for ListingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.channel, self.sku)
    }
}

/// What a listing last received from us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastPushed {
    pub version: u64,
    pub quantity: i64,
}

/// The newest state of a SKU a listing has not received yet, as that listing should show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingUpdate {
    pub key: ListingId,
    /// Where the listing lives on its platform.
    pub external: External,
    /// The SKU version this update carries (the newest in the coalesced batch).
    pub version: u64,
    /// The SKU's availability at that version.
    pub available: i64,
    /// The quantity to list: the listing's rule applied to `available`.
    pub quantity: i64,
    /// The quantity we believe the platform shows now (what we last pushed, or what a re-read
    /// found). Platforms with compare-and-set (Shopify `changeFromQuantity`) send it; `None`
    /// skips the check.
    pub expected: Option<i64>,
    /// What kind of change produced `version`.
    pub cause: Op,
    /// When `version` was committed.
    pub at: Millis,
    /// The commit time of the oldest change in this batch the listing had not received: the
    /// start of its lag.
    pub since: Millis,
}

impl ListingUpdate {
    /// The same update with a new expected quantity (after re-reading the platform on `Stale`).
    pub fn expecting(mut self, quantity: Option<i64>) -> ListingUpdate {
        self.expected = quantity;
        self
    }
}
