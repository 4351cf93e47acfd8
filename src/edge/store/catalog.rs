//! D1 `products`, `bundle_components`, `locations` and `catalog_replays` (migrations/0001):
//! catalogue records as `catalog::model` types. A stored row that does not decode is
//! [`StoreError::Corrupt`]; writes are returned as statements so that a route commits them in
//! one batch with its replay record.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, D1Result};

use super::{
    all, batch, corrupt, delete_with, first, int, opt_int, opt_text, placeholders, rows, stmt, text, StoreResult,
    IN_CHUNK,
};
use crate::catalog::model::{LocationRecord, Product, Stamps};
use crate::catalog::{Bundle, Component};
use crate::edge::limits::{UPSERT_ROWS, UPSERT_STATEMENTS};
use crate::stock::{Location, Sku};
use crate::time::Millis;

/// The stamps of a stored row.
pub fn stamps(created_at: i64, updated_at: i64) -> Stamps {
    Stamps { created_at: Millis(created_at), updated_at: Millis(updated_at) }
}

// ---------------------------------------------------------------------------------------------
// Products and bundle components

const PRODUCT_SELECT: &str =
    "SELECT sku, title, barcode, tracked, backorder_limit, low_stock_threshold, created_at, updated_at FROM products";
const COMPONENTS_OF: &str =
    "SELECT bundle_sku, component_sku, qty FROM bundle_components WHERE bundle_sku = ?1 ORDER BY position";

#[derive(Deserialize)]
struct ProductRow {
    sku: String,
    title: Option<String>,
    barcode: Option<String>,
    tracked: i64,
    backorder_limit: Option<i64>,
    low_stock_threshold: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Deserialize)]
struct ComponentRow {
    bundle_sku: String,
    component_sku: String,
    qty: i64,
}

#[derive(Deserialize)]
struct BundleRow {
    bundle_sku: String,
}

fn sku(s: &str) -> StoreResult<Sku> {
    Sku::parse(s).map_err(|e| corrupt(format!("stored SKU {s:?}: {e}")))
}

impl ComponentRow {
    fn component(&self) -> StoreResult<Component> {
        Ok(Component { sku: sku(&self.component_sku)?, qty: self.qty })
    }
}

impl ProductRow {
    fn into_product(self, components: &[ComponentRow]) -> StoreResult<(Product, Stamps)> {
        let components = components.iter().map(ComponentRow::component).collect::<StoreResult<Vec<_>>>()?;
        let p = Product {
            sku: sku(&self.sku)?,
            title: self.title,
            barcode: self.barcode,
            tracked: self.tracked != 0,
            backorder_limit: self.backorder_limit,
            low_stock_threshold: self.low_stock_threshold,
            components,
        };
        Ok((p, stamps(self.created_at, self.updated_at)))
    }
}

/// The statements reading the product `sku` and its components.
fn product_reads(db: &D1Database, sku: &Sku) -> StoreResult<[D1PreparedStatement; 2]> {
    Ok([
        stmt(db, &format!("{PRODUCT_SELECT} WHERE sku = ?1"), &[text(sku.as_str())])?,
        stmt(db, COMPONENTS_OF, &[text(sku.as_str())])?,
    ])
}

/// The product of [`product_reads`]' results.
fn product_of(row: &D1Result, components: &D1Result) -> StoreResult<Option<(Product, Stamps)>> {
    match rows::<ProductRow>(row)?.into_iter().next() {
        Some(p) => Ok(Some(p.into_product(&rows::<ComponentRow>(components)?)?)),
        None => Ok(None),
    }
}

/// The product `sku`, with its components.
pub async fn product(db: &D1Database, sku: &Sku) -> StoreResult<Option<(Product, Stamps)>> {
    let res = batch(db, product_reads(db, sku)?.into()).await?;
    product_of(&res[0], &res[1])
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
    let components_json = serde_json::to_string(components).map_err(corrupt)?;
    let [row, components_of] = product_reads(db, sku)?;
    let res = batch(
        db,
        vec![
            row,
            components_of,
            stmt(
                db,
                "SELECT DISTINCT bundle_sku FROM bundle_components \
                 WHERE bundle_sku IN (SELECT json_extract(value, '$.sku') FROM json_each(?1)) ORDER BY bundle_sku",
                &[text(&components_json)],
            )?,
            stmt(
                db,
                "SELECT DISTINCT bundle_sku FROM bundle_components WHERE component_sku = ?1 ORDER BY bundle_sku LIMIT 10",
                &[text(sku.as_str())],
            )?,
        ],
    )
    .await?;
    let existing = product_of(&res[0], &res[1])?;
    let names = |i: usize| -> StoreResult<Vec<String>> {
        Ok(rows::<BundleRow>(&res[i])?.into_iter().map(|r| r.bundle_sku).collect())
    };
    Ok(ProductContext { existing, component_bundles: names(2)?, parent_bundles: names(3)? })
}

