//! The order-feed polls: a cron trigger (`[triggers] crons` in wrangler.toml) and
//! `POST /v1/inbound/polls/run` read each WooCommerce, Amazon and eBay channel's orders modified
//! since its watermark and apply them through the same path as webhooks (`inbound_apply.rs`), so
//! an order whose webhook was lost — WooCommerce never retries, Amazon's notifications go to
//! SQS, eBay's can be dropped — still reduces stock, once. `GET /v1/inbound/polls` shows where
//! each channel's poll stands.
//!
//! Per channel and run (decisions in `crate::inbound::poll`):
//! 1. Take the channel's lease in D1 `inbound_polls` (runs may overlap; one polls a channel at a
//!    time) and read its state; a channel polled for the first time starts at its creation (or
//!    `settings.poll_since`, RFC 3339).
//! 2. Read pages of the stretch, at most [`page_budget`] per run. For each order: skip it if
//!    `inbound_poll_seen` holds the same fingerprint; skip a sale placed before the channel was
//!    connected; otherwise apply it (Amazon orders after `getOrderItems`) and remember its
//!    fingerprint. An order that cannot be applied now (a desk, a ledger, the platform
//!    unreachable; Amazon throttling `getOrderItems`) ends the run *before* the page is marked
//!    read: the next run reads that page again, and what was applied is skipped or applied once.
//! 3. Save the state after every page, release the lease, and record the run.
//!
//! Channels with `settings.poll = false` are not polled. Disabled channels are: a sale that
//! happened must be counted. Amazon needs marketplace ids: `settings.marketplace_ids`, else those
//! of the channel's listings.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{console_error, console_log, event, D1Database, Env, Response, Result, ScheduleContext, ScheduledEvent};

use crate::api::{FieldError, Problem};
use crate::catalog::model::ChannelKind;
use crate::inbound::poll::{admit, is_polled, page_request, read_page, FeedError, FeedOf, PollState, Window};
use crate::inbound::Outcome;
use crate::stock::Token;
use crate::sync::http::basic_auth;
use crate::sync::{HttpRequest, HttpResponse};
use crate::time::Millis;

use super::clock::now;
use super::ebay_token::{EbayAuth, EbayCallError};
use super::http;
use super::inbound_apply::{
    amazon_token, apply_outcome, secret, send, ChannelRow, Conn, Cx, Summary, CALL_TIMEOUT, DB, IN_CHUNK,
};

/// How long a run holds a channel (a run that died releases it by expiry).
const LEASE_MS: i64 = 5 * 60 * 1000;
/// How long an order's fingerprint is kept.
const SEEN_RETENTION_MS: i64 = 7 * 24 * 3_600_000;
/// Tries of one page read that fails in transport (each failure drops a connection the platform
/// closed while the previous page was applied; a pool may hold several).
const PAGE_ATTEMPTS: u32 = 4;
/// Channels polled per run.
const MAX_CHANNELS: usize = 50;

/// Pages read per channel and run. SP-API `getOrders` allows a burst of 20 and one more a
/// minute, and each order costs a `getOrderItems` (burst 30, one every 2 s): two pages per run.
fn page_budget(kind: ChannelKind) -> usize {
    match kind {
        ChannelKind::Amazon => 2,
        ChannelKind::Ebay => 5,
        _ => 10,
    }
}

/// The cron trigger.
#[event(scheduled)]
pub async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match run(&env, None).await {
        Ok(runs) => console_log!("inbound poll ({}): {}", event.cron(), Value::Array(runs)),
        Err(e) => console_error!("inbound poll ({}) failed: {e}", event.cron()),
    }
}

#[derive(Deserialize)]
struct PolledChannelRow {
    channel: String,
    kind: String,
    account: String,
    credentials_secret: Option<String>,
    settings: String,
    created_at: i64,
}

#[derive(Deserialize)]
struct StateRow {
    state: String,
}

#[derive(Deserialize)]
struct SeenRow {
    order_id: String,
    fingerprint: String,
}

#[derive(Deserialize)]
struct MarketplaceRow {
    value: String,
}

/// What one channel's run did (also the answer's item).
struct ChannelRun {
    channel: Token,
    kind: ChannelKind,
    result: &'static str,
    window: Option<Window>,
    pages: usize,
    orders_read: usize,
    orders_applied: usize,
    unchanged: usize,
    before_connection: usize,
    unusable: usize,
    finished: bool,
    error: Option<String>,
    summary: Summary,
}

