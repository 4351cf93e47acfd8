//! Runs `db::channels`: channel connections.

use worker::{D1Database, D1PreparedStatement, D1Result};

pub use crate::db::channels::ChannelRow;

use super::{batch_of, corrupt_batch, delete_with, prepare, read, read_first, rows, Query, StoreResult};
use crate::catalog::model::{Channel, ChannelKind, Stamps};
use crate::db::channels as sql;
use crate::stock::Token;

/// The connection `channel`.
pub async fn get(db: &D1Database, channel: &Token) -> StoreResult<Option<ChannelRow>> {
    read_first(db, sql::get(channel)).await
}

/// Up to `limit` connections with ids after `after`, in id order.
pub async fn page(db: &D1Database, after: &str, limit: usize) -> StoreResult<Vec<ChannelRow>> {
    read(db, sql::page(after, limit)).await
}

/// `channel`'s kind (`None`: no such channel) and the result of `then`, run in one batch after
/// the kind is read (a listing's shape depends on its channel's kind).
pub async fn with_kind(db: &D1Database, channel: &Token, then: Query) -> StoreResult<(Option<ChannelKind>, D1Result)> {
    let mut res = batch_of(db, [sql::kind_read(channel), then]).await?;
    let kind = sql::kind_of(rows(&res[0])?)?;
    let result = res.pop().ok_or_else(corrupt_batch)?;
    Ok((kind, result))
}

/// The connection `channel` and how many listings it has.
pub async fn with_listing_count(db: &D1Database, channel: &Token) -> StoreResult<(Option<ChannelRow>, i64)> {
    let res = batch_of(db, [sql::get(channel), sql::listing_count(channel)]).await?;
    Ok((rows::<ChannelRow>(&res[0])?.into_iter().next(), sql::count_of(rows(&res[1])?)))
}

/// The statement that stores `channel` with `st`.
pub fn write(db: &D1Database, channel: &Channel, st: Stamps) -> StoreResult<D1PreparedStatement> {
    prepare(db, &sql::write(channel, st))
}

/// Deletes the connection and its listings; `false` when there was no such channel.
pub async fn delete(db: &D1Database, channel: &Token) -> StoreResult<bool> {
    delete_with(db, sql::deletes(channel)).await
}
