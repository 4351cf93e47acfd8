//! Catalogue routes: products with their bundle components, locations, channel connections and
//! listings. What is valid and how a record looks is decided in `catalog::model` (bodies read by
//! `api::catalog_bodies`); the records are read and written by `store::{catalog, channels,
//! listings}`; this module only calls them in order and answers.
//!
//! Every write is one D1 batch (a transaction): the record, its dependants (components), and
//! — when the PUT carries an Idempotency-Key — the answer to replay for 24 h. A product's
//! `backorder_limit` is applied to the SKU's ledger (journal op `policy`, idempotent by value)
//! before the catalogue row is written, so a retry after a failure converges.
//!
//! Bundle definitions also live in the bundle SKU's ledger object, so that holds and availability
//! reads need no catalogue query (`SkuAction::SetBundle`). The object is told first — the new
//! components before a PUT writes them, `None` before a DELETE removes a bundle — and a failure
//! to tell it answers `503` with nothing written, so an acknowledged write is always known to the
//! object and a retry of the (idempotent) request converges. If the catalogue write then fails,
//! the object is told the previous definition again (best effort; the retry tells it anew).
//! Two writes of one bundle racing each other may leave the object with the definition of the
//! one whose catalogue write lost; the next write of that product settles it.

use serde_json::Value;
use worker::{D1Database, D1PreparedStatement, Env, Response};

use crate::api::availability_cache::changed;
use crate::api::catalog_bodies as bodies;
use crate::api::catalog_routes::CatalogRoute;
use crate::api::sku_call::{self, SkuAction};
use crate::catalog::model::{self, Entity, PageQuery, Stamps};
use crate::catalog::Component;
use crate::fault::{Constraint, Fault};
use crate::stock::{Command, Location, Sku, Token};
use crate::time::Millis;

use super::handlers::Write as Put;
use super::store::{self, catalog as products, channels, listings, StoreError, StoreResult};
use super::{availability_cache, clock, http, sku_client};

macro_rules! try_p {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(p) => return Ok(http::problem(&p)?),
        }
    };
}

fn no_content() -> Result<Response, Fault> {
    let mut r = Response::empty()?.with_status(204);
    r.headers_mut().set("cache-control", "no-store")?;
    Ok(r)
}

fn not_found(entity: Entity, id: &str) -> Result<Response, Fault> {
    Ok(http::problem(&bodies::not_found(entity, id))?)
}

fn listing_id(channel: &Token, sku: &Sku) -> String {
    format!("{sku} on channel {channel}")
}

struct Cx<'a> {
    env: &'a Env,
    db: D1Database,
    now: Millis,
}

impl Cx<'_> {
    /// The recorded answer to this PUT's Idempotency-Key, if it was answered before.
    async fn replayed(&self, put: &Put) -> Result<Option<Response>, Fault> {
        let Some((key, fp)) = &put.idem else { return Ok(None) };
        let since = crate::api::idempotency::forget_before(self.now);
        match products::replay(&self.db, key, fp, since).await? {
            Some((status, body)) => Ok(Some(http::replayed(http::raw_json(status, body)?)?)),
            None => Ok(None),
        }
    }

    /// Runs `writes` and the replay record of `(status, body)` in one batch.
    async fn commit(
        &self,
        put: &Put,
        mut writes: Vec<D1PreparedStatement>,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        if let Some((key, fp)) = &put.idem {
            let expired = crate::api::idempotency::forget_before(self.now);
            writes.extend(products::replay_writes(&self.db, (key, fp), (status, body), self.now, expired)?);
        }
        store::batch(&self.db, writes).await?;
        Ok(())
    }

    /// Writes a record unless it is stored as it is: `write` makes its statements with the
    /// record's stamps. Answers the status (201 created, 200 otherwise), the stamps and the body.
    async fn upsert<R: PartialEq>(
        &self,
        put: &Put,
        record: &R,
        existing: Option<(R, Stamps)>,
        view: impl Fn(Stamps) -> Value,
        write: impl Fn(Stamps) -> StoreResult<Vec<D1PreparedStatement>>,
    ) -> Result<Written, StoreError> {
        let (status, st, writes) = match existing {
            Some((old, st)) if &old == record => (200, st, Vec::new()),
            existing => {
                let status = if existing.is_some() { 200 } else { 201 };
                let st = Stamps::written(existing.map(|(_, st)| st), self.now);
                (status, st, write(st)?)
            }
        };
        let changed = !writes.is_empty();
        let body = view(st).to_string();
        self.commit(put, writes, status, &body).await?;
        Ok(Written { status, body, changed })
    }
}

