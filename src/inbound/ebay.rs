//! eBay: Notification API deliveries (`X-EBAY-SIGNATURE`, ECDSA), the endpoint challenge, and
//! Fulfillment API `getOrders` pages.
//!
//! Sources:
//! - developer.ebay.com/api-docs/commerce/notification/overview.html: the header "is a
//!   Base64-encoded, packed header" of `{"alg": …, "kid": "{public key ID}", "signature": …,
//!   "digest": …}`; the key comes from `GET /commerce/notification/v1/public_key/{public_key_id}`,
//!   which answers `{algorithm, digest, key}` ("such as … (ECDSA)", "such as … (SHA1)") and should
//!   be cached "one-hour is recommended" (…/public_key/methods/getPublicKey).
//! - eBay's SDKs (eBay/event-notification-java-sdk `SignatureValidator`, eBay/event-notification-
//!   nodejs-sdk `validator.js`): the `key` is a PEM on one line
//!   (`-----BEGIN PUBLIC KEY-----MFkwEwYH…-----END PUBLIC KEY-----`, an X.509 SubjectPublicKeyInfo);
//!   the signature is base64 of a DER ECDSA signature; the verifier is `<digest>withECDSA` with the
//!   digest the key response names, over the JSON message; the endpoint challenge answer is
//!   hex(SHA-256(challengeCode ‖ verificationToken ‖ endpoint)).
//! - Payload: `{metadata: {topic, schemaVersion, deprecated}, notification: {notificationId,
//!   eventDate, publishDate, publishAttemptCount, data}}`. `ORDER_CONFIRMATION` (asyncapi
//!   order_confirmation.yaml): "generated for each line item in the order. The seller looks up the
//!   orderId from the notification and then issues a GetOrders call".
//! - Fulfillment `getOrders` (`OrderSearchPagedCollection`): `{href, limit, next, offset, orders[],
//!   total}`; an order has `orderId`, `sellerId`, `creationDate`, `lastModifiedDate`,
//!   `cancelStatus.cancelState` (`CANCELED` | `IN_PROGRESS` | `NONE_REQUESTED`), `lineItems[]` with
//!   `lineItemId`, `legacyItemId`, `legacyVariationId`, `sku`, `quantity`.
//!
//! Choices where the docs are silent:
//! - The signature is checked over the raw body bytes. The SDKs re-serialise the parsed message
//!   (`JSON.stringify`), which equals the compact body eBay sends; re-serialising here could only
//!   differ from what eBay signed.
//! - The digest is the one the key response names (as the SDKs do), not the header's (which an
//!   attacker controls). Keys built directly ([`EbayKey::from_pem`], [`EbayKey::from_der`]) say
//!   which digest they go with. SHA-1 and SHA-256 are supported.
//! - `alg` must be `ecdsa` (any case). `kid` must be 1..=128 characters of `A-Z a-z 0-9 . _ -`,
//!   since it becomes a path segment of the key fetch.
//! - `ORDER_CONFIRMATION` → fetch the order (`data.orderId`, or `data.order.orderId`). Other topics
//!   are acknowledged and ignored. De-duplication key: `ebay:{notificationId}`.
//! - getOrders: an order whose `cancelState` is `CANCELED` is a Cancel; every other order is a Sale
//!   (eBay takes the quantity when the buyer commits to buy, paid or not; an unpaid order that is
//!   cancelled later becomes a Cancel). The account is the order's `sellerId`, else the one passed.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::error::{AuthError, InboundError, PayloadError};
use super::event::{
    EventKind, FetchOrder, Ignored, InboundEvent, InboundLine, InboundOutcome, LineIdentity, PlatformIds, Received,
};
use super::headers::Headers;
use super::json::{self, Object};
use super::limits::{MAX_BODY_BYTES, MAX_KID_LEN, MAX_SIGNATURE_HEADER_BYTES};
use crate::catalog::model::ChannelKind;
use crate::time::Millis;

pub const SIGNATURE_HEADER: &str = "X-EBAY-SIGNATURE";
pub const ORDER_CONFIRMATION: &str = "ORDER_CONFIRMATION";

/// Longest `next` page URI kept.
const MAX_NEXT_LEN: usize = 4096;

/// The digest an eBay key signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EbayDigest {
    Sha1,
    Sha256,
}

