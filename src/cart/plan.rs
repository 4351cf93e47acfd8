//! Planning a cart: merge lines of the same SKU and location, group them per SKU ledger.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::orders::Line;
use crate::stock::limits::MAX_LINE_QTY;
use crate::stock::{Location, Sku};

/// The lines of one cart that one SKU ledger holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub sku: Sku,
    pub lines: Vec<(Location, i64)>,
}

/// A merged line above [`MAX_LINE_QTY`]: lines of one SKU and location that add up to too much.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{sku} at {location} adds up to {qty}; at most {MAX_LINE_QTY} per SKU and location")]
pub struct OverLine {
    pub sku: Sku,
    pub location: Location,
    pub qty: i64,
}

/// Why a cart cannot be planned: every merged line that is too large.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError(pub Vec<OverLine>);

/// Merges lines of the same SKU and location and groups them by SKU, in SKU order.
/// A merged line above [`MAX_LINE_QTY`] is refused.
pub fn plan(lines: &[Line]) -> Result<Vec<Part>, PlanError> {
    let mut merged: BTreeMap<&Sku, BTreeMap<&Location, i64>> = BTreeMap::new();
    for l in lines {
        *merged.entry(&l.sku).or_default().entry(&l.location).or_default() += l.qty;
    }
    let mut errors = Vec::new();
    let parts = merged
        .into_iter()
        .map(|(sku, locs)| Part {
            sku: sku.clone(),
            lines: locs
                .into_iter()
                .map(|(loc, qty)| {
                    if qty > MAX_LINE_QTY {
                        errors.push(OverLine { sku: sku.clone(), location: loc.clone(), qty });
                    }
                    (loc.clone(), qty)
                })
                .collect(),
        })
        .collect();
    if errors.is_empty() {
        Ok(parts)
    } else {
        Err(PlanError(errors))
    }
}

/// The merged lines of a plan, as docs/api.md lists them.
pub fn lines_of(parts: &[Part]) -> Vec<Line> {
    parts
        .iter()
        .flat_map(|p| {
            p.lines.iter().map(|(loc, qty)| Line {
                sku: p.sku.clone(),
                qty: *qty,
                location: loc.clone(),
                line_id: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, qty: i64, loc: &str) -> Line {
        Line { sku: Sku::parse(sku).expect("sku"), qty, location: Location::parse(loc).expect("loc"), line_id: None }
    }

    #[test]
    fn merges_same_sku_and_location() {
        let parts = plan(&[line("B", 1, "main"), line("A", 2, "main"), line("B", 3, "main"), line("B", 1, "east")])
            .expect("plan");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].sku.as_str(), "A");
        assert_eq!(parts[1].lines, vec![(Location::parse("east").expect("l"), 1), (Location::main(), 4)]);
    }

    #[test]
    fn merged_quantity_is_bounded() {
        let err = plan(&[line("A", MAX_LINE_QTY, "main"), line("A", 1, "main")]).expect_err("too large");
        assert_eq!(
            err.0,
            vec![OverLine { sku: Sku::parse("A").expect("s"), location: Location::main(), qty: MAX_LINE_QTY + 1 }]
        );
    }
}
