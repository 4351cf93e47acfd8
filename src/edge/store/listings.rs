//! Runs `db::listings`: a SKU's identity on a channel and its rule.

use std::collections::BTreeMap;

use worker::{D1Database, D1PreparedStatement};

pub use crate::db::listings::ListingRow;

use super::channels::with_kind;
use super::{batch_rows, changes, prepare, read_first, rows, StoreResult};
use crate::catalog::model::{ChannelKind, Listing, Stamps};
use crate::catalog::ListingRule;
use crate::db::listings::{self as sql, Column};
use crate::stock::{Sku, Token};

/// The channel's kind (`None`: no such channel) and its listing of `sku`, read in one batch.
pub async fn get(
    db: &D1Database,
    channel: &Token,
    sku: &Sku,
) -> StoreResult<(Option<ChannelKind>, Option<ListingRow>)> {
    let (kind, res) = with_kind(db, channel, sql::get(channel, sku)).await?;
    Ok((kind, rows::<ListingRow>(&res)?.into_iter().next()))
}

/// The channel's kind (`None`: no such channel) and up to `limit` of its listings with SKUs
/// after `after`, in SKU order.
pub async fn page(
    db: &D1Database,
    channel: &Token,
    after: &str,
    limit: usize,
) -> StoreResult<(Option<ChannelKind>, Vec<ListingRow>)> {
    let (kind, res) = with_kind(db, channel, sql::page(channel, after, limit)).await?;
    Ok((kind, rows(&res)?))
}

/// The statement that stores `listing` with `st`.
pub fn write(db: &D1Database, listing: &Listing, st: Stamps) -> StoreResult<D1PreparedStatement> {
    prepare(db, &sql::write(listing, st))
}

/// Deletes `channel`'s listing of `sku`: `None` when there is no such channel, else whether a
/// listing was deleted.
pub async fn delete(db: &D1Database, channel: &Token, sku: &Sku) -> StoreResult<Option<bool>> {
    match with_kind(db, channel, sql::delete(channel, sku)).await? {
        (None, _) => Ok(None),
        (Some(_), res) => Ok(Some(changes(&res)? > 0)),
    }
}

/// The SKU listed on `channel` under the identity key `identity` (see
/// its platform's key function, `sync::<platform>::identity_key`): how an inbound order or event from a channel finds its SKU.
pub async fn sku_for_identity(db: &D1Database, channel: &Token, identity: &str) -> StoreResult<Option<Sku>> {
    read_first::<ListingRow>(db, sql::by_identity(channel, identity)).await?.map(|r| r.sku()).transpose()
}

/// The listing rules of `channel` for those of `skus` it lists; unlisted SKUs are absent. A
/// stored rule out of bounds fails the read (it is never clamped).
pub async fn rules(db: &D1Database, channel: &Token, skus: &[Sku]) -> StoreResult<BTreeMap<Sku, ListingRule>> {
    let skus: Vec<&str> = skus.iter().map(Sku::as_str).collect();
    sql::rules_of(batch_rows(db, sql::with_values(channel, Column::Sku, &skus)).await?)
}
