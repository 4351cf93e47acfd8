//! `POST /v1/webhooks/{shopify|woocommerce|amazon|ebay}` and `GET /v1/inbound/unmatched`: the
//! shell around the pure inbound core (`crate::inbound`). The core checks signatures (in constant
//! time, before anything is parsed), freshness and payloads and says what a delivery comes to;
//! this module finds the channel and its secret, reads and writes D1, fetches what the platform
//! left out (Amazon order items, eBay orders), and applies the events through the order desks and
//! the SKU ledgers, which apply each line exactly once.
//!
//! # Which channel, which secret
//! A delivery is matched to channel records (D1 `channels`) of its platform, and verified with the
//! webhook signing key held by the Worker secret that the channel's `settings.webhook_secret`
//! NAMES (like `credentials_secret`, a name such as `SHOPIFY_WEBHOOK_SECRET_MYSHOP`, never the
//! key itself). A channel without it cannot receive webhooks: its deliveries are refused (401).
//! - Shopify: `X-Shopify-Shop-Domain` equals the channel's `account` (case-insensitive); the key
//!   is the app's client secret.
//! - WooCommerce: the host (and path) of `X-WC-Webhook-Source` equals the channel's `account`
//!   (scheme and trailing `/` ignored); the key is the webhook's secret. The unsigned creation
//!   ping (`webhook_id=N`) answers 200 before any of this.
//! - Amazon (a forwarder relaying SQS `ORDER_CHANGE` messages, `inbound::amazon`): the query
//!   parameter `?channel=<id>` names the channel (configure the forwarder's URL with it); without
//!   it every Amazon channel's forwarder secret is tried. The notification's `SellerId` must be
//!   the channel's `account`.
//! - eBay: the signature is ECDSA with eBay's public key for the header's `kid`, fetched from
//!   `settings.public_key_url` + `kid` (a URL prefix), else `{base_url}/commerce/notification/
//!   v1/public_key/{kid}` (`base_url` defaults to `https://api.ebay.com`), with the channel's
//!   `credentials_secret` token, and kept in this isolate's memory for an hour
//!   (`inbound::KeyCache`). `?channel=<id>` names the channel; without it, the order is looked
//!   up with each eBay channel's credentials and belongs to the first that has it.
//!
//! Several channels may match (two channels for one shop): each one's key is tried, and the first
//! that verifies receives the delivery. No matching channel, or no key that verifies → 401.
//! Disabled channels still receive webhooks: a sale that happened must be counted; `enabled`
//! only stops pushes.
//!
//! # What a delivery does
//! - Duplicates: a delivery whose de-duplication key (`inbound::Received::dedupe_key`) is in D1
//!   `inbound_deliveries` answers 200 and applies nothing. The key is written once the delivery's
//!   effects are in place, so a delivery that failed half-way is applied again when the platform
//!   retries; every effect is idempotent on its own (sale lines by line id in the order desk,
//!   restocks by refund line in the SKU's Idempotency-Key records, unmatched lines by order line).
//! - Sale → `OrderAction::Sell` on the order desk (channel id, order id); Cancel → `Cancel` of the
//!   whole order (a cancellation that arrives first leaves a tombstone: the late sale is
//!   ignored). Lines map to SKUs through the channel's listings (`LineIdentity::lookup_keys`, most
//!   exact first; Shopify order lines by their `sku`: the channel's listing of that SKU). Bundle
//!   SKUs sell their components. The ledger location is `settings.location` (default `main`).
//! - A line that maps to no listing is recorded in D1 `unmatched_lines` (`GET
//!   /v1/inbound/unmatched`) and nothing is applied for it; the delivery still answers 200. An
//!   operator can record it with `POST /v1/sales` under the same channel, order id and line id
//!   (the desk applies a line id once, so a later delivery of it does not count it twice).
//! - Restock (Shopify `refunds/create`): a `return` (or `legacy_restock`) line puts the units
//!   back on the shelf — an adjustment `+qty`, reason `restock`, made once per refund line (its
//!   Idempotency-Key in the SKU ledger is `inbound-restock:{channel}:{order}:{refund line}:{sku}`). A
//!   `cancel` line (unfulfilled units) is not applied: the order desk cannot release one line of
//!   an order, and Shopify sends `orders/cancelled` for the order as well, whose cancellation
//!   releases the units once. (An order edited to drop unfulfilled units keeps them committed
//!   until it is cancelled — availability errs low, never high.)
//! - Drift (Shopify `inventory_levels/update` for a listed inventory item at the listing's
//!   location): equal to what StockEdge last pushed (`listing_sync.last_quantity`: the push's
//!   echo) or to what it would list now → nothing. Otherwise it is recorded in D1 `drift_events`,
//!   and with `settings.on_drift = "adjust"` (the default: StockEdge is the source of truth)
//!   StockEdge pushes its own number back to that listing (the sync queue, compare-and-set from
//!   the reported level); with `"flag"` it is only recorded. StockEdge's ledger never takes the
//!   platform's number. (A level that drops because of a Shopify sale whose `orders/create` is
//!   still on its way reads as drift and is pushed back; the order's arrival corrects it.)
//! - Ignored (stale, unhandled topic, not yet sold, fulfilled by Amazon, …) and unusable (signed,
//!   but not understandable) deliveries answer 200; unusable ones are kept in
//!   `inbound_deliveries` with their error, since a resend cannot fix them.
//! - A step that could not complete (an order desk, a ledger or the platform's API unreachable)
//!   answers 503 and records nothing: the platform's retry applies the rest (Shopify, eBay and an
//!   SQS forwarder retry; WooCommerce does not — its polling catch-up is the cron's job).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use wasm_bindgen::JsValue;
use worker::{console_warn, D1Database, D1PreparedStatement, Env, Request, Response, Result};

