//! Runs `db::catalog`: products with their bundle components, locations and the replays of
//! catalogue PUTs. Writes come back as prepared statements so that a route commits them in one
//! batch with its replay record.

use std::collections::{BTreeMap, BTreeSet};

use worker::{D1Database, D1PreparedStatement, D1Result};

use super::{batch_of, delete_with, execute, prepare, prepare_all, read, read_first, rows, StoreResult};
use crate::catalog::model::{LocationRecord, Product, Stamps};
use crate::catalog::{Bundle, Component};
use crate::db::catalog as sql;
use crate::db::groups::{Answered, Group, Groups};
use crate::stock::{Location, Sku};
use crate::time::Millis;

/// The product `sku`, with its components.
pub async fn product(db: &D1Database, sku: &Sku) -> StoreResult<Option<(Product, Stamps)>> {
    let res = batch_of(db, sql::product_reads(sku)).await?;
    sql::product_of(rows(&res[0])?, &rows(&res[1])?)
}

/// What a product write needs to know first.
pub struct ProductContext {
    /// The product as stored, if it is.
    pub existing: Option<(Product, Stamps)>,
    /// Those of the new components that are bundles themselves.
    pub component_bundles: Vec<String>,
    /// Bundles that have this SKU as a component (at most 10).
    pub parent_bundles: Vec<String>,
}

/// The product `sku` as stored, and what the no-nesting rule needs for `components`, read in
/// one batch.
pub async fn product_for_write(db: &D1Database, sku: &Sku, components: &[Component]) -> StoreResult<ProductContext> {
    let reads = sql::product_reads(sku).into_iter().chain(sql::nesting_reads(sku, components)?);
    let res = batch_of(db, reads).await?;
    Ok(ProductContext {
        existing: sql::product_of(rows(&res[0])?, &rows(&res[1])?)?,
        component_bundles: sql::bundle_names(rows(&res[2])?),
        parent_bundles: sql::bundle_names(rows(&res[3])?),
    })
}

/// Up to `limit` products with SKUs after `after`, in SKU order, with their components.
pub async fn products(db: &D1Database, after: &str, limit: usize) -> StoreResult<Vec<(Product, Stamps)>> {
    let res = batch_of(db, sql::page_reads(after, limit)).await?;
    sql::page_of(rows(&res[0])?, rows(&res[1])?)
}

/// The statements that store `product` (and replace its components) with `st`.
pub fn product_writes(db: &D1Database, product: &Product, st: Stamps) -> StoreResult<Vec<D1PreparedStatement>> {
    prepare_all(db, sql::product_writes(product, st)?)
}

/// Deletes the product `sku` and its components; `false` when there was no such product.
pub async fn delete_product(db: &D1Database, sku: &Sku) -> StoreResult<bool> {
    delete_with(db, sql::product_deletes(sku)).await
}

/// The bundles among `skus`, with their components.
pub async fn bundles(db: &D1Database, skus: &[Sku]) -> StoreResult<BTreeMap<Sku, Bundle>> {
    let mut out = BTreeMap::new();
    for q in sql::bundle_reads(skus) {
        sql::add_bundles(&mut out, read(db, q).await?)?;
    }
    Ok(out)
}

/// [`bundles_containing`]' read as a group of a larger batch (the sync consumer sends it with its
/// other reads in one round trip).
pub struct ContainingRead(Group);

impl ContainingRead {
    pub fn add(groups: &mut Groups, components: &[Sku]) -> ContainingRead {
        ContainingRead(groups.add(sql::containing_reads(components)))
    }

    pub fn decode(self, answered: &mut Answered<D1Result>) -> StoreResult<BTreeSet<Sku>> {
        let mut out = BTreeSet::new();
        for r in answered.take(self.0) {
            sql::add_containing(&mut out, rows(&r)?)?;
        }
        Ok(out)
    }
}

/// Makes every `(sku, backorder_limit)` a product (tracked), recording a given backorder limit
/// and leaving the rest of an existing product as it is.
pub async fn ensure_products(db: &D1Database, products: &[(Sku, Option<i64>)], now: Millis) -> StoreResult<()> {
    for group in sql::ensure_products(products, now) {
        batch_of(db, group).await?;
    }
    Ok(())
}

/// Every product's SKU and whether it is tracked, in SKU order.
pub async fn tracked(db: &D1Database) -> StoreResult<Vec<(Sku, bool)>> {
    sql::tracked_of(read(db, sql::tracked_read()).await?)
}

/// The location `location`.
pub async fn location(db: &D1Database, location: &Location) -> StoreResult<Option<(LocationRecord, Stamps)>> {
    read_first::<sql::LocationRow>(db, sql::location_read(location))
        .await?
        .map(sql::LocationRow::into_record)
        .transpose()
}

/// Up to `limit` locations with ids after `after`, in id order.
pub async fn locations(db: &D1Database, after: &str, limit: usize) -> StoreResult<Vec<(LocationRecord, Stamps)>> {
    read::<sql::LocationRow>(db, sql::locations_read(after, limit))
        .await?
        .into_iter()
        .map(sql::LocationRow::into_record)
        .collect()
}

/// The statement that stores `record` with `st`.
pub fn location_write(db: &D1Database, record: &LocationRecord, st: Stamps) -> StoreResult<D1PreparedStatement> {
    prepare(db, &sql::location_write(record, st))
}

/// Deletes the location; `false` when there was none.
pub async fn delete_location(db: &D1Database, location: &Location) -> StoreResult<bool> {
    Ok(execute(db, sql::location_delete(location)).await? > 0)
}

/// The recorded answer (status, body) to the key `key` with fingerprint `fp`, recorded at or
/// after `since`.
pub async fn replay(db: &D1Database, key: &str, fp: &str, since: Millis) -> StoreResult<Option<(u16, String)>> {
    read_first(db, sql::replay_read(key, fp, since)).await?.map(sql::replay_of).transpose()
}

/// The statements that record an answer for the key `key` at `now` and forget those recorded
/// before `expired_before`.
pub fn replay_writes(
    db: &D1Database,
    idem: (&str, &str),
    answer: (u16, &str),
    now: Millis,
    expired_before: Millis,
) -> StoreResult<Vec<D1PreparedStatement>> {
    prepare_all(db, sql::replay_writes(idem, answer, now, expired_before))
}
