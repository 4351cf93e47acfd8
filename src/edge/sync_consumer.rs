//! The `stock-changes` queue consumer: pushes every committed change to every listing of the
//! SKU, with the channel's adapter (`crate::sync`). Decisions are the core's — coalescing,
//! payloads, reading answers, retry policy; this reads D1, performs HTTP calls, records status,
//! and acknowledges or retries messages. Messages that exhaust their retries reach the
//! dead-letter queue, whose consumer records them as failures. Before any of that, the
//! oversold alerts the batch's events carry are recorded in D1 `alerts` (`super::alerts`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;
use worker::*;

use crate::catalog::model::{ChannelKind, External, Listing};
use crate::catalog::ListingRule;
use crate::stock::{Sku, Token};
use crate::sync::connection::{self, ConnectionError};
use crate::sync::{
    admit_revisions, coalesce, ChannelAdapter, DailyRevisions, Decision, EbayAdapter, HttpRequest, HttpResponse,
    LastPushed, ListingKey, ListingOutcome, ListingUpdate, LwaToken, Outcome, RetryPolicy, ShopifyAdapter,
    StockChanged, TokenBucket, TokenCache,
};
use crate::time::Millis;

use super::clock::now;
use super::ebay_token::EbayAuth;

const DLQ: &str = "stock-changes-dlq";
/// How long one platform call may take before it counts as a timeout.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// SKUs per `IN (…)` list (D1 binds at most 100 parameters).
const IN_CHUNK: usize = 90;

#[derive(Deserialize)]
struct ListingRow {
    channel: String,
    sku: String,
    external: String,
    buffer: i64,
    percent: i64,
    max_listed: Option<i64>,
    zero_at_or_below: Option<i64>,
    kind: String,
    account: String,
    credentials_secret: Option<String>,
    settings: String,
}

#[derive(Deserialize)]
struct SyncRow {
    channel: String,
    sku: String,
    last_version: Option<i64>,
    last_quantity: Option<i64>,
    attempts: i64,
    revisions_day: i64,
    revisions: i64,
}

/// A channel as the consumer needs it.
struct Conn {
    kind: ChannelKind,
    account: String,
    secret_name: Option<String>,
    settings: Map<String, Value>,
}

/// Seconds before a batch whose handling failed (D1 or a binding unavailable) is delivered again.
const FAILED_BATCH_DELAY_S: u32 = 5;

/// The Worker's one queue entry point. It never returns an error: workers-rs turns a queue
/// handler's `Err` into a panic, which aborts the isolate's wasm instance, and every later event
/// of that isolate fails with it. A batch that could not be handled is retried instead (the
/// consumers are idempotent: pushes by (listing, version), alerts and failures by key, import
/// chunks by their ledger key).
#[event(queue)]
pub async fn consume(batch: MessageBatch<StockChanged>, env: Env, _ctx: Context) -> Result<()> {
    if let Err(e) = dispatch(&batch, &env).await {
        console_error!("queue {}: batch not handled ({e}); retried in {FAILED_BATCH_DELAY_S} s", batch.queue());
        batch.retry_all_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(FAILED_BATCH_DELAY_S).build());
    }
    Ok(())
}

async fn dispatch(batch: &MessageBatch<StockChanged>, env: &Env) -> Result<()> {
    if batch.queue() == DLQ {
        return record_dead_letters(batch, env).await;
    }
    // Import job chunks share this entry point (one #[event(queue)] per Worker); their bodies
    // are read raw, not as stock changes.
    if batch.queue() == super::import_jobs::QUEUE_NAME {
        return super::import_jobs::consume(batch, env).await;
    }
    stock_changes(batch, env).await
}

