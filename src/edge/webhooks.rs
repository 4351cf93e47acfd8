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
//! - Otherwise it is applied as `crate::inbound::apply` plans it (`inbound_apply.rs` carries the
//!   plan out) — the path the order-feed polls (`inbound_poll.rs`) take too — and answers 200
//!   with what it did. A step that could not
//!   complete answers 503 and records nothing: the platform's retry applies the rest (Shopify,
//!   eBay and an SQS forwarder retry; WooCommerce does not — the poll catches up).

use std::cell::RefCell;

use futures::StreamExt;
use serde_json::json;
use worker::{console_warn, D1Database, Env, Request, Response};

use crate::api::{FieldError, Kind, Problem};
use crate::catalog::model::ChannelKind;
use crate::channels::registry::ReceiveFn;
use crate::channels::{platform, WebhookAddress, WebhookVerify};
use crate::fault::Fault;
use crate::inbound::apply::{Arrival, Report};
use crate::inbound::delivery::{refusal, unusable_key, DRAIN_BYTES, MAX_CANDIDATES};
use crate::inbound::fetch::{ebay_key_answer, ebay_key_url, KeyAnswer, CALL_TIMEOUT};
use crate::inbound::{
    ebay, ApplyError, EbayKey, Headers, InboundChannel, InboundError, KeyCache, Lookup, Received, MAX_BODY_BYTES,
};
use crate::metrics::durable::WebhookOutcome;
use crate::sync::{connection, HttpRequest, Method as HttpMethod};
use crate::time::Millis;

use super::clock::now;
use super::ebay_token::EbayAuth;
use super::inbound_apply::{apply, send, Cx};
use super::store::{self, inbound as rows};
use super::{http, secrets};

thread_local! {
    /// eBay public keys by `kid`, for this isolate's lifetime.
    static EBAY_KEYS: RefCell<KeyCache<EbayKey>> = RefCell::new(KeyCache::new());
}

/// The webhook signing key of a channel: the secret `settings.webhook_secret` names.
fn webhook_secret(env: &Env, c: &InboundChannel) -> Option<String> {
    secrets::read(env, c.setting("webhook_secret")).ok()
}

/// The channels a delivery may be for (see the module docs), in channel id order: as the
/// platform's webhook registration says it names its channel.
async fn candidates(
    db: &D1Database,
    kind: ChannelKind,
    headers: &Headers,
    hint: Option<&str>,
) -> Result<Vec<InboundChannel>, Fault> {
    let address = platform(kind).webhook.map_or(WebhookAddress::Hint, |w| w.address);
    let mut conns = match address {
        WebhookAddress::AccountHeader(h) => match headers.get(h) {
            Some(account) => rows::webhook_channels(db, kind, Some(account), hint).await?,
            None => Vec::new(),
        },
        WebhookAddress::SiteHeader(_) | WebhookAddress::Hint => rows::webhook_channels(db, kind, None, hint).await?,
    };
    if let WebhookAddress::SiteHeader(h) = address {
        conns.retain(|c| c.is_site(headers.get(h)));
    }
    conns.truncate(MAX_CANDIDATES);
    Ok(conns)
}

/// What a delivery's authentication came to.
enum Verified {
    /// Authentic for these channels (one for HMAC platforms; the eBay candidates), and what the
    /// core made of it.
    Ok {
        conns: Vec<InboundChannel>,
        result: Result<Received, InboundError>,
    },
    Unauthorized,
    /// The eBay key could not be fetched and none is cached.
    Unavailable(String),
}

fn unauthorized() -> Result<Response, Fault> {
    let detail = "the delivery's signature does not verify with any matching channel's webhook key";
    Ok(http::problem(&Problem::new(Kind::Unauthorized, detail))?)
}

fn unavailable(why: &str) -> Result<Response, Fault> {
    console_warn!("webhook not completed: {why}");
    let detail = format!("the delivery could not be completed ({why}); nothing was recorded — send it again");
    Ok(http::problem(&Problem::new(Kind::Unavailable, detail))?)
}

fn too_large() -> Problem {
    Problem::new(Kind::PayloadTooLarge, format!("webhook bodies are at most {MAX_BODY_BYTES} bytes"))
}

/// Reads at most [`MAX_BODY_BYTES`]: a larger body is refused (413) before anything looks at
/// it. With a `Content-Length` over the limit nothing is read. A chunked body (no length) is kept
/// up to the limit; past it the rest is only drained and dropped, up to [`DRAIN_BYTES`], so that
/// the connection can carry the answer.
async fn read_body(req: &mut Request) -> Result<Option<Vec<u8>>, Fault> {
    if let Ok(Some(len)) = req.headers().get("content-length") {
        if len.trim().parse::<u64>().is_ok_and(|n| n > MAX_BODY_BYTES as u64) {
            return Ok(None);
        }
    }
    let Ok(mut stream) = req.stream() else { return Ok(Some(Vec::new())) };
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
    Ok((seen <= MAX_BODY_BYTES).then_some(body))
}