/// Up to `limit` products with SKUs after `after`, in SKU order, with their components.
pub async fn products(db: &D1Database, after: &str, limit: usize) -> StoreResult<Vec<(Product, Stamps)>> {
    let args = [text(after), int(limit as i64)];
    let res = batch(
        db,
        vec![
            stmt(db, &format!("{PRODUCT_SELECT} WHERE sku > ?1 ORDER BY sku LIMIT ?2"), &args)?,
            stmt(
                db,
                "SELECT bundle_sku, component_sku, qty FROM bundle_components \
                 WHERE bundle_sku IN (SELECT sku FROM products WHERE sku > ?1 ORDER BY sku LIMIT ?2) \
                 ORDER BY bundle_sku, position",
                &args,
            )?,
        ],
    )
    .await?;
    let mut components: BTreeMap<String, Vec<ComponentRow>> = BTreeMap::new();
    for c in rows::<ComponentRow>(&res[1])? {
        components.entry(c.bundle_sku.clone()).or_default().push(c);
    }
    rows::<ProductRow>(&res[0])?
        .into_iter()
        .map(|p| {
            let cs = components.remove(&p.sku).unwrap_or_default();
            p.into_product(&cs)
        })
        .collect()
}

/// The statements that store `product` (and replace its components) with `st`.
pub fn product_writes(db: &D1Database, product: &Product, st: Stamps) -> StoreResult<Vec<D1PreparedStatement>> {
    let sku = product.sku.as_str();
    let mut writes = vec![
        stmt(
            db,
            "INSERT INTO products (sku, title, barcode, tracked, backorder_limit, low_stock_threshold, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (sku) DO UPDATE SET title = excluded.title, barcode = excluded.barcode, tracked = excluded.tracked, \
             backorder_limit = excluded.backorder_limit, low_stock_threshold = excluded.low_stock_threshold, updated_at = excluded.updated_at",
            &[
                text(sku),
                opt_text(product.title.as_deref()),
                opt_text(product.barcode.as_deref()),
                int(i64::from(product.tracked)),
                opt_int(product.backorder_limit),
                opt_int(product.low_stock_threshold),
                int(st.created_at.0),
                int(st.updated_at.0),
            ],
        )?,
        stmt(db, "DELETE FROM bundle_components WHERE bundle_sku = ?1", &[text(sku)])?,
    ];
    if !product.components.is_empty() {
        let components_json = serde_json::to_string(&product.components).map_err(corrupt)?;
        writes.push(stmt(
            db,
            "INSERT INTO bundle_components (bundle_sku, component_sku, qty, position) \
             SELECT ?1, json_extract(value, '$.sku'), json_extract(value, '$.qty'), key FROM json_each(?2)",
            &[text(sku), text(&components_json)],
        )?);
    }
    Ok(writes)
}

/// Deletes the product `sku` and its components; `false` when there was no such product.
pub async fn delete_product(db: &D1Database, sku: &Sku) -> StoreResult<bool> {
    delete_with(
        db,
        stmt(db, "DELETE FROM bundle_components WHERE bundle_sku = ?1", &[text(sku.as_str())])?,
        stmt(db, "DELETE FROM products WHERE sku = ?1", &[text(sku.as_str())])?,
    )
    .await
}

/// The bundles among `skus`, with their components.
pub async fn bundles(db: &D1Database, skus: &[Sku]) -> StoreResult<BTreeMap<Sku, Bundle>> {
    let mut out: BTreeMap<Sku, Bundle> = BTreeMap::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT bundle_sku, component_sku, qty FROM bundle_components WHERE bundle_sku IN ({}) ORDER BY bundle_sku, position",
            placeholders(chunk.len())
        );
        let args: Vec<_> = chunk.iter().map(|s| text(s.as_str())).collect();
        for r in all::<ComponentRow>(stmt(db, &sql, &args)?).await? {
            let bundle = sku(&r.bundle_sku)?;
            let component = r.component()?;
            out.entry(bundle.clone())
                .or_insert_with(|| Bundle { sku: bundle, components: Vec::new() })
                .components
                .push(component);
        }
    }
    Ok(out)
}

/// The bundles that have a component among `components`.
pub async fn bundles_containing(db: &D1Database, components: &[Sku]) -> StoreResult<BTreeSet<Sku>> {
    let mut out = BTreeSet::new();
    for chunk in components.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT DISTINCT bundle_sku FROM bundle_components WHERE component_sku IN ({})",
            placeholders(chunk.len())
        );
        let args: Vec<_> = chunk.iter().map(|s| text(s.as_str())).collect();
        for r in all::<BundleRow>(stmt(db, &sql, &args)?).await? {
            out.insert(sku(&r.bundle_sku)?);
        }
    }
    Ok(out)
}