use crate::api::idempotency::fingerprint;
use crate::api::order_call::{OrderAction, OrderCall};
use crate::api::requests::Line;
use crate::api::sku_call::{Answer, SkuAction, SkuCall};
use crate::api::{FieldError, Kind, Problem};
use crate::catalog::bundle;
use crate::catalog::model::{is_secret_name, ChannelKind, External};
use crate::catalog::ListingRule;
use crate::inbound::{
    amazon, drift, ebay, shopify, woocommerce, DriftVerdict, EbayKey, EventKind, FetchOrder, Headers, InboundError,
    InboundEvent, InboundLine, KeyCache, LineIdentity, ListingKey, Lookup, Outcome, PlatformIds, Received, RestockType,
    MAX_BODY_BYTES,
};
use crate::stock::limits::MAX_LINES;
use crate::stock::{Cause, Command, Location, Op, OrderKey, Sku, Token};
use crate::sync::{connection, HttpRequest, HttpResponse, LwaToken, Method as HttpMethod, StockChanged, TokenCache};
use crate::time::Millis;

use super::clock::now;
use super::{catalog_reads, http, order_client, sku_client};

/// The catalogue's D1 binding.
const DB: &str = "CATALOG";
/// The queue the sync consumer reads (a drift push-back is sent there).
const QUEUE: &str = "STOCK_CHANGES";
/// How long one call to a platform may take (Shopify waits 5 s for the whole answer).
const CALL_TIMEOUT: Duration = Duration::from_secs(4);
/// Bound parameters per `IN (…)` list (D1 binds at most 100).
const IN_CHUNK: usize = 90;
/// Channels tried per delivery (each costs a signature check over the body).
const MAX_CANDIDATES: usize = 16;
/// `getOrderItems` pages read for one order.
const MAX_ITEM_PAGES: usize = 20;
/// How long a handled delivery's key is kept.
const DELIVERY_RETENTION_MS: i64 = 7 * 24 * 3_600_000;
/// Most of an oversized chunked body drained before answering 413 (see [`read_body`]).
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
/// Restock adjustments' Idempotency-Key prefix in the SKU ledgers.
const RESTOCK_KEY: &str = "inbound-restock";

thread_local! {
    /// eBay public keys by `kid`, for this isolate's lifetime.
    static EBAY_KEYS: RefCell<KeyCache<EbayKey>> = RefCell::new(KeyCache::new());
    /// Amazon (Login with Amazon) access tokens by channel id.
    static LWA_TOKENS: RefCell<BTreeMap<String, TokenCache>> = const { RefCell::new(BTreeMap::new()) };
}

/// A step that could not complete for now (answered 503, nothing recorded), with why.
type Step<T> = std::result::Result<T, String>;

// ---------------------------------------------------------------------------------------------
// Channels

#[derive(Clone, Debug)]
struct Conn {
    channel: Token,
    account: String,
    credentials_secret: Option<String>,
    settings: Map<String, Value>,
}

#[derive(Deserialize)]
struct ChannelRow {
    channel: String,
    account: String,
    credentials_secret: Option<String>,
    settings: String,
}

impl Conn {
    fn of(r: ChannelRow) -> Option<Conn> {
        let settings = match serde_json::from_str::<Value>(&r.settings) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Some(Conn { channel: Token::parse(&r.channel).ok()?, account: r.account, credentials_secret: r.credentials_secret, settings })
    }

    fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).and_then(Value::as_str)
    }

    /// The ledger location the channel's orders take stock from (`settings.location`).
    fn location(&self) -> Location {
        self.setting("location").and_then(|l| Location::parse(l).ok()).unwrap_or_default()
    }

    /// `settings.on_drift`: `adjust` (default) or `flag`.
    fn pushes_back_drift(&self) -> bool {
        self.setting("on_drift") != Some("flag")
    }
}

/// A Worker secret (a plain var in local development), by name.
fn secret(env: &Env, name: Option<&str>) -> Option<String> {
    let name = name.filter(|n| is_secret_name(n))?;
    env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string())).filter(|s| !s.is_empty())
}

/// The webhook signing key of a channel: the secret `settings.webhook_secret` names.
fn webhook_secret(env: &Env, c: &Conn) -> Option<String> {
    secret(env, c.setting("webhook_secret"))
}

/// `https://Shop.Example.com/` → `shop.example.com`.
fn site(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(s);
    s.trim_end_matches('/').to_ascii_lowercase()
}

const CHANNEL_SELECT: &str = "SELECT channel, account, credentials_secret, settings FROM channels";

/// The channels a delivery may be for (see the module docs), in channel id order.
async fn candidates(db: &D1Database, kind: ChannelKind, headers: &Headers, hint: Option<&str>) -> Result<Vec<Conn>> {
    let k = JsValue::from(kind.as_str());
    let stmt = match kind {
        ChannelKind::Shopify => {
            let Some(shop) = headers.get(shopify::SHOP_HEADER) else { return Ok(Vec::new()) };
            db.prepare(format!("{CHANNEL_SELECT} WHERE kind = ?1 AND lower(account) = ?2 ORDER BY channel LIMIT {MAX_CANDIDATES}"))
                .bind(&[k, shop.to_ascii_lowercase().into()])?
        }
        _ => match hint {
            Some(h) => db.prepare(format!("{CHANNEL_SELECT} WHERE kind = ?1 AND channel = ?2")).bind(&[k, h.into()])?,
            None => db.prepare(format!("{CHANNEL_SELECT} WHERE kind = ?1 ORDER BY channel LIMIT 200")).bind(&[k])?,
        },
    };
    let mut conns: Vec<Conn> = stmt.all().await?.results::<ChannelRow>()?.into_iter().filter_map(Conn::of).collect();
    if kind == ChannelKind::Woocommerce {
        let source = headers.get(woocommerce::SOURCE_HEADER).map(site);
        conns.retain(|c| source.as_deref() == Some(site(&c.account).as_str()));
    }
    conns.truncate(MAX_CANDIDATES);
    Ok(conns)
}

// ---------------------------------------------------------------------------------------------
// Entry points

/// What a delivery's authentication came to.
enum Verified {
    /// Authentic for these channels (one for HMAC platforms; the eBay candidates), and what the
    /// core made of it.
    Ok { conns: Vec<Conn>, result: std::result::Result<Received, InboundError> },
    Unauthorized,
    /// The eBay key could not be fetched and none is cached.
    Unavailable(String),
}

fn unauthorized() -> Result<Response> {
    http::problem(&Problem::new(Kind::Unauthorized, "the delivery's signature does not verify with any matching channel's webhook key"))
}