impl EbayDigest {
    /// `SHA1`, `SHA-1`, `SHA256`, `SHA-256` (any case).
    pub fn parse(s: &str) -> Option<EbayDigest> {
        match s.trim().to_ascii_uppercase().replace('-', "").as_str() {
            "SHA1" => Some(EbayDigest::Sha1),
            "SHA256" => Some(EbayDigest::Sha256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EbayDigest::Sha1 => "SHA1",
            EbayDigest::Sha256 => "SHA256",
        }
    }

    fn hash(self, body: &[u8]) -> Vec<u8> {
        match self {
            EbayDigest::Sha1 => sha1::Sha1::digest(body).to_vec(),
            EbayDigest::Sha256 => Sha256::digest(body).to_vec(),
        }
    }
}

/// An eBay notification public key (P-256) and the digest it signs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EbayKey {
    key: VerifyingKey,
    digest: EbayDigest,
}

impl EbayKey {
    pub fn new(key: VerifyingKey, digest: EbayDigest) -> EbayKey {
        EbayKey { key, digest }
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    pub fn digest(&self) -> EbayDigest {
        self.digest
    }

    /// A SubjectPublicKeyInfo in PEM — on one line as eBay sends it, or wrapped — or the bare
    /// base64 of the DER.
    pub fn from_pem(text: &str, digest: EbayDigest) -> Result<EbayKey, AuthError> {
        const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
        const END: &str = "-----END PUBLIC KEY-----";
        if text.len() > MAX_SIGNATURE_HEADER_BYTES {
            return Err(AuthError::BadKey("the key text is too long"));
        }
        let inner = match (text.find(BEGIN), text.find(END)) {
            (Some(b), Some(e)) if b + BEGIN.len() <= e => &text[b + BEGIN.len()..e],
            (None, None) => text,
            _ => return Err(AuthError::BadKey("unbalanced PEM markers")),
        };
        let b64: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD.decode(b64.as_bytes()).map_err(|_| AuthError::BadKey("the key is not base64"))?;
        EbayKey::from_der(&der, digest)
    }

    /// A DER SubjectPublicKeyInfo (or, failing that, a SEC1 encoded point).
    pub fn from_der(der: &[u8], digest: EbayDigest) -> Result<EbayKey, AuthError> {
        VerifyingKey::from_public_key_der(der)
            .or_else(|_| VerifyingKey::from_sec1_bytes(der))
            .map(|key| EbayKey { key, digest })
            .map_err(|_| AuthError::BadKey("not a P-256 public key"))
    }

    /// The body of `GET /commerce/notification/v1/public_key/{kid}`: `{key, algorithm, digest}`.
    pub fn from_response(body: &[u8]) -> Result<EbayKey, AuthError> {
        let obj = json::object(body).map_err(|_| AuthError::BadKey("the key response is not a JSON object"))?;
        let field = |k: &str| obj.get(k).and_then(Value::as_str);
        let algorithm = field("algorithm").ok_or(AuthError::BadKey("the key response has no algorithm"))?;
        if !algorithm.eq_ignore_ascii_case("ecdsa") {
            return Err(AuthError::BadKey("the key is not an ECDSA key"));
        }
        let digest = field("digest")
            .and_then(EbayDigest::parse)
            .ok_or(AuthError::BadKey("the key response names no supported digest"))?;
        let key = field("key").ok_or(AuthError::BadKey("the key response has no key"))?;
        EbayKey::from_pem(key, digest)
    }
}

/// The decoded `X-EBAY-SIGNATURE` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHeader {
    pub alg: String,
    /// The public key id to verify with (and to fetch, when not cached).
    pub kid: String,
    /// The decoded signature (DER, or 64 bytes r‖s).
    pub signature: Vec<u8>,
    /// What the header claims; informational (the key's digest is used).
    pub digest: Option<String>,
}

fn malformed(reason: &'static str) -> AuthError {
    AuthError::MalformedHeader { header: SIGNATURE_HEADER, reason }
}

fn b64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s.as_bytes()).or_else(|_| STANDARD_NO_PAD.decode(s.as_bytes())).ok()
}

