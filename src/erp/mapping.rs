//! ERP codes to StockEdge names: a connection's warehouse codes to locations and its item codes
//! to SKUs (D1 `erp_warehouses`, `erp_items`, editable through the API). A row whose item or
//! warehouse is not mapped is kept aside as an unmapped item (listed like unmatched inbound
//! lines) instead of guessing.

use std::collections::BTreeMap;

use serde::Serialize;

use super::as_of::AsOf;
use super::basis::Figure;
use super::seen::Seen;
use super::snapshot::SnapshotLine;
use crate::stock::{Location, Sku, Token};

/// One stock row as an ERP reports it: its item code, its warehouse code, its figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErpRow {
    pub item: String,
    pub warehouse: String,
    pub figure: Figure,
}

/// Why a row could not be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmapped {
    /// No SKU is mapped to the item code.
    Item,
    /// No location is mapped to the warehouse code.
    Warehouse,
}

/// A connection's mappings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mappings {
    pub items: BTreeMap<String, Sku>,
    pub warehouses: BTreeMap<String, Location>,
}

/// What a page of rows becomes: snapshot lines for mapped rows, the rest aside.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapped {
    pub lines: Vec<(Sku, SnapshotLine)>,
    pub unmapped: Vec<(ErpRow, Unmapped)>,
}

impl Mappings {
    /// The SKU and location of a row. An item code that names a valid SKU is *not* taken as one:
    /// only mapped codes are applied (a code reused for another product must not move stock).
    pub fn resolve(&self, row: &ErpRow) -> Result<(Sku, Location), Unmapped> {
        let sku = self.items.get(&row.item).ok_or(Unmapped::Item)?;
        let location = self.warehouses.get(&row.warehouse).ok_or(Unmapped::Warehouse)?;
        Ok((sku.clone(), location.clone()))
    }

    /// The snapshot lines of `rows`, each as of `as_of` with `seen`, named `snapshot`. Rows that
    /// map to one SKU and location (several ERP warehouses mapped to one location) make one line,
    /// their figures summed: each would otherwise set on hand to its own part, and all but the
    /// first to reach the ledger would be `stale`.
    pub fn lines(&self, rows: Vec<ErpRow>, snapshot: &Token, as_of: AsOf, seen: &Seen) -> Mapped {
        let mut out = Mapped::default();
        for row in rows {
            match self.resolve(&row) {
                Ok((sku, location)) => {
                    let same = |(s, l): &&mut (Sku, SnapshotLine)| {
                        *s == sku && l.location == location && l.figure.basis == row.figure.basis
                    };
                    if let Some((_, line)) = out.lines.iter_mut().find(same) {
                        line.figure.quantity = line.figure.quantity.saturating_add(row.figure.quantity);
                        continue;
                    }
                    out.lines.push((
                        sku,
                        SnapshotLine {
                            snapshot: snapshot.clone(),
                            location,
                            figure: row.figure,
                            as_of,
                            seen: seen.clone(),
                        },
                    ))
                }
                Err(why) => out.unmapped.push((row, why)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::Basis;
    use crate::time::Millis;

    fn row(item: &str, wh: &str, q: i64) -> ErpRow {
        ErpRow { item: item.into(), warehouse: wh.into(), figure: Figure { basis: Basis::Available, quantity: q } }
    }

    #[test]
    fn only_mapped_rows_become_lines() {
        let mut m = Mappings::default();
        m.items.insert("A100".into(), Sku::parse("TEE-1").expect("sku"));
        m.warehouses.insert("01".into(), Location::parse("main").expect("loc"));
        let snap = Token::parse("sap:1").expect("token");
        let as_of = AsOf { at: Some(Millis(5)), sequence: None };
        let out = m.lines(
            vec![row("A100", "01", 7), row("TEE-1", "01", 3), row("A100", "02", 1)],
            &snap,
            as_of,
            &Seen::default(),
        );
        assert_eq!(out.lines.len(), 1);
        assert_eq!(out.lines[0].0.as_str(), "TEE-1");
        assert_eq!(out.lines[0].1.figure.quantity, 7);
        assert_eq!(out.lines[0].1.as_of, as_of);
        let why: Vec<Unmapped> = out.unmapped.iter().map(|(_, w)| *w).collect();
        assert_eq!(why, vec![Unmapped::Item, Unmapped::Warehouse]);
    }

    #[test]
    fn warehouses_mapped_to_one_location_are_summed() {
        let mut m = Mappings::default();
        m.items.insert("A100".into(), Sku::parse("TEE-1").expect("sku"));
        m.items.insert("B200".into(), Sku::parse("MUG-1").expect("sku"));
        m.warehouses.insert("01".into(), Location::main());
        m.warehouses.insert("02".into(), Location::main());
        let snap = Token::parse("sap:1").expect("token");
        let as_of = AsOf { at: Some(Millis(5)), sequence: None };
        let rows = vec![row("A100", "01", 7), row("A100", "02", 3), row("B200", "02", 4)];
        let out = m.lines(rows, &snap, as_of, &Seen::default());
        let got: Vec<(&str, i64)> = out.lines.iter().map(|(s, l)| (s.as_str(), l.figure.quantity)).collect();
        assert_eq!(got, vec![("TEE-1", 10), ("MUG-1", 4)]);
    }
}