/// The `stock-changes` consumer: every listing of the batch's SKUs gets its newest version.
async fn stock_changes(batch: &MessageBatch<StockChanged>, env: &Env) -> Result<()> {
    let messages = batch.messages()?;
    let mut events: Vec<StockChanged> = messages.iter().map(|m| m.body().clone()).collect();
    let db = env.d1("CATALOG")?;
    // Alerts first, from every message: coalescing below keeps only the newest version per
    // listing, and an alert rides on the version that oversold, which may not be the newest.
    // If recording fails the whole batch is retried, so no alert is acknowledged unrecorded.
    super::alerts::record(&db, &events).await?;
    // Bundles made of the changed SKUs: their listings follow their components.
    let (bundle_events, bundle_members) = super::bundle_listings::events_for(env, &db, &events).await?;
    events.extend(bundle_events);
    let skus: Vec<Sku> = events.iter().map(|e| e.sku.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let (listings, conns) = load_listings(&db, &skus).await?;
    let pushed = load_pushed(&db, &skus).await?;
    let last: BTreeMap<ListingKey, LastPushed> =
        pushed.iter().filter_map(|(k, (p, _, _))| p.map(|p| (k.clone(), p))).collect();
    let mut revisions: BTreeMap<ListingKey, DailyRevisions> =
        pushed.iter().map(|(k, (_, _, r))| (k.clone(), *r)).collect();
    let updates = coalesce(&events, &listings, &last);

    let mut by_channel: BTreeMap<Token, Vec<ListingUpdate>> = BTreeMap::new();
    for u in updates {
        by_channel.entry(u.key.channel.clone()).or_default().push(u);
    }
    let t = now();
    let policy = RetryPolicy::default();
    let mut retry: BTreeMap<Sku, u64> = BTreeMap::new();
    for (channel, updates) in by_channel {
        let Some(conn) = conns.get(&channel) else { continue };
        let (updates, mut outcomes) = if conn.kind == ChannelKind::Ebay {
            // At most 250 revisions per listing per day: the rest wait for the next UTC day.
            let (admitted, deferred) = admit_revisions(updates, &mut revisions, t);
            count_revisions(&db, &admitted, &revisions, t).await?;
            (admitted, deferred)
        } else {
            (updates, Vec::new())
        };
        outcomes.extend(push(env, conn, &updates, t).await);
        for o in &outcomes {
            let attempts = pushed.get(&o.key).map_or(0, |(_, a, _)| *a) as u32 + 1;
            let update = updates.iter().find(|u| u.key == o.key);
            let decision = policy.decide(&o.outcome, attempts);
            record(&db, o, update, attempts, &decision, t).await?;
            match &decision {
                Decision::Done => {}
                Decision::Retry { .. } => {
                    let delay = decision.delay_seconds().unwrap_or(1);
                    let slot = retry.entry(o.key.sku.clone()).or_default();
                    *slot = (*slot).max(delay);
                }
                Decision::DeadLetter { reason } => {
                    if let Some(e) = events.iter().filter(|e| e.sku == o.key.sku).max_by_key(|e| e.version) {
                        fail(&db, Some(&o.key.channel), e, reason, t).await?;
                    }
                }
            }
        }
    }
    // A bundle listing to retry retries the messages of its components that brought it.
    for (bundle, members) in &bundle_members {
        if let Some(delay) = retry.get(bundle).copied() {
            for sku in members {
                let slot = retry.entry(sku.clone()).or_default();
                *slot = (*slot).max(delay);
            }
        }
    }
    for m in &messages {
        match retry.get(&m.body().sku) {
            Some(delay) => {
                m.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(*delay as u32).build())
            }
            None => m.ack(),
        }
    }
    Ok(())
}

