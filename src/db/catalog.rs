//! D1 `products`, `bundle_components`, `locations` and `catalog_replays` (migrations/0001):
//! catalogue records as `catalog::model` types. Writes are returned as statements so that a
//! route commits them in one batch with its replay record.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::limits::{UPSERT_ROWS, UPSERT_STATEMENTS};
use super::{corrupt, encode, in_chunks, int, opt_int, opt_text, text, Query, StoreResult};
use crate::catalog::model::{LocationRecord, Product, Stamps};
use crate::catalog::{Bundle, Component};
use crate::stock::{Location, Sku};
use crate::time::Millis;

/// The stamps of a stored row.
pub fn stamps(created_at: i64, updated_at: i64) -> Stamps {
    Stamps { created_at: Millis(created_at), updated_at: Millis(updated_at) }
}

/// A stored SKU, parsed.
pub fn sku(s: &str) -> StoreResult<Sku> {
    Sku::parse(s).map_err(|e| corrupt(format!("stored SKU {s:?}: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Products and bundle components

const PRODUCT_SELECT: &str =
    "SELECT sku, title, barcode, tracked, backorder_limit, low_stock_threshold, created_at, updated_at FROM products";
const COMPONENTS_OF: &str =
    "SELECT bundle_sku, component_sku, qty FROM bundle_components WHERE bundle_sku = ?1 ORDER BY position";

/// A `products` row.
#[derive(Debug, Deserialize)]
pub struct ProductRow {
    sku: String,
    title: Option<String>,
    barcode: Option<String>,
    tracked: i64,
    backorder_limit: Option<i64>,
    low_stock_threshold: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// A `bundle_components` row.
#[derive(Debug, Deserialize)]
pub struct ComponentRow {
    bundle_sku: String,
    component_sku: String,
    qty: i64,
}

/// A bundle's SKU.
#[derive(Debug, Deserialize)]
pub struct BundleRow {
    bundle_sku: String,
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

/// The reads of the product `sku` (answering [`ProductRow`]s) and its components
/// ([`ComponentRow`]s).
pub fn product_reads(sku: &Sku) -> [Query; 2] {
    [
        Query::new(format!("{PRODUCT_SELECT} WHERE sku = ?1"), vec![text(sku.as_str())]),
        Query::new(COMPONENTS_OF, vec![text(sku.as_str())]),
    ]
}

/// The product of [`product_reads`]' rows.
pub fn product_of(row: Vec<ProductRow>, components: &[ComponentRow]) -> StoreResult<Option<(Product, Stamps)>> {
    row.into_iter().next().map(|p| p.into_product(components)).transpose()
}

/// After [`product_reads`], the reads of those of `components` that are bundles and of the
/// bundles that have `sku` as a component (at most 10), both answering [`BundleRow`]s.
pub fn nesting_reads(sku: &Sku, components: &[Component]) -> StoreResult<[Query; 2]> {
    Ok([
        Query::new(
            "SELECT DISTINCT bundle_sku FROM bundle_components \
             WHERE bundle_sku IN (SELECT json_extract(value, '$.sku') FROM json_each(?1)) ORDER BY bundle_sku",
            vec![text(&encode(components)?)],
        ),
        Query::new(
            "SELECT DISTINCT bundle_sku FROM bundle_components WHERE component_sku = ?1 ORDER BY bundle_sku LIMIT 10",
            vec![text(sku.as_str())],
        ),
    ])
}

/// The bundle SKUs of [`BundleRow`]s, as stored.
pub fn bundle_names(rows: Vec<BundleRow>) -> Vec<String> {
    rows.into_iter().map(|r| r.bundle_sku).collect()
}

/// The reads of up to `limit` products with SKUs after `after` ([`ProductRow`]s) and their
/// components ([`ComponentRow`]s).
pub fn page_reads(after: &str, limit: usize) -> [Query; 2] {
    let args = vec![text(after), super::count(limit)];
    [
        Query::new(format!("{PRODUCT_SELECT} WHERE sku > ?1 ORDER BY sku LIMIT ?2"), args.clone()),
        Query::new(
            "SELECT bundle_sku, component_sku, qty FROM bundle_components \
             WHERE bundle_sku IN (SELECT sku FROM products WHERE sku > ?1 ORDER BY sku LIMIT ?2) \
             ORDER BY bundle_sku, position",
            args,
        ),
    ]
}

/// The products of [`page_reads`]' rows, in SKU order.
pub fn page_of(products: Vec<ProductRow>, components: Vec<ComponentRow>) -> StoreResult<Vec<(Product, Stamps)>> {
    let mut by_bundle: BTreeMap<String, Vec<ComponentRow>> = BTreeMap::new();
    for c in components {
        by_bundle.entry(c.bundle_sku.clone()).or_default().push(c);
    }
    products
        .into_iter()
        .map(|p| {
            let cs = by_bundle.remove(&p.sku).unwrap_or_default();
            p.into_product(&cs)
        })
        .collect()
}

/// The statements that store `product` (and replace its components) with `st`.
pub fn product_writes(product: &Product, st: Stamps) -> StoreResult<Vec<Query>> {
    let sku = product.sku.as_str();
    let mut writes = vec![
        Query::new(
            "INSERT INTO products (sku, title, barcode, tracked, backorder_limit, low_stock_threshold, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (sku) DO UPDATE SET title = excluded.title, barcode = excluded.barcode, tracked = excluded.tracked, \
             backorder_limit = excluded.backorder_limit, low_stock_threshold = excluded.low_stock_threshold, updated_at = excluded.updated_at",
            vec![
                text(sku),
                opt_text(product.title.as_deref()),
                opt_text(product.barcode.as_deref()),
                super::flag(product.tracked),
                opt_int(product.backorder_limit),
                opt_int(product.low_stock_threshold),
                int(st.created_at.0),
                int(st.updated_at.0),
            ],
        ),
        Query::new("DELETE FROM bundle_components WHERE bundle_sku = ?1", vec![text(sku)]),
    ];
    if !product.components.is_empty() {
        writes.push(Query::new(
            "INSERT INTO bundle_components (bundle_sku, component_sku, qty, position) \
             SELECT ?1, json_extract(value, '$.sku'), json_extract(value, '$.qty'), key FROM json_each(?2)",
            vec![text(sku), text(&encode(&product.components)?)],
        ));
    }
    Ok(writes)
}

/// The deletes of the product `sku`'s components, then of the product.
pub fn product_deletes(sku: &Sku) -> [Query; 2] {
    [
        Query::new("DELETE FROM bundle_components WHERE bundle_sku = ?1", vec![text(sku.as_str())]),
        Query::new("DELETE FROM products WHERE sku = ?1", vec![text(sku.as_str())]),
    ]
}

/// The reads of the components of the bundles among `skus` ([`ComponentRow`]s).
pub fn bundle_reads(skus: &[Sku]) -> Vec<Query> {
    let sql = |list: &str| {
        format!(
            "SELECT bundle_sku, component_sku, qty FROM bundle_components WHERE bundle_sku IN ({list}) \
             ORDER BY bundle_sku, position"
        )
    };
    in_chunks(skus, &[], sql, |s| text(s.as_str()))
}

/// Adds the bundles of [`bundle_reads`]' rows to `out`.
pub fn add_bundles(out: &mut BTreeMap<Sku, Bundle>, rows: Vec<ComponentRow>) -> StoreResult<()> {
    for r in rows {
        let bundle = sku(&r.bundle_sku)?;
        let component = r.component()?;
        out.entry(bundle.clone())
            .or_insert_with(|| Bundle { sku: bundle, components: Vec::new() })
            .components
            .push(component);
    }
    Ok(())
}

/// The reads of the bundles that have a component among `components` ([`BundleRow`]s).
pub fn containing_reads(components: &[Sku]) -> Vec<Query> {
    let sql = |list: &str| format!("SELECT DISTINCT bundle_sku FROM bundle_components WHERE component_sku IN ({list})");
    in_chunks(components, &[], sql, |s| text(s.as_str()))
}

/// Adds the bundle SKUs of [`containing_reads`]' rows to `out`.
pub fn add_containing(out: &mut BTreeSet<Sku>, rows: Vec<BundleRow>) -> StoreResult<()> {
    for r in rows {
        out.insert(sku(&r.bundle_sku)?);
    }
    Ok(())
}

/// The batches (each at most [`UPSERT_STATEMENTS`] statements) that make every
/// `(sku, backorder_limit)` a tracked product, recording a given backorder limit and leaving the
/// rest of an existing product as it is.
pub fn ensure_products(products: &[(Sku, Option<i64>)], now: Millis) -> Vec<Vec<Query>> {
    let statements: Vec<Query> = products
        .chunks(UPSERT_ROWS)
        .map(|chunk| {
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
            Query::new(sql, args)
        })
        .collect();
    statements.chunks(UPSERT_STATEMENTS).map(<[Query]>::to_vec).collect()
}

/// The read of every product's SKU and whether it is tracked, in SKU order ([`TrackedRow`]s).
pub fn tracked_read() -> Query {
    Query::new("SELECT sku, tracked FROM products ORDER BY sku", Vec::new())
}

/// A row of [`tracked_read`].
#[derive(Debug, Deserialize)]
pub struct TrackedRow {
    sku: String,
    tracked: i64,
}

/// The SKUs of [`tracked_read`]'s rows, with whether each is tracked.
pub fn tracked_of(rows: Vec<TrackedRow>) -> StoreResult<Vec<(Sku, bool)>> {
    rows.into_iter().map(|r| Ok((sku(&r.sku)?, r.tracked != 0))).collect()
}

// ---------------------------------------------------------------------------------------------
// Locations

const LOCATION_SELECT: &str = "SELECT location, name, created_at, updated_at FROM locations";

/// A `locations` row.
#[derive(Debug, Deserialize)]
pub struct LocationRow {
    location: String,
    name: String,
    created_at: i64,
    updated_at: i64,
}

impl LocationRow {
    /// The location as a catalogue record, with its stamps.
    pub fn into_record(self) -> StoreResult<(LocationRecord, Stamps)> {
        let location = Location::parse(&self.location).map_err(|e| corrupt(format!("stored location: {e}")))?;
        Ok((LocationRecord { location, name: self.name }, stamps(self.created_at, self.updated_at)))
    }
}

/// The read of the location `location` ([`LocationRow`]).
pub fn location_read(location: &Location) -> Query {
    Query::new(format!("{LOCATION_SELECT} WHERE location = ?1"), vec![text(location.as_str())])
}

/// The read of up to `limit` locations with ids after `after`, in id order ([`LocationRow`]s).
pub fn locations_read(after: &str, limit: usize) -> Query {
    Query::new(
        format!("{LOCATION_SELECT} WHERE location > ?1 ORDER BY location LIMIT ?2"),
        vec![text(after), super::count(limit)],
    )
}

/// The statement that stores `record` with `st`.
pub fn location_write(record: &LocationRecord, st: Stamps) -> Query {
    Query::new(
        "INSERT INTO locations (location, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (location) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
        vec![text(record.location.as_str()), text(&record.name), int(st.created_at.0), int(st.updated_at.0)],
    )
}

/// The delete of the location.
pub fn location_delete(location: &Location) -> Query {
    Query::new("DELETE FROM locations WHERE location = ?1", vec![text(location.as_str())])
}

// ---------------------------------------------------------------------------------------------
// Replays of catalogue PUTs sent with an Idempotency-Key

/// A recorded answer.
#[derive(Debug, Deserialize)]
pub struct ReplayRow {
    status: i64,
    body: String,
}

/// The read of the recorded answer to the key `key` with fingerprint `fp`, recorded at or
/// after `since` ([`ReplayRow`]).
pub fn replay_read(key: &str, fp: &str, since: Millis) -> Query {
    Query::new(
        "SELECT status, body FROM catalog_replays WHERE key = ?1 AND fingerprint = ?2 AND at >= ?3",
        vec![text(key), text(fp), int(since.0)],
    )
}

/// The answer (status, body) of a [`ReplayRow`]; a status that is not one is a corrupt row.
pub fn replay_of(row: ReplayRow) -> StoreResult<(u16, String)> {
    Ok((u16::try_from(row.status).map_err(|e| corrupt(format!("replay status {}: {e}", row.status)))?, row.body))
}

/// The statements that record an answer for the key `key` at `now` and forget those recorded
/// before `expired_before`.
pub fn replay_writes(
    (key, fp): (&str, &str),
    (status, body): (u16, &str),
    now: Millis,
    expired_before: Millis,
) -> [Query; 2] {
    [
        Query::new(
            "INSERT OR IGNORE INTO catalog_replays (key, fingerprint, status, body, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            vec![text(key), text(fp), int(i64::from(status)), text(body), int(now.0)],
        ),
        Query::new("DELETE FROM catalog_replays WHERE at < ?1", vec![int(expired_before.0)]),
    ]
}
