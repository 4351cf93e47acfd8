//! Catalogue routes over D1 (binding `CATALOG`, schema in migrations/): products with their
//! bundle components, locations, channel connections and listings. What is valid and how a
//! record looks is decided in `catalog::model`; this module only reads and writes D1.
//!
//! Every write is one D1 batch (a transaction): the record, its dependants (components), and
//! — when the PUT carries an Idempotency-Key — the answer to replay for 24 h. A product's
//! `backorder_limit` is applied to the SKU's ledger (journal op `policy`, idempotent by value)
//! before the catalogue row is written, so a retry after a failure converges.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env, Request, Response, Result};

use crate::api::catalog_routes::CatalogRoute;
use crate::api::idempotency::fingerprint;
use crate::api::requests::idempotency_key;
use crate::api::sku_call::{self, SkuAction};
use crate::api::{FieldError, Problem};
use crate::catalog::model::{
    self, Channel, ChannelKind, Entity, External, Listing, LocationRecord, PageQuery, Product, Stamps,
};
use crate::catalog::{Component, ListingRule};
use crate::stock::limits::IDEMPOTENCY_RETENTION_MS;
use crate::stock::{Command, Location, Sku, Token};
use crate::time::Millis;

use super::{clock, http, sku_client};

/// The D1 binding of the catalogue (wrangler.toml `[[d1_databases]]`).
pub const BINDING: &str = "CATALOG";

macro_rules! try_p {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(p) => return http::problem(&p),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Plumbing

fn text(v: &str) -> JsValue {
    JsValue::from_str(v)
}
fn int(v: i64) -> JsValue {
    JsValue::from_f64(v as f64)
}
fn opt_text(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, text)
}
fn opt_int(v: Option<i64>) -> JsValue {
    v.map_or(JsValue::NULL, int)
}

fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement> {
    db.prepare(sql).bind(args)
}

fn corrupt(what: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(format!("catalogue row: {what}"))
}

fn rows<T: for<'de> Deserialize<'de>>(r: &D1Result) -> Result<Vec<T>> {
    r.results::<T>()
}

fn first<T: for<'de> Deserialize<'de>>(r: &D1Result) -> Result<Option<T>> {
    Ok(r.results::<T>()?.into_iter().next())
}

fn changes(r: &D1Result) -> Result<usize> {
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0))
}

fn stamps(created_at: i64, updated_at: i64) -> Stamps {
    Stamps { created_at: Millis(created_at), updated_at: Millis(updated_at) }
}

fn no_content() -> Result<Response> {
    let mut r = Response::empty()?.with_status(204);
    r.headers_mut().set("cache-control", "no-store")?;
    Ok(r)
}

/// What D1 refused a write for, when it is the client's doing.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// A unique index (a listing identity already taken).
    Unique,
    /// The no-nesting trigger on bundle_components.
    Nested,
}

fn error_text(e: &worker::Error) -> String {
    match e {
        worker::Error::D1(d) => {
            let js: &worker::js_sys::Error = d.as_ref();
            format!("{} {}", String::from(js.message()), d.cause())
        }
        other => other.to_string(),
    }
}

fn refusal(e: &worker::Error) -> Option<Refusal> {
    let t = error_text(e);
    if t.contains("nested bundle") {
        Some(Refusal::Nested)
    } else if t.contains("UNIQUE constraint failed") {
        Some(Refusal::Unique)
    } else {
        None
    }
}

struct Cx<'a> {
    env: &'a Env,
    db: D1Database,
    now: Millis,
}

/// A PUT's body and its Idempotency-Key (with the request's fingerprint), or the key's fault.
struct Put<'a> {
    bytes: &'a [u8],
    idem: Option<(String, String)>,
    key_fault: Option<Problem>,
}