/// Makes every `(sku, backorder_limit)` a product (tracked), recording a given backorder limit
/// and leaving the rest of an existing product as it is.
pub async fn ensure_products(db: &D1Database, products: &[(Sku, Option<i64>)], now: Millis) -> StoreResult<()> {
    let mut statements = Vec::new();
    for chunk in products.chunks(UPSERT_ROWS) {
        let values = vec!["(?, 1, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO products (sku, tracked, backorder_limit, created_at, updated_at) VALUES {values} \
             ON CONFLICT (sku) DO UPDATE SET backorder_limit = COALESCE(excluded.backorder_limit, products.backorder_limit), \
             updated_at = excluded.updated_at"
        );
        let mut args = Vec::with_capacity(chunk.len() * 4);
        for (sku, backorder_limit) in chunk {
            args.extend([text(sku.as_str()), opt_int(*backorder_limit), int(now.0), int(now.0)]);
        }
        statements.push(stmt(db, &sql, &args)?);
    }
    for group in statements.chunks(UPSERT_STATEMENTS) {
        batch(db, group.to_vec()).await?;
    }
    Ok(())
}

/// Every product's SKU and whether it is tracked, in SKU order.
pub async fn tracked(db: &D1Database) -> StoreResult<Vec<(Sku, bool)>> {
    #[derive(Deserialize)]
    struct Row {
        sku: String,
        tracked: i64,
    }
    all::<Row>(stmt(db, "SELECT sku, tracked FROM products ORDER BY sku", &[])?)
        .await?
        .into_iter()
        .map(|r| Ok((sku(&r.sku)?, r.tracked != 0)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Locations

const LOCATION_SELECT: &str = "SELECT location, name, created_at, updated_at FROM locations";

#[derive(Deserialize)]
struct LocationRow {
    location: String,
    name: String,
    created_at: i64,
    updated_at: i64,
}

impl LocationRow {
    fn into_record(self) -> StoreResult<(LocationRecord, Stamps)> {
        let location = Location::parse(&self.location).map_err(|e| corrupt(format!("stored location: {e}")))?;
        Ok((LocationRecord { location, name: self.name }, stamps(self.created_at, self.updated_at)))
    }
}

/// The location `location`.
pub async fn location(db: &D1Database, location: &Location) -> StoreResult<Option<(LocationRecord, Stamps)>> {
    let s = stmt(db, &format!("{LOCATION_SELECT} WHERE location = ?1"), &[text(location.as_str())])?;
    first::<LocationRow>(s).await?.map(LocationRow::into_record).transpose()
}

/// Up to `limit` locations with ids after `after`, in id order.
pub async fn locations(db: &D1Database, after: &str, limit: usize) -> StoreResult<Vec<(LocationRecord, Stamps)>> {
    let s = stmt(
        db,
        &format!("{LOCATION_SELECT} WHERE location > ?1 ORDER BY location LIMIT ?2"),
        &[text(after), int(limit as i64)],
    )?;
    all::<LocationRow>(s).await?.into_iter().map(LocationRow::into_record).collect()
}

/// The statement that stores `record` with `st`.
pub fn location_write(db: &D1Database, record: &LocationRecord, st: Stamps) -> StoreResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO locations (location, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (location) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
        &[text(record.location.as_str()), text(&record.name), int(st.created_at.0), int(st.updated_at.0)],
    )
}

/// Deletes the location; `false` when there was none.
pub async fn delete_location(db: &D1Database, location: &Location) -> StoreResult<bool> {
    let s = stmt(db, "DELETE FROM locations WHERE location = ?1", &[text(location.as_str())])?;
    Ok(super::run(s).await? > 0)
}

// ---------------------------------------------------------------------------------------------
// Replays of catalogue PUTs sent with an Idempotency-Key

/// The recorded answer (status, body) to the key `key` with fingerprint `fp`, recorded at or
/// after `since`.
pub async fn replay(db: &D1Database, key: &str, fp: &str, since: Millis) -> StoreResult<Option<(u16, String)>> {
    #[derive(Deserialize)]
    struct Row {
        status: i64,
        body: String,
    }
    let s = stmt(
        db,
        "SELECT status, body FROM catalog_replays WHERE key = ?1 AND fingerprint = ?2 AND at >= ?3",
        &[text(key), text(fp), int(since.0)],
    )?;
    match first::<Row>(s).await? {
        Some(r) => Ok(Some((u16::try_from(r.status).map_err(corrupt)?, r.body))),
        None => Ok(None),
    }
}

/// The statements that record an answer for the key `key` at `now` and forget those recorded
/// before `expired_before`.
pub fn replay_writes(
    db: &D1Database,
    (key, fp): (&str, &str),
    (status, body): (u16, &str),
    now: Millis,
    expired_before: Millis,
) -> StoreResult<[D1PreparedStatement; 2]> {
    Ok([
        stmt(
            db,
            "INSERT OR IGNORE INTO catalog_replays (key, fingerprint, status, body, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[text(key), text(fp), int(i64::from(status)), text(body), int(now.0)],
        )?,
        stmt(db, "DELETE FROM catalog_replays WHERE at < ?1", &[int(expired_before.0)])?,
    ])
}
