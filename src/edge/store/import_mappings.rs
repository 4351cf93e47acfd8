//! Runs `db::import_mappings`: saved column mappings.

use worker::D1Database;

use super::{execute, read, read_first, StoreResult};
use crate::api::import_mappings::MappingView;
use crate::db::import_mappings::{self as sql, MappingRow};
use crate::import::Mapping;
use crate::time::Millis;

/// Creates or replaces the mapping `name`.
pub async fn put(db: &D1Database, name: &str, mapping: &Mapping, now: Millis) -> StoreResult<()> {
    execute(db, sql::put(name, mapping, now)?).await.map(drop)
}

/// The mapping `name`.
pub async fn get(db: &D1Database, name: &str) -> StoreResult<Option<MappingView>> {
    read_first::<MappingRow>(db, sql::get(name)).await?.map(MappingRow::view).transpose()
}

/// Every mapping, by name.
pub async fn list(db: &D1Database) -> StoreResult<Vec<MappingView>> {
    read::<MappingRow>(db, sql::list()).await?.into_iter().map(MappingRow::view).collect()
}

/// Deletes the mapping `name`; whether there was one.
pub async fn delete(db: &D1Database, name: &str) -> StoreResult<bool> {
    Ok(execute(db, sql::delete(name)).await? > 0)
}
