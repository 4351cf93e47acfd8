//! The order desk call that registers a committed reservation's lines with its order, whoever
//! kept the reservation (a cart coordinator, a SKU ledger, an allotment), so that fulfilling or
//! cancelling the order reaches the ledgers that hold its units.

use super::plan::Part;
use crate::api::order_call::{OrderAction, OrderCall};
use crate::orders::BookLine;
use crate::stock::order::hold_line_id;
use crate::stock::{HoldId, OrderKey};

/// `Attach` of every line of `parts` held under `hold`, one book line per (SKU, location) with
/// the hold's line id. Idempotent at the desk (it keeps each (SKU, line id) once). `None` when
/// there is no line to register.
pub fn attach(hold: &HoldId, parts: &[Part], order: OrderKey) -> Option<OrderCall> {
    let lines: Vec<BookLine> = parts
        .iter()
        .flat_map(|p| {
            p.lines.iter().filter_map(|(loc, qty)| {
                hold_line_id(hold, loc).ok().map(|line_id| BookLine {
                    sku: p.sku.clone(),
                    line_id,
                    location: loc.clone(),
                    qty: *qty,
                })
            })
        })
        .collect();
    (!lines.is_empty()).then_some(OrderCall { order, action: OrderAction::Attach { lines }, idempotency: None })
}
