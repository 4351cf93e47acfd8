//! Applying inbound orders, whether a webhook (`webhooks.rs`) or an order-feed poll
//! (`inbound_poll.rs`) brought them: lines mapped through the channel's listings to SKUs, sales
//! and cancellations through the order desks, restocks and drift through the SKU ledgers, and
//! what a platform left out (Amazon order items, eBay orders) fetched with the channel's
//! credentials. Every effect is idempotent on its own, so an order applied twice — redelivered,
//! or both delivered and polled — counts once.
//!
//! # What an order does
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
//! - A step that could not complete (an order desk, a ledger or the platform's API unreachable)
//!   is reported as [`Step`]`::Err`: the webhook answers 503 and records nothing, the poll keeps
//!   its cursor; either way the order is applied again later, and what was done is not redone.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use wasm_bindgen::JsValue;
use worker::{console_warn, D1Database, D1PreparedStatement, Env, Result};

use crate::api::idempotency::fingerprint;
use crate::api::idempotency::Keyed;
use crate::api::order_call::{OrderAction, OrderCall};
use crate::api::order_call::{OrderRefusal, OrderReply};
use crate::api::requests::Line;
use crate::api::sku_call::{SkuAction, SkuCall};
use crate::catalog::bundle;
use crate::catalog::model::{ChannelKind, External};
use crate::catalog::ListingRule;
use crate::inbound::{
    amazon, drift, ebay, DriftVerdict, EventKind, FetchOrder, InboundEvent, InboundLine, ListingKey, Outcome,
    PlatformIds, Received, RestockType,
};
use crate::stock::limits::MAX_LINES;
use crate::stock::{Cause, Command, Location, Op, OrderKey, Sku, Token};
use crate::sync::{
    connection, EbayCredentialsError, HttpRequest, HttpResponse, LwaToken, Method as HttpMethod, StockChanged,
    TokenCache,
};
use crate::time::Millis;

use super::ebay_token::{EbayAuth, EbayCallError};
use super::{catalog_reads, order_client, sku_client};

/// The catalogue's D1 binding.
pub(super) const DB: &str = "CATALOG";
/// How long one call to a platform may take (Shopify waits 5 s for the whole answer).
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(4);
/// Bound parameters per `IN (…)` list (D1 binds at most 100).
pub(super) const IN_CHUNK: usize = 90;
/// `getOrderItems` pages read for one order.
pub(super) const MAX_ITEM_PAGES: usize = 20;
/// Restock adjustments' Idempotency-Key prefix in the SKU ledgers.
pub(super) const RESTOCK_KEY: &str = "inbound-restock";

thread_local! {
    /// Amazon (Login with Amazon) access tokens by channel id.
    static LWA_TOKENS: RefCell<BTreeMap<String, TokenCache>> = const { RefCell::new(BTreeMap::new()) };
}

/// A step that could not complete for now (answered 503, nothing recorded), with why.
pub(super) type Step<T> = std::result::Result<T, String>;

// ---------------------------------------------------------------------------------------------
// Channels

#[derive(Clone, Debug)]
pub(super) struct Conn {
    pub(super) channel: Token,
    pub(super) account: String,
    pub(super) credentials_secret: Option<String>,
    pub(super) settings: Map<String, Value>,
}

#[derive(Deserialize)]
pub(super) struct ChannelRow {
    pub(super) channel: String,
    pub(super) account: String,
    pub(super) credentials_secret: Option<String>,
    pub(super) settings: String,
}

impl Conn {
    pub(super) fn of(r: ChannelRow) -> Option<Conn> {
        let settings = match serde_json::from_str::<Value>(&r.settings) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Some(Conn {
            channel: Token::parse(&r.channel).ok()?,
            account: r.account,
            credentials_secret: r.credentials_secret,
            settings,
        })
    }

    pub(super) fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).and_then(Value::as_str)
    }

    /// The ledger location the channel's orders take stock from (`settings.location`).
    pub(super) fn location(&self) -> Location {
        self.setting("location").and_then(|l| Location::parse(l).ok()).unwrap_or_default()
    }

    /// `settings.on_drift`: `adjust` (default) or `flag`.
    fn pushes_back_drift(&self) -> bool {
        self.setting("on_drift") != Some("flag")
    }
}

/// A Worker secret (a plain var in local development), by name.
pub(super) fn secret(env: &Env, name: Option<&str>) -> Option<String> {
    super::secrets::read(env, name).ok()
}

pub(super) const CHANNEL_SELECT: &str = "SELECT channel, account, credentials_secret, settings FROM channels";