/// Whether `kid` may be used as a key id (and a URL path segment).
pub fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// Decodes `X-EBAY-SIGNATURE` (base64 of a JSON object).
pub fn parse_signature_header(headers: &Headers) -> Result<SignatureHeader, AuthError> {
    let value = headers.get(SIGNATURE_HEADER).ok_or(AuthError::MissingHeader { header: SIGNATURE_HEADER })?;
    if value.len() > MAX_SIGNATURE_HEADER_BYTES {
        return Err(malformed("too long"));
    }
    let raw = b64(value).ok_or(malformed("not base64"))?;
    let obj = match serde_json::from_slice::<Value>(&raw) {
        Ok(Value::Object(m)) => m,
        _ => return Err(malformed("not a base64 JSON object")),
    };
    let field = |k: &str| obj.get(k).and_then(Value::as_str).map(str::trim);
    let alg = field("alg").ok_or(malformed("no alg"))?;
    if !alg.eq_ignore_ascii_case("ecdsa") {
        return Err(malformed("alg is not ecdsa"));
    }
    let kid = field("kid").ok_or(malformed("no kid"))?;
    if !valid_kid(kid) {
        return Err(malformed("kid is not a key id"));
    }
    let signature = field("signature").and_then(b64).ok_or(malformed("no base64 signature"))?;
    Ok(SignatureHeader {
        alg: alg.to_string(),
        kid: kid.to_string(),
        signature,
        digest: field("digest").map(str::to_string),
    })
}

/// Builds an `X-EBAY-SIGNATURE` value (for simulators and tests).
pub fn encode_signature_header(kid: &str, signature: &[u8], digest: EbayDigest) -> String {
    let json = serde_json::json!({
        "alg": "ecdsa",
        "kid": kid,
        "signature": STANDARD.encode(signature),
        "digest": digest.as_str(),
    });
    STANDARD.encode(json.to_string())
}

/// Verifies `X-EBAY-SIGNATURE` over the raw body with `key` (fetched for the header's `kid`).
pub fn verify(headers: &Headers, body: &[u8], key: &EbayKey) -> Result<(), AuthError> {
    let header = parse_signature_header(headers)?;
    let sig = Signature::from_der(&header.signature)
        .or_else(|_| Signature::from_slice(&header.signature))
        .map_err(|_| malformed("the signature is not an ECDSA signature"))?;
    let prehash = key.digest.hash(body);
    key.key.verify_prehash(&prehash, &sig).map_err(|_| AuthError::Mismatch)
}

/// The whole pipeline for `POST /v1/webhooks/ebay`. The edge first reads the `kid`
/// ([`parse_signature_header`]), gets the key ([`KeyCache`](super::KeyCache), fetching when told
/// to), then calls this.
pub fn receive(headers: &Headers, body: &[u8], key: &EbayKey, now: Millis) -> Result<Received, InboundError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(InboundError::TooLarge { size: body.len(), max: MAX_BODY_BYTES });
    }
    verify(headers, body, key)?;
    let n = parse_notification(body)?;
    let outcome = match (&n.topic[..], &n.order_id) {
        (ORDER_CONFIRMATION, Some(order_id)) => InboundOutcome::Fetch {
            order: FetchOrder {
                channel_kind: ChannelKind::Ebay,
                account: None,
                order_id: order_id.clone(),
                status: None,
                occurred_at: n.event_date.unwrap_or(now),
            },
        },
        (ORDER_CONFIRMATION, None) => return Err(PayloadError::missing("notification.data.orderId").into()),
        _ => InboundOutcome::ignored(Ignored::UnhandledTopic { topic: n.topic.clone() }),
    };
    Ok(Received {
        channel_kind: ChannelKind::Ebay,
        account: None,
        topic: n.topic,
        dedupe_key: Some(format!("ebay:{}", n.notification_id)),
        outcome,
    })
}

/// A parsed (verified) notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub topic: String,
    pub notification_id: String,
    pub event_date: Option<Millis>,
    /// `data.orderId` (or `data.order.orderId`) when present.
    pub order_id: Option<String>,
}

