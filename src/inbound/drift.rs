//! Telling a platform's report of a level apart from StockEdge's own write coming back.
//!
//! Shopify sends `inventory_levels/update` for every change of `available`, including the ones
//! StockEdge makes when it pushes a quantity (docs/channels.md: `inventorySetQuantities`). An update
//! equal to the quantity StockEdge last pushed to that listing is that push echoing back; anything
//! else is drift (a change made on the platform: a manual edit, another app, a sale whose order
//! event is on its way).

use super::event::{EventKind, InboundEvent, InboundLine};

/// What a reported level is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriftVerdict {
    /// Equal to what StockEdge last pushed: ignore it.
    Echo,
    /// Something else changed the level on the platform.
    Drift { reported: i64, last_pushed: Option<i64> },
}

/// `reported` (the platform's level) against `last_pushed` (what StockEdge last wrote to that
/// listing, `None` if it never did).
pub fn check(reported: i64, last_pushed: Option<i64>) -> DriftVerdict {
    match last_pushed {
        Some(p) if p == reported => DriftVerdict::Echo,
        _ => DriftVerdict::Drift { reported, last_pushed },
    }
}

pub fn is_echo(reported: i64, last_pushed: Option<i64>) -> bool {
    check(reported, last_pushed) == DriftVerdict::Echo
}

/// The verdict for each line of a [`EventKind::Drift`] event (empty for any other kind), given a
/// look-up of the last pushed quantity per line.
pub fn check_event<F>(event: &InboundEvent, mut last_pushed: F) -> Vec<(&InboundLine, DriftVerdict)>
where
    F: FnMut(&InboundLine) -> Option<i64>,
{
    if event.kind != EventKind::Drift {
        return Vec::new();
    }
    event.lines.iter().map(|l| (l, check(l.qty, last_pushed(l)))).collect()
}
