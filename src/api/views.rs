//! Response bodies of docs/api.md, built from core state.

use serde::{Deserialize, Serialize};

use crate::cart::Shown;
use crate::orders::Line;
use crate::stock::{Entry, Ledger, Sku};
use crate::time::Millis;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationView {
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub committed: i64,
    pub available: i64,
}

/// `GET /v1/skus/{sku}` and every state-changing SKU answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuView {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub committed: i64,
    pub available: i64,
    pub backordered: i64,
    pub oversold: i64,
    pub backorder_limit: i64,
    pub version: u64,
    pub locations: Vec<LocationView>,
}

impl SkuView {
    pub fn of(sku: &Sku, l: &Ledger) -> SkuView {
        let t = l.totals();
        SkuView {
            sku: sku.to_string(),
            on_hand: t.on_hand,
            reserved: t.reserved,
            committed: t.committed,
            available: t.available,
            backordered: t.backordered,
            oversold: t.oversold,
            backorder_limit: l.backorder_limit(),
            version: l.version(),
            locations: l
                .levels()
                .iter()
                .map(|(loc, lv)| LocationView {
                    location: loc.to_string(),
                    on_hand: lv.on_hand,
                    reserved: lv.reserved,
                    committed: lv.committed,
                    available: lv.available(),
                })
                .collect(),
        }
    }
}

/// One item of `GET /v1/availability`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityItem {
    pub sku: String,
    pub available: i64,
    /// Units a storefront may still hold: available plus what is left of the backorder allowance.
    pub sellable: i64,
    pub version: u64,
}

impl AvailabilityItem {
    pub fn of(sku: &Sku, l: &Ledger) -> AvailabilityItem {
        let t = l.totals();
        let room = (l.backorder_limit() - t.shortfall()).max(0);
        // Units lent to allotments that no customer holds (as last reported) can still be held.
        let unlent = l.unlent();
        AvailabilityItem {
            sku: sku.to_string(),
            available: t.available + unlent,
            sellable: t.available + unlent + room,
            version: l.version(),
        }
    }
}

/// One journal entry as docs/api.md shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub seq: u64,
    pub at: String,
    pub op: crate::stock::Op,
    pub location: String,
    pub deltas: crate::stock::Deltas,
    pub cause: crate::stock::Cause,
    pub version: u64,
}

impl From<&Entry> for EntryView {
    fn from(e: &Entry) -> Self {
        EntryView {
            seq: e.seq,
            at: e.at.to_rfc3339(),
            op: e.op,
            location: e.location.to_string(),
            deltas: e.deltas,
            cause: e.cause.clone(),
            version: e.version,
        }
    }
}

/// `GET /v1/skus/{sku}/journal`: `next` is the `after` for the next page, absent at the end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalPage {
    pub sku: String,
    pub entries: Vec<EntryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// RFC 3339 for a time the core holds.
pub fn rfc3339(t: Millis) -> String {
    t.to_rfc3339()
}

/// `GET /v1/reservations/{id}` and the answers of create, commit, release and extend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReservationView {
    pub id: String,
    pub status: &'static str,
    pub expires_at: String,
    pub lines: Vec<Line>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

impl ReservationView {
    pub fn of(r: &Shown) -> ReservationView {
        ReservationView {
            id: r.id.to_string(),
            status: r.status.as_str(),
            expires_at: r.expires_at.to_rfc3339(),
            lines: crate::cart::plan::lines_of(&r.parts),
            channel: r.channel.as_ref().map(|c| c.to_string()),
            reference: r.reference.clone(),
            order_id: r.order.as_ref().map(|o| o.order_id.to_string()),
        }
    }
}
