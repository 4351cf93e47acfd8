//! One function per route: read the request, validate with `api::requests`, call the right
//! object, answer.

use std::collections::BTreeMap;

use worker::{Env, Method, Request, Response, Result};

use crate::api::allot_call::AllotAction;
use crate::api::availability;
use crate::api::availability_cache::Consistency;
use crate::api::cart_call::{self, CartAction, CartCall, CartRefusal};
use crate::api::idempotency::fingerprint;
use crate::api::order_call::{self, OrderAction, OrderCall};
use crate::api::problem::{from_plan, key_reused};
use crate::api::requests;
use crate::api::routes::Route;
use crate::api::sku_call::{self, ledger_cart, LedgerCart, SkuAction, SkuCall};
use crate::api::{Kind, Problem};
use crate::cart::home::ledger_id;
use crate::cart::{home, plan, Home};
use crate::catalog::{bundle, Bundle};
use crate::erp::master::{AdjustmentRequest, Requested};
use crate::fault::{Fault, ObjectError, StoreError};
use crate::import::limits::MAX_IMPORT_FILE_BYTES;
use crate::orders::Line;
use crate::stock::limits::MAX_JSON_BODY_BYTES;
use crate::stock::{Cause, Command, OrderKey, Sku, Token};

use super::availability_cache::{self, Read};
use super::http;
use super::key_registry::{self, ClaimVerdict};
use super::{catalog_reads, order_client, sku_client};

const OPENAPI: &str = include_str!("../../openapi.json");
const CART_BINDING: &str = "CART_COORDINATOR";

/// Why a request stops before its route answers: a problem to answer with, or a fault of the
/// shell (mapped to HTTP by the entry point).
enum Stop {
    Answer(Problem),
    Fault(Fault),
}

impl From<Problem> for Stop {
    fn from(p: Problem) -> Stop {
        Stop::Answer(p)
    }
}

impl From<Fault> for Stop {
    fn from(f: Fault) -> Stop {
        Stop::Fault(f)
    }
}

impl From<worker::Error> for Stop {
    fn from(e: worker::Error) -> Stop {
        Stop::Fault(e.into())
    }
}

impl From<ObjectError> for Stop {
    fn from(e: ObjectError) -> Stop {
        Stop::Fault(e.into())
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Fault(e.into())
    }
}

