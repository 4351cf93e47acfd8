//! D1 `import_mappings` (migrations/0015_import_mappings_edi_orders.sql): saved column mappings by name, stored as JSON and read
//! back typed; one that does not decode is [`StoreError::Corrupt`](super::StoreError).

use serde::Deserialize;

use super::{decode, encode, int, text, Query, StoreResult};
use crate::api::import_mappings::MappingView;
use crate::import::Mapping;
use crate::time::Millis;

/// A stored row.
#[derive(Debug, Deserialize)]
pub struct MappingRow {
    pub name: String,
    mapping: String,
    pub updated_at: i64,
}

impl MappingRow {
    /// The row as answered.
    pub fn view(self) -> StoreResult<MappingView> {
        let mapping: Mapping = decode("import mapping", &self.mapping)?;
        Ok(MappingView { name: self.name, mapping, updated_at: Millis(self.updated_at) })
    }
}

const COLUMNS: &str = "name, mapping, updated_at";

/// Creates or replaces the mapping `name` (its `created_at` is kept).
pub fn put(name: &str, mapping: &Mapping, now: Millis) -> StoreResult<Query> {
    Ok(Query::new(
        "INSERT INTO import_mappings (name, mapping, created_at, updated_at) VALUES (?1, ?2, ?3, ?3) \
         ON CONFLICT (name) DO UPDATE SET mapping = excluded.mapping, updated_at = excluded.updated_at",
        vec![text(name), text(&encode(mapping)?), int(now.0)],
    ))
}

/// The mapping `name`.
pub fn get(name: &str) -> Query {
    Query::new(format!("SELECT {COLUMNS} FROM import_mappings WHERE name = ?1"), vec![text(name)])
}

/// Every mapping, by name.
pub fn list() -> Query {
    Query::new(format!("SELECT {COLUMNS} FROM import_mappings ORDER BY name"), vec![])
}

/// Deletes the mapping `name` (a row count of 0: there was none).
pub fn delete(name: &str) -> Query {
    Query::new("DELETE FROM import_mappings WHERE name = ?1", vec![text(name)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{assert_bound, rows};

    #[test]
    fn statements_bind_their_parameters_and_rows_decode() {
        let m = crate::api::import_mappings::mapping_body(br#"{"columns": {"sku": "Item No.", "quantity": "Qty"}}"#)
            .expect("valid");
        assert_bound(&[put("erp", &m, Millis(5)).expect("encode"), get("erp"), list(), delete("erp")]);
        let stored = serde_json::to_string(&m).unwrap();
        let decoded: Vec<MappingRow> = rows(serde_json::json!([{"name": "erp", "mapping": stored, "updated_at": 5}]));
        let view = decoded.into_iter().next().unwrap().view().expect("decodes");
        assert_eq!(view.mapping, m);
        let bad: Vec<MappingRow> = rows(serde_json::json!([{"name": "erp", "mapping": "{}", "updated_at": 5}]));
        assert!(bad.into_iter().next().unwrap().view().is_err());
    }
}