/// `POST /v1/webhooks/{platform}`, counted in the durable metrics by how it ended
/// (`crate::metrics::durable::WebhookOutcome`; a fault counts as `unavailable`).
pub async fn receive(kind: ChannelKind, req: Request, env: &Env) -> Result<Response, Fault> {
    let (outcome, answer) = match handle(kind, req, env).await {
        Ok((outcome, response)) => (outcome, Ok(response)),
        Err(e) => (WebhookOutcome::Unavailable, Err(e)),
    };
    super::metrics::count_webhook(env, kind.as_str(), outcome).await;
    answer
}

/// Receives one delivery: the answer and how the delivery ended.
async fn handle(kind: ChannelKind, mut req: Request, env: &Env) -> Result<(WebhookOutcome, Response), Fault> {
    use WebhookOutcome as O;
    let Some(body) = read_body(&mut req).await? else { return Ok((O::TooLarge, http::problem(&too_large())?)) };
    let headers = Headers::from_pairs(req.headers().entries());
    let hint = req.url()?.query_pairs().find(|(k, _)| k == "channel").map(|(_, v)| v.into_owned());
    let Some(webhook) = platform(kind).webhook else { return Ok((O::Unauthorized, unauthorized()?)) };
    if webhook.is_ping.is_some_and(|is_ping| is_ping(&headers, &body)) {
        return Ok((O::Ping, http::json(200, &json!({"result": "ping"}))?));
    }
    let t = now();
    let db = store::db(env)?;
    let conns = candidates(&db, kind, &headers, hint.as_deref()).await?;
    let verified = match webhook.verify {
        WebhookVerify::EbayKeys => verify_ebay(env, conns, &headers, &body, t).await,
        WebhookVerify::Hmac(read) => verify_hmac(env, read, conns, &headers, &body, t),
    };
    let (conns, result) = match verified {
        Verified::Ok { conns, result } => (conns, result),
        Verified::Unauthorized => return Ok((O::Unauthorized, unauthorized()?)),
        Verified::Unavailable(why) => return Ok((O::Unavailable, unavailable(&why)?)),
    };
    let Some((first, others)) = conns.split_first() else { return Ok((O::Unauthorized, unauthorized()?)) };
    let received = match result {
        Ok(r) => r,
        Err(InboundError::Unauthorized(_)) => return Ok((O::Unauthorized, unauthorized()?)),
        Err(InboundError::TooLarge { .. }) => return Ok((O::TooLarge, http::problem(&too_large())?)),
        Err(InboundError::Payload(e)) => {
            console_warn!("{} webhook for channel {} is unusable: {e}", kind.as_str(), first.id);
            let detail = json!({"error": e.to_string()});
            let key = unusable_key(kind, &body);
            rows::record_delivery(&db, &key, &first.id, "unknown", "unusable", &detail, t).await?;
            let answer = json!({"result": "unusable", "channel": first.id.as_str(), "detail": e.to_string()});
            return Ok((O::Unusable, http::json(200, &answer)?));
        }
    };
    if let Some(key) = &received.dedupe_key {
        if rows::delivery_seen(&db, key).await? {
            let answer = json!({"result": "duplicate", "channel": first.id.as_str(), "topic": received.topic});
            return Ok((O::Duplicate, http::json(200, &answer)?));
        }
    }
    let at = Arrival { kind, topic: &received.topic, dedupe_key: received.dedupe_key.as_deref(), now: t };
    let report = match refusal(first, &received) {
        Some(why) => Report::unusable(&first.id, why),
        None => match apply(&Cx { env, db: &db, at }, first, others, &received.outcome).await {
            Ok(report) => report,
            Err(ApplyError::Fault(Fault::Store(e))) => return Err(e.into()),
            Err(e) => return Ok((O::Unavailable, unavailable(&e.to_string())?)),
        },
    };
    let answer = report.answer(&received.topic);
    if let Some(key) = &received.dedupe_key {
        rows::record_delivery(&db, key, &report.channel, &received.topic, report.result(), &answer, t).await?;
    }
    Ok((O::Accepted, http::json(200, &answer)?))
}

/// HMAC platforms: the first candidate whose webhook key verifies the delivery (with the
/// platform's registered reader).
fn verify_hmac(
    env: &Env,
    read: ReceiveFn,
    conns: Vec<InboundChannel>,
    headers: &Headers,
    body: &[u8],
    t: Millis,
) -> Verified {
    for c in conns {
        let Some(key) = webhook_secret(env, &c) else { continue };
        let result = read(headers, body, key.as_bytes(), t);
        if !matches!(result, Err(InboundError::Unauthorized(_))) {
            return Verified::Ok { conns: vec![c], result };
        }
    }
    Verified::Unauthorized
}