impl Cx<'_> {
    /// The recorded answer to this PUT's Idempotency-Key, if it was answered before.
    async fn replayed(&self, put: &Put<'_>) -> Result<Option<Response>> {
        let Some((key, fp)) = &put.idem else { return Ok(None) };
        #[derive(Deserialize)]
        struct Row {
            status: i64,
            body: String,
        }
        let since = self.now.0 - IDEMPOTENCY_RETENTION_MS;
        let row = stmt(
            &self.db,
            "SELECT status, body FROM catalog_replays WHERE key = ?1 AND fingerprint = ?2 AND at >= ?3",
            &[text(key), text(fp), int(since)],
        )?
        .first::<Row>(None)
        .await?;
        match row {
            Some(r) => Ok(Some(http::replayed(http::raw_json(u16::try_from(r.status).map_err(corrupt)?, r.body)?)?)),
            None => Ok(None),
        }
    }

    /// Runs `writes` and the replay record in one batch, and answers `status` `body`.
    async fn commit(
        &self,
        put: &Put<'_>,
        mut writes: Vec<D1PreparedStatement>,
        status: u16,
        body: &Value,
    ) -> Result<std::result::Result<Response, Refusal>> {
        let body = body.to_string();
        if let Some((key, fp)) = &put.idem {
            writes.push(stmt(
                &self.db,
                "INSERT OR IGNORE INTO catalog_replays (key, fingerprint, status, body, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                &[text(key), text(fp), int(i64::from(status)), text(&body), int(self.now.0)],
            )?);
            writes.push(stmt(
                &self.db,
                "DELETE FROM catalog_replays WHERE at < ?1",
                &[int(self.now.0 - IDEMPOTENCY_RETENTION_MS)],
            )?);
        }
        if !writes.is_empty() {
            if let Err(e) = self.db.batch(writes).await {
                return match refusal(&e) {
                    Some(r) => Ok(Err(r)),
                    None => Err(e),
                };
            }
        }
        Ok(Ok(http::raw_json(status, body)?))
    }
}

