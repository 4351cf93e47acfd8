//! Where a batch's order changes go (docs/erp.md "Orders to the ERP"), read in the queue
//! consumer's one D1 batch (`db::groups`): the enabled connections mastering the changes'
//! locations with their warehouse codes, the item codes of the changes' SKUs, and those
//! connections. Three reads that do not depend on each other's answers, so they join the
//! consumer's other reads; [`Routes`] then answers each (SKU, location) without D1.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::erp::{ConnectionRow, CONNECTION_SELECT};
use super::{corrupt, in_chunks, text, Query, StoreResult};
use crate::erp::connection::{Connection, Orders};
use crate::erp::delivery::Route;
use crate::stock::{Location, Sku, Token};

/// A warehouse of an enabled connection mapped to one of the locations asked.
#[derive(Debug, Deserialize)]
pub struct MasterRow {
    pub location: String,
    pub connection: String,
    pub code: String,
}

/// The warehouses of enabled connections mapped to `locations` (one statement per chunk).
pub fn masters(locations: &[Location]) -> Vec<Query> {
    in_chunks(
        locations,
        &[],
        |list| {
            format!(
                "SELECT w.location, c.id AS connection, w.code FROM erp_warehouses w \
                 JOIN erp_connections c ON c.id = w.connection WHERE c.enabled = 1 AND w.location IN ({list})"
            )
        },
        |l| text(l.as_str()),
    )
}

/// An item code mapped to one of the SKUs asked, in any connection.
#[derive(Debug, Deserialize)]
pub struct ItemRow {
    pub connection: String,
    pub sku: String,
    pub code: String,
}

/// The item codes of `skus` in every connection (one statement per chunk).
pub fn items(skus: &[Sku]) -> Vec<Query> {
    in_chunks(
        skus,
        &[],
        |list| format!("SELECT connection, sku, code FROM erp_items WHERE sku IN ({list})"),
        |s| text(s.as_str()),
    )
}

/// The enabled connections with a warehouse mapped to one of `locations` (one statement per
/// chunk), as [`ConnectionRow`]s.
pub fn connections(locations: &[Location]) -> Vec<Query> {
    in_chunks(
        locations,
        &[],
        |list| {
            format!(
                "{CONNECTION_SELECT} WHERE enabled = 1 AND id IN \
                 (SELECT connection FROM erp_warehouses WHERE location IN ({list}))"
            )
        },
        |l| text(l.as_str()),
    )
}

/// Where the order changes of a batch go, from the three reads' rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Routes {
    /// Per location, its master: the first enabled connection by id mapping a warehouse to it,
    /// with its first such code (one ERP receives a location's orders).
    masters: BTreeMap<Location, (Token, String)>,
    /// Per (connection, SKU), its first item code.
    items: BTreeMap<(Token, Sku), String>,
    connections: BTreeMap<Token, Connection>,
}

impl Routes {
    /// Reads the rows back; a row naming something that does not parse is corrupt.
    pub fn of(masters: Vec<MasterRow>, items: Vec<ItemRow>, connections: Vec<ConnectionRow>) -> StoreResult<Routes> {
        let mut out = Routes::default();
        for r in masters {
            let location =
                Location::parse(&r.location).map_err(|e| corrupt(format!("erp_warehouses location: {e}")))?;
            let id = token(&r.connection)?;
            let candidate = (id, r.code);
            let slot = out.masters.entry(location).or_insert_with(|| candidate.clone());
            if candidate < *slot {
                *slot = candidate;
            }
        }
        for r in items {
            let sku = Sku::parse(&r.sku).map_err(|e| corrupt(format!("erp_items sku: {e}")))?;
            let slot = out.items.entry((token(&r.connection)?, sku)).or_insert_with(|| r.code.clone());
            if r.code < *slot {
                *slot = r.code;
            }
        }
        for r in connections {
            let c = r.decode()?;
            out.connections.insert(c.id.clone(), c);
        }
        Ok(out)
    }