async fn load_listings(db: &D1Database, skus: &[Sku]) -> Result<(Vec<Listing>, BTreeMap<Token, Conn>)> {
    let mut listings = Vec::new();
    let mut conns = BTreeMap::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT l.channel, l.sku, l.external, l.buffer, l.percent, l.max_listed, l.zero_at_or_below, \
             c.kind, c.account, c.credentials_secret, c.settings \
             FROM listings l JOIN channels c ON c.channel = l.channel WHERE c.enabled = 1 AND l.sku IN ({})",
            vec!["?"; chunk.len()].join(", ")
        );
        let params: Vec<JsValue> = chunk.iter().map(|s| JsValue::from(s.as_str())).collect();
        let rows: Vec<ListingRow> = db.prepare(sql).bind(&params)?.all().await?.results()?;
        for r in rows {
            let (Ok(channel), Ok(sku), Some(kind)) =
                (Token::parse(&r.channel), Sku::parse(&r.sku), ChannelKind::parse(&r.kind))
            else {
                continue;
            };
            let Some(external) =
                serde_json::from_str::<Value>(&r.external).ok().and_then(|v| External::from_stored(kind, &v))
            else {
                continue;
            };
            let rule = ListingRule {
                buffer: r.buffer,
                percent: r.percent.clamp(0, 100) as u8,
                max_listed: r.max_listed,
                zero_at_or_below: r.zero_at_or_below,
            };
            let settings = serde_json::from_str::<Map<String, Value>>(&r.settings).unwrap_or_default();
            conns.entry(channel.clone()).or_insert(Conn {
                kind,
                account: r.account,
                secret_name: r.credentials_secret,
                settings,
            });
            listings.push(Listing { channel, sku, external, rule });
        }
    }
    Ok((listings, conns))
}

/// Per listing: what it last accepted, failed attempts since, and today's revisions (eBay).
type Pushed = BTreeMap<ListingKey, (Option<LastPushed>, i64, DailyRevisions)>;

async fn load_pushed(db: &D1Database, skus: &[Sku]) -> Result<Pushed> {
    let mut out = BTreeMap::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT channel, sku, last_version, last_quantity, attempts, revisions_day, revisions FROM listing_sync WHERE sku IN ({})",
            vec!["?"; chunk.len()].join(", ")
        );
        let params: Vec<JsValue> = chunk.iter().map(|s| JsValue::from(s.as_str())).collect();
        let rows: Vec<SyncRow> = db.prepare(sql).bind(&params)?.all().await?.results()?;
        for r in rows {
            let (Ok(channel), Ok(sku)) = (Token::parse(&r.channel), Sku::parse(&r.sku)) else { continue };
            let last = match (r.last_version, r.last_quantity) {
                (Some(v), Some(q)) => Some(LastPushed { version: v as u64, quantity: q }),
                _ => None,
            };
            let revisions =
                DailyRevisions { day: r.revisions_day, count: r.revisions.clamp(0, i64::from(u32::MAX)) as u32 };
            out.insert(ListingKey { channel, sku }, (last, r.attempts, revisions));
        }
    }
    Ok(out)
}

/// The secret a channel names (a Worker secret; a plain var in local development).
fn secret(env: &Env, name: Option<&str>) -> Option<String> {
    super::secrets::read(env, name).ok()
}