pub async fn handle(route: CatalogRoute, req: Request, body: &[u8], env: &Env) -> Result<Response> {
    let cx = Cx { env, db: env.d1(BINDING)?, now: clock::now() };
    let query: Vec<(String, String)> =
        req.url()?.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    // The key registry has claimed the key (handlers::write); the catalogue keeps the answers.
    let (idem, key_fault) = match idempotency_key(req.headers().get("idempotency-key").ok().flatten()) {
        Ok(k) => (k.map(|k| (k, fingerprint(req.method().as_ref(), &req.path(), body))), None),
        Err(p) => (None, Some(p)),
    };
    let put = Put { bytes: body, idem, key_fault };
    use CatalogRoute as R;
    match route {
        R::ListProducts => list_products(&cx, &try_p!(model::page_query(&query))).await,
        R::GetProduct(sku) => match load_product(&cx.db, &sku).await? {
            Some((p, st)) => http::json(200, &p.to_json(st)),
            None => http::problem(&model::not_found(Entity::Product, sku.as_str())),
        },
        R::PutProduct(sku) => put_product(&cx, &put, sku).await,
        R::DeleteProduct(sku) => {
            let res = cx
                .db
                .batch(vec![
                    stmt(&cx.db, "DELETE FROM bundle_components WHERE bundle_sku = ?1", &[text(sku.as_str())])?,
                    stmt(&cx.db, "DELETE FROM products WHERE sku = ?1", &[text(sku.as_str())])?,
                ])
                .await?;
            if changes(&res[1])? == 0 {
                return http::problem(&model::not_found(Entity::Product, sku.as_str()));
            }
            no_content()
        }
        R::ListLocations => list_locations(&cx, &try_p!(model::page_query(&query))).await,
        R::GetLocation(location) => match load_location(&cx.db, &location).await? {
            Some((l, st)) => http::json(200, &l.to_json(st)),
            None => http::problem(&model::not_found(Entity::Location, location.as_str())),
        },
        R::PutLocation(location) => put_location(&cx, &put, location).await,
        R::DeleteLocation(location) => {
            let r =
                stmt(&cx.db, "DELETE FROM locations WHERE location = ?1", &[text(location.as_str())])?.run().await?;
            if changes(&r)? == 0 {
                return http::problem(&model::not_found(Entity::Location, location.as_str()));
            }
            no_content()
        }
        R::ListChannels => list_channels(&cx, &try_p!(model::page_query(&query))).await,
        R::GetChannel(channel) => match load_channel(&cx.db, &channel).await? {
            Some((c, st)) => http::json(200, &c.to_json(st)),
            None => http::problem(&model::not_found(Entity::Channel, channel.as_str())),
        },
        R::PutChannel(channel) => put_channel(&cx, &put, channel).await,
        R::DeleteChannel(channel) => {
            // Its listings go with it (also ON DELETE CASCADE).
            let res = cx
                .db
                .batch(vec![
                    stmt(&cx.db, "DELETE FROM listings WHERE channel = ?1", &[text(channel.as_str())])?,
                    stmt(&cx.db, "DELETE FROM channels WHERE channel = ?1", &[text(channel.as_str())])?,
                ])
                .await?;
            if changes(&res[1])? == 0 {
                return http::problem(&model::not_found(Entity::Channel, channel.as_str()));
            }
            no_content()
        }
        R::ListListings(channel) => list_listings(&cx, &channel, &try_p!(model::page_query(&query))).await,
        R::GetListing(channel, sku) => {
            let res = cx
                .db
                .batch(vec![
                    stmt(&cx.db, "SELECT kind FROM channels WHERE channel = ?1", &[text(channel.as_str())])?,
                    stmt(
                        &cx.db,
                        &format!("{LISTING_SELECT} WHERE channel = ?1 AND sku = ?2"),
                        &[text(channel.as_str()), text(sku.as_str())],
                    )?,
                ])
                .await?;
            let Some(kind) = first::<KindRow>(&res[0])? else {
                return http::problem(&model::not_found(Entity::Channel, channel.as_str()));
            };
            match first::<ListingRow>(&res[1])? {
                Some(row) => {
                    let (l, st) = row.into_listing(kind.kind()?)?;
                    http::json(200, &l.to_json(st))
                }
                None => http::problem(&model::not_found(Entity::Listing, &format!("{sku} on channel {channel}"))),
            }
        }
        R::PutListing(channel, sku) => put_listing(&cx, &put, channel, sku).await,
        R::DeleteListing(channel, sku) => {
            let res = cx
                .db
                .batch(vec![
                    stmt(&cx.db, "SELECT kind FROM channels WHERE channel = ?1", &[text(channel.as_str())])?,
                    stmt(
                        &cx.db,
                        "DELETE FROM listings WHERE channel = ?1 AND sku = ?2",
                        &[text(channel.as_str()), text(sku.as_str())],
                    )?,
                ])
                .await?;
            if first::<KindRow>(&res[0])?.is_none() {
                return http::problem(&model::not_found(Entity::Channel, channel.as_str()));
            }
            if changes(&res[1])? == 0 {
                return http::problem(&model::not_found(Entity::Listing, &format!("{sku} on channel {channel}")));
            }
            no_content()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Products

const PRODUCT_SELECT: &str =
    "SELECT sku, title, barcode, tracked, backorder_limit, low_stock_threshold, created_at, updated_at FROM products";

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

impl ProductRow {
    fn into_product(self, components: &[ComponentRow]) -> Result<(Product, Stamps)> {
        let components = components
            .iter()
            .map(|c| Ok(Component { sku: Sku::parse(&c.component_sku).map_err(corrupt)?, qty: c.qty }))
            .collect::<Result<Vec<_>>>()?;
        let p = Product {
            sku: Sku::parse(&self.sku).map_err(corrupt)?,
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

fn product_reads(db: &D1Database, sku: &Sku) -> Result<[D1PreparedStatement; 2]> {
    Ok([
        stmt(db, &format!("{PRODUCT_SELECT} WHERE sku = ?1"), &[text(sku.as_str())])?,
        stmt(
            db,
            "SELECT bundle_sku, component_sku, qty FROM bundle_components WHERE bundle_sku = ?1 ORDER BY position",
            &[text(sku.as_str())],
        )?,
    ])
}

fn product_of(row: &D1Result, components: &D1Result) -> Result<Option<(Product, Stamps)>> {
    match first::<ProductRow>(row)? {
        Some(p) => Ok(Some(p.into_product(&rows::<ComponentRow>(components)?)?)),
        None => Ok(None),
    }
}

async fn load_product(db: &D1Database, sku: &Sku) -> Result<Option<(Product, Stamps)>> {
    let res = db.batch(product_reads(db, sku)?.into()).await?;
    product_of(&res[0], &res[1])
}

async fn list_products(cx: &Cx<'_>, q: &PageQuery) -> Result<Response> {
    let args = [text(&q.after), int(q.limit as i64 + 1)];
    let res = cx
        .db
        .batch(vec![
            stmt(&cx.db, &format!("{PRODUCT_SELECT} WHERE sku > ?1 ORDER BY sku LIMIT ?2"), &args)?,
            stmt(
                &cx.db,
                "SELECT bundle_sku, component_sku, qty FROM bundle_components \
                 WHERE bundle_sku IN (SELECT sku FROM products WHERE sku > ?1 ORDER BY sku LIMIT ?2) \
                 ORDER BY bundle_sku, position",
                &args,
            )?,
        ])
        .await?;
    let mut components: BTreeMap<String, Vec<ComponentRow>> = BTreeMap::new();
    for c in rows::<ComponentRow>(&res[1])? {
        components.entry(c.bundle_sku.clone()).or_default().push(c);
    }
    let (page, next) = model::page_of(rows::<ProductRow>(&res[0])?, q.limit, |p| p.sku.clone());
    let items = page
        .into_iter()
        .map(|p| {
            let cs = components.remove(&p.sku).unwrap_or_default();
            p.into_product(&cs).map(|(p, st)| p.to_json(st))
        })
        .collect::<Result<Vec<_>>>()?;
    http::json(200, &model::list_json(items, next))
}

async fn put_product(cx: &Cx<'_>, put: &Put<'_>, sku: Sku) -> Result<Response> {
    let product = try_p!(model::with_key_fault(put.key_fault.as_ref(), model::product(&sku, put.bytes)));
    if let Some(r) = cx.replayed(put).await? {
        return Ok(r);
    }
    let db = &cx.db;
    let components_json = serde_json::to_string(&product.components).map_err(corrupt)?;
    let [row, components] = product_reads(db, &sku)?;
    let res = db
        .batch(vec![
            row,
            components,
            stmt(
                db,
                "SELECT DISTINCT bundle_sku FROM bundle_components \
                 WHERE bundle_sku IN (SELECT json_extract(value, '$.sku') FROM json_each(?1)) ORDER BY bundle_sku",
                &[text(&components_json)],
            )?,
            stmt(db, "SELECT DISTINCT bundle_sku FROM bundle_components WHERE component_sku = ?1 ORDER BY bundle_sku LIMIT 10", &[text(sku.as_str())])?,
        ])
        .await?;
    let existing = product_of(&res[0], &res[1])?;
    let component_bundles: Vec<String> = rows::<BundleRow>(&res[2])?.into_iter().map(|r| r.bundle_sku).collect();
    let parents: Vec<String> = rows::<BundleRow>(&res[3])?.into_iter().map(|r| r.bundle_sku).collect();
    let faults = model::nesting_faults(&product, &component_bundles, &parents);
    if !faults.is_empty() {
        return http::problem(&Problem::invalid(faults));
    }

    // The ledger keeps the backorder allowance; setting the same value again is a no-op there.
    if let Some(limit) = product.backorder_limit {
        let policy = SkuAction::Apply { commands: vec![Command::Policy { backorder_limit: limit }] };
        if let Err(refused) = sku_client::ask(cx.env, &sku, policy).await? {
            return http::reply(&sku_call::render(Err(refused)));
        }
    }

    let (status, st, writes) = match existing {
        Some((old, st)) if old == product => (200, st, Vec::new()),
        existing => {
            let status = if existing.is_some() { 200 } else { 201 };
            let st = Stamps::written(existing.map(|(_, st)| st), cx.now);
            let mut writes = vec![
                stmt(
                    db,
                    "INSERT INTO products (sku, title, barcode, tracked, backorder_limit, low_stock_threshold, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (sku) DO UPDATE SET title = excluded.title, barcode = excluded.barcode, tracked = excluded.tracked, \
                     backorder_limit = excluded.backorder_limit, low_stock_threshold = excluded.low_stock_threshold, updated_at = excluded.updated_at",
                    &[
                        text(sku.as_str()),
                        opt_text(product.title.as_deref()),
                        opt_text(product.barcode.as_deref()),
                        int(i64::from(product.tracked)),
                        opt_int(product.backorder_limit),
                        opt_int(product.low_stock_threshold),
                        int(st.created_at.0),
                        int(st.updated_at.0),
                    ],
                )?,
                stmt(db, "DELETE FROM bundle_components WHERE bundle_sku = ?1", &[text(sku.as_str())])?,
            ];
            if !product.components.is_empty() {
                writes.push(stmt(
                    db,
                    "INSERT INTO bundle_components (bundle_sku, component_sku, qty, position) \
                     SELECT ?1, json_extract(value, '$.sku'), json_extract(value, '$.qty'), key FROM json_each(?2)",
                    &[text(sku.as_str()), text(&components_json)],
                )?);
            }
            (status, st, writes)
        }
    };
    match cx.commit(put, writes, status, &product.to_json(st)).await? {
        Ok(r) => Ok(r),
        Err(_) => http::problem(&Problem::invalid(vec![FieldError::new(
            "components",
            "bundles do not nest: a component became a bundle, or this SKU a component, while this request ran; read and retry",
        )])),
    }
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
    fn into_record(self) -> Result<(LocationRecord, Stamps)> {
        let l = LocationRecord { location: Location::parse(&self.location).map_err(corrupt)?, name: self.name };
        Ok((l, stamps(self.created_at, self.updated_at)))
    }
}

async fn load_location(db: &D1Database, location: &Location) -> Result<Option<(LocationRecord, Stamps)>> {
    let row = stmt(db, &format!("{LOCATION_SELECT} WHERE location = ?1"), &[text(location.as_str())])?
        .first::<LocationRow>(None)
        .await?;
    row.map(LocationRow::into_record).transpose()
}

async fn list_locations(cx: &Cx<'_>, q: &PageQuery) -> Result<Response> {
    let res = stmt(
        &cx.db,
        &format!("{LOCATION_SELECT} WHERE location > ?1 ORDER BY location LIMIT ?2"),
        &[text(&q.after), int(q.limit as i64 + 1)],
    )?
    .all()
    .await?;
    let (page, next) = model::page_of(rows::<LocationRow>(&res)?, q.limit, |l| l.location.clone());
    let items = page.into_iter().map(|r| r.into_record().map(|(l, st)| l.to_json(st))).collect::<Result<Vec<_>>>()?;
    http::json(200, &model::list_json(items, next))
}

async fn put_location(cx: &Cx<'_>, put: &Put<'_>, location: Location) -> Result<Response> {
    let record = try_p!(model::with_key_fault(put.key_fault.as_ref(), model::location(&location, put.bytes)));
    if let Some(r) = cx.replayed(put).await? {
        return Ok(r);
    }
    let existing = load_location(&cx.db, &location).await?;
    let (status, st, writes) = match existing {
        Some((old, st)) if old == record => (200, st, Vec::new()),
        existing => {
            let status = if existing.is_some() { 200 } else { 201 };
            let st = Stamps::written(existing.map(|(_, st)| st), cx.now);
            let w = stmt(
                &cx.db,
                "INSERT INTO locations (location, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (location) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
                &[text(location.as_str()), text(&record.name), int(st.created_at.0), int(st.updated_at.0)],
            )?;
            (status, st, vec![w])
        }
    };
    match cx.commit(put, writes, status, &record.to_json(st)).await? {
        Ok(r) => Ok(r),
        Err(r) => Err(worker::Error::RustError(format!("location write refused: {r:?}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Channels

const CHANNEL_SELECT: &str =
    "SELECT channel, kind, account, enabled, credentials_secret, settings, created_at, updated_at FROM channels";

#[derive(Deserialize)]
struct ChannelRow {
    channel: String,
    kind: String,
    account: String,
    enabled: i64,
    credentials_secret: Option<String>,
    settings: String,
    created_at: i64,
    updated_at: i64,
}

#[derive(Deserialize)]
struct KindRow {
    kind: String,
}

impl KindRow {
    fn kind(&self) -> Result<ChannelKind> {
        ChannelKind::parse(&self.kind).ok_or_else(|| corrupt(format!("channel kind {:?}", self.kind)))
    }
}

impl ChannelRow {
    fn into_channel(self) -> Result<(Channel, Stamps)> {
        let settings = match serde_json::from_str::<Value>(&self.settings) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let c = Channel {
            channel: Token::parse(&self.channel).map_err(corrupt)?,
            kind: KindRow { kind: self.kind }.kind()?,
            account: self.account,
            enabled: self.enabled != 0,
            credentials_secret: self.credentials_secret,
            settings,
        };
        Ok((c, stamps(self.created_at, self.updated_at)))
    }
}

async fn load_channel(db: &D1Database, channel: &Token) -> Result<Option<(Channel, Stamps)>> {
    let row = stmt(db, &format!("{CHANNEL_SELECT} WHERE channel = ?1"), &[text(channel.as_str())])?
        .first::<ChannelRow>(None)
        .await?;
    row.map(ChannelRow::into_channel).transpose()
}

async fn list_channels(cx: &Cx<'_>, q: &PageQuery) -> Result<Response> {
    let res = stmt(
        &cx.db,
        &format!("{CHANNEL_SELECT} WHERE channel > ?1 ORDER BY channel LIMIT ?2"),
        &[text(&q.after), int(q.limit as i64 + 1)],
    )?
    .all()
    .await?;
    let (page, next) = model::page_of(rows::<ChannelRow>(&res)?, q.limit, |c| c.channel.clone());
    let items = page.into_iter().map(|r| r.into_channel().map(|(c, st)| c.to_json(st))).collect::<Result<Vec<_>>>()?;
    http::json(200, &model::list_json(items, next))
}

async fn put_channel(cx: &Cx<'_>, put: &Put<'_>, id: Token) -> Result<Response> {
    let channel = try_p!(model::with_key_fault(put.key_fault.as_ref(), model::channel(&id, put.bytes)));
    if let Some(r) = cx.replayed(put).await? {
        return Ok(r);
    }
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let res = cx
        .db
        .batch(vec![
            stmt(&cx.db, &format!("{CHANNEL_SELECT} WHERE channel = ?1"), &[text(id.as_str())])?,
            stmt(&cx.db, "SELECT COUNT(*) AS n FROM listings WHERE channel = ?1", &[text(id.as_str())])?,
        ])
        .await?;
    let existing = first::<ChannelRow>(&res[0])?.map(ChannelRow::into_channel).transpose()?;
    let listings = first::<Count>(&res[1])?.map_or(0, |c| c.n);
    if let Some((old, _)) = &existing {
        if let Some(f) = model::kind_change_fault(old.kind, channel.kind, listings) {
            return http::problem(&Problem::invalid(vec![f]));
        }
    }
    let settings = Value::Object(channel.settings.clone()).to_string();
    let (status, st, writes) = match existing {
        Some((old, st)) if old == channel => (200, st, Vec::new()),
        existing => {
            let status = if existing.is_some() { 200 } else { 201 };
            let st = Stamps::written(existing.map(|(_, st)| st), cx.now);
            let w = stmt(
                &cx.db,
                "INSERT INTO channels (channel, kind, account, enabled, credentials_secret, settings, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (channel) DO UPDATE SET kind = excluded.kind, account = excluded.account, enabled = excluded.enabled, \
                 credentials_secret = excluded.credentials_secret, settings = excluded.settings, updated_at = excluded.updated_at",
                &[
                    text(id.as_str()),
                    text(channel.kind.as_str()),
                    text(&channel.account),
                    int(i64::from(channel.enabled)),
                    opt_text(channel.credentials_secret.as_deref()),
                    text(&settings),
                    int(st.created_at.0),
                    int(st.updated_at.0),
                ],
            )?;
            (status, st, vec![w])
        }
    };
    match cx.commit(put, writes, status, &channel.to_json(st)).await? {
        Ok(r) => Ok(r),
        Err(r) => Err(worker::Error::RustError(format!("channel write refused: {r:?}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Listings

const LISTING_SELECT: &str =
    "SELECT channel, sku, external, buffer, percent, max_listed, zero_at_or_below, created_at, updated_at FROM listings";

#[derive(Deserialize)]
struct ListingRow {
    channel: String,
    sku: String,
    external: String,
    buffer: i64,
    percent: i64,
    max_listed: Option<i64>,
    zero_at_or_below: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ListingRow {
    fn into_listing(self, kind: ChannelKind) -> Result<(Listing, Stamps)> {
        let external: Value = serde_json::from_str(&self.external).map_err(corrupt)?;
        let l = Listing {
            channel: Token::parse(&self.channel).map_err(corrupt)?,
            sku: Sku::parse(&self.sku).map_err(corrupt)?,
            external: External::from_stored(kind, &external)
                .ok_or_else(|| corrupt(format!("{} identity {external}", kind.as_str())))?,
            rule: ListingRule {
                buffer: self.buffer,
                percent: u8::try_from(self.percent).map_err(corrupt)?,
                max_listed: self.max_listed,
                zero_at_or_below: self.zero_at_or_below,
            },
        };
        Ok((l, stamps(self.created_at, self.updated_at)))
    }
}

async fn list_listings(cx: &Cx<'_>, channel: &Token, q: &PageQuery) -> Result<Response> {
    let res = cx
        .db
        .batch(vec![
            stmt(&cx.db, "SELECT kind FROM channels WHERE channel = ?1", &[text(channel.as_str())])?,
            stmt(
                &cx.db,
                &format!("{LISTING_SELECT} WHERE channel = ?1 AND sku > ?2 ORDER BY sku LIMIT ?3"),
                &[text(channel.as_str()), text(&q.after), int(q.limit as i64 + 1)],
            )?,
        ])
        .await?;
    let Some(kind) = first::<KindRow>(&res[0])? else {
        return http::problem(&model::not_found(Entity::Channel, channel.as_str()));
    };
    let kind = kind.kind()?;
    let (page, next) = model::page_of(rows::<ListingRow>(&res[1])?, q.limit, |l| l.sku.clone());
    let items =
        page.into_iter().map(|r| r.into_listing(kind).map(|(l, st)| l.to_json(st))).collect::<Result<Vec<_>>>()?;
    http::json(200, &model::list_json(items, next))
}

async fn put_listing(cx: &Cx<'_>, put: &Put<'_>, channel: Token, sku: Sku) -> Result<Response> {
    let db = &cx.db;
    let res = db
        .batch(vec![
            stmt(db, "SELECT kind FROM channels WHERE channel = ?1", &[text(channel.as_str())])?,
            stmt(
                db,
                &format!("{LISTING_SELECT} WHERE channel = ?1 AND sku = ?2"),
                &[text(channel.as_str()), text(sku.as_str())],
            )?,
        ])
        .await?;
    // The identity's shape depends on the channel's kind: a missing channel answers first.
    let Some(kind) = first::<KindRow>(&res[0])? else {
        if let Some(key) = &put.key_fault {
            return http::problem(key);
        }
        return http::problem(&model::not_found(Entity::Channel, channel.as_str()));
    };
    let kind = kind.kind()?;
    let listing =
        try_p!(model::with_key_fault(put.key_fault.as_ref(), model::listing(kind, &channel, &sku, put.bytes)));
    if let Some(r) = cx.replayed(put).await? {
        return Ok(r);
    }
    let existing = first::<ListingRow>(&res[1])?.map(|r| r.into_listing(kind)).transpose()?;
    let identity = listing.identity();
    let (status, st, writes) = match existing {
        Some((old, st)) if old == listing => (200, st, Vec::new()),
        existing => {
            let status = if existing.is_some() { 200 } else { 201 };
            let st = Stamps::written(existing.map(|(_, st)| st), cx.now);
            let r = &listing.rule;
            let w = stmt(
                db,
                "INSERT INTO listings (channel, sku, identity, external, buffer, percent, max_listed, zero_at_or_below, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (channel, sku) DO UPDATE SET identity = excluded.identity, external = excluded.external, \
                 buffer = excluded.buffer, percent = excluded.percent, max_listed = excluded.max_listed, \
                 zero_at_or_below = excluded.zero_at_or_below, updated_at = excluded.updated_at",
                &[
                    text(channel.as_str()),
                    text(sku.as_str()),
                    text(&identity),
                    text(&listing.external.to_json().to_string()),
                    int(r.buffer),
                    int(i64::from(r.percent)),
                    opt_int(r.max_listed),
                    opt_int(r.zero_at_or_below),
                    int(st.created_at.0),
                    int(st.updated_at.0),
                ],
            )?;
            (status, st, vec![w])
        }
    };
    let changed = !writes.is_empty();
    match cx.commit(put, writes, status, &listing.to_json(st)).await? {
        Ok(r) => {
            if changed {
                push_to_new_listing(cx, &channel, &sku).await?;
            }
            Ok(r)
        }
        Err(Refusal::Unique) => {
            let other = sku_for_identity(db, &channel, &identity).await?;
            http::problem(&model::identity_taken(&channel, &identity, other.as_ref().map(Sku::as_str)))
        }
        Err(r) => Err(worker::Error::RustError(format!("listing write refused: {r:?}"))),
    }
}

/// A listing created, or whose rule or identity changed, gets the SKU's current state at once
/// (its rule applied) rather than at the SKU's next change (`repush`). When the ledger cannot be
/// read, the listing is written all the same and the next change of the SKU carries it.
async fn push_to_new_listing(cx: &Cx<'_>, channel: &Token, sku: &Sku) -> Result<()> {
    let pushed = match super::repush::current(cx.env, sku, cx.now).await? {
        Ok(Some(state)) => super::repush::to_listing(cx.env, &cx.db, channel, &state, None, cx.now).await?,
        Ok(None) => Ok(()),
        Err(why) => Err(why),
    };
    if let Err(why) = pushed {
        worker::console_warn!("listing {channel}/{sku} written; its first push waits for the next change: {why}");
    }
    Ok(())
}

/// The SKU listed on `channel` under the identity key `identity` (see
/// `catalog::model::identity`): how an inbound order or event from a channel finds its SKU.
pub async fn sku_for_identity(db: &D1Database, channel: &Token, identity: &str) -> Result<Option<Sku>> {
    #[derive(Deserialize)]
    struct Row {
        sku: String,
    }
    let row = stmt(
        db,
        "SELECT sku FROM listings WHERE channel = ?1 AND identity = ?2",
        &[text(channel.as_str()), text(identity)],
    )?
    .first::<Row>(None)
    .await?;
    row.map(|r| Sku::parse(&r.sku).map_err(corrupt)).transpose()
}