/// What a PUT wrote and answers.
struct Written {
    status: u16,
    body: String,
    /// Whether the record changed (or was created).
    changed: bool,
}

impl Written {
    fn answer(self) -> Result<Response, Fault> {
        Ok(http::raw_json(self.status, self.body)?)
    }
}

/// Answers a catalogue route; `put` is the request's body and Idempotency-Key as the key
/// registry claimed it (`handlers::write`); the catalogue keeps the answers.
pub async fn handle(route: CatalogRoute, query: &[(String, String)], put: &Put, env: &Env) -> Result<Response, Fault> {
    let cx = Cx { env, db: store::db(env)?, now: clock::now() };
    let db = &cx.db;
    use CatalogRoute as R;
    match route {
        R::ListProducts => {
            let q = try_p!(bodies::page_query(query));
            let page = products::products(db, &q.after, q.limit + 1).await?;
            list(&q, page, |(p, _)| p.sku.to_string(), |(p, st)| p.to_json(*st))
        }
        R::GetProduct(sku) => match products::product(db, &sku).await? {
            Some((p, st)) => Ok(http::json(200, &p.to_json(st))?),
            None => not_found(Entity::Product, sku.as_str()),
        },
        R::PutProduct(sku) => put_product(&cx, put, sku).await,
        R::DeleteProduct(sku) => {
            // A bundle's ledger forgets its components before the removal is acknowledged.
            let was_bundle = products::product(db, &sku).await?.is_some_and(|(p, _)| !p.components.is_empty());
            if was_bundle {
                if let Some(refused) = tell_bundle(env, &sku, None).await? {
                    return Ok(refused);
                }
            }
            match products::delete_product(db, &sku).await? {
                true => no_content(),
                false => not_found(Entity::Product, sku.as_str()),
            }
        }
        R::ListLocations => {
            let q = try_p!(bodies::page_query(query));
            let page = products::locations(db, &q.after, q.limit + 1).await?;
            list(&q, page, |(l, _)| l.location.to_string(), |(l, st)| l.to_json(*st))
        }
        R::GetLocation(location) => match products::location(db, &location).await? {
            Some((l, st)) => Ok(http::json(200, &l.to_json(st))?),
            None => not_found(Entity::Location, location.as_str()),
        },
        R::PutLocation(location) => put_location(&cx, put, location).await,
        R::DeleteLocation(location) => match products::delete_location(db, &location).await? {
            true => no_content(),
            false => not_found(Entity::Location, location.as_str()),
        },
        R::ListChannels => {
            let q = try_p!(bodies::page_query(query));
            let page = channels::page(db, &q.after, q.limit + 1)
                .await?
                .iter()
                .map(channels::ChannelRow::channel)
                .collect::<StoreResult<Vec<_>>>()?;
            list(&q, page, |(c, _)| c.channel.to_string(), |(c, st)| c.to_json(*st))
        }
        R::GetChannel(channel) => match channels::get(db, &channel).await? {
            Some(row) => {
                let (c, st) = row.channel()?;
                Ok(http::json(200, &c.to_json(st))?)
            }
            None => not_found(Entity::Channel, channel.as_str()),
        },
        R::PutChannel(channel) => put_channel(&cx, put, channel).await,
        // Its listings go with it (also ON DELETE CASCADE).
        R::DeleteChannel(channel) => match channels::delete(db, &channel).await? {
            true => no_content(),
            false => not_found(Entity::Channel, channel.as_str()),
        },
        R::ListListings(channel) => {
            let q = try_p!(bodies::page_query(query));
            let (kind, rows) = listings::page(db, &channel, &q.after, q.limit + 1).await?;
            let Some(kind) = kind else { return not_found(Entity::Channel, channel.as_str()) };
            let page = rows.iter().map(|r| r.listing(kind)).collect::<StoreResult<Vec<_>>>()?;
            list(&q, page, |(l, _)| l.sku.to_string(), |(l, st)| l.to_json(*st))
        }
        R::GetListing(channel, sku) => match listings::get(db, &channel, &sku).await? {
            (None, _) => not_found(Entity::Channel, channel.as_str()),
            (Some(_), None) => not_found(Entity::Listing, &listing_id(&channel, &sku)),
            (Some(kind), Some(row)) => {
                let (l, st) = row.listing(kind)?;
                Ok(http::json(200, &l.to_json(st))?)
            }
        },
        R::PutListing(channel, sku) => put_listing(&cx, put, channel, sku).await,
        R::ListingAdvice(channel, sku) => super::listing_advice::serve(env, &channel, &sku, query).await,
        R::DeleteListing(channel, sku) => match listings::delete(db, &channel, &sku).await? {
            None => not_found(Entity::Channel, channel.as_str()),
            Some(false) => not_found(Entity::Listing, &listing_id(&channel, &sku)),
            Some(true) => no_content(),
        },
    }
}

