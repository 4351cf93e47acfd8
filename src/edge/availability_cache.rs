//! The availability cache's shell: gets, puts and deletes the entries `api::availability_cache`
//! describes in the Workers cache (Cache API, the default cache of the colo) and in the
//! isolate's memory in front of it (`api::local_facts`), reads the staleness
//! bound from the environment, and carries out the core's decisions around the routes that read
//! or change stock. Every decision is the core's; this module only moves entries.
//!
//! The cache is an optimisation whose failures cost only a trip to the object: a `get` that fails
//! is a miss, a `put` or `delete` that fails leaves an entry that stops answering when the bound
//! runs out (freshness is measured from when each fact was observed, never from when it was
//! stored).

use std::cell::RefCell;
use std::collections::BTreeMap;

use futures::future::join_all;
use worker::{Cache, Env, Request, Response, Result};

use super::http;
use super::sku_client;
use crate::api::availability::Item;
use crate::api::availability_cache::{
    self as core, cache_control, entry_after, etag, none_match, plan_read, shared_lookups, Consistency, Entry,
    ItemSources, Learned, Staleness, STALENESS_VAR,
};
use crate::api::cart_call::{self, CartCall, CartRefusal, CartReply};
use crate::api::local_facts::LocalFacts;
use crate::api::order_call::{OrderCall, OrderReply};
use crate::api::reply::HttpReply;
use crate::api::sku_call::{self, SkuAction, SkuAnswer, SkuRefusal, SkuReplyKeyed};
use crate::api::views::AvailabilityItem;
use crate::cart::Part;
use crate::catalog::Bundle;
use crate::fault::Fault;
use crate::stock::Sku;
use crate::time::Millis;

/// The staleness bound from [`STALENESS_VAR`] (validated by the core; absent → the default).
pub fn bound(env: &Env) -> std::result::Result<Staleness, Fault> {
    let raw = env.var(STALENESS_VAR).ok().map(|v| v.to_string());
    Staleness::parse(raw.as_deref()).map_err(|e| Fault::Runtime(e.to_string()))
}

thread_local! {
    /// This isolate's copy of the entries it wrote or read: the memory tier of bounded reads,
    /// and sold-out shedding's facts without a Cache API call on the hold path
    /// (`api::local_facts`).
    static FACTS: RefCell<LocalFacts> = RefCell::new(LocalFacts::default());
}

/// Mirrors what the cache now holds for `sku` (as far as this isolate knows) into [`FACTS`].
fn mirror(sku: &Sku, entry: Option<&Entry>, bound: Staleness) {
    let now = super::clock::now();
    FACTS.with(|f| f.borrow_mut().remember(sku, entry.cloned(), bound, now));
}

async fn get(cache: &Cache, sku: &Sku) -> Option<Entry> {
    let mut resp = cache.get(core::cache_key(sku), false).await.ok().flatten()?;
    resp.json::<Entry>().await.ok()
}

async fn load(cache: &Cache, skus: &[Sku], bound: Staleness) -> BTreeMap<Sku, Entry> {
    let found = join_all(skus.iter().map(|s| get(cache, s))).await;
    let entries: BTreeMap<Sku, Entry> =
        skus.iter().cloned().zip(found).filter_map(|(s, e)| e.map(|e| (s, e))).collect();
    // What other isolates of this place learned reaches this one's shedding facts too.
    for (sku, e) in &entries {
        mirror(sku, Some(e), bound);
    }
    entries
}

async fn put(cache: &Cache, sku: &Sku, entry: &Entry, bound: Staleness) {
    let stored = (|| -> Result<Response> {
        let mut r = Response::ok(serde_json::to_string(entry)?)?;
        r.headers_mut().set("content-type", "application/json")?;
        // The platform keeps what says it may be kept; freshness is decided from the entry.
        r.headers_mut().set("cache-control", &format!("public, max-age={}", bound.entry_max_age_s()))?;
        Ok(r)
    })();
    mirror(sku, Some(entry), bound);
    if let Ok(r) = stored {
        let _ = cache.put(core::cache_key(sku), r).await;
    }
}

async fn delete(cache: &Cache, sku: &Sku, bound: Staleness) {
    mirror(sku, None, bound);
    let _ = cache.delete(core::cache_key(sku), false).await;
}

/// Carries out what the cache learned at `at` (the clock before the call that taught it). Also
/// the hook for routes that call objects in other ways (e.g. a single-SKU hold kept by its SKU
/// object: `core::refused_hold` / `core::changed` say what it taught).
pub(super) async fn learn(env: &Env, learned: Vec<Learned>, at: Millis) {
    if learned.is_empty() {
        return;
    }
    let Ok(bound) = bound(env) else { return };
    let cache = Cache::default();
    let now = super::clock::now();
    join_all(learned.iter().map(|l| {
        let cache = &cache;
        async move {
            let existing = match l {
                Learned::Changed(_) => None,
                _ => get(cache, l.sku()).await,
            };
            match entry_after(existing, l, at, bound, now) {
                Some(e) => put(cache, l.sku(), &e, bound).await,
                None => delete(cache, l.sku(), bound).await,
            }
        }
    }))
    .await;
}

/// How an availability read of some ledgers ended: their items, or an object's answer that is
/// not an item, to answer as it is.
pub enum Read {
    Items(LedgerRead),
    Answer(HttpReply),
}