pub(super) fn query_pairs(req: &Request) -> Result<Vec<(String, String)>> {
    Ok(req.url()?.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
}

/// Reads a body of at most `max` bytes.
async fn body(req: &mut Request, max: usize) -> std::result::Result<Vec<u8>, Stop> {
    let too_large = || Problem::new(Kind::PayloadTooLarge, format!("this endpoint takes at most {max} bytes"));
    if let Ok(Some(len)) = req.headers().get("content-length") {
        if len.parse::<usize>().is_ok_and(|n| n > max) {
            return Err(too_large().into());
        }
    }
    let bytes = req.bytes().await?;
    if bytes.len() > max {
        return Err(too_large().into());
    }
    Ok(bytes)
}

/// The validated `Idempotency-Key` with this request's fingerprint.
fn idempotency(
    req: &Request,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::result::Result<Option<(String, String)>, Problem> {
    let key = requests::idempotency_key(req.headers().get("idempotency-key").ok().flatten())?;
    Ok(key.map(|k| (k, fingerprint(method, path, body))))
}

/// The value, or the answer for a problem (`Err(Problem)` or `Err(Stop)`); a fault of the shell
/// returns as the handler's error.
macro_rules! try_p {
    ($e:expr) => {
        match $e.map_err(Stop::from) {
            Ok(v) => v,
            Err(Stop::Answer(p)) => return Ok(http::problem(&p)?),
            Err(Stop::Fault(f)) => return Err(f),
        }
    };
}

/// A write's body and its Idempotency-Key with the request's fingerprint (also what the
/// catalogue routes take).
pub(crate) struct Write {
    pub(super) bytes: Vec<u8>,
    pub(super) idem: Option<(String, String)>,
    /// A malformed Idempotency-Key, reported together with the body's faults.
    pub(super) key_fault: Option<Problem>,
}

impl Write {
    /// The body's validation result with the key's fault merged in, so that one answer names
    /// every faulty field.
    pub(super) fn validated<T>(&self, body: std::result::Result<T, Problem>) -> std::result::Result<T, Problem> {
        crate::api::problem::with_key_fault(self.key_fault.as_ref(), body)
    }
}

/// Reads a write's body and claims its Idempotency-Key in the key registry, so that one key
/// is never used for two different requests, whatever resource they touch.
async fn write(req: &mut Request, env: &Env, max: usize) -> std::result::Result<Write, Stop> {
    let bytes = body(req, max).await?;
    claimed(req, env, bytes).await
}

/// A write whose `bytes` were read already, with its Idempotency-Key claimed.
async fn claimed(req: &Request, env: &Env, bytes: Vec<u8>) -> std::result::Result<Write, Stop> {
    let method = req.method().to_string();
    // The query is part of the request (imports take their format and mode there).
    let url = req.url()?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let (idem, key_fault) = match idempotency(req, &method, &path, &bytes) {
        Ok(i) => (i, None),
        Err(p) => (None, Some(p)),
    };
    if let Some((key, fp)) = &idem {
        if key_registry::claim(env, key, fp).await? == ClaimVerdict::Reused {
            return Err(key_reused().into());
        }
    }
    Ok(Write { bytes, idem, key_fault })
}

/// For a route that authenticates its body before anything else (a signed snapshot): the body
/// (at most `max` bytes), or the answer for one too large.
pub(super) async fn signed_body(req: &mut Request, max: usize) -> std::result::Result<Result<Vec<u8>, Problem>, Fault> {
    answer_or_fault(body(req, max).await)
}

/// A step's [`Stop`] split for a handler that answers by itself: the answer, or the fault.
fn answer_or_fault<T>(r: std::result::Result<T, Stop>) -> std::result::Result<Result<T, Problem>, Fault> {
    match r {
        Ok(t) => Ok(Ok(t)),
        Err(Stop::Answer(p)) => Ok(Err(p)),
        Err(Stop::Fault(f)) => Err(f),
    }
}

/// After a signed body verified: the write, its Idempotency-Key claimed (the key of a caller
/// that proved nothing is never claimed), or the answer for a reused key.
pub(super) async fn signed_write(
    req: &Request,
    env: &Env,
    bytes: Vec<u8>,
) -> std::result::Result<Result<Write, Problem>, Fault> {
    answer_or_fault(claimed(req, env, bytes).await)
}

/// A snapshot's body, JSON or (`?format=csv`) CSV, validated (`POST /v1/erp/snapshots`).
pub(super) fn snapshot_request(
    w: &Write,
    pairs: &[(String, String)],
) -> std::result::Result<crate::api::erp_snapshots::SnapshotRequest, Problem> {
    use crate::api::erp_snapshots::{snapshot_body, snapshot_object};
    w.validated(snapshot_body(pairs, &w.bytes).and_then(|o| snapshot_object(&o)))
}

/// Answers one routed request. Faults keep their type ([`Fault`]); `api::problem::from_fault`
/// maps them to HTTP in the entry point.
pub async fn handle(route: Route, mut req: Request, env: &Env) -> std::result::Result<Response, Fault> {
    // Webhooks read their raw body themselves (1 MiB, before any parsing) and take no
    // Idempotency-Key: the platform's delivery id de-duplicates them.
    if let Route::Webhook(kind) = route {
        return super::webhooks::receive(kind, req, env).await;
    }
    // Wholesale purchase orders: the trading partner's credentials, its own body limit.
    if route == Route::Edi850 {
        return super::purchase_orders::receive(req, env).await;
    }
    // A webhook ERP's snapshot: the connection's signature, checked before the key is claimed.
    if let Route::ErpSignedSnapshots(id) = route {
        return super::erp_webhook_in::receive(id, req, env).await;
    }
    let path = req.path();
    let w = if matches!(req.method(), Method::Post | Method::Put) {
        if crate::api::media_type::takes_json_only(&route) {
            try_p!(crate::api::media_type::json_body(req.headers().get("content-type")?.as_deref()));
        }
        let max = if route == Route::Import { MAX_IMPORT_FILE_BYTES as usize } else { MAX_JSON_BODY_BYTES };
        try_p!(write(&mut req, env, max).await)
    } else {
        Write { bytes: Vec::new(), idem: None, key_fault: None }
    };
    let answer: Result<Response> = match route {
        Route::Health => http::json(200, &serde_json::json!({"status": "ok", "service": "stockedge", "version": env!("CARGO_PKG_VERSION")})),
        Route::OpenApi => http::text(200, OPENAPI.to_owned(), "application/json"),
        Route::ProblemPage(kind) => http::text(
            200,
            format!(
                "<!doctype html><meta charset=utf-8><title>{t}</title><h1>{t}</h1><p>HTTP {s}</p><p>{e}</p><p><code>type: {u}</code></p>",
                t = kind.title(),
                s = kind.status(),
                e = kind.explanation(),
                u = kind.type_uri()
            ),
            "text/html; charset=utf-8",
        ),
        Route::Availability => {
            let requests::AvailabilityQuery { skus, channel, consistency } =
                try_p!(requests::availability_query(&query_pairs(&req)?));
            return availability(&req, env, skus, channel, consistency).await;
        }
        Route::GetSku(sku) => Ok(sku_answer(env, sku, SkuAction::Get, None).await?),
        Route::GetSkuPolicy(sku) => return super::hot::policy_view(env, sku).await,
        Route::Journal(sku) => {
            let (after, limit) = try_p!(requests::journal_query(&query_pairs(&req)?));
            Ok(sku_answer(env, sku, SkuAction::Journal { after, limit }, None).await?)
        }
        Route::PutStock(sku) => {
            let s = try_p!(w.validated(requests::set_stock(&w.bytes)));
            // Hook (ERP master: issue 13 point 4).
            let forward = |connection| AdjustmentRequest {
                connection,
                sku: sku.clone(),
                location: s.location.clone(),
                change: Requested::Set { on_hand: s.on_hand },
                reason: s.reason.clone(),
            };
            if let Some(answer) = super::erp_master::guard(env, w.idem.as_ref(), &sku, forward, &s.location).await? {
                return Ok(answer);
            }
            let cause = Cause { reason: Some(s.reason.unwrap_or_else(|| "cycle_count".into())), ..Cause::default() };
            let mut commands = vec![Command::Set { location: s.location, on_hand: s.on_hand, expected_version: s.expected_version, cause }];
            if let Some(limit) = s.backorder_limit {
                commands.push(Command::Policy { backorder_limit: limit });
            }
            Ok(sku_answer(env, sku, SkuAction::Apply { commands }, w.idem).await?)
        }
        Route::Adjust(sku) => {
            let a = try_p!(w.validated(requests::adjustment(&w.bytes)));
            // Hook (ERP master: issue 13 point 4).
            let forward = |connection| AdjustmentRequest {
                connection,
                sku: sku.clone(),
                location: a.location.clone(),
                change: Requested::Adjust { delta: a.delta },
                reason: Some(a.reason.clone()),
            };
            if let Some(answer) = super::erp_master::guard(env, w.idem.as_ref(), &sku, forward, &a.location).await? {
                return Ok(answer);
            }
            let cause = Cause { reason: Some(a.reason), ..Cause::default() };
            let commands = vec![Command::Adjust { location: a.location, delta: a.delta, cause }];
            Ok(sku_answer(env, sku, SkuAction::Apply { commands }, w.idem).await?)
        }
        Route::SkuPolicy(sku) => return super::hot::set_policy(env, sku, &w).await,
        Route::CreateReservation => return create_reservation(env, &path, &w).await,
        Route::GetReservation(id) => {
            if let Some(answer) = super::hot::route(env, &id, AllotAction::Get, None).await {
                return answer;
            }
            Ok(reservation_step(env, id, CartAction::Get, None).await?)
        }
        Route::CommitReservation(id) => {
            let order_id = try_p!(w.validated(requests::commit(&w.bytes)));
            let hot = AllotAction::Commit { order_id: order_id.clone() };
            if let Some(answer) = super::hot::route(env, &id, hot, w.idem.clone()).await {
                return answer;
            }
            Ok(reservation_step(env, id, CartAction::Commit { order_id }, w.idem).await?)
        }
        Route::ReleaseReservation(id) => {
            try_p!(w.validated(Ok(())));
            if let Some(answer) = super::hot::route(env, &id, AllotAction::Release, w.idem.clone()).await {
                return answer;
            }
            Ok(reservation_step(env, id, CartAction::Release, w.idem).await?)
        }
        Route::ExtendReservation(id) => {
            let ttl_seconds = try_p!(w.validated(requests::extend(&w.bytes)));
            if let Some(answer) = super::hot::route(env, &id, AllotAction::Extend { ttl_seconds }, w.idem.clone()).await {
                return answer;
            }
            Ok(reservation_step(env, id, CartAction::Extend { ttl_seconds }, w.idem).await?)
        }
        Route::Sales => {
            let s = try_p!(w.validated(requests::sale(&w.bytes)));
            let lines = try_p!(expand_bundles(env, s.lines).await);
            let order = OrderKey { channel: s.channel, order_id: s.order_id };
            Ok(order_answer(env, OrderCall { order, action: OrderAction::Sell { lines }, idempotency: w.idem }).await?)
        }
        Route::CancelSale { channel, order_id } => {
            let reason = try_p!(w.validated(requests::cancel(&w.bytes)));
            let order = OrderKey { channel, order_id };
            Ok(order_answer(env, OrderCall { order, action: OrderAction::Cancel { reason }, idempotency: w.idem }).await?)
        }
        Route::Import => {
            let query = query_pairs(&req)?;
            let (format, mode, dry_run) = try_p!(requests::import_query(&query));
            try_p!(w.validated(Ok(())));
            // Saved column mappings: `mapping=<name>`.
            let (mapping, mode) = try_p!(super::import_mappings::for_import(env, &query, &w.bytes, mode).await?);
            let read = super::imports::Read { format, mode, mapping };
            let import = super::imports::import(env, &w.bytes, read, dry_run, w.idem.clone());
            return key_registry::keeping(env, w.idem.as_ref(), import).await;
        }
        Route::ImportJob(id) => return super::import_jobs::status(env, id.as_str(), &query_pairs(&req)?).await,
        Route::ImportMappings(route) => return super::import_mappings::handle(route, &w, env).await,
        Route::Export => {
            let format = try_p!(requests::export_query(&query_pairs(&req)?));
            return super::imports::export(env, format).await;
        }
        Route::SyncStatus => return super::sync_admin::status(env).await,
        Route::SyncFailures => return super::sync_admin::failures(env).await,
        Route::RetryFailure(id) => {
            try_p!(w.validated(Ok(())));
            return key_registry::keeping(env, w.idem.as_ref(), super::sync_admin::retry(env, id)).await;
        }
        Route::Catalog(route) => return super::catalog::handle(route, &query_pairs(&req)?, &w, env).await,
        Route::Webhook(_) | Route::Edi850 | Route::ErpSignedSnapshots(_) => {
            http::problem(&Problem::new(Kind::Internal, "handled above"))
        }
        Route::Unmatched => return super::inbound_admin::unmatched(&query_pairs(&req)?, env).await,
        Route::Drift => return super::inbound_admin::drift(&query_pairs(&req)?, env).await,
        Route::Polls => return super::inbound_poll::status(env).await,
        Route::RunPolls => {
            try_p!(w.validated(Ok(())));
            let query = query_pairs(&req)?;
            return key_registry::keeping(env, w.idem.as_ref(), super::inbound_poll::run_now(&query, env)).await;
        }
        Route::EbayChallenge => return super::webhooks::ebay_challenge(&req, env).await,
        Route::Alerts => return super::alerts::list(&query_pairs(&req)?, env).await,
        Route::Metrics => return super::metrics::serve(env).await,
        Route::Reconciliation => return super::reconcile::list(&query_pairs(&req)?, env).await,
        Route::RunReconciliation => {
            try_p!(w.validated(Ok(())));
            let query = query_pairs(&req)?;
            return key_registry::keeping(env, w.idem.as_ref(), super::reconcile::run_now(&query, env)).await;
        }
        Route::RepairReconciliation => {
            try_p!(w.validated(Ok(())));
            let query = query_pairs(&req)?;
            return key_registry::keeping(env, w.idem.as_ref(), super::reconcile::repair(&query, env)).await;
        }
        Route::Erp(route) => return super::erp_connections::handle(route, &query_pairs(&req)?, &w, env).await,
        Route::ErpSnapshots => {
            let request = try_p!(snapshot_request(&w, &query_pairs(&req)?));
            return key_registry::keeping(env, w.idem.as_ref(), super::erp::apply(env, request)).await;
        }
        Route::Overview => return super::overview::serve(env).await,
        Route::SkuListings(sku) => return super::sku_listings::serve(env, &sku).await,
        Route::RetryChannelFailures => {
            let channel = try_p!(w.validated(crate::api::operator_views::retry_channel_query(&query_pairs(&req)?)));
            let retry = super::sync_admin::retry_channel(env, channel);
            return key_registry::keeping(env, w.idem.as_ref(), retry).await;
        }
        Route::PreviewListings => {
            let q = try_p!(w.validated(crate::api::listing_preview::request(&query_pairs(&req)?, &w.bytes)));
            return super::listing_preview::serve(env, q).await;
        }
        Route::MapUnmatched(id) => {
            let body = try_p!(w.validated(crate::api::unmatched_map::request(&w.bytes)));
            return key_registry::keeping(env, w.idem.as_ref(), super::unmatched_map::map(env, id, body)).await;
        }
        Route::AlertDestinations => return super::alerts_out::list(env).await,
        Route::PutAlertDestination(id) => {
            try_p!(w.validated(Ok(())));
            return key_registry::keeping(env, w.idem.as_ref(), super::alerts_out::put(env, id, &w.bytes)).await;
        }
        Route::DeleteAlertDestination(id) => return super::alerts_out::delete(env, id).await,
        Route::SkuAlerting(sku) => {
            try_p!(w.validated(Ok(())));
            return key_registry::keeping(env, w.idem.as_ref(), super::alerts::put_alerting(env, sku, &w.bytes)).await;
        }
        Route::AcknowledgeAlert(id) => {
            try_p!(w.validated(Ok(())));
            return key_registry::keeping(env, w.idem.as_ref(), super::alerts::acknowledge(env, id)).await;
        }
        Route::Fulfilments => {
            let f = try_p!(w.validated(requests::fulfilment(&w.bytes)));
            let order = OrderKey { channel: f.channel, order_id: f.order_id };
            Ok(order_answer(env, OrderCall { order, action: OrderAction::Fulfil { lines: f.lines }, idempotency: w.idem }).await?)
        }
    };
    Ok(answer?)
}

/// `GET /v1/availability`: each SKU's ledger answers for itself (from the edge cache when a
/// fresh answer is there, `availability_cache`) — a bundle's ledger refuses with its components,
/// which are read next — so no catalogue query is made without `channel`; with it, the
/// channel's listing rules are read from the catalogue.
async fn availability(
    req: &Request,
    env: &Env,
    skus: Vec<Sku>,
    channel: Option<Token>,
    consistency: Consistency,
) -> std::result::Result<Response, Fault> {
    let first = match availability_cache::ledgers(env, &skus, consistency).await? {
        Read::Items(read) => read,
        Read::Answer(reply) => return Ok(http::reply(&reply)?),
    };
    let (mut ledgers, bundles, mut oldest) = (first.items, first.bundles, first.oldest);
    let components: Vec<Sku> =
        availability::ledgers_to_read(&skus, &bundles).into_iter().filter(|c| !ledgers.contains_key(c)).collect();
    if !components.is_empty() {
        // Bundles do not nest: a component told it is a bundle meanwhile reads as 0.
        let second = match availability_cache::ledgers(env, &components, consistency).await? {
            Read::Items(read) => read,
            Read::Answer(reply) => return Ok(http::reply(&reply)?),
        };
        ledgers.extend(second.items);
        oldest = oldest.min(second.oldest);
    }
    let rules = match &channel {
        Some(ch) => Some(catalog_reads::listing_rules(env, ch, &skus).await?),
        None => None,
    };
    let items = availability::compose(&skus, &bundles, &ledgers, rules.as_ref());
    availability_cache::answer(req, env, &items, consistency, oldest)
}

/// `POST /v1/reservations`. A reservation without a client `id` whose merged lines hold one SKU
/// goes to that SKU's ledger, which keeps it (`cart::single`; id `rsk_…`, see `cart::home`) —
/// one hop, no catalogue query. If that SKU is a bundle its ledger refuses with the components:
/// they are expanded and held through a coordinator, as are carts of several SKUs (bundles
/// expanded from the catalogue) and reservations with a client `id`.
async fn create_reservation(env: &Env, path: &str, w: &Write) -> std::result::Result<Response, Fault> {
    let c = try_p!(w.validated(requests::create_reservation(&w.bytes)));
    let fp = fingerprint("POST", path, &w.bytes);
    let keyed = w.idem.is_some();
    let planned = try_p!(plan(&c.lines).map_err(|e| from_plan(&e)));
    // Sold-out shedding: refused at the edge when fresh cached facts say the ledgers would.
    if let Some(refused) = availability_cache::shed(env, &planned, c.id.is_some() || keyed).await? {
        return Ok(refused);
    }
    // A hot SKU's single line is held by one of its allotments (`hot`).
    let hot =
        super::hot::Creation { id: &c.id, ttl_seconds: c.ttl_seconds, channel: &c.channel, reference: &c.reference };
    if let Some(answer) = super::hot::create(env, &planned, &hot, w.idem.as_ref()).await {
        return answer;
    }
    let lines = match (c.id.is_none(), planned.as_slice()) {
        (true, [part]) => {
            let sku = part.sku.clone();
            let hex = match &w.idem {
                Some((key, _)) => fingerprint("reservation-id", "", key.as_bytes()),
                None => random_hex()?,
            };
            let id = ledger_id(&sku, &hex).ok_or_else(|| Fault::Runtime(format!("no reservation id for {sku}")))?;
            let call = CartAction::Create {
                parts: planned,
                ttl_seconds: c.ttl_seconds,
                channel: c.channel.clone(),
                reference: c.reference.clone(),
                fingerprint: fp.clone(),
                keyed,
            };
            match ledger_reservation(env, sku.clone(), id, call, None).await? {
                LedgerCart::Reply(r) => return Ok(http::reply(&cart_call::render_keyed(r))?),
                LedgerCart::OutOfContract(detail) => {
                    return Err(ObjectError::OutOfContract { class: sku_client::BINDING, detail }.into())
                }
                LedgerCart::Bundle(components) => {
                    let bundles = BTreeMap::from([(sku.clone(), Bundle { sku, components })]);
                    try_p!(bundle::expand(c.lines, &bundles).map_err(|e| bundle_fault(&e)))
                }
            }
        }
        _ => try_p!(expand_bundles(env, c.lines).await),
    };
    let parts = try_p!(plan(&lines).map_err(|e| from_plan(&e)));
    let id = match (c.id, &w.idem) {
        (Some(id), _) => id,
        (None, Some((key, _))) => derived_id(key)?,
        (None, None) => random_id()?,
    };
    let action = CartAction::Create {
        parts,
        ttl_seconds: c.ttl_seconds,
        channel: c.channel,
        reference: c.reference,
        fingerprint: fp,
        keyed,
    };
    cart_answer(env, CartCall { id, action, idempotency: None }).await
}

/// A step of an existing reservation (read, commit, release, extend), sent straight to the object
/// its id names (`cart::home`); an id that names none is `404 reservation-not-found`.
async fn reservation_step(
    env: &Env,
    id: Token,
    action: CartAction,
    idempotency: Option<(String, String)>,
) -> std::result::Result<Response, Fault> {
    match home(&id) {
        Home::Coordinator => cart_answer(env, CartCall { id, action, idempotency }).await,
        Home::Ledger { sku } => {
            match ledger_reservation(env, sku, id.clone(), action, idempotency).await? {
                LedgerCart::Reply(r) => Ok(http::reply(&cart_call::render_keyed(r))?),
                // Only a creation is refused for a bundle: no such reservation here.
                LedgerCart::Bundle(_) => Ok(http::reply(&cart_call::render(Err(CartRefusal::NotFound { id })))?),
                LedgerCart::OutOfContract(detail) => {
                    Err(ObjectError::OutOfContract { class: sku_client::BINDING, detail }.into())
                }
            }
        }
        Home::Nowhere => Ok(http::reply(&cart_call::render(Err(CartRefusal::NotFound { id })))?),
    }
}

/// One call of a reservation kept by `sku`'s ledger, read as a cart's reply; what it changed
/// or refused is taught to the availability cache.
async fn ledger_reservation(
    env: &Env,
    sku: Sku,
    id: Token,
    action: CartAction,
    idempotency: Option<(String, String)>,
) -> std::result::Result<LedgerCart, Fault> {
    let sent_at = super::clock::now();
    let call = SkuCall { sku, action: SkuAction::Reservation { id: id.clone(), call: action.clone() }, idempotency };
    let answer = ledger_cart(sku_client::call(env, &call).await?);
    if let LedgerCart::Reply(reply) = &answer {
        // Hook (availability cache): the same lessons as from a coordinator's reply.
        availability_cache::after_cart(env, &CartCall { id, action, idempotency: None }, reply, sent_at).await;
    }
    Ok(answer)
}

fn bundle_fault(e: &crate::catalog::BundleError) -> Problem {
    Problem::invalid(vec![crate::api::FieldError::new("lines", e.to_string())])
}

/// Replaces bundle lines by their components (catalogue), so a bundle is held or sold whole.
async fn expand_bundles(env: &Env, lines: Vec<Line>) -> std::result::Result<Vec<Line>, Stop> {
    let skus: Vec<Sku> = lines.iter().map(|l| l.sku.clone()).collect();
    let bundles = catalog_reads::bundles(env, &skus).await?;
    if bundles.is_empty() {
        return Ok(lines);
    }
    bundle::expand(lines, &bundles).map_err(|e| bundle_fault(&e).into())
}

async fn sku_answer(
    env: &Env,
    sku: Sku,
    action: SkuAction,
    idempotency: Option<(String, String)>,
) -> std::result::Result<Response, Fault> {
    let sent_at = super::clock::now();
    let reply = sku_client::call(env, &SkuCall { sku, action, idempotency }).await?;
    availability_cache::after_sku(env, &reply, sent_at).await; // Hook (availability cache)
    Ok(http::reply(&sku_call::render_keyed(reply))?)
}

async fn order_answer(env: &Env, call: OrderCall) -> std::result::Result<Response, Fault> {
    let sent_at = super::clock::now();
    let reply = order_client::call(env, &call).await?;
    availability_cache::after_order(env, &call, &reply, sent_at).await; // Hook (availability cache)
    Ok(http::reply(&order_call::render_keyed(reply))?)
}

async fn cart_answer(env: &Env, call: CartCall) -> std::result::Result<Response, Fault> {
    let sent_at = super::clock::now();
    let reply = super::rpc::call(env, CART_BINDING, call.id.as_str(), &call).await?;
    availability_cache::after_cart(env, &call, &reply, sent_at).await; // Hook (availability cache)
    Ok(http::reply(&cart_call::render_keyed(reply))?)
}

/// A reservation id derived from an Idempotency-Key, so that repeats reach the same coordinator.
fn derived_id(key: &str) -> std::result::Result<Token, Fault> {
    let h = fingerprint("reservation-id", "", key.as_bytes());
    Token::parse(&format!("res_{}", &h[..24])).map_err(|e| Fault::Runtime(e.to_string()))
}

fn random_id() -> std::result::Result<Token, Fault> {
    Token::parse(&format!("res_{}", &random_hex()?[..24])).map_err(|e| Fault::Runtime(e.to_string()))
}

/// 24 random hex digits.
fn random_hex() -> std::result::Result<String, Fault> {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).map_err(|e| Fault::Runtime(e.to_string()))?;
    Ok(hex::encode(b))
}