impl ChannelRun {
    fn new(conn: &Conn, kind: ChannelKind) -> ChannelRun {
        ChannelRun {
            channel: conn.channel.clone(),
            kind,
            result: "polled",
            window: None,
            pages: 0,
            orders_read: 0,
            orders_applied: 0,
            unchanged: 0,
            before_connection: 0,
            unusable: 0,
            finished: false,
            error: None,
            summary: Summary::new(&conn.channel),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "channel": self.channel.as_str(),
            "kind": self.kind.as_str(),
            "result": self.result,
            "window": self.window.as_ref().map(|w| json!({
                "after": w.after.to_rfc3339(),
                "before": w.before.to_rfc3339(),
            })),
            "finished": self.finished,
            "pages": self.pages,
            "orders_read": self.orders_read,
            "orders_applied": self.orders_applied,
            "orders_unchanged": self.unchanged,
            "orders_before_connection": self.before_connection,
            "orders_unusable": self.unusable,
            "sold_lines": self.summary.sold_lines,
            "cancelled_orders": self.summary.cancelled_orders,
            "unmatched_lines": self.summary.unmatched_lines,
            "error": self.error,
        })
    }
}

/// Polls every polled channel (or only `only`) once; one JSON summary per channel.
pub async fn run(env: &Env, only: Option<&Token>) -> Result<Vec<Value>> {
    let db = env.d1(DB)?;
    let rows: Vec<PolledChannelRow> = db
        .prepare(
            "SELECT channel, kind, account, credentials_secret, settings, created_at FROM channels \
             WHERE kind IN ('woocommerce', 'amazon', 'ebay') AND (?1 IS NULL OR channel = ?1) ORDER BY channel LIMIT ?2",
        )
        .bind(&[only.map_or(JsValue::NULL, |c| c.as_str().into()), (MAX_CHANNELS as f64).into()])?
        .all()
        .await?
        .results()?;
    let t = now();
    db.prepare("DELETE FROM inbound_poll_seen WHERE seen_at < ?1")
        .bind(&[((t.0 - SEEN_RETENTION_MS) as f64).into()])?
        .run()
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let Some(kind) = ChannelKind::parse(&r.kind).filter(|k| is_polled(*k)) else { continue };
        let created_at = Millis(r.created_at);
        let row = ChannelRow {
            channel: r.channel,
            account: r.account,
            credentials_secret: r.credentials_secret,
            settings: r.settings,
        };
        let Some(conn) = Conn::of(row) else { continue };
        if conn.settings.get("poll").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let since = conn.setting("poll_since").and_then(Millis::parse_rfc3339).unwrap_or(created_at);
        let run = poll_channel(env, &db, conn, kind, since).await?;
        out.push(run.to_json());
    }
    Ok(out)
}

/// Takes the channel's lease; `false` when another run holds it.
async fn lease(db: &D1Database, channel: &Token, initial: &PollState, t: Millis) -> Result<bool> {
    let state = serde_json::to_string(initial).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let r = db
        .prepare(
            "INSERT INTO inbound_polls (channel, state, lease_until) VALUES (?1, ?2, ?3) \
             ON CONFLICT (channel) DO UPDATE SET lease_until = excluded.lease_until WHERE inbound_polls.lease_until < ?4",
        )
        .bind(&[channel.as_str().into(), state.into(), ((t.0 + LEASE_MS) as f64).into(), (t.0 as f64).into()])?
        .run()
        .await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}

async fn load_state(db: &D1Database, channel: &Token, since: Millis) -> Result<PollState> {
    let row: Option<StateRow> = db
        .prepare("SELECT state FROM inbound_polls WHERE channel = ?1")
        .bind(&[channel.as_str().into()])?
        .first(None)
        .await?;
    let mut state =
        row.and_then(|r| serde_json::from_str::<PollState>(&r.state).ok()).unwrap_or_else(|| PollState::new(since));
    state.since = since;
    Ok(state)
}

