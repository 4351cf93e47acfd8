//! Where a batch's order changes go (docs/erp.md "Orders to the ERP"), read in the queue
//! consumer's one D1 batch (`db::groups`): the enabled connections mastering the changes'
//! locations with their warehouse codes (one join: each warehouse row carries its connection's
//! columns), and the item codes of the changes' SKUs. Two reads that do not depend on each
//! other's answers, so they join the consumer's other reads; [`Routes`] then answers each (SKU,
//! location) without D1.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::erp::ConnectionRow;
use super::{corrupt, in_chunks, text, Query, StoreResult};
use crate::erp::connection::{Connection, Orders};
use crate::erp::delivery::Route;
use crate::stock::{Location, Sku, Token};

/// A warehouse of an enabled connection mapped to one of the locations asked, with that
/// connection's row (`erp_connections`' columns, as [`ConnectionRow`] reads them).
#[derive(Debug, Deserialize)]
pub struct MasterRow {
    pub location: String,
    pub code: String,
    id: String,
    kind: String,
    base_url: String,
    credentials_secret: Option<String>,
    settings: String,
    local_adjustments: String,
    enabled: i64,
}

impl MasterRow {
    fn connection(&self) -> ConnectionRow {
        ConnectionRow {
            id: self.id.clone(),
            kind: self.kind.clone(),
            base_url: self.base_url.clone(),
            credentials_secret: self.credentials_secret.clone(),
            settings: self.settings.clone(),
            local_adjustments: self.local_adjustments.clone(),
            enabled: self.enabled,
        }
    }
}

/// The warehouses of enabled connections mapped to `locations`, each with its connection (one
/// statement per chunk).
pub fn masters(locations: &[Location]) -> Vec<Query> {
    in_chunks(
        locations,
        &[],
        |list| {
            format!(
                "SELECT w.location, w.code, c.id, c.kind, c.base_url, c.credentials_secret, c.settings, \
                 c.local_adjustments, c.enabled FROM erp_warehouses w JOIN erp_connections c ON c.id = w.connection \
                 WHERE c.enabled = 1 AND w.location IN ({list})"
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

/// Where the order changes of a batch go, from the two reads' rows.
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
    pub fn of(masters: Vec<MasterRow>, items: Vec<ItemRow>) -> StoreResult<Routes> {
        let mut out = Routes::default();
        for r in masters {
            let location =
                Location::parse(&r.location).map_err(|e| corrupt(format!("erp_warehouses location: {e}")))?;
            let id = token(&r.id)?;
            if !out.connections.contains_key(&id) {
                out.connections.insert(id.clone(), r.connection().decode()?);
            }
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
    /// A warehouse row of connection `id` (its settings `settings`), as the join reads it.
    fn master(location: &str, id: &str, code: &str, settings: serde_json::Value) -> serde_json::Value {
        json!({"location": location, "code": code, "id": id, "kind": "sap_b1", "base_url": "https://b1",
               "credentials_secret": null, "settings": settings.to_string(), "local_adjustments": "refuse",
               "enabled": 1})
    }

    #[test]
    fn long_lists_are_split_and_bound() {
        let locations: Vec<Location> = (0..200).map(|i| loc(&format!("wh-{i}"))).collect();
        let skus: Vec<Sku> = (0..100).map(|i| sku(&format!("S-{i}"))).collect();
        let (m, i) = (masters(&locations), items(&skus));
        assert_eq!((m.len(), i.len()), (3, 2));
        for qs in [&m, &i] {
            assert_bound(qs);
        }
    }

    #[test]
    fn a_location_goes_to_its_first_connection_and_code_whatever_the_row_order() {
        let masters = rows(json!([
            master("main", "sap", "02", json!({})),
            master("main", "sap", "01", json!({})),
            master("main", "zz", "00", json!({"orders": "deliver"})),
            master("east", "zz", "E", json!({"orders": "deliver"})),
        ]));
        let items = rows(json!([
            {"connection": "sap", "sku": "TEE-1", "code": "B"},
            {"connection": "sap", "sku": "TEE-1", "code": "A"},
            {"connection": "zz", "sku": "TEE-1", "code": "Z"},
        ]));
        let r = Routes::of(masters, items).expect("routes");
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
        let masters = rows(json!([master("main", "sap", "01", json!({"orders": "off"}))]));
        let items = rows(json!([{"connection": "sap", "sku": "TEE-1", "code": "A"}]));
        let r = Routes::of(masters, items).expect("routes");
        assert_eq!(r.route(&sku("TEE-1"), &loc("main")), None);
    }

    #[test]
    fn each_connection_is_read_with_its_warehouses_and_bad_rows_are_corrupt() {
        let r = Routes::of(vec![], vec![]).expect("routes");
        assert_eq!(r.route(&sku("TEE-1"), &loc("main")), None);
        assert!(r.connection(&tok("sap")).is_none());
        let bad = rows(json!([master("not a location", "sap", "01", json!({}))]));
        assert!(matches!(Routes::of(bad, vec![]), Err(crate::db::StoreError::Corrupt(_))));
        let mut broken = master("main", "sap", "01", json!({}));
        broken["kind"] = json!("oracle");
        assert!(matches!(Routes::of(rows(json!([broken])), vec![]), Err(crate::db::StoreError::Corrupt(_))));
    }
}