// ---------------------------------------------------------------------------------------------
// Applying an order

pub(super) struct Cx<'a> {
    pub(super) env: &'a Env,
    pub(super) db: &'a D1Database,
    pub(super) t: Millis,
    pub(super) kind: ChannelKind,
    pub(super) topic: &'a str,
    pub(super) dedupe_key: Option<&'a str>,
}

/// What a delivery did; also its answer.
pub(super) struct Summary {
    pub(super) channel: Token,
    pub(super) sold_lines: usize,
    pub(super) cancelled_orders: usize,
    pub(super) restocked_lines: usize,
    pub(super) deferred_restock_lines: usize,
    pub(super) unmatched_lines: usize,
    pub(super) drift_recorded: usize,
    pub(super) drift_pushed_back: usize,
    pub(super) ignored: Option<Value>,
    pub(super) unusable: Option<String>,
}

impl Summary {
    pub(super) fn new(channel: &Token) -> Summary {
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

    pub(super) fn to_json(&self, result: &str, topic: &str) -> Value {
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

/// Applies an authentic delivery for `conns` (the channels it may be for, first most likely).
pub(super) async fn handle(cx: &Cx<'_>, conns: &[Conn], r: &Received, s: &mut Summary) -> Result<Step<()>> {
    let Some(conn) = conns.first() else { return Ok(Ok(())) };
    if cx.kind == ChannelKind::Amazon {
        if let Some(seller) = r.account.as_deref().filter(|a| *a != conn.account) {
            s.unusable = Some(format!("seller {seller} is not the account of channel {}", conn.channel));
            return Ok(Ok(()));
        }
    }
    apply_outcome(cx, conns, &r.outcome, s).await
}

/// Applies what an order came to: its events, or (Amazon, eBay) the order fetched first.
pub(super) async fn apply_outcome(cx: &Cx<'_>, conns: &[Conn], outcome: &Outcome, s: &mut Summary) -> Result<Step<()>> {
    let Some(conn) = conns.first() else { return Ok(Ok(())) };
    match outcome {
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
                        s.unusable =
                            Some(format!("Amazon has no order {} for channel {}", order.order_id, conn.channel));
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

pub(super) async fn apply_all(cx: &Cx<'_>, conn: &Conn, events: &[InboundEvent], s: &mut Summary) -> Result<Step<()>> {
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
pub(super) fn token_of(s: &str) -> Token {
    Token::parse(s).unwrap_or_else(|_| {
        let h = hex::encode(Sha256::digest(s.as_bytes()));
        Token::parse(&format!("h:{}", &h[..40])).unwrap_or_else(|_| unreachable!("a hex digest is a token"))
    })
}

pub(super) fn order_key(conn: &Conn, e: &InboundEvent) -> Option<OrderKey> {
    e.order_id.as_deref().map(|o| OrderKey { channel: conn.channel.clone(), order_id: token_of(o) })
}

/// Sends a call to an order desk; a desk that cannot be reached (or answers 5xx) is a step that
/// did not complete.
pub(super) async fn desk(cx: &Cx<'_>, call: &OrderCall) -> Result<Step<OrderReply>> {
    match order_client::call(cx.env, call).await {
        Ok(Keyed::Answered(Err(OrderRefusal::Unavailable(why)))) => Ok(Err(format!("order desk: {why}"))),
        Ok(reply) => {
            if !matches!(reply, Keyed::Answered(Ok(_)) | Keyed::Replayed(Ok(_))) {
                console_warn!("order desk refused {:?}: {reply:?}", call.order);
            }
            Ok(Ok(reply))
        }
        Err(e) => Ok(Err(format!("order desk: {e}"))),
    }
}

/// Bundle SKUs become their components (so a sold bundle sells its components); lines of other
/// SKUs pass unchanged.
pub(super) async fn expand_bundles(cx: &Cx<'_>, lines: Vec<Line>) -> Result<Vec<Line>> {
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

pub(super) async fn sale(cx: &Cx<'_>, conn: &Conn, e: &InboundEvent, s: &mut Summary) -> Result<Step<()>> {
    let Some(order) = order_key(conn, e) else { return Ok(Ok(())) };
    let skus = map_lines(cx.db, &conn.channel, &e.lines).await?;
    let location = conn.location();
    let mut lines = Vec::new();
    let mut unmatched = Vec::new();
    for (l, sku) in e.lines.iter().zip(skus) {
        match sku {
            Some(sku) => {
                lines.push(Line { sku, qty: l.qty, location: location.clone(), line_id: Some(token_of(&l.line_id)) })
            }
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
        let call =
            OrderCall { order: order.clone(), action: OrderAction::Sell { lines: chunk.to_vec() }, idempotency: None };
        if let Err(why) = desk(cx, &call).await? {
            return Ok(Err(why));
        }
    }
    s.sold_lines += n;
    Ok(Ok(()))
}

pub(super) async fn cancel(cx: &Cx<'_>, conn: &Conn, e: &InboundEvent, s: &mut Summary) -> Result<Step<()>> {
    let Some(order) = order_key(conn, e) else { return Ok(Ok(())) };
    let reason = Some(format!("{} {}", cx.kind.as_str(), cx.topic));
    let call = OrderCall { order, action: OrderAction::Cancel { reason }, idempotency: None };
    if let Err(why) = desk(cx, &call).await? {
        return Ok(Err(why));
    }
    s.cancelled_orders += 1;
    Ok(Ok(()))
}

pub(super) async fn restock(cx: &Cx<'_>, conn: &Conn, e: &InboundEvent, s: &mut Summary) -> Result<Step<()>> {
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
            let key =
                format!("{RESTOCK_KEY}:{}:{}:{}:{}", order.channel, order.order_id, token_of(&l.line_id), part.sku);
            let fp =
                fingerprint("POST", RESTOCK_KEY, format!("{} {} {}", part.sku, part.location, part.qty).as_bytes());
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
                action: SkuAction::Apply {
                    commands: vec![Command::Adjust { location: part.location.clone(), delta: part.qty, cause }],
                },
                idempotency: Some((key, fp)),
            };
            match sku_client::call(cx.env, &call).await {
                Ok(Keyed::Answered(Ok(_)) | Keyed::Replayed(Ok(_))) => {}
                Ok(refused) => console_warn!("restock of {} refused: {refused:?}", part.sku),
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
pub(super) struct IdentityRow {
    sku: String,
    identity: String,
}

#[derive(Deserialize)]
pub(super) struct SkuRow {
    sku: String,
}

pub(super) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

pub(super) fn in_list(db: &D1Database, sql: &str, channel: &Token, values: &[String]) -> Result<D1PreparedStatement> {
    let mut params: Vec<JsValue> = vec![channel.as_str().into()];
    params.extend(values.iter().map(|v| JsValue::from(v.as_str())));
    db.prepare(sql.replace("{in}", &placeholders(values.len()))).bind(&params)
}

/// For each line, the SKU its first look-up key finds among `channel`'s listings.
pub(super) async fn map_lines(db: &D1Database, channel: &Token, lines: &[InboundLine]) -> Result<Vec<Option<Sku>>> {
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
        stmts.push(in_list(
            db,
            "SELECT sku, identity FROM listings WHERE channel = ? AND identity IN ({in})",
            channel,
            chunk,
        )?);
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
pub(super) async fn record_unmatched(
    cx: &Cx<'_>,
    conn: &Conn,
    e: &InboundEvent,
    kind: &str,
    lines: &[&InboundLine],
) -> Result<usize> {
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
pub(super) struct DriftRow {
    sku: String,
    external: String,
    buffer: i64,
    percent: i64,
    max_listed: Option<i64>,
    zero_at_or_below: Option<i64>,
    last_quantity: Option<i64>,
}

pub(super) async fn drift_event(cx: &Cx<'_>, conn: &Conn, e: &InboundEvent, s: &mut Summary) -> Result<Step<()>> {
    for line in &e.lines {
        let PlatformIds::Shopify { inventory_item_id: Some(item), location_id, .. } = &line.identity.ids else {
            continue;
        };
        let identity = crate::catalog::model::identity::shopify(*item);
        let row: Option<DriftRow> = cx
            .db
            .prepare(
                "SELECT l.sku, l.external, l.buffer, l.percent, l.max_listed, l.zero_at_or_below, s.last_quantity \
                 FROM listings l LEFT JOIN listing_sync s ON s.channel = l.channel AND s.sku = l.sku \
                 WHERE l.channel = ?1 AND l.identity = ?2",
            )
            .bind(&[conn.channel.as_str().into(), identity.as_str().into()])?
            .first(None)
            .await?;
        // A level of an item StockEdge does not list, or at another location: not its business.
        let Some(row) = row else { continue };
        let listed_at = serde_json::from_str::<Value>(&row.external)
            .ok()
            .and_then(|v| External::from_stored(ChannelKind::Shopify, &v));
        if let Some(External::Shopify { location_id: listed, .. }) = listed_at {
            if location_id.is_some_and(|l| l != listed) {
                continue;
            }
        }
        let Ok(sku) = Sku::parse(&row.sku) else { continue };
        let DriftVerdict::Drift { reported, last_pushed } = drift::check(line.qty, row.last_quantity) else { continue };
        // The SKU's current state (a SKU never stocked: all 0, version 0), to compare with and,
        // if this is drift, to push back.
        let event = match super::repush::current(cx.env, &sku, cx.t).await {
            Ok(Some(e)) => e,
            Ok(None) => StockChanged {
                sku: sku.clone(),
                version: 0,
                available: 0,
                on_hand: 0,
                cause: Op::Set,
                at: cx.t,
                oversold: 0,
                alert: None,
            },
            Err(why) => return Ok(Err(why.to_string())),
        };
        let rule = ListingRule {
            buffer: row.buffer,
            percent: row.percent.clamp(0, 100) as u8,
            max_listed: row.max_listed,
            zero_at_or_below: row.zero_at_or_below,
        };
        let listed = rule.listed(event.sellable());
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
        // Push StockEdge's number back, with a compare-and-set from the platform's actual level.
        // (When a newer push is already in flight, the listing's record is past this version and
        // that push corrects the level by itself.)
        if let Err(why) = super::repush::to_listing(cx.env, cx.db, &conn.channel, &event, Some(reported), cx.t).await {
            return Ok(Err(why.to_string()));
        }
        s.drift_pushed_back += 1;
    }
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------------
// Fetching what the notification left out

pub(super) async fn amazon_token(cx: &Cx<'_>, c: &Conn) -> Step<String> {
    let cached = LWA_TOKENS.with(|m| m.borrow().get(c.channel.as_str()).and_then(|tc| tc.get(cx.t)).map(str::to_owned));
    if let Some(token) = cached {
        return Ok(token);
    }
    let creds = connection::lwa_credentials(secret(cx.env, c.credentials_secret.as_deref()).as_deref())
        .map_err(|e| format!("channel {}: {e}", c.channel))?;
    let resp =
        send(&connection::token_url(&c.settings), &creds.token_request()).await.map_err(|why| format!("LWA: {why}"))?;
    let token = LwaToken::from_response(&resp, cx.t, "LWA").map_err(|o| format!("LWA: {o:?}"))?;
    let access = token.access_token.clone();
    LWA_TOKENS.with(|m| m.borrow_mut().entry(c.channel.to_string()).or_default().store(token, cx.t));
    Ok(access)
}

pub(super) fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// The items of an Amazon order (`getOrderItems`, every page); `None` when Amazon has no such
/// order for the channel.
pub(super) async fn amazon_items(
    cx: &Cx<'_>,
    c: &Conn,
    order: &FetchOrder,
) -> Result<Step<Option<Vec<amazon::OrderItem>>>> {
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
        let req = HttpRequest::new(HttpMethod::Get, path)
            .header("x-amz-access-token", token.as_str())
            .header("Accept", "application/json");
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
pub(super) async fn ebay_order(cx: &Cx<'_>, c: &Conn, order: &FetchOrder) -> Result<Step<Option<Vec<InboundEvent>>>> {
    let auth = match EbayAuth::of(secret(cx.env, c.credentials_secret.as_deref()).as_deref(), &c.account, &c.settings) {
        Ok(a) => a,
        Err(EbayCredentialsError::NoSecret) => return Ok(Ok(None)),
        Err(e) => {
            console_warn!("eBay channel {}: {e}", c.channel);
            return Ok(Ok(None));
        }
    };
    let base = connection::base_url(ChannelKind::Ebay, &c.account, &c.settings);
    let req =
        HttpRequest::new(HttpMethod::Get, format!("/sell/fulfillment/v1/order?orderIds={}", enc(&order.order_id)))
            .header("Accept", "application/json");
    let resp = match auth.send(&base, &req, cx.t, CALL_TIMEOUT).await {
        Ok(r) => r,
        // Refresh credentials eBay refuses: like a refused token, this channel cannot have it.
        Err(EbayCallError::Token(why @ crate::sync::PushResult::Permanent(_))) => {
            console_warn!("eBay channel {}: {why}", c.channel);
            return Ok(Ok(None));
        }
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
pub(super) async fn send(base: &str, req: &HttpRequest) -> Step<HttpResponse> {
    super::platform_http::send(base, req, CALL_TIMEOUT).await
}