/// What the ledgers of some SKUs answered to an availability read.
pub struct LedgerRead {
    /// Each SKU's item, cached or read.
    pub items: BTreeMap<Sku, AvailabilityItem>,
    /// The SKUs whose ledgers said they are bundles, with their components (never cached).
    pub bundles: BTreeMap<Sku, Bundle>,
    /// When the oldest of the items was observed.
    pub oldest: Millis,
}

/// The ledgers' availability items of `skus` for a read of `consistency`: fresh cached items,
/// the rest from their objects (which then refresh the cache); a bundle's ledger answers with
/// its components. [`Read::Answer`] is an object's answer that is neither, to answer as it is.
pub async fn ledgers(env: &Env, skus: &[Sku], consistency: Consistency) -> std::result::Result<Read, Fault> {
    let bound = bound(env)?;
    let cache = Cache::default();
    // Tier by tier: the isolate's memory, then the shared cache for what memory does not hold
    // fresh, then the objects for what neither does.
    let (entries, looked_up) = match consistency {
        Consistency::Strong => (BTreeMap::new(), Vec::new()),
        Consistency::Bounded => {
            let mut entries = FACTS.with(|f| f.borrow().of(skus));
            let ask = shared_lookups(skus, &entries, bound, super::clock::now());
            entries.extend(load(&cache, &ask, bound).await);
            (entries, ask)
        }
    };
    let now = super::clock::now();
    let plan = plan_read(skus, &entries, consistency, bound, now);
    super::metrics::availability_read(ItemSources::of(&plan, &looked_up));
    let mut oldest = now;
    let mut items = BTreeMap::new();
    for (sku, hit) in plan.hits {
        oldest = oldest.min(hit.at);
        items.insert(sku, hit.value);
    }
    let sent_at = super::clock::now();
    let reads = plan.misses.iter().map(|sku| sku_client::ask(env, sku, SkuAction::Availability));
    let mut learned = Vec::new();
    let mut bundles = BTreeMap::new();
    for (sku, reply) in plan.misses.iter().zip(join_all(reads).await) {
        match reply? {
            Ok(SkuAnswer::Availability(item)) => {
                learned.push(Learned::Item(sku.clone(), item.clone()));
                items.insert(sku.clone(), item);
            }
            Err(SkuRefusal::Bundle { sku, components }) => {
                bundles.insert(sku.clone(), Bundle { sku, components });
            }
            other => return Ok(Read::Answer(sku_call::render(other))),
        }
    }
    if !learned.is_empty() {
        oldest = oldest.min(sent_at);
        // A fresh fact read from the cache just now is not replaced by an older answer.
        let fill = learned.into_iter().map(|l| {
            let cache = &cache;
            let existing = entries.get(l.sku()).cloned();
            async move {
                if let Some(e) = entry_after(existing, &l, sent_at, bound, super::clock::now()) {
                    put(cache, l.sku(), &e, bound).await;
                }
            }
        });
        join_all(fill).await;
    }
    Ok(Read::Items(LedgerRead { items, bundles, oldest }))
}

/// The answer to an availability read: `200` with the items, `ETag` and `Cache-Control`, or
/// `304` with no body when `If-None-Match` matches.
pub fn answer(
    req: &Request,
    env: &Env,
    items: &[Item],
    consistency: Consistency,
    oldest: Millis,
) -> std::result::Result<Response, Fault> {
    let bound = bound(env)?;
    let tag = etag(items);
    let control = cache_control(consistency, bound, Some(oldest), super::clock::now());
    let matched = req.headers().get("if-none-match").ok().flatten().is_some_and(|h| none_match(&h, &tag));
    let mut resp = if matched {
        Response::empty()?.with_status(304)
    } else {
        http::json(200, &serde_json::json!({ "items": items }))?
    };
    resp.headers_mut().set("etag", &tag)?;
    resp.headers_mut().set("cache-control", &control)?;
    Ok(resp)
}

/// Sold-out shedding for a reservation of `parts`: the `409 insufficient-stock` the objects
/// would answer, when the fresh facts say so, without calling any object. `named`: the request
/// has an `id` or an `Idempotency-Key` (never shed).
pub async fn shed(env: &Env, parts: &[Part], named: bool) -> std::result::Result<Option<Response>, Fault> {
    if named {
        return Ok(None);
    }
    let bound = bound(env)?;
    let skus: Vec<Sku> = parts.iter().map(|p| p.sku.clone()).collect();
    // Only what this isolate knows: no Cache API call on the hold path (`api::local_facts`).
    let entries = FACTS.with(|f| f.borrow().of(&skus));
    match core::shed(named, parts, &entries, bound, super::clock::now()) {
        Some(e) => Ok(Some(http::reply(&cart_call::render(Err(CartRefusal::Cart(e))))?)),
        None => Ok(None),
    }
}

/// After a call to a SKU's object sent at `sent_at`: refresh the entry from the state answered.
pub async fn after_sku(env: &Env, reply: &SkuReplyKeyed, sent_at: Millis) {
    learn(env, core::after_sku(reply), sent_at).await;
}

/// After a call to a reservation's coordinator sent at `sent_at`.
pub async fn after_cart(env: &Env, call: &CartCall, reply: &CartReply, sent_at: Millis) {
    learn(env, core::after_cart(call, reply), sent_at).await;
}

/// After a call to an order's desk sent at `sent_at`.
pub async fn after_order(env: &Env, call: &OrderCall, reply: &OrderReply, sent_at: Millis) {
    learn(env, core::after_order(call, reply), sent_at).await;
}