fn unavailable(why: &str) -> Result<Response> {
    console_warn!("webhook not completed: {why}");
    http::problem(&Problem::new(Kind::Unavailable, format!("the delivery could not be completed ({why}); nothing was recorded — send it again")))
}

fn too_large() -> Problem {
    Problem::new(Kind::PayloadTooLarge, format!("webhook bodies are at most {MAX_BODY_BYTES} bytes"))
}

/// Reads at most [`MAX_BODY_BYTES`]: a larger body is refused (413) before anything looks at
/// it. With a `Content-Length` over the limit nothing is read. A chunked body (no length) is kept
/// up to the limit; past it the rest is only drained and dropped, up to [`DRAIN_BYTES`], so that
/// the connection can carry the answer (`wrangler dev`'s proxy holds an answer back until the
/// body it forwards is consumed).
async fn read_body(req: &mut Request) -> Result<std::result::Result<Vec<u8>, Problem>> {
    if let Ok(Some(len)) = req.headers().get("content-length") {
        if len.trim().parse::<u64>().is_ok_and(|n| n > MAX_BODY_BYTES as u64) {
            return Ok(Err(too_large()));
        }
    }
    let Ok(mut stream) = req.stream() else { return Ok(Ok(Vec::new())) };
    let mut body = Vec::new();
    let mut seen = 0_usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        seen += chunk.len();
        if seen > DRAIN_BYTES {
            break;
        }
        if seen <= MAX_BODY_BYTES {
            body.extend_from_slice(&chunk);
        }
    }
    Ok(if seen > MAX_BODY_BYTES { Err(too_large()) } else { Ok(body) })
}

/// `POST /v1/webhooks/{platform}`.
pub async fn receive(kind: ChannelKind, mut req: Request, env: &Env) -> Result<Response> {
    let body = match read_body(&mut req).await? {
        Ok(b) => b,
        Err(p) => return http::problem(&p),
    };
    let headers = Headers::from_pairs(req.headers().entries());
    let hint = req.url()?.query_pairs().find(|(k, _)| k == "channel").map(|(_, v)| v.into_owned());
    if kind == ChannelKind::Woocommerce && woocommerce::is_ping(&headers, &body) {
        return http::json(200, &json!({"result": "ping"}));
    }
    let t = now();
    let db = env.d1(DB)?;
    let conns = candidates(&db, kind, &headers, hint.as_deref()).await?;
    let verified = match kind {
        ChannelKind::Ebay => verify_ebay(env, conns, &headers, &body, t).await?,
        _ => verify_hmac(env, kind, conns, &headers, &body, t),
    };
    let (conns, result) = match verified {
        Verified::Ok { conns, result } => (conns, result),
        Verified::Unauthorized => return unauthorized(),
        Verified::Unavailable(why) => return unavailable(&why),
    };
    let Some(first) = conns.first().cloned() else { return unauthorized() };
    let received = match result {
        Ok(r) => r,
        Err(InboundError::Unauthorized(_)) => return unauthorized(),
        Err(InboundError::TooLarge { .. }) => return http::problem(&too_large()),
        Err(InboundError::Payload(e)) => {
            let key = format!("unusable:{}:{}", kind.as_str(), &hex::encode(Sha256::digest(&body))[..32]);
            let detail = json!({"error": e.to_string()});
            console_warn!("{} webhook for channel {} is unusable: {e}", kind.as_str(), first.channel);
            record_delivery(&db, &key, &first.channel, "unknown", "unusable", &detail, t).await?;
            return http::json(200, &json!({"result": "unusable", "channel": first.channel.as_str(), "detail": e.to_string()}));
        }
    };
    if let Some(key) = &received.dedupe_key {
        if seen(&db, key).await? {
            return http::json(200, &json!({"result": "duplicate", "channel": first.channel.as_str(), "topic": received.topic}));
        }
    }
    let cx = Cx { env, db: &db, t, kind, topic: &received.topic, dedupe_key: received.dedupe_key.as_deref() };
    let mut s = Summary::new(&first.channel);
    let step = handle(&cx, &conns, &received, &mut s).await?;
    if let Err(why) = step {
        return unavailable(&why);
    }
    let outcome = if s.unusable.is_some() {
        "unusable"
    } else if s.ignored.is_some() {
        "ignored"
    } else {
        "applied"
    };
    let answer = s.to_json(outcome, &received.topic);
    if let Some(key) = &received.dedupe_key {
        record_delivery(&db, key, &s.channel, &received.topic, outcome, &answer, t).await?;
    }
    http::json(200, &answer)
}

/// Shopify, WooCommerce, Amazon: the first candidate whose webhook key verifies the delivery.
fn verify_hmac(env: &Env, kind: ChannelKind, conns: Vec<Conn>, headers: &Headers, body: &[u8], t: Millis) -> Verified {
    for c in conns {
        let Some(key) = webhook_secret(env, &c) else { continue };
        let result = match kind {
            ChannelKind::Shopify => shopify::receive(headers, body, key.as_bytes(), t),
            ChannelKind::Woocommerce => woocommerce::receive(headers, body, key.as_bytes(), t),
            ChannelKind::Amazon => amazon::receive(headers, body, key.as_bytes(), t),
            ChannelKind::Ebay | ChannelKind::Wholesale => return Verified::Unauthorized,
        };
        if !matches!(result, Err(InboundError::Unauthorized(_))) {
            return Verified::Ok { conns: vec![c], result };
        }
    }
    Verified::Unauthorized
}

/// eBay: eBay's key for the header's `kid` (cached, else fetched), then the core's check.
async fn verify_ebay(env: &Env, conns: Vec<Conn>, headers: &Headers, body: &[u8], t: Millis) -> Result<Verified> {
    let Ok(sig) = ebay::parse_signature_header(headers) else { return Ok(Verified::Unauthorized) };
    let key = match ebay_key(env, &conns, &sig.kid, t).await {
        KeyFetch::Key(k) => k,
        KeyFetch::Unknown => return Ok(Verified::Unauthorized),
        KeyFetch::Unavailable(why) => return Ok(Verified::Unavailable(why)),
    };
    Ok(Verified::Ok { result: ebay::receive(headers, body, &key, t), conns })
}

