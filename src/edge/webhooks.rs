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
//!   bearer token (`super::ebay_token`: its bare token, or one minted from its refresh
//!   token), and kept in this isolate's memory for an hour (`inbound::KeyCache`). `?channel=<id>` names the channel; without it, the order is looked
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
//! - Otherwise it is applied as `inbound_apply.rs` describes — the path the order-feed polls
//!   (`inbound_poll.rs`) take too — and answers 200 with what it did. A step that could not
//!   complete answers 503 and records nothing: the platform's retry applies the rest (Shopify,
//!   eBay and an SQS forwarder retry; WooCommerce does not — the poll catches up).

use std::cell::RefCell;

use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wasm_bindgen::JsValue;
use worker::{console_warn, D1Database, Env, Request, Response, Result};

use crate::api::{Kind, Problem};
use crate::catalog::model::ChannelKind;
use crate::inbound::{
    amazon, ebay, shopify, woocommerce, EbayKey, Headers, InboundError, KeyCache, Lookup, Received, MAX_BODY_BYTES,
};
use crate::stock::Token;
use crate::sync::{connection, HttpRequest, Method as HttpMethod};
use crate::time::Millis;

use super::clock::now;
use super::ebay_token::EbayAuth;
use super::http;
use super::inbound_apply::{handle, secret, send, ChannelRow, Conn, Cx, Summary, CALL_TIMEOUT, CHANNEL_SELECT, DB};

/// Channels tried per delivery (each costs a signature check over the body).
const MAX_CANDIDATES: usize = 16;
/// How long a handled delivery's key is kept.
const DELIVERY_RETENTION_MS: i64 = 7 * 24 * 3_600_000;
/// Most of an oversized chunked body drained before answering 413 (see [`read_body`]).
const DRAIN_BYTES: usize = 16 * 1024 * 1024;

thread_local! {
    /// eBay public keys by `kid`, for this isolate's lifetime.
    static EBAY_KEYS: RefCell<KeyCache<EbayKey>> = RefCell::new(KeyCache::new());
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

/// The channels a delivery may be for (see the module docs), in channel id order.
async fn candidates(db: &D1Database, kind: ChannelKind, headers: &Headers, hint: Option<&str>) -> Result<Vec<Conn>> {
    let k = JsValue::from(kind.as_str());
    let stmt = match kind {
        ChannelKind::Shopify => {
            let Some(shop) = headers.get(shopify::SHOP_HEADER) else { return Ok(Vec::new()) };
            db.prepare(format!(
                "{CHANNEL_SELECT} WHERE kind = ?1 AND lower(account) = ?2 ORDER BY channel LIMIT {MAX_CANDIDATES}"
            ))
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
    Ok {
        conns: Vec<Conn>,
        result: std::result::Result<Received, InboundError>,
    },
    Unauthorized,
    /// The eBay key could not be fetched and none is cached.
    Unavailable(String),
}

fn unauthorized() -> Result<Response> {
    http::problem(&Problem::new(
        Kind::Unauthorized,
        "the delivery's signature does not verify with any matching channel's webhook key",
    ))
}

fn unavailable(why: &str) -> Result<Response> {
    console_warn!("webhook not completed: {why}");
    http::problem(&Problem::new(
        Kind::Unavailable,
        format!("the delivery could not be completed ({why}); nothing was recorded — send it again"),
    ))
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
            return http::json(
                200,
                &json!({"result": "unusable", "channel": first.channel.as_str(), "detail": e.to_string()}),
            );
        }
    };
    if let Some(key) = &received.dedupe_key {
        if seen(&db, key).await? {
            return http::json(
                200,
                &json!({"result": "duplicate", "channel": first.channel.as_str(), "topic": received.topic}),
            );
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
        None => format!(
            "{}/commerce/notification/v1/public_key/{kid}",
            connection::base_url(ChannelKind::Ebay, &c.account, &c.settings)
        ),
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
    let req = HttpRequest::new(HttpMethod::Get, "").header("Accept", "application/json");
    let url = ebay_key_url(c, kid);
    // eBay authorises getPublicKey per application: with refresh-token credentials an
    // application token (client-credentials grant); a bare token as it is; without usable
    // credentials, unauthenticated.
    let answer = match EbayAuth::of(secret(env, c.credentials_secret.as_deref()).as_deref(), &c.account, &c.settings) {
        Ok(auth) => auth.application().send(&url, &req, t, CALL_TIMEOUT).await.map_err(|e| e.to_string()),
        Err(_) => send(&url, &req).await,
    };
    match answer {
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
// Deliveries

#[derive(Deserialize)]
struct Seen {
    #[allow(dead_code)]
    n: i64,
}

async fn seen(db: &D1Database, key: &str) -> Result<bool> {
    let row: Option<Seen> = db
        .prepare("SELECT 1 AS n FROM inbound_deliveries WHERE dedupe_key = ?1")
        .bind(&[key.into()])?
        .first(None)
        .await?;
    Ok(row.is_some())
}

async fn record_delivery(
    db: &D1Database,
    key: &str,
    channel: &Token,
    topic: &str,
    outcome: &str,
    detail: &Value,
    t: Millis,
) -> Result<()> {
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
// GET /v1/webhooks/ebay?challenge_code=…

/// eBay's endpoint validation: `{"challengeResponse": hex(SHA-256(code ‖ verification token ‖
/// endpoint))}`. The verification token is the secret the eBay channel's
/// `settings.webhook_secret` names; the endpoint is `settings.endpoint_url`, else this request's
/// URL without its query (what was registered with eBay, when StockEdge is reached directly).
/// `?channel=` picks the channel; without it, the first eBay channel with a token answers.
pub async fn ebay_challenge(req: &Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let mut code = None;
    let mut hint = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "challenge_code" => code = Some(v.into_owned()),
            "channel" => hint = Some(v.into_owned()),
            _ => {}
        }
    }
    let Some(code) = code.filter(|c| !c.is_empty() && c.len() <= 512) else {
        return http::problem(&Problem::invalid(vec![crate::api::FieldError::new(
            "challenge_code",
            "eBay's endpoint validation sends challenge_code (1 to 512 characters); notifications are POSTed",
        )]));
    };
    let db = env.d1(DB)?;
    let conns = candidates(&db, ChannelKind::Ebay, &Headers::default(), hint.as_deref()).await?;
    let Some((conn, token)) = conns.iter().find_map(|c| webhook_secret(env, c).map(|t| (c, t))) else {
        return http::problem(
            &Problem::new(
                Kind::NotFound,
                "no eBay channel has a verification token (settings.webhook_secret names it)",
            )
            .with("resource", "channel"),
        );
    };
    let endpoint = match conn.setting("endpoint_url") {
        Some(e) => e.to_owned(),
        None => {
            let mut u = url.clone();
            u.set_query(None);
            u.to_string()
        }
    };
    http::json(200, &json!({ "challengeResponse": ebay::challenge_response(&code, &token, &endpoint) }))
}