/// A list page: `rows` were read with `q.limit + 1`, so a row beyond the page means `next`.
fn list<T>(
    q: &PageQuery,
    rows: Vec<T>,
    id: impl Fn(&T) -> String,
    view: impl Fn(&T) -> Value,
) -> Result<Response, Fault> {
    let (page, next) = model::page_of(rows, q.limit, id);
    Ok(http::json(200, &model::list_json(page.iter().map(view).collect(), next))?)
}

async fn put_product(cx: &Cx<'_>, put: &Put, sku: Sku) -> Result<Response, Fault> {
    let product = try_p!(put.validated(bodies::product(&sku, &put.bytes)));
    if let Some(r) = cx.replayed(put).await? {
        return Ok(r);
    }
    let found = products::product_for_write(&cx.db, &sku, &product.components).await?;
    let faults = model::nesting_faults(&product, &found.component_bundles, &found.parent_bundles);
    if !faults.is_empty() {
        return Ok(http::problem(&bodies::invalid(faults))?);
    }

    // The ledger keeps the backorder allowance; setting the same value again is a no-op there.
    if let Some(limit) = product.backorder_limit {
        let policy = SkuAction::Apply { commands: vec![Command::Policy { backorder_limit: limit }] };
        if let Err(refused) = sku_client::ask(cx.env, &sku, policy).await? {
            return Ok(http::reply(&sku_call::render(Err(refused)))?);
        }
    }

    // The bundle's ledger learns the new definition (or that it is none) before it is written.
    let before = found.existing.as_ref().map(|(p, _)| p.components.clone()).unwrap_or_default();
    let bundle_changes = !(before.is_empty() && product.components.is_empty());
    if bundle_changes {
        if let Some(refused) = tell_bundle(cx.env, &sku, Some(&product.components)).await? {
            return Ok(refused);
        }
    }
    let written = cx
        .upsert(
            put,
            &product,
            found.existing,
            |st| product.to_json(st),
            |st| products::product_writes(&cx.db, &product, st),
        )
        .await;
    if written.is_err() && bundle_changes && before != product.components {
        if let Err(e) = tell_bundle(cx.env, &sku, Some(&before)).await {
            worker::console_warn!("product {sku}: its ledger keeps the unwritten bundle definition until a retry: {e}");
        }
    }
    match written {
        Ok(w) => w.answer(),
        // The no-nesting trigger: another write made a component a bundle meanwhile.
        Err(StoreError::Constraint { constraint: Constraint::Trigger, .. }) => {
            Ok(http::problem(&bodies::invalid(vec![model::nested_meanwhile()]))?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Tells the SKU's ledger its bundle components (`None` or empty: not a bundle). Answers the
/// ledger's refusal as the response to give, if it refused; an unreachable ledger is a fault
/// (`503`).
async fn tell_bundle(env: &Env, sku: &Sku, components: Option<&[Component]>) -> Result<Option<Response>, Fault> {
    let components = components.filter(|c| !c.is_empty()).map(<[_]>::to_vec);
    let sent_at = clock::now();
    match sku_client::ask(env, sku, SkuAction::SetBundle { components }).await? {
        Ok(_) => {
            // What the edge cache knew of the SKU (a plain SKU's level, a refusal) is void now.
            availability_cache::learn(env, changed([sku.clone()]), sent_at).await;
            Ok(None)
        }
        Err(refused) => Ok(Some(http::reply(&sku_call::render(Err(refused)))?)),
    }
}

async fn put_location(cx: &Cx<'_>, put: &Put, location: Location) -> Result<Response, Fault> {
    let record = try_p!(put.validated(bodies::location(&location, &put.bytes)));
    if let Some(r) = cx.replayed(put).await? {
        return Ok(r);
    }
    let existing = products::location(&cx.db, &location).await?;
    cx.upsert(
        put,
        &record,
        existing,
        |st| record.to_json(st),
        |st| Ok(vec![products::location_write(&cx.db, &record, st)?]),
    )
    .await?
    .answer()
}

async fn put_channel(cx: &Cx<'_>, put: &Put, id: Token) -> Result<Response, Fault> {
    let channel = try_p!(put.validated(bodies::channel(&id, &put.bytes)));
    if let Some(r) = cx.replayed(put).await? {
        return Ok(r);
    }
    let (row, listings) = channels::with_listing_count(&cx.db, &id).await?;
    let existing = row.as_ref().map(channels::ChannelRow::channel).transpose()?;
    if let Some((old, _)) = &existing {
        if let Some(f) = model::kind_change_fault(old.kind, channel.kind, listings) {
            return Ok(http::problem(&bodies::invalid(vec![f]))?);
        }
    }
    cx.upsert(put, &channel, existing, |st| channel.to_json(st), |st| Ok(vec![channels::write(&cx.db, &channel, st)?]))
        .await?
        .answer()
}

async fn put_listing(cx: &Cx<'_>, put: &Put, channel: Token, sku: Sku) -> Result<Response, Fault> {
    let (kind, row) = listings::get(&cx.db, &channel, &sku).await?;
    // The identity's shape depends on the channel's kind: a missing channel answers first.
    let Some(kind) = kind else {
        if let Some(key) = &put.key_fault {
            return Ok(http::problem(key)?);
        }
        return not_found(Entity::Channel, channel.as_str());
    };
    let listing = try_p!(put.validated(bodies::listing(kind, &channel, &sku, &put.bytes)));
    if let Some(r) = cx.replayed(put).await? {
        return Ok(r);
    }
    let existing = row.map(|r| r.listing(kind)).transpose()?;
    let written = cx
        .upsert(
            put,
            &listing,
            existing,
            |st| listing.to_json(st),
            |st| Ok(vec![listings::write(&cx.db, &listing, st)?]),
        )
        .await;
    match written {
        Ok(w) => {
            if w.changed {
                push_to_new_listing(cx, &channel, &sku).await;
            }
            w.answer()
        }
        // The unique identity index: another SKU is listed under this identity.
        Err(StoreError::Constraint { constraint: Constraint::Unique, .. }) => {
            let identity = listing.identity();
            let other = listings::sku_for_identity(&cx.db, &channel, &identity).await?;
            Ok(http::problem(&bodies::identity_taken(&channel, &identity, other.as_ref().map(Sku::as_str)))?)
        }
        Err(e) => Err(e.into()),
    }
}

/// A listing created, or whose rule or identity changed, gets the SKU's current state at once
/// (its rule applied) rather than at the SKU's next change (`repush`). When that fails, the
/// listing is written all the same and the next change of the SKU carries it.
async fn push_to_new_listing(cx: &Cx<'_>, channel: &Token, sku: &Sku) {
    let pushed = match super::repush::current(cx.env, sku, cx.now).await {
        Ok(Some(state)) => super::repush::to_listing(cx.env, &cx.db, channel, &state, None, cx.now).await,
        Ok(None) => Ok(()),
        Err(why) => Err(why),
    };
    if let Err(why) = pushed {
        worker::console_warn!("listing {channel}/{sku} written; its first push waits for the next change: {why}");
    }
}