/// Pushes one channel's updates and returns one outcome per update.
async fn push(env: &Env, conn: &Conn, updates: &[ListingUpdate], t: Millis) -> Vec<ListingOutcome> {
    let fail_all = |outcome: Outcome| -> Vec<ListingOutcome> {
        updates.iter().map(|u| crate::sync::adapter::outcome_of(u, outcome.clone())).collect()
    };
    let base = connection::base_url(conn.kind, &conn.account, &conn.settings);
    let mut secret = secret(env, conn.secret_name.as_deref());
    if conn.kind == ChannelKind::Amazon {
        match amazon_token(&conn.settings, secret.as_deref(), t).await {
            Ok(token) => secret = Some(token),
            Err(outcome) => return fail_all(outcome),
        }
    }
    // eBay: the secret's bare token, or one minted from its refresh token (and cached).
    let mut ebay = None;
    if conn.kind == ChannelKind::Ebay {
        let auth = match EbayAuth::of(secret.as_deref(), &conn.account, &conn.settings) {
            Ok(a) => a,
            Err(e) => return fail_all(Outcome::permanent(crate::sync::FailureKind::Credentials, e.to_string())),
        };
        match auth.bearer(t, CALL_TIMEOUT).await {
            Ok(b) => {
                secret = Some(b.token.clone());
                ebay = Some((auth, b));
            }
            Err(outcome) => return fail_all(outcome),
        }
    }
    let adapter = match conn.kind {
        ChannelKind::Wholesale => {
            let mut partners: Vec<String> = updates
                .iter()
                .filter_map(|u| match &u.external {
                    External::Wholesale { partner_id, .. } => Some(partner_id.clone()),
                    _ => None,
                })
                .collect();
            partners.sort();
            partners.dedup();
            let interchange = match next_interchange(env, channel_of(updates)).await {
                Ok(n) => n,
                Err(e) => return fail_all(Outcome::backoff(format!("control number: {e}"))),
            };
            Ok(Box::new(connection::wholesale(&conn.settings, secret.as_deref(), &partners, interchange))
                as Box<dyn ChannelAdapter>)
        }
        kind => connection::adapter(kind, secret.as_deref(), &conn.settings),
    };
    let adapter = match adapter {
        Ok(a) => a,
        Err(e @ ConnectionError::Unsupported(_)) => {
            return fail_all(Outcome::permanent(crate::sync::FailureKind::Rejected, e.to_string()))
        }
        Err(e) => return fail_all(Outcome::permanent(crate::sync::FailureKind::Credentials, e.to_string())),
    };
    let mut outcomes = run(adapter.as_ref(), &base, &conn.account, updates, t).await;
    if conn.kind == ChannelKind::Amazon {
        // A refused access token (revoked, or expired before its time): forget it and retry
        // with a new one rather than dead-lettering the update.
        let refused = |o: &ListingOutcome| matches!(&o.outcome, Outcome::Permanent(f) if f.kind == crate::sync::FailureKind::Credentials);
        if outcomes.iter().any(refused) {
            AMAZON_TOKENS.with(|c| c.borrow_mut().clear());
            for o in outcomes.iter_mut().filter(|o| refused(o)) {
                o.outcome = Outcome::backoff("the access token was refused; a new one is fetched");
            }
        }
    }
    if let Some((auth, bearer)) = &ebay {
        // A cached token eBay refused (expired by eBay's clock, or revoked): forget it and push
        // the refused updates once more with a new one (eBay applied nothing of a refused call).
        let refused = |o: &ListingOutcome| matches!(&o.outcome, Outcome::Permanent(f) if f.kind == crate::sync::FailureKind::Credentials);
        if outcomes.iter().any(refused) && auth.refused(bearer) {
            let again: Vec<ListingUpdate> =
                updates.iter().filter(|u| outcomes.iter().any(|o| o.key == u.key && refused(o))).cloned().collect();
            let second = match auth.bearer(t, CALL_TIMEOUT).await {
                Ok(b) => run(&EbayAdapter::new(b.token), &base, &conn.account, &again, t).await,
                Err(outcome) => again.iter().map(|u| crate::sync::adapter::outcome_of(u, outcome.clone())).collect(),
            };
            outcomes.retain(|o| !second.iter().any(|s| s.key == o.key));
            outcomes.extend(second);
        }
    }
    // Compare-and-set lost (Shopify): read what the platform shows, then push once more.
    if conn.kind == ChannelKind::Shopify {
        let stale: Vec<&ListingUpdate> =
            updates.iter().filter(|u| outcomes.iter().any(|o| o.key == u.key && o.outcome == Outcome::Stale)).collect();
        if !stale.is_empty() {
            let shopify = ShopifyAdapter::new(secret.clone().unwrap_or_default());
            let mut again = Vec::new();
            for u in stale {
                let Some(req) = shopify.reread_request(u) else { continue };
                if let Ok(resp) = send(&base, &req).await {
                    again.push(u.clone().expecting(ShopifyAdapter::read_available(&resp)));
                }
            }
            let second = run(adapter.as_ref(), &base, &conn.account, &again, t).await;
            outcomes.retain(|o| !second.iter().any(|s| s.key == o.key));
            outcomes.extend(second);
        }
    }
    outcomes
}