pub fn parse_notification(body: &[u8]) -> Result<Notification, PayloadError> {
    let root = json::object(body)?;
    let metadata = json::child(&root, "metadata", "")?;
    let notification = json::child(&root, "notification", "")?;
    let order_id = match json::get(notification, "data") {
        Some(Value::Object(data)) => match json::id_opt(data, "orderId", "notification.data")? {
            Some(id) => Some(id),
            None => match json::get(data, "order") {
                Some(Value::Object(order)) => json::id_opt(order, "orderId", "notification.data.order")?,
                _ => None,
            },
        },
        _ => None,
    };
    Ok(Notification {
        topic: json::text(metadata, "topic", "metadata")?,
        notification_id: json::id(notification, "notificationId", "notification")?,
        event_date: json::time_opt(notification, "eventDate"),
        order_id,
    })
}

/// The answer to eBay's endpoint challenge (`GET …?challenge_code=…`):
/// `{"challengeResponse": <this>}`, hex(SHA-256(code ‖ verification token ‖ endpoint URL)).
pub fn challenge_response(challenge_code: &str, verification_token: &str, endpoint: &str) -> String {
    let mut h = Sha256::new();
    h.update(challenge_code.as_bytes());
    h.update(verification_token.as_bytes());
    h.update(endpoint.as_bytes());
    hex::encode(h.finalize())
}

/// One page of Fulfillment `getOrders`, as events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrdersPage {
    pub events: Vec<InboundEvent>,
    /// The `next` URI, `None` on the last page.
    pub next: Option<String>,
    pub total: Option<i64>,
}

/// Reads a `getOrders` page; `account` is used for orders without `sellerId`.
pub fn parse_orders_page(body: &[u8], account: &str, fallback_at: Millis) -> Result<OrdersPage, PayloadError> {
    let root = json::object(body)?;
    let orders = match json::get(&root, "orders") {
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(PayloadError::invalid("orders", "must be an array")),
        None => &[],
    };
    let mut events = Vec::with_capacity(orders.len());
    for (i, v) in orders.iter().enumerate() {
        let prefix = format!("orders[{i}]");
        events.push(order_event(json::element(v, &prefix)?, &prefix, account, fallback_at)?);
    }
    let next = match json::get(&root, "next") {
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) if s.len() <= MAX_NEXT_LEN && !s.chars().any(char::is_control) => Some(s.clone()),
        None => None,
        Some(_) => return Err(PayloadError::invalid("next", "must be a short string")),
    };
    let total = json::get(&root, "total").and_then(Value::as_i64);
    Ok(OrdersPage { events, next, total })
}

/// One Fulfillment API order (also the body of `getOrder`).
pub fn order_event(
    order: &Object,
    prefix: &str,
    account: &str,
    fallback_at: Millis,
) -> Result<InboundEvent, PayloadError> {
    let order_id = json::id(order, "orderId", prefix)?;
    let cancelled = match json::get(order, "cancelStatus") {
        Some(Value::Object(c)) => c.get("cancelState").and_then(Value::as_str) == Some("CANCELED"),
        _ => false,
    };
    let kind = if cancelled { EventKind::Cancel } else { EventKind::Sale };
    let at = if cancelled {
        json::time_opt(order, "lastModifiedDate").or_else(|| json::time_opt(order, "creationDate"))
    } else {
        json::time_opt(order, "creationDate")
    }
    .unwrap_or(fallback_at);
    let mut lines = Vec::new();
    for (i, v) in json::lines(order, "lineItems", prefix)?.iter().enumerate() {
        let lp = format!("{prefix}.lineItems[{i}]");
        let li = json::element(v, &lp)?;
        let qty = json::qty(li, "quantity", &lp)?;
        if qty == 0 {
            continue;
        }
        lines.push(InboundLine {
            identity: LineIdentity {
                sku: json::text_opt(li, "sku", &lp)?,
                ids: PlatformIds::Ebay {
                    legacy_item_id: json::id_opt(li, "legacyItemId", &lp)?,
                    legacy_variation_id: json::id_opt(li, "legacyVariationId", &lp)?,
                },
            },
            line_id: json::id(li, "lineItemId", &lp)?,
            qty,
            restock: None,
            order_line_id: None,
        });
    }
    Ok(InboundEvent {
        channel_kind: ChannelKind::Ebay,
        account: json::text_opt(order, "sellerId", prefix)?.unwrap_or_else(|| account.to_string()),
        order_id: Some(order_id),
        kind,
        lines,
        occurred_at: at,
    })
}