enum KeyFetch {
    Key(EbayKey),
    /// eBay has no such key (or no channel to ask with): the signature cannot be genuine.
    Unknown,
    Unavailable(String),
}

fn ebay_key_url(c: &Conn, kid: &str) -> String {
    match c.setting("public_key_url") {
        Some(prefix) => format!("{prefix}{kid}"),
        None => format!("{}/commerce/notification/v1/public_key/{kid}", connection::base_url(ChannelKind::Ebay, &c.account, &c.settings)),
    }
}

async fn ebay_key(env: &Env, conns: &[Conn], kid: &str, t: Millis) -> KeyFetch {
    let cached = EBAY_KEYS.with(|c| match c.borrow().lookup(kid, t) {
        Lookup::Fresh(k) => Some((k.clone(), true)),
        Lookup::Stale(k) => Some((k.clone(), false)),
        Lookup::Missing => None,
    });
    let stale = match cached {
        Some((k, true)) => return KeyFetch::Key(k),
        Some((k, false)) => Some(k),
        None => None,
    };
    let fallback = |why: String| match &stale {
        Some(k) => KeyFetch::Key(k.clone()),
        None => KeyFetch::Unavailable(why),
    };
    let Some(c) = conns.first() else { return stale.map_or(KeyFetch::Unknown, KeyFetch::Key) };
    let mut req = HttpRequest::new(HttpMethod::Get, "").header("Accept", "application/json");
    if let Some(token) = secret(env, c.credentials_secret.as_deref()) {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    match send(&ebay_key_url(c, kid), &req).await {
        Ok(r) if r.status == 200 => match EbayKey::from_response(r.body.as_bytes()) {
            Ok(k) => {
                EBAY_KEYS.with(|cache| cache.borrow_mut().insert(kid, k.clone(), t));
                KeyFetch::Key(k)
            }
            Err(e) => {
                console_warn!("eBay key {kid} is not usable: {e}");
                KeyFetch::Unknown
            }
        },
        Ok(r) if r.status == 404 => {
            EBAY_KEYS.with(|cache| cache.borrow_mut().remove(kid));
            KeyFetch::Unknown
        }
        Ok(r) => fallback(format!("eBay's public key endpoint answered {}", r.status)),
        Err(why) => fallback(format!("eBay's public key endpoint: {why}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Applying a delivery

struct Cx<'a> {
    env: &'a Env,
    db: &'a D1Database,
    t: Millis,
    kind: ChannelKind,
    topic: &'a str,
    dedupe_key: Option<&'a str>,
}

/// What a delivery did; also its answer.
struct Summary {
    channel: Token,
    sold_lines: usize,
    cancelled_orders: usize,
    restocked_lines: usize,
    deferred_restock_lines: usize,
    unmatched_lines: usize,
    drift_recorded: usize,
    drift_pushed_back: usize,
    ignored: Option<Value>,
    unusable: Option<String>,
}

impl Summary {
    fn new(channel: &Token) -> Summary {
        Summary {
            channel: channel.clone(),
            sold_lines: 0,
            cancelled_orders: 0,
            restocked_lines: 0,
            deferred_restock_lines: 0,
            unmatched_lines: 0,
            drift_recorded: 0,
            drift_pushed_back: 0,
            ignored: None,
            unusable: None,
        }
    }

    fn to_json(&self, result: &str, topic: &str) -> Value {
        let mut v = json!({
            "result": result,
            "channel": self.channel.as_str(),
            "topic": topic,
            "sold_lines": self.sold_lines,
            "cancelled_orders": self.cancelled_orders,
            "restocked_lines": self.restocked_lines,
            "deferred_restock_lines": self.deferred_restock_lines,
            "unmatched_lines": self.unmatched_lines,
            "drift_recorded": self.drift_recorded,
            "drift_pushed_back": self.drift_pushed_back,
        });
        if let Some(i) = &self.ignored {
            v["ignored"] = i.clone();
        }
        if let Some(u) = &self.unusable {
            v["detail"] = Value::from(u.as_str());
        }
        v
    }
}

async fn handle(cx: &Cx<'_>, conns: &[Conn], r: &Received, s: &mut Summary) -> Result<Step<()>> {
    let Some(conn) = conns.first() else { return Ok(Ok(())) };
    if cx.kind == ChannelKind::Amazon {
        if let Some(seller) = r.account.as_deref().filter(|a| *a != conn.account) {
            s.unusable = Some(format!("seller {seller} is not the account of channel {}", conn.channel));
            return Ok(Ok(()));
        }
    }
    match &r.outcome {
        Outcome::Ping => Ok(Ok(())),
        Outcome::Ignored { ignored } => {
            s.ignored = Some(serde_json::to_value(ignored).unwrap_or(Value::Null));
            Ok(Ok(()))
        }
        Outcome::Events { events } => apply_all(cx, conn, events, s).await,
        Outcome::Fetch { order } => match cx.kind {
            ChannelKind::Amazon => {
                let items = match amazon_items(cx, conn, order).await? {
                    Ok(Some(items)) => items,
                    Ok(None) => {
                        s.unusable = Some(format!("Amazon has no order {} for channel {}", order.order_id, conn.channel));
                        return Ok(Ok(()));
                    }
                    Err(why) => return Ok(Err(why)),
                };
                match amazon::order_outcome(order, &items) {
                    Ok(Outcome::Events { events }) => apply_all(cx, conn, &events, s).await,
                    Ok(Outcome::Ignored { ignored }) => {
                        s.ignored = Some(serde_json::to_value(&ignored).unwrap_or(Value::Null));
                        Ok(Ok(()))
                    }
                    Ok(_) => Ok(Ok(())),
                    Err(e) => {
                        s.unusable = Some(e.to_string());
                        Ok(Ok(()))
                    }
                }
            }
            ChannelKind::Ebay => {
                for c in conns {
                    match ebay_order(cx, c, order).await? {
                        Ok(Some(events)) => {
                            s.channel = c.channel.clone();
                            return apply_all(cx, c, &events, s).await;
                        }
                        Ok(None) => continue,
                        Err(why) => return Ok(Err(why)),
                    }
                }
                s.unusable = Some(format!("no eBay channel has order {}", order.order_id));
                Ok(Ok(()))
            }
            _ => Ok(Ok(())),
        },
    }
}

async fn apply_all(cx: &Cx<'_>, conn: &Conn, events: &[InboundEvent], s: &mut Summary) -> Result<Step<()>> {
    for e in events {
        let step = match e.kind {
            EventKind::Sale => sale(cx, conn, e, s).await?,
            EventKind::Cancel => cancel(cx, conn, e, s).await?,
            EventKind::Restock => restock(cx, conn, e, s).await?,
            EventKind::Drift => drift_event(cx, conn, e, s).await?,
        };
        if step.is_err() {
            return Ok(step);
        }
    }
    Ok(Ok(()))
}

/// A platform id as a [`Token`]; one that is not (too long, other characters) is replaced by a
/// digest of itself, the same every time.
fn token_of(s: &str) -> Token {
    Token::parse(s).unwrap_or_else(|_| {
        let h = hex::encode(Sha256::digest(s.as_bytes()));
        Token::parse(&format!("h:{}", &h[..40])).unwrap_or_else(|_| unreachable!("a hex digest is a token"))
    })
}

fn order_key(conn: &Conn, e: &InboundEvent) -> Option<OrderKey> {
    e.order_id.as_deref().map(|o| OrderKey { channel: conn.channel.clone(), order_id: token_of(o) })
}

/// Sends a call to an order desk; a desk that cannot be reached (or answers 5xx) is a step that
/// did not complete.
async fn desk(cx: &Cx<'_>, call: &OrderCall) -> Result<Step<Answer>> {
    match order_client::call(cx.env, call).await {
        Ok(a) if a.status >= 500 => Ok(Err(format!("order desk answered {}: {}", a.status, a.body))),
        Ok(a) => {
            if a.is_problem() {
                console_warn!("order desk refused {:?}: {} {}", call.order, a.status, a.body);
            }
            Ok(Ok(a))
        }
        Err(e) => Ok(Err(format!("order desk: {e}"))),
    }
}

/// Bundle SKUs become their components (so a sold bundle sells its components); lines of other
/// SKUs pass unchanged.
async fn expand_bundles(cx: &Cx<'_>, lines: Vec<Line>) -> Result<Vec<Line>> {
    let skus: Vec<Sku> = lines.iter().map(|l| l.sku.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let bundles = catalog_reads::bundles(cx.env, &skus).await?;
    if bundles.is_empty() {
        return Ok(lines);
    }
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        match bundle::expand(vec![l.clone()], &bundles) {
            Ok(parts) => out.extend(parts),
            Err(e) => {
                console_warn!("bundle {} not expanded: {e}", l.sku);
                out.push(l);
            }
        }
    }
    Ok(out)
}

async fn sale(cx: &Cx<'_>, conn: &Conn, e: &InboundEvent, s: &mut Summary) -> Result<Step<()>> {
    let Some(order) = order_key(conn, e) else { return Ok(Ok(())) };
    let skus = map_lines(cx.db, &conn.channel, &e.lines).await?;
    let location = conn.location();
    let mut lines = Vec::new();
    let mut unmatched = Vec::new();
    for (l, sku) in e.lines.iter().zip(skus) {
        match sku {
            Some(sku) => lines.push(Line { sku, qty: l.qty, location: location.clone(), line_id: Some(token_of(&l.line_id)) }),
            None => unmatched.push(l),
        }
    }
    s.unmatched_lines += record_unmatched(cx, conn, e, "sale", &unmatched).await?;
    if lines.is_empty() {
        return Ok(Ok(()));
    }
    let n = lines.len();
    let lines = expand_bundles(cx, lines).await?;
    for chunk in lines.chunks(MAX_LINES) {
        let call = OrderCall { order: order.clone(), action: OrderAction::Sell { lines: chunk.to_vec() }, idempotency: None };
        if let Err(why) = desk(cx, &call).await? {
            return Ok(Err(why));
        }
    }
    s.sold_lines += n;
    Ok(Ok(()))
}

async fn cancel(cx: &Cx<'_>, conn: &Conn, e: &InboundEvent, s: &mut Summary) -> Result<Step<()>> {
    let Some(order) = order_key(conn, e) else { return Ok(Ok(())) };
    let reason = Some(format!("{} {}", cx.kind.as_str(), cx.topic));
    let call = OrderCall { order, action: OrderAction::Cancel { reason }, idempotency: None };
    if let Err(why) = desk(cx, &call).await? {
        return Ok(Err(why));
    }
    s.cancelled_orders += 1;
    Ok(Ok(()))
}

async fn restock(cx: &Cx<'_>, conn: &Conn, e: &InboundEvent, s: &mut Summary) -> Result<Step<()>> {
    let Some(order) = order_key(conn, e) else { return Ok(Ok(())) };
    let skus = map_lines(cx.db, &conn.channel, &e.lines).await?;
    let location = conn.location();
    let mut unmatched = Vec::new();
    for (l, sku) in e.lines.iter().zip(skus) {
        if l.restock == Some(RestockType::Cancel) {
            // Released by the order's cancellation (see the module docs).
            s.deferred_restock_lines += 1;
            continue;
        }
        let Some(sku) = sku else {
            unmatched.push(l);
            continue;
        };
        let line = Line { sku, qty: l.qty, location: location.clone(), line_id: None };
        for part in expand_bundles(cx, vec![line]).await? {
            let key = format!("{RESTOCK_KEY}:{}:{}:{}:{}", order.channel, order.order_id, token_of(&l.line_id), part.sku);
            let fp = fingerprint("POST", RESTOCK_KEY, format!("{} {} {}", part.sku, part.location, part.qty).as_bytes());
            let cause = Cause {
                reason: Some("restock".into()),
                channel: Some(order.channel.to_string()),
                order_id: Some(order.order_id.to_string()),
                line_id: Some(l.line_id.clone()),
                reference: cx.dedupe_key.map(str::to_owned),
                ..Cause::default()
            };
            let call = SkuCall {
                sku: part.sku.clone(),
                action: SkuAction::Apply { commands: vec![Command::Adjust { location: part.location.clone(), delta: part.qty, cause }] },
                idempotency: Some((key, fp)),
            };
            match sku_client::call(cx.env, &call).await {
                Ok(a) if a.status >= 500 => return Ok(Err(format!("ledger {} answered {}", part.sku, a.status))),
                Ok(a) if a.is_problem() => console_warn!("restock of {} refused: {} {}", part.sku, a.status, a.body),
                Ok(_) => {}
                Err(e) => return Ok(Err(format!("ledger {}: {e}", part.sku))),
            }
        }
        s.restocked_lines += 1;
    }
    s.unmatched_lines += record_unmatched(cx, conn, e, "restock", &unmatched).await?;
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------------
// Mapping lines to SKUs

#[derive(Deserialize)]
struct IdentityRow {
    sku: String,
    identity: String,
}

#[derive(Deserialize)]
struct SkuRow {
    sku: String,
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn in_list(db: &D1Database, sql: &str, channel: &Token, values: &[String]) -> Result<D1PreparedStatement> {
    let mut params: Vec<JsValue> = vec![channel.as_str().into()];
    params.extend(values.iter().map(|v| JsValue::from(v.as_str())));
    db.prepare(sql.replace("{in}", &placeholders(values.len()))).bind(&params)
}

/// For each line, the SKU its first look-up key finds among `channel`'s listings.
async fn map_lines(db: &D1Database, channel: &Token, lines: &[InboundLine]) -> Result<Vec<Option<Sku>>> {
    let keys: Vec<Vec<ListingKey>> = lines.iter().map(|l| l.identity.lookup_keys()).collect();
    let mut identities = BTreeSet::new();
    let mut skus = BTreeSet::new();
    for k in keys.iter().flatten() {
        match k {
            ListingKey::Identity(i) => {
                identities.insert(i.clone());
            }
            ListingKey::Sku(s) => {
                skus.insert(s.clone());
            }
            // Resolving a variant needs Shopify's Admin API; such lines stay unmatched.
            ListingKey::ShopifyVariant(_) => {}
        }
    }
    let identities: Vec<String> = identities.into_iter().collect();
    let skus: Vec<String> = skus.into_iter().collect();
    let mut stmts = Vec::new();
    for chunk in identities.chunks(IN_CHUNK) {
        stmts.push(in_list(db, "SELECT sku, identity FROM listings WHERE channel = ? AND identity IN ({in})", channel, chunk)?);
    }
    let split = stmts.len();
    for chunk in skus.chunks(IN_CHUNK) {
        stmts.push(in_list(db, "SELECT sku FROM listings WHERE channel = ? AND sku IN ({in})", channel, chunk)?);
    }
    let mut by_identity = BTreeMap::new();
    let mut listed = BTreeSet::new();
    if !stmts.is_empty() {
        for (i, r) in db.batch(stmts).await?.iter().enumerate() {
            if i < split {
                for row in r.results::<IdentityRow>()? {
                    by_identity.insert(row.identity, row.sku);
                }
            } else {
                for row in r.results::<SkuRow>()? {
                    listed.insert(row.sku);
                }
            }
        }
    }
    Ok(keys
        .iter()
        .map(|ks| {
            ks.iter()
                .find_map(|k| match k {
                    ListingKey::Identity(i) => by_identity.get(i).cloned(),
                    ListingKey::Sku(s) => listed.contains(s).then(|| s.clone()),
                    ListingKey::ShopifyVariant(_) => None,
                })
                .and_then(|s| Sku::parse(&s).ok())
        })
        .collect())
}

/// Records lines that map to no listing (once per order line); returns how many there were.
async fn record_unmatched(cx: &Cx<'_>, conn: &Conn, e: &InboundEvent, kind: &str, lines: &[&InboundLine]) -> Result<usize> {
    if lines.is_empty() {
        return Ok(0);
    }
    let order_id = e.order_id.clone().unwrap_or_default();
    let mut stmts = Vec::with_capacity(lines.len());
    for l in lines {
        let identity = serde_json::to_string(&l.identity).map_err(|e| worker::Error::RustError(e.to_string()))?;
        stmts.push(
            cx.db
                .prepare(
                    "INSERT OR IGNORE INTO unmatched_lines (channel, order_id, line_id, kind, identity, qty, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .bind(&[
                    conn.channel.as_str().into(),
                    order_id.as_str().into(),
                    l.line_id.as_str().into(),
                    kind.into(),
                    identity.into(),
                    (l.qty as f64).into(),
                    (cx.t.0 as f64).into(),
                ])?,
        );
    }
    cx.db.batch(stmts).await?;
    Ok(lines.len())
}

// ---------------------------------------------------------------------------------------------
// Drift

#[derive(Deserialize)]
struct DriftRow {
    sku: String,
    external: String,
    buffer: i64,
    percent: i64,
    max_listed: Option<i64>,
    zero_at_or_below: Option<i64>,
    last_version: Option<i64>,
    last_quantity: Option<i64>,
}

/// The SKU's (available, on_hand, version) now; a SKU never stocked is all 0.
/// A SKU's `(available, on_hand, oversold, version)`; all 0 for a SKU never stocked.
async fn sku_state(cx: &Cx<'_>, sku: &Sku) -> Result<Step<(i64, i64, i64, u64)>> {
    let call = SkuCall { sku: sku.clone(), action: SkuAction::Get, idempotency: None };
    match sku_client::call(cx.env, &call).await {
        Ok(a) if a.status == 200 => {
            let n = |k: &str| a.body.get(k).and_then(Value::as_i64).unwrap_or(0);
            Ok(Ok((n("available"), n("on_hand"), n("oversold"), a.body.get("version").and_then(Value::as_u64).unwrap_or(0))))
        }
        Ok(a) if a.status == 404 => Ok(Ok((0, 0, 0, 0))),
        Ok(a) => Ok(Err(format!("ledger {sku} answered {}", a.status))),
        Err(e) => Ok(Err(format!("ledger {sku}: {e}"))),
    }
}

async fn drift_event(cx: &Cx<'_>, conn: &Conn, e: &InboundEvent, s: &mut Summary) -> Result<Step<()>> {
    for line in &e.lines {
        let PlatformIds::Shopify { inventory_item_id: Some(item), location_id, .. } = &line.identity.ids else { continue };
        let identity = crate::catalog::model::identity::shopify(*item);
        let row: Option<DriftRow> = cx
            .db
            .prepare(
                "SELECT l.sku, l.external, l.buffer, l.percent, l.max_listed, l.zero_at_or_below, s.last_version, s.last_quantity \
                 FROM listings l LEFT JOIN listing_sync s ON s.channel = l.channel AND s.sku = l.sku \
                 WHERE l.channel = ?1 AND l.identity = ?2",
            )
            .bind(&[conn.channel.as_str().into(), identity.as_str().into()])?
            .first(None)
            .await?;
        // A level of an item StockEdge does not list, or at another location: not its business.
        let Some(row) = row else { continue };
        let listed_at = serde_json::from_str::<Value>(&row.external).ok().and_then(|v| External::from_stored(ChannelKind::Shopify, &v));
        if let Some(External::Shopify { location_id: listed, .. }) = listed_at {
            if location_id.is_some_and(|l| l != listed) {
                continue;
            }
        }
        let Ok(sku) = Sku::parse(&row.sku) else { continue };
        let DriftVerdict::Drift { reported, last_pushed } = drift::check(line.qty, row.last_quantity) else { continue };
        let (available, on_hand, oversold, version) = match sku_state(cx, &sku).await? {
            Ok(v) => v,
            Err(why) => return Ok(Err(why)),
        };
        let rule = ListingRule {
            buffer: row.buffer,
            percent: row.percent.clamp(0, 100) as u8,
            max_listed: row.max_listed,
            zero_at_or_below: row.zero_at_or_below,
        };
        let listed = rule.listed(available);
        if reported == listed {
            // What StockEdge lists now (a push not yet recorded, or the platform's own sale
            // matching StockEdge's): nothing to correct.
            continue;
        }
        let push_back = conn.pushes_back_drift();
        cx.db
            .prepare(
                "INSERT INTO drift_events (channel, sku, line_id, reported, last_pushed, listed, action, dedupe_key, occurred_at, received_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(&[
                conn.channel.as_str().into(),
                sku.as_str().into(),
                line.line_id.as_str().into(),
                (reported as f64).into(),
                last_pushed.map_or(JsValue::NULL, |p| (p as f64).into()),
                (listed as f64).into(),
                if push_back { "push_back" } else { "flag" }.into(),
                cx.dedupe_key.map_or(JsValue::NULL, JsValue::from),
                (e.occurred_at.0 as f64).into(),
                (cx.t.0 as f64).into(),
            ])?
            .run()
            .await?;
        s.drift_recorded += 1;
        if !push_back {
            continue;
        }
        // Push StockEdge's number back: mark the listing as holding `reported` at the version
        // before the current one, so the consumer pushes the current version with a
        // compare-and-set from the platform's actual level. Only when the listing's record is
        // at the current version (a newer push in flight corrects the level by itself).
        if version >= 1 && row.last_version == Some(version as i64) {
            cx.db
                .prepare(
                    "UPDATE listing_sync SET last_version = ?1, last_quantity = ?2, updated_at = ?3 \
                     WHERE channel = ?4 AND sku = ?5 AND last_version = ?6",
                )
                .bind(&[
                    ((version - 1) as f64).into(),
                    (reported as f64).into(),
                    (cx.t.0 as f64).into(),
                    conn.channel.as_str().into(),
                    sku.as_str().into(),
                    (version as f64).into(),
                ])?
                .run()
                .await?;
        }
        // A re-announcement of the current state: it raises no alert (the change that oversold did).
        let event = StockChanged { sku: sku.clone(), version, available, on_hand, cause: Op::Set, at: cx.t, oversold, alert: None };
        if let Err(e) = cx.env.queue(QUEUE)?.send(&event).await {
            return Ok(Err(format!("sync queue: {e}")));
        }
        s.drift_pushed_back += 1;
    }
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------------
// Fetching what the notification left out

async fn amazon_token(cx: &Cx<'_>, c: &Conn) -> Step<String> {
    let cached = LWA_TOKENS.with(|m| m.borrow().get(c.channel.as_str()).and_then(|tc| tc.get(cx.t)).map(str::to_owned));
    if let Some(token) = cached {
        return Ok(token);
    }
    let creds = connection::lwa_credentials(secret(cx.env, c.credentials_secret.as_deref()).as_deref())
        .map_err(|e| format!("channel {}: {e}", c.channel))?;
    let resp = send(&connection::token_url(&c.settings), &creds.token_request()).await.map_err(|why| format!("LWA: {why}"))?;
    let token = LwaToken::from_response(&resp, cx.t).map_err(|o| format!("LWA: {o:?}"))?;
    let access = token.access_token.clone();
    LWA_TOKENS.with(|m| m.borrow_mut().entry(c.channel.to_string()).or_default().store(token, cx.t));
    Ok(access)
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// The items of an Amazon order (`getOrderItems`, every page); `None` when Amazon has no such
/// order for the channel.
async fn amazon_items(cx: &Cx<'_>, c: &Conn, order: &FetchOrder) -> Result<Step<Option<Vec<amazon::OrderItem>>>> {
    let token = match amazon_token(cx, c).await {
        Ok(t) => t,
        Err(why) => return Ok(Err(why)),
    };
    let base = connection::base_url(ChannelKind::Amazon, &c.account, &c.settings);
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_ITEM_PAGES {
        let mut path = format!("/orders/v0/orders/{}/orderItems", enc(&order.order_id));
        if let Some(n) = &next {
            path.push_str(&format!("?NextToken={}", enc(n)));
        }
        let req = HttpRequest::new(HttpMethod::Get, path).header("x-amz-access-token", token.as_str()).header("Accept", "application/json");
        let resp = match send(&base, &req).await {
            Ok(r) => r,
            Err(why) => return Ok(Err(format!("getOrderItems: {why}"))),
        };
        match resp.status {
            200 => {}
            404 => return Ok(Ok(None)),
            403 => {
                LWA_TOKENS.with(|m| m.borrow_mut().remove(c.channel.as_str()));
                return Ok(Err("getOrderItems answered 403 (the access token was refused)".into()));
            }
            other => return Ok(Err(format!("getOrderItems answered {other}"))),
        }
        let page = match amazon::parse_order_items_page(resp.body.as_bytes()) {
            Ok(p) => p,
            Err(e) => return Ok(Err(format!("getOrderItems: {e}"))),
        };
        items.extend(page.items);
        next = page.next_token;
        if next.is_none() {
            return Ok(Ok(Some(items)));
        }
    }
    Ok(Err(format!("order {} has more than {MAX_ITEM_PAGES} pages of items", order.order_id)))
}

/// The eBay order as events, read with channel `c`'s credentials; `None` when that channel does
/// not have it.
async fn ebay_order(cx: &Cx<'_>, c: &Conn, order: &FetchOrder) -> Result<Step<Option<Vec<InboundEvent>>>> {
    let Some(token) = secret(cx.env, c.credentials_secret.as_deref()) else { return Ok(Ok(None)) };
    let base = connection::base_url(ChannelKind::Ebay, &c.account, &c.settings);
    let req = HttpRequest::new(HttpMethod::Get, format!("/sell/fulfillment/v1/order?orderIds={}", enc(&order.order_id)))
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept", "application/json");
    let resp = match send(&base, &req).await {
        Ok(r) => r,
        Err(why) => return Ok(Err(format!("getOrders: {why}"))),
    };
    match resp.status {
        200 => {}
        401 | 403 | 404 => return Ok(Ok(None)),
        other => return Ok(Err(format!("getOrders answered {other}"))),
    }
    match ebay::parse_orders_page(resp.body.as_bytes(), &c.account, order.occurred_at) {
        Ok(page) => {
            let events: Vec<InboundEvent> =
                page.events.into_iter().filter(|e| e.order_id.as_deref() == Some(order.order_id.as_str())).collect();
            Ok(Ok((!events.is_empty()).then_some(events)))
        }
        Err(e) => Ok(Err(format!("getOrders: {e}"))),
    }
}

/// Performs one platform call, with this module's timeout.
async fn send(base: &str, req: &HttpRequest) -> Step<HttpResponse> {
    super::platform_http::send(base, req, CALL_TIMEOUT).await
}

// ---------------------------------------------------------------------------------------------
// Deliveries

#[derive(Deserialize)]
struct Seen {
    #[allow(dead_code)]
    n: i64,
}

async fn seen(db: &D1Database, key: &str) -> Result<bool> {
    let row: Option<Seen> = db.prepare("SELECT 1 AS n FROM inbound_deliveries WHERE dedupe_key = ?1").bind(&[key.into()])?.first(None).await?;
    Ok(row.is_some())
}

async fn record_delivery(db: &D1Database, key: &str, channel: &Token, topic: &str, outcome: &str, detail: &Value, t: Millis) -> Result<()> {
    db.batch(vec![
        db.prepare(
            "INSERT OR IGNORE INTO inbound_deliveries (dedupe_key, channel, topic, outcome, detail, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&[key.into(), channel.as_str().into(), topic.into(), outcome.into(), detail.to_string().into(), (t.0 as f64).into()])?,
        db.prepare("DELETE FROM inbound_deliveries WHERE received_at < ?1").bind(&[((t.0 - DELIVERY_RETENTION_MS) as f64).into()])?,
    ])
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GET /v1/inbound/unmatched

#[derive(Deserialize)]
struct UnmatchedRow {
    id: i64,
    channel: String,
    order_id: String,
    line_id: String,
    kind: String,
    identity: String,
    qty: i64,
    received_at: i64,
}

/// `GET /v1/inbound/unmatched?channel=&after=&limit=`: inbound order lines that mapped to no
/// listing, oldest first, with the keys StockEdge looked them up by.
pub async fn unmatched(query: &[(String, String)], env: &Env) -> Result<Response> {
    let mut errors = Vec::new();
    let mut channel: Option<Token> = None;
    let mut after = 0_i64;
    let mut limit = 100_i64;
    for (k, v) in query {
        match k.as_str() {
            "channel" => match Token::parse(v) {
                Ok(c) => channel = Some(c),
                Err(e) => errors.push(FieldError::new("channel", e.to_string())),
            },
            "after" => match v.parse::<i64>() {
                Ok(n) if n >= 0 => after = n,
                _ => errors.push(FieldError::new("after", "must be a whole number, 0 or more (the previous page's next)")),
            },
            "limit" => match v.parse::<i64>() {
                Ok(n) if (1..=1000).contains(&n) => limit = n,
                _ => errors.push(FieldError::new("limit", "must be a whole number from 1 to 1000")),
            },
            _ => {}
        }
    }
    if !errors.is_empty() {
        return http::problem(&Problem::invalid(errors));
    }
    let db = env.d1(DB)?;
    let rows: Vec<UnmatchedRow> = db
        .prepare(
            "SELECT id, channel, order_id, line_id, kind, identity, qty, received_at FROM unmatched_lines \
             WHERE id > ?1 AND (?2 IS NULL OR channel = ?2) ORDER BY id LIMIT ?3",
        )
        .bind(&[(after as f64).into(), channel.as_ref().map_or(JsValue::NULL, |c| c.as_str().into()), ((limit + 1) as f64).into()])?
        .all()
        .await?
        .results()?;
    let more = rows.len() as i64 > limit;
    let page: Vec<&UnmatchedRow> = rows.iter().take(limit as usize).collect();
    let items: Vec<Value> = page
        .iter()
        .map(|r| {
            let identity: Option<LineIdentity> = serde_json::from_str(&r.identity).ok();
            json!({
                "id": r.id,
                "channel": r.channel,
                "order_id": r.order_id,
                "line_id": r.line_id,
                "kind": r.kind,
                "qty": r.qty,
                "sku": identity.as_ref().and_then(|i| i.sku.clone()),
                "identity": serde_json::from_str::<Value>(&r.identity).unwrap_or(Value::Null),
                "lookup_keys": identity.map(|i| i.lookup_keys()).unwrap_or_default(),
                "received_at": Millis(r.received_at).to_rfc3339(),
            })
        })
        .collect();
    let mut body = json!({ "items": items });
    if more {
        if let Some(last) = page.last() {
            body["next"] = Value::from(last.id);
        }
    }
    http::json(200, &body)
}