thread_local! {
    /// Per Amazon account, the SP-API rate (5 requests/s, burst 5), kept for the isolate's life.
    static AMAZON_RATE: RefCell<BTreeMap<String, TokenBucket>> = const { RefCell::new(BTreeMap::new()) };
}

/// Waits until the account's token bucket allows one more Amazon call.
async fn pace_amazon(account: &str) {
    loop {
        let t = now();
        let wait = AMAZON_RATE.with(|b| {
            b.borrow_mut().entry(account.to_owned()).or_insert_with(|| TokenBucket::amazon_listings(t)).try_take(t)
        });
        match wait {
            Ok(()) => return,
            Err(ms) => Delay::from(Duration::from_millis(ms.max(1))).await,
        }
    }
}

async fn run(
    adapter: &dyn ChannelAdapter,
    base: &str,
    account: &str,
    updates: &[ListingUpdate],
    t: Millis,
) -> Vec<ListingOutcome> {
    let built = adapter.build(updates, t);
    let mut outcomes = built.refused;
    for call in &built.calls {
        if adapter.kind() == ChannelKind::Amazon {
            pace_amazon(account).await;
        }
        match send(base, &call.request).await {
            Ok(resp) => outcomes.extend(adapter.interpret(call, &resp, t)),
            Err(why) => outcomes.extend(adapter.no_response(call, &why)),
        }
    }
    outcomes
}

thread_local! {
    /// Per Amazon refresh token, the access token last obtained, until shortly before it expires.
    static AMAZON_TOKENS: RefCell<BTreeMap<String, TokenCache>> = const { RefCell::new(BTreeMap::new()) };
}

/// An LWA access token for the channel's credentials: the cached one while valid, else a new one.
async fn amazon_token(
    settings: &Map<String, Value>,
    secret: Option<&str>,
    t: Millis,
) -> std::result::Result<String, Outcome> {
    let creds = connection::lwa_credentials(secret)
        .map_err(|e| Outcome::permanent(crate::sync::FailureKind::Credentials, e.to_string()))?;
    let cached =
        AMAZON_TOKENS.with(|c| c.borrow().get(&creds.refresh_token).and_then(|tc| tc.get(t).map(str::to_owned)));
    if let Some(token) = cached {
        return Ok(token);
    }
    let resp = send(&connection::token_url(settings), &creds.token_request()).await.map_err(Outcome::backoff)?;
    let token = LwaToken::from_response(&resp, t, "LWA")?;
    let access = token.access_token.clone();
    AMAZON_TOKENS.with(|c| c.borrow_mut().entry(creds.refresh_token.clone()).or_default().store(token, t));
    Ok(access)
}

/// Performs one platform call, with this module's timeout.
async fn send(base: &str, req: &HttpRequest) -> std::result::Result<HttpResponse, String> {
    super::platform_http::send(base, req, CALL_TIMEOUT).await
}

/// Keeps the listing's sync record: what it accepted, or what went wrong and how often.
async fn record(
    db: &D1Database,
    o: &ListingOutcome,
    u: Option<&ListingUpdate>,
    attempts: u32,
    d: &Decision,
    t: Millis,
) -> Result<()> {
    let since = u.map_or(t.0, |u| u.since.0) as f64;
    let stmt = match (&o.outcome, d) {
        (Outcome::Pushed, _) => db
            .prepare(
                "INSERT INTO listing_sync (channel, sku, last_version, last_quantity, pushed_at, pending_version, pending_since, attempts, last_error, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL, 0, NULL, ?5) \
                 ON CONFLICT (channel, sku) DO UPDATE SET last_version = ?3, last_quantity = ?4, pushed_at = ?5, pending_version = NULL, \
                 pending_since = NULL, attempts = 0, last_error = NULL, updated_at = ?5 \
                 WHERE listing_sync.last_version IS NULL OR listing_sync.last_version < ?3",
            )
            .bind(&[
                o.key.channel.as_str().into(),
                o.key.sku.as_str().into(),
                (o.version as f64).into(),
                (o.quantity as f64).into(),
                (t.0 as f64).into(),
            ])?,
        (outcome, d) => {
            let error = match d {
                Decision::DeadLetter { reason } => format!("dead-lettered: {reason}"),
                _ => format!("{outcome:?}"),
            };
            let attempts = if matches!(d, Decision::DeadLetter { .. }) { 0 } else { attempts };
            db.prepare(
                "INSERT INTO listing_sync (channel, sku, pending_version, pending_since, attempts, last_error, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (channel, sku) DO UPDATE SET pending_version = ?3, pending_since = COALESCE(listing_sync.pending_since, ?4), \
                 attempts = ?5, last_error = ?6, updated_at = ?7",
            )
            .bind(&[
                o.key.channel.as_str().into(),
                o.key.sku.as_str().into(),
                (o.version as f64).into(),
                since.into(),
                (attempts as f64).into(),
                error.into(),
                (t.0 as f64).into(),
            ])?
        }
    };
    stmt.run().await?;
    Ok(())
}