async fn save_state(db: &D1Database, channel: &Token, state: &PollState) -> Result<()> {
    let s = serde_json::to_string(state).map_err(|e| worker::Error::RustError(e.to_string()))?;
    db.prepare("UPDATE inbound_polls SET state = ?1 WHERE channel = ?2")
        .bind(&[s.into(), channel.as_str().into()])?
        .run()
        .await?;
    Ok(())
}

async fn finish(db: &D1Database, run: &ChannelRun, t: Millis) -> Result<()> {
    let ok = run.error.is_none();
    db.prepare(
        "UPDATE inbound_polls SET lease_until = 0, last_run_at = ?1, last_ok_at = CASE WHEN ?2 THEN ?1 ELSE last_ok_at END, \
         last_error = ?3, orders_read = orders_read + ?4, orders_applied = orders_applied + ?5 WHERE channel = ?6",
    )
    .bind(&[
        (t.0 as f64).into(),
        ok.into(),
        run.error.as_deref().map_or(JsValue::NULL, JsValue::from),
        (run.orders_read as f64).into(),
        (run.orders_applied as f64).into(),
        run.channel.as_str().into(),
    ])?
    .run()
    .await?;
    Ok(())
}

/// Amazon marketplaces to ask about: `settings.marketplace_ids`, else the channel's listings'.
async fn marketplaces(db: &D1Database, conn: &Conn) -> Result<Vec<String>> {
    if let Some(Value::Array(ids)) = conn.settings.get("marketplace_ids") {
        let ids: Vec<String> = ids.iter().filter_map(Value::as_str).map(str::to_owned).collect();
        if !ids.is_empty() {
            return Ok(ids);
        }
    }
    let rows: Vec<MarketplaceRow> = db
        .prepare(
            "SELECT DISTINCT j.value AS value FROM listings l, json_each(l.external, '$.marketplace_ids') j \
             WHERE l.channel = ?1 ORDER BY 1 LIMIT 50",
        )
        .bind(&[conn.channel.as_str().into()])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.value).collect())
}

/// The fingerprints of the orders already applied, among `ids`, by order id.
async fn seen_fingerprints(db: &D1Database, channel: &Token, ids: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let mut params: Vec<JsValue> = vec![channel.as_str().into()];
        params.extend(chunk.iter().map(|v| JsValue::from(v.as_str())));
        let sql = format!(
            "SELECT order_id, fingerprint FROM inbound_poll_seen WHERE channel = ? AND order_id IN ({})",
            vec!["?"; chunk.len()].join(", ")
        );
        for r in db.prepare(sql).bind(&params)?.all().await?.results::<SeenRow>()? {
            out.insert(r.order_id, r.fingerprint);
        }
    }
    Ok(out)
}

/// Records the fingerprints of the orders a page got through (`(order id, fingerprint)`), in one
/// D1 batch.
async fn remember(db: &D1Database, channel: &Token, done: &[(&str, &str)], t: Millis) -> Result<()> {
    if done.is_empty() {
        return Ok(());
    }
    let mut stmts = Vec::with_capacity(done.len());
    for (order_id, fingerprint) in done {
        stmts.push(
            db.prepare(
                "INSERT INTO inbound_poll_seen (channel, order_id, fingerprint, seen_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (channel, order_id) DO UPDATE SET fingerprint = excluded.fingerprint, seen_at = excluded.seen_at",
            )
            .bind(&[channel.as_str().into(), (*order_id).into(), (*fingerprint).into(), (t.0 as f64).into()])?,
        );
    }
    db.batch(stmts).await?;
    Ok(())
}

async fn poll_channel(env: &Env, db: &D1Database, conn: Conn, kind: ChannelKind, since: Millis) -> Result<ChannelRun> {
    let t = now();
    let mut run = ChannelRun::new(&conn, kind);
    if !lease(db, &conn.channel, &PollState::new(since), t).await? {
        run.result = "busy";
        return Ok(run);
    }
    let outcome = read_stretch(env, db, &conn, kind, since, t, &mut run).await;
    if let Err(e) = &outcome {
        run.error = Some(e.to_string());
    }
    if run.error.is_some() {
        run.result = "incomplete";
    }
    finish(db, &run, now()).await?;
    Ok(run)
}