    /// Where `sku`'s units at `location` go: `None` when no enabled connection masters the
    /// location, or when the one that does takes no orders (`settings.orders: "off"`, stock
    /// only: docs/erp.md).
    pub fn route(&self, sku: &Sku, location: &Location) -> Option<Route> {
        let (connection, warehouse) = self.masters.get(location)?;
        if self.connections.get(connection)?.orders() == Orders::Off {
            return None;
        }
        let item = self.items.get(&(connection.clone(), sku.clone())).cloned();
        Some(Route { connection: connection.clone(), warehouse: warehouse.clone(), item })
    }

    /// The connection `id`, if read (enabled and mastering one of the locations asked).
    pub fn connection(&self, id: &Token) -> Option<&Connection> {
        self.connections.get(id)
    }
}

fn token(s: &str) -> StoreResult<Token> {
    Token::parse(s).map_err(|e| corrupt(format!("erp connection id {s:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{assert_bound, rows};
    use serde_json::json;

    fn loc(s: &str) -> Location {
        Location::parse(s).expect("location")
    }
    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }
    fn tok(s: &str) -> Token {
        Token::parse(s).expect("token")
    }
    fn connection(id: &str, settings: serde_json::Value) -> serde_json::Value {
        json!({"id": id, "kind": "sap_b1", "base_url": "https://b1", "credentials_secret": null,
               "settings": settings.to_string(), "local_adjustments": "refuse", "enabled": 1})
    }

    #[test]
    fn long_lists_are_split_and_bound() {
        let locations: Vec<Location> = (0..200).map(|i| loc(&format!("wh-{i}"))).collect();
        let skus: Vec<Sku> = (0..100).map(|i| sku(&format!("S-{i}"))).collect();
        let (m, i, c) = (masters(&locations), items(&skus), connections(&locations));
        assert_eq!((m.len(), i.len(), c.len()), (3, 2, 3));
        for qs in [&m, &i, &c] {
            assert_bound(qs);
        }
    }

    #[test]
    fn a_location_goes_to_its_first_connection_and_code_whatever_the_row_order() {
        let masters = rows(json!([
            {"location": "main", "connection": "sap", "code": "02"},
            {"location": "main", "connection": "sap", "code": "01"},
            {"location": "main", "connection": "zz", "code": "00"},
            {"location": "east", "connection": "zz", "code": "E"},
        ]));
        let items = rows(json!([
            {"connection": "sap", "sku": "TEE-1", "code": "B"},
            {"connection": "sap", "sku": "TEE-1", "code": "A"},
            {"connection": "zz", "sku": "TEE-1", "code": "Z"},
        ]));
        let conns = rows(json!([connection("sap", json!({})), connection("zz", json!({"orders": "deliver"}))]));
        let r = Routes::of(masters, items, conns).expect("routes");
        let route = r.route(&sku("TEE-1"), &loc("main")).expect("main is mastered");
        assert_eq!(route, Route { connection: tok("sap"), warehouse: "01".into(), item: Some("A".into()) });
        assert_eq!(r.route(&sku("TEE-1"), &loc("east")).and_then(|r| r.item), Some("Z".into()));
        let unmapped = r.route(&sku("CAP-1"), &loc("main")).expect("mastered, item unmapped");
        assert_eq!(unmapped.item, None);
        assert_eq!(r.route(&sku("TEE-1"), &loc("west")), None, "no master");
        assert!(r.connection(&tok("zz")).is_some());
    }

    #[test]
    fn a_connection_with_orders_off_receives_none() {
        let masters = rows(json!([{"location": "main", "connection": "sap", "code": "01"}]));
        let items = rows(json!([{"connection": "sap", "sku": "TEE-1", "code": "A"}]));
        let conns = rows(json!([connection("sap", json!({"orders": "off"}))]));
        let r = Routes::of(masters, items, conns).expect("routes");
        assert_eq!(r.route(&sku("TEE-1"), &loc("main")), None);
    }

    #[test]
    fn a_master_whose_connection_was_not_read_routes_nothing_and_bad_rows_are_corrupt() {
        let masters = rows(json!([{"location": "main", "connection": "sap", "code": "01"}]));
        let r = Routes::of(masters, vec![], vec![]).expect("routes");
        assert_eq!(r.route(&sku("TEE-1"), &loc("main")), None);
        let bad = rows(json!([{"location": "not a location", "connection": "sap", "code": "01"}]));
        assert!(matches!(Routes::of(bad, vec![], vec![]), Err(crate::db::StoreError::Corrupt(_))));
    }
}