/// eBay: eBay's key for the header's `kid` (cached, else fetched), then the core's check.
async fn verify_ebay(env: &Env, conns: Vec<InboundChannel>, headers: &Headers, body: &[u8], t: Millis) -> Verified {
    let Ok(sig) = ebay::parse_signature_header(headers) else { return Verified::Unauthorized };
    match ebay_key(env, &conns, &sig.kid, t).await {
        Ok(Some(key)) => Verified::Ok { result: ebay::receive(headers, body, &key, t), conns },
        Ok(None) => Verified::Unauthorized,
        Err(why) => Verified::Unavailable(why),
    }
}

/// eBay's key `kid`: fresh from the cache, else fetched (with the first candidate's credentials:
/// eBay authorises `getPublicKey` per application), else a stale cached copy. `Ok(None)`: eBay
/// has no such key; `Err`: it could not be asked and none is cached.
async fn ebay_key(env: &Env, conns: &[InboundChannel], kid: &str, t: Millis) -> Result<Option<EbayKey>, String> {
    let cached = EBAY_KEYS.with(|c| match c.borrow().lookup(kid, t) {
        Lookup::Fresh(k) => Some((k.clone(), true)),
        Lookup::Stale(k) => Some((k.clone(), false)),
        Lookup::Missing => None,
    });
    let stale = match cached {
        Some((k, true)) => return Ok(Some(k)),
        other => other.map(|(k, _)| k),
    };
    let Some(c) = conns.first() else { return Ok(stale) };
    let req = HttpRequest::new(HttpMethod::Get, "").header("Accept", "application/json");
    let base = connection::base_url(ChannelKind::Ebay, &c.account, &c.settings);
    let url = ebay_key_url(c.setting("public_key_url"), &base, kid);
    let secret = secrets::read(env, c.credentials_secret.as_deref()).ok();
    let answer = match EbayAuth::of(secret.as_deref(), &c.account, &c.settings) {
        Ok(auth) => auth.application().send(&url, &req, t, CALL_TIMEOUT).await.map_err(|e| e.to_string()),
        Err(_) => send(&url, &req).await,
    };
    match ebay_key_answer(answer.as_ref().map_err(String::clone)) {
        KeyAnswer::Key(k) => {
            EBAY_KEYS.with(|cache| cache.borrow_mut().insert(kid, k.clone(), t));
            Ok(Some(k))
        }
        KeyAnswer::Unknown { forget } => {
            if forget {
                EBAY_KEYS.with(|cache| cache.borrow_mut().remove(kid));
            }
            Ok(None)
        }
        KeyAnswer::Unavailable(why) => stale.map(Some).ok_or(why),
    }
}

/// `GET /v1/webhooks/ebay?challenge_code=…`: eBay's endpoint validation,
/// `{"challengeResponse": hex(SHA-256(code ‖ verification token ‖ endpoint))}`. The verification
/// token is the secret the eBay channel's `settings.webhook_secret` names; the endpoint is
/// `settings.endpoint_url`, else this request's URL without its query (what was registered with
/// eBay, when StockEdge is reached directly). `?channel=` picks the channel; without it, the first
/// eBay channel with a token answers.
pub async fn ebay_challenge(req: &Request, env: &Env) -> Result<Response, Fault> {
    let url = req.url()?;
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let Some(code) = query("challenge_code").filter(|c| !c.is_empty() && c.len() <= 512) else {
        let why = "eBay's endpoint validation sends challenge_code (1 to 512 characters); notifications are POSTed";
        return Ok(http::problem(&Problem::invalid(vec![FieldError::new("challenge_code", why)]))?);
    };
    let db = store::db(env)?;
    let conns = candidates(&db, ChannelKind::Ebay, &Headers::default(), query("channel").as_deref()).await?;
    let Some((conn, token)) = conns.iter().find_map(|c| webhook_secret(env, c).map(|t| (c, t))) else {
        let detail = "no eBay channel has a verification token (settings.webhook_secret names it)";
        return Ok(http::problem(&Problem::new(Kind::NotFound, detail).with("resource", "channel"))?);
    };
    let endpoint = match conn.setting("endpoint_url") {
        Some(e) => e.to_owned(),
        None => {
            let mut u = url.clone();
            u.set_query(None);
            u.to_string()
        }
    };
    let answer = json!({ "challengeResponse": ebay::challenge_response(&code, &token, &endpoint) });
    Ok(http::json(200, &answer)?)
}