/// Reads the channel's stretch as far as the budget goes. `Err` only for D1 failures; a
/// platform's refusal or an order that could not be applied is `run.error`.
async fn read_stretch(
    env: &Env,
    db: &D1Database,
    conn: &Conn,
    kind: ChannelKind,
    since: Millis,
    t: Millis,
    run: &mut ChannelRun,
) -> Result<()> {
    let mut state = load_state(db, &conn.channel, since).await?;
    let Some(mut window) = state.next_window(kind, t) else {
        run.finished = true;
        return Ok(());
    };
    run.window = Some(window.clone());
    let cx = Cx { env, db, t, kind, topic: "poll", dedupe_key: None };
    let feed = FeedOf {
        kind,
        account: conn.account.clone(),
        marketplace_ids: if kind == ChannelKind::Amazon { marketplaces(db, conn).await? } else { Vec::new() },
    };
    if kind == ChannelKind::Amazon && feed.marketplace_ids.is_empty() {
        run.error = Some("no marketplace ids: set settings.marketplace_ids or list the channel's items".into());
        return Ok(());
    }
    let conns = [conn.clone()];
    let auth = match FeedAuth::of(env, conn, kind) {
        Ok(a) => a,
        Err(why) => {
            run.error = Some(why);
            return Ok(());
        }
    };
    let base = crate::sync::connection::base_url(kind, &conn.account, &conn.settings);
    for _ in 0..page_budget(kind) {
        let resp = match fetch_page(&auth, &cx, conn, &base, &page_request(&feed, &window)).await {
            Ok(r) => r,
            Err(why) => {
                run.error = Some(why);
                return Ok(());
            }
        };
        let page = match read_page(&feed, &window, &resp, now()) {
            Ok(p) => p,
            Err(e) => {
                run.error = Some(match e {
                    FeedError::Throttled { retry_after_s: Some(s) } => format!("{e}; retry after {s} s"),
                    _ => e.to_string(),
                });
                return Ok(());
            }
        };
        run.pages += 1;
        run.orders_read += page.orders.len();
        let ids: Vec<String> = page.orders.iter().map(|o| o.order_id.clone()).collect();
        let seen = seen_fingerprints(db, &conn.channel, &ids).await?;
        // Orders got through (applied, ignored, unusable, before the connection): remembered
        // in one batch when the page ends, or when an order stops the run.
        let mut done: Vec<(&str, &str)> = Vec::with_capacity(page.orders.len());
        for order in &page.orders {
            if seen.get(&order.order_id) == Some(&order.fingerprint) {
                run.unchanged += 1;
                continue;
            }
            if !admit(order, since) {
                run.before_connection += 1;
            } else {
                match &order.outcome {
                    Err(e) => {
                        run.unusable += 1;
                        worker::console_warn!("{} order {} is unusable: {e}", conn.channel, order.order_id);
                    }
                    Ok(outcome) => {
                        if let Err(why) = apply_outcome(&cx, &conns, outcome, &mut run.summary).await? {
                            run.error = Some(format!("order {}: {why}", order.order_id));
                            remember(db, &conn.channel, &done, t).await?;
                            return Ok(());
                        }
                        if !matches!(outcome, Outcome::Ignored { .. } | Outcome::Ping) {
                            run.orders_applied += 1;
                        }
                    }
                }
            }
            done.push((&order.order_id, &order.fingerprint));
        }
        remember(db, &conn.channel, &done, t).await?;
        state.advance(&window, page.next.clone());
        save_state(db, &conn.channel, &state).await?;
        match page.next {
            Some(cursor) => window.cursor = Some(cursor),
            None => {
                run.finished = true;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// How a channel's feed is authenticated, settled once per run.
enum FeedAuth {
    /// WooCommerce: HTTP Basic with the consumer key and secret.
    Basic(String),
    /// Amazon: a Login-with-Amazon access token (cached; taken per page, as it may expire).
    Lwa,
    /// eBay: the channel's bearer token, bare or minted (a new one if eBay refuses a cached one).
    Ebay(EbayAuth),
}

impl FeedAuth {
    fn of(env: &Env, conn: &Conn, kind: ChannelKind) -> std::result::Result<FeedAuth, String> {
        let secret = secret(env, conn.credentials_secret.as_deref());
        match kind {
            ChannelKind::Amazon => Ok(FeedAuth::Lwa),
            ChannelKind::Ebay => EbayAuth::of(secret.as_deref(), &conn.account, &conn.settings)
                .map(FeedAuth::Ebay)
                .map_err(|e| format!("the channel's credentials secret: {e}")),
            _ => match secret.as_deref().and_then(|s| s.split_once(':')) {
                Some((key, pass)) => Ok(FeedAuth::Basic(basic_auth(key, pass))),
                None => Err("the channel's credentials secret is missing or not key:secret".into()),
            },
        }
    }
}

/// One page read, authenticated. A read is a GET: one that fails in transport (a kept-alive
/// connection the platform closed while the previous page was being applied, a reset) is tried
/// again, up to [`PAGE_ATTEMPTS`] times, 100 ms × n apart.
async fn fetch_page(
    auth: &FeedAuth,
    cx: &Cx<'_>,
    conn: &Conn,
    base: &str,
    req: &HttpRequest,
) -> std::result::Result<HttpResponse, String> {
    let mut failures = Vec::new();
    for attempt in 0..PAGE_ATTEMPTS {
        if attempt > 0 {
            worker::Delay::from(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
        }
        let answer = match auth {
            FeedAuth::Basic(header) => send(base, &req.clone().header("Authorization", header.as_str())).await,
            FeedAuth::Lwa => match amazon_token(cx, conn).await {
                Ok(token) => send(base, &req.clone().header("x-amz-access-token", token)).await,
                Err(why) => return Err(why),
            },
            FeedAuth::Ebay(a) => match a.send(base, req, cx.t, CALL_TIMEOUT).await {
                Ok(r) => Ok(r),
                Err(e @ EbayCallError::Token(_)) => return Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            },
        };
        match answer {
            Ok(r) => return Ok(r),
            Err(why) => failures.push(why),
        }
    }
    Err(format!("{PAGE_ATTEMPTS} attempts failed: {}", failures.join("; ")))
}

// ---------------------------------------------------------------------------------------------
// The admin routes

/// `POST /v1/inbound/polls/run[?channel=]`: polls now (all polled channels, or one), answering
/// what each run did.
pub async fn run_now(query: &[(String, String)], env: &Env) -> Result<Response> {
    let mut only = None;
    for (k, v) in query {
        if k == "channel" {
            match Token::parse(v) {
                Ok(c) => only = Some(c),
                Err(e) => return http::problem(&Problem::invalid(vec![FieldError::new("channel", e.to_string())])),
            }
        }
    }
    let runs = run(env, only.as_ref()).await?;
    http::json(200, &json!({ "runs": runs }))
}

#[derive(Deserialize)]
struct PollRow {
    channel: String,
    kind: String,
    state: Option<String>,
    last_run_at: Option<i64>,
    last_ok_at: Option<i64>,
    last_error: Option<String>,
    orders_read: Option<i64>,
    orders_applied: Option<i64>,
}

/// `GET /v1/inbound/polls`: each polled channel's watermark and last run.
pub async fn status(env: &Env) -> Result<Response> {
    let db = env.d1(DB)?;
    let rows: Vec<PollRow> = db
        .prepare(
            "SELECT c.channel, c.kind, p.state, p.last_run_at, p.last_ok_at, p.last_error, p.orders_read, p.orders_applied \
             FROM channels c LEFT JOIN inbound_polls p ON p.channel = c.channel \
             WHERE c.kind IN ('woocommerce', 'amazon', 'ebay') ORDER BY c.channel",
        )
        .all()
        .await?
        .results()?;
    let time = |t: Option<i64>| t.map(|t| Millis(t).to_rfc3339());
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let state = r.state.as_deref().and_then(|s| serde_json::from_str::<PollState>(s).ok());
            json!({
                "channel": r.channel,
                "kind": r.kind,
                "since": state.as_ref().map(|s| s.since.to_rfc3339()),
                "watermark": state.as_ref().and_then(|s| s.watermark).map(Millis::to_rfc3339),
                "in_progress": state.as_ref().is_some_and(|s| s.window.is_some()),
                "last_run_at": time(r.last_run_at),
                "last_ok_at": time(r.last_ok_at),
                "last_error": r.last_error,
                "orders_read": r.orders_read.unwrap_or(0),
                "orders_applied": r.orders_applied.unwrap_or(0),
            })
        })
        .collect();
    http::json(200, &json!({ "items": items }))
}