fn channel_of(updates: &[ListingUpdate]) -> &str {
    updates.first().map_or("", |u| u.key.channel.as_str())
}

/// The next interchange control number of a wholesale channel (1, 2, …; X12 allows 9 digits).
async fn next_interchange(env: &Env, channel: &str) -> Result<u32> {
    #[derive(Deserialize)]
    struct Row {
        interchange: i64,
    }
    let row: Option<Row> = env
        .d1("CATALOG")?
        .prepare(
            "INSERT INTO x12_control (channel, interchange) VALUES (?, 1) \
             ON CONFLICT (channel) DO UPDATE SET interchange = interchange % 999999999 + 1 RETURNING interchange",
        )
        .bind(&[channel.into()])?
        .first(None)
        .await?;
    Ok(row.map_or(1, |r| r.interchange as u32))
}

/// Keeps today's revision count of each eBay listing about to be pushed.
async fn count_revisions(
    db: &D1Database,
    admitted: &[ListingUpdate],
    counters: &BTreeMap<ListingKey, DailyRevisions>,
    t: Millis,
) -> Result<()> {
    for u in admitted {
        let Some(r) = counters.get(&u.key) else { continue };
        db.prepare(
            "INSERT INTO listing_sync (channel, sku, attempts, updated_at, revisions_day, revisions) VALUES (?1, ?2, 0, ?3, ?4, ?5) \
             ON CONFLICT (channel, sku) DO UPDATE SET revisions_day = ?4, revisions = ?5",
        )
        .bind(&[
            u.key.channel.as_str().into(),
            u.key.sku.as_str().into(),
            (t.0 as f64).into(),
            (r.day as f64).into(),
            f64::from(r.count).into(),
        ])?
        .run()
        .await?;
    }
    Ok(())
}

/// Records a failed push with its event, so an operator can see it and retry it.
async fn fail(db: &D1Database, channel: Option<&Token>, e: &StockChanged, reason: &str, t: Millis) -> Result<()> {
    let event = serde_json::to_string(e).map_err(|e| Error::RustError(e.to_string()))?;
    db.prepare(
        "INSERT INTO sync_failures (channel, sku, version, reason, event, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&[
        channel.map_or(JsValue::NULL, |c| c.as_str().into()),
        e.sku.as_str().into(),
        (e.version as f64).into(),
        reason.into(),
        event.into(),
        (t.0 as f64).into(),
    ])?
    .run()
    .await?;
    Ok(())
}

async fn record_dead_letters(batch: &MessageBatch<StockChanged>, env: &Env) -> Result<()> {
    let db = env.d1("CATALOG")?;
    let t = now();
    let messages = batch.messages()?;
    // An event that never got through the main consumer still raises its alert.
    let events: Vec<StockChanged> = messages.iter().map(|m| m.body().clone()).collect();
    super::alerts::record(&db, &events).await?;
    for m in messages {
        fail(&db, None, m.body(), "retries exhausted", t).await?;
        m.ack();
    }
    Ok(())
}
