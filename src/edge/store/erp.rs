//! Runs `db::erp`: ERP connections, their mappings, unmapped rows and stock-poll state.

use std::collections::BTreeSet;

use worker::D1Database;

use super::{batch_of, execute, read, read_first, StoreResult};
use crate::db::erp::{self as sql, ConnectionRow, IdRow, LocationRow, MappingRow, MasterRow, StateRow};
pub use crate::db::erp::{AdjustmentRequestRow, PollRecordRow, UnmappedRow};
use crate::erp::connection::{Connection, LocalAdjustments};
use crate::erp::connectors::poll::ErpPollState;
use crate::erp::mapping::{ErpRow, Mappings, Unmapped};
use crate::erp::master::AdjustmentRequest;
use crate::stock::{Location, Sku, Token};
use crate::time::Millis;

pub async fn connections(db: &D1Database) -> StoreResult<Vec<Connection>> {
    read::<ConnectionRow>(db, sql::connections()).await?.into_iter().map(ConnectionRow::decode).collect()
}

pub async fn connection(db: &D1Database, id: &Token) -> StoreResult<Option<Connection>> {
    read_first::<ConnectionRow>(db, sql::connection(id)).await?.map(ConnectionRow::decode).transpose()
}

pub async fn put_connection(db: &D1Database, c: &Connection, t: Millis) -> StoreResult<()> {
    execute(db, sql::put_connection(c, t)?).await.map(drop)
}

/// Deletes a connection and what hangs on it (its pending adjustment requests become `dead`);
/// `false` when there was none.
pub async fn delete_connection(db: &D1Database, id: &Token, now: Millis) -> StoreResult<bool> {
    let results = batch_of(db, sql::delete_connection(id, now)).await?;
    match results.last() {
        Some(r) => Ok(super::changes(r)? > 0),
        None => Ok(false),
    }
}

pub async fn mappings(db: &D1Database, id: &Token) -> StoreResult<Mappings> {
    sql::mappings_of(read::<MappingRow>(db, sql::mappings(id)).await?)
}

pub async fn change_mappings(
    db: &D1Database,
    id: &Token,
    items: &[(String, Option<Sku>)],
    warehouses: &[(String, Option<Location>)],
) -> StoreResult<()> {
    batch_of(db, sql::change_mappings(id, items, warehouses)).await.map(drop)
}

pub async fn record_unmapped(db: &D1Database, id: &Token, rows: &[(ErpRow, Unmapped)], t: Millis) -> StoreResult<()> {
    batch_of(db, sql::record_unmapped(id, rows, t)).await.map(drop)
}

pub async fn unmapped(db: &D1Database, only: Option<&Token>) -> StoreResult<Vec<UnmappedRow>> {
    read(db, sql::unmapped(only)).await
}

/// Takes the connection's poll lease; `false` when another run holds it.
pub async fn lease(db: &D1Database, id: &Token, t: Millis) -> StoreResult<bool> {
    Ok(execute(db, sql::lease(id, t)).await? > 0)
}

pub async fn poll_state(db: &D1Database, id: &Token) -> StoreResult<ErpPollState> {
    Ok(sql::poll_state_of(read_first::<StateRow>(db, sql::poll_state(id)).await?))
}

pub async fn save_state(db: &D1Database, id: &Token, state: &ErpPollState) -> StoreResult<()> {
    execute(db, sql::save_state(id, state)?).await.map(drop)
}

pub async fn finish(
    db: &D1Database,
    id: &Token,
    error: Option<&str>,
    read_rows: usize,
    applied: usize,
    t: Millis,
) -> StoreResult<()> {
    execute(db, sql::finish(id, error, read_rows, applied, t)).await.map(drop)
}

pub async fn poll_records(db: &D1Database) -> StoreResult<Vec<PollRecordRow>> {
    read(db, sql::poll_records()).await
}

/// The locations connection `id`'s warehouse codes map to.
pub async fn mastered(db: &D1Database, id: &Token) -> StoreResult<BTreeSet<Location>> {
    sql::mastered_of(read::<LocationRow>(db, sql::mastered(id)).await?)
}

/// The enabled connections that master `location`, with their `local_adjustments`.
pub async fn masters(db: &D1Database, location: &Location) -> StoreResult<Vec<(Token, LocalAdjustments)>> {
    sql::masters_of(read::<MasterRow>(db, sql::masters(location)).await?)
}

/// Records a forwarded change; its id.
pub async fn record_adjustment_request(db: &D1Database, r: &AdjustmentRequest, t: Millis) -> StoreResult<i64> {
    Ok(read_first::<IdRow>(db, sql::record_adjustment_request(r, t)).await?.map_or(0, |r| r.id))
}

pub async fn adjustment_requests(db: &D1Database, only: Option<&Token>) -> StoreResult<Vec<AdjustmentRequestRow>> {
    read(db, sql::adjustment_requests(only)).await
}
