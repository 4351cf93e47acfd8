//! The order-feed polls: a cron trigger (`[triggers] crons` in wrangler.toml) and
//! `POST /v1/inbound/polls/run` read each WooCommerce, Amazon and eBay channel's orders modified
//! since its watermark and apply them through the same path as webhooks (`inbound_apply.rs`), so
//! an order whose webhook was lost — WooCommerce never retries, Amazon's notifications go to
//! SQS, eBay's can be dropped — still reduces stock, once. `GET /v1/inbound/polls` shows where
//! each channel's poll stands.
//!
//! Per channel and run (decisions in `crate::inbound::poll`, D1 in `store::inbound`):
//! 1. Take the channel's lease in D1 `inbound_polls` (runs may overlap; one polls a channel at a
//!    time) and read its state; a channel polled for the first time starts at its creation (or
//!    `settings.poll_since`, RFC 3339).
//! 2. Read pages of the stretch, at most `page_budget` per run. For each order: skip it if
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

use serde_json::{json, Value};
use worker::{
    console_error, console_log, console_warn, event, D1Database, Env, Response, ScheduleContext, ScheduledEvent,
};

use crate::api::{FieldError, Problem};
use crate::catalog::model::ChannelKind;
use crate::channels::{platform, FeedAuth as Registered};
use crate::fault::{Fault, StoreError};
use crate::inbound::apply::Arrival;
use crate::inbound::fetch::CALL_TIMEOUT;
use crate::inbound::poll::run::PAGE_ATTEMPTS;
use crate::inbound::poll::{
    is_polled, page_budget, page_request, read_page, triage, FeedOf, PollRecord, PollRun, PollState, Triage,
};
use crate::inbound::InboundChannel;
use crate::stock::Token;
use crate::sync::http::basic_auth;
use crate::sync::{connection, HttpRequest, HttpResponse};
use crate::time::Millis;

use super::clock::now;
use super::ebay_token::{EbayAuth, EbayCallError};
use super::inbound_apply::{amazon_token, apply, send, Cx};
use super::store::{self, inbound as rows};
use super::{http, secrets};

/// The cron trigger.
#[event(scheduled)]
pub async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match run(&env, None).await {
        Ok(runs) => console_log!("inbound poll ({}): {}", event.cron(), Value::Array(runs)),
        Err(e) => console_error!("inbound poll ({}) failed: {e}", event.cron()),
    }
    super::reconcile::scheduled(&env).await;
    // The cron also forgets old counted changes (`metric_seen`).
    let pruned = match store::db(&env) {
        Ok(db) => super::metrics::prune_seen(&db).await,
        Err(e) => Err(e),
    };
    if let Err(e) = pruned {
        console_error!("metrics: metric_seen not pruned: {e}");
    }
    // Then the alert problems: channel-level kinds and reminders (`super::alert_watch`).
    match super::alert_watch::run(&env).await {
        Ok(n) => console_log!("alert watch ({}): {n} messages", event.cron()),
        Err(e) => console_error!("alert watch ({}) failed: {e}", event.cron()),
    }
    match super::erp_poll::run(&env, None).await {
        Ok(runs) => console_log!("erp poll ({}): {}", event.cron(), Value::Array(runs)),
        Err(e) => console_error!("erp poll ({}) failed: {e}", event.cron()),
    }
    // Forwarded adjustment requests to their ERPs (`super::erp_adjustments`).
    match super::erp_adjustments::run(&env).await {
        Ok(summary) => console_log!("erp adjustment requests ({}): {summary}", event.cron()),
        Err(e) => console_error!("erp adjustment requests ({}) failed: {e}", event.cron()),
    }
    // Import jobs whose chunks stopped moving get them sent again.
    match super::import_jobs::resume_stalled(&env).await {
        Ok((0, _)) => {}
        Ok((jobs, chunks)) => console_warn!("import jobs: {chunks} chunks of {jobs} stalled jobs sent again"),
        Err(e) => console_error!("import jobs: stalled jobs not resumed: {e}"),
    }
}

/// Polls every polled channel (or only `only`) once; one JSON summary per channel.
pub async fn run(env: &Env, only: Option<&Token>) -> Result<Vec<Value>, Fault> {
    let db = store::db(env)?;
    let channels = rows::polled_channels(&db, only).await?;
    rows::prune_seen(&db, now()).await?;
    let mut out = Vec::new();
    let mut counted = Vec::new();
    for p in channels.into_iter().filter(|p| is_polled(p.kind) && p.channel.polled()) {
        let since = p.channel.poll_since(p.created_at);
        // A store failure ends this channel's run, not the pass: the others are polled, and
        // every run is counted.
        let r = match poll_channel(env, &db, &p.channel, p.kind, since).await {
            Ok(r) => r,
            Err(e) => {
                let mut r = PollRun::new(&p.channel.id, p.kind);
                r.stop(format!("store: {e}"));
                r
            }
        };
        counted.push((r.channel.clone(), r.result));
        out.push(r.to_json());
    }
    super::metrics::count_poll_runs(&db, &counted).await;
    Ok(out)
}

async fn poll_channel(
    env: &Env,
    db: &D1Database,
    conn: &InboundChannel,
    kind: ChannelKind,
    since: Millis,
) -> Result<PollRun, StoreError> {
    let t = now();
    let mut run = PollRun::new(&conn.id, kind);
    if !rows::lease(db, &conn.id, &PollState::new(since), t).await? {
        run.result = "busy";
        return Ok(run);
    }
    if let Err(e) = read_stretch(env, db, conn, kind, since, t, &mut run).await {
        run.stop(e.to_string());
    }
    rows::finish(db, &run, now()).await?;
    Ok(run)
}

/// Reads the channel's stretch as far as the budget goes. `Err` only for D1 failures; a
/// platform's refusal or an order that could not be applied stops the run (`run.error`).
async fn read_stretch(
    env: &Env,
    db: &D1Database,
    conn: &InboundChannel,
    kind: ChannelKind,
    since: Millis,
    t: Millis,
    run: &mut PollRun,
) -> Result<(), StoreError> {
    let mut state = rows::poll_state(db, &conn.id, since).await?;
    let Some(mut window) = state.next_window(kind, t) else {
        run.finished = true;
        return Ok(());
    };
    run.window = Some(window.clone());
    let mut marketplace_ids = Vec::new();
    if platform(kind).feed.is_some_and(|f| f.needs_marketplaces) {
        marketplace_ids = conn.marketplace_ids();
        if marketplace_ids.is_empty() {
            marketplace_ids = rows::marketplaces(db, &conn.id).await?;
        }
        if marketplace_ids.is_empty() {
            run.stop("no marketplace ids: set settings.marketplace_ids or list the channel's items");
            return Ok(());
        }
    }
    let feed = FeedOf { kind, account: conn.account.clone(), marketplace_ids };
    let auth = match FeedAuth::of(env, conn, kind) {
        Ok(a) => a,
        Err(why) => {
            run.stop(why);
            return Ok(());
        }
    };
    let cx = Cx { env, db, at: Arrival { kind, topic: "poll", dedupe_key: None, now: t } };
    let base = connection::base_url(kind, &conn.account, &conn.settings);
    for _ in 0..page_budget(kind) {
        let read = fetch_page(&auth, &cx, conn, &base, &page_request(&feed, &window))
            .await
            .and_then(|resp| read_page(&feed, &window, &resp, now()).map_err(|e| e.describe()));
        let page = match read {
            Ok(p) => p,
            Err(why) => {
                run.stop(why);
                return Ok(());
            }
        };
        run.pages += 1;
        run.orders_read += page.orders.len();
        let ids: Vec<String> = page.orders.iter().map(|o| o.order_id.clone()).collect();
        let seen = rows::seen_fingerprints(db, &conn.id, &ids).await?;
        // Orders got through (applied, ignored, unusable, before the connection): remembered
        // in one batch when the page ends, or when an order stops the run.
        let mut done: Vec<(&str, &str)> = Vec::with_capacity(page.orders.len());
        for order in &page.orders {
            let triaged = triage(order, seen.get(&order.order_id).map(String::as_str), since);
            let applied = match &triaged {
                Triage::Apply(outcome) => match apply(&cx, conn, &[], outcome).await {
                    Ok(report) => Some(report.tally),
                    Err(e) => {
                        run.stop(format!("order {}: {e}", order.order_id));
                        return rows::remember(db, &conn.id, &done, t).await;
                    }
                },
                Triage::Unusable(e) => {
                    console_warn!("{} order {} is unusable: {e}", conn.id, order.order_id);
                    None
                }
                Triage::Unchanged | Triage::BeforeConnection => None,
            };
            run.count(&triaged, applied.as_ref());
            done.push((&order.order_id, &order.fingerprint));
        }
        rows::remember(db, &conn.id, &done, t).await?;
        state.advance(&window, page.next.clone());
        rows::save_state(db, &conn.id, &state).await?;
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
    fn of(env: &Env, conn: &InboundChannel, kind: ChannelKind) -> Result<FeedAuth, String> {
        let secret = secrets::read(env, conn.credentials_secret.as_deref()).ok();
        match platform(kind).feed.map(|f| f.auth) {
            Some(Registered::Lwa) => Ok(FeedAuth::Lwa),
            Some(Registered::Ebay) => EbayAuth::of(secret.as_deref(), &conn.account, &conn.settings)
                .map(FeedAuth::Ebay)
                .map_err(|e| format!("the channel's credentials secret: {e}")),
            Some(Registered::Basic) | None => match secret.as_deref().and_then(|s| s.split_once(':')) {
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
    conn: &InboundChannel,
    base: &str,
    req: &HttpRequest,
) -> Result<HttpResponse, String> {
    let mut failures = Vec::new();
    for attempt in 0..PAGE_ATTEMPTS {
        if attempt > 0 {
            worker::Delay::from(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
        }
        let answer = match auth {
            FeedAuth::Basic(header) => send(base, &req.clone().header("Authorization", header.as_str())).await,
            FeedAuth::Lwa => {
                let access = amazon_token(cx.env, conn, cx.at.now).await.map_err(|e| e.to_string())?;
                let answer = send(base, &req.clone().header("x-amz-access-token", access.token.as_str())).await;
                if matches!(&answer, Ok(r) if r.status == 401 || r.status == 403) {
                    access.forget();
                }
                answer
            }
            FeedAuth::Ebay(a) => match a.send(base, req, cx.at.now, CALL_TIMEOUT).await {
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

/// `POST /v1/inbound/polls/run[?channel=]`: polls now (all polled channels, or one), answering
/// what each run did.
pub async fn run_now(query: &[(String, String)], env: &Env) -> Result<Response, Fault> {
    let mut only = None;
    for (_, v) in query.iter().filter(|(k, _)| k == "channel") {
        match Token::parse(v) {
            Ok(c) => only = Some(c),
            Err(e) => return Ok(http::problem(&Problem::invalid(vec![FieldError::new("channel", e.to_string())]))?),
        }
    }
    let runs = run(env, only.as_ref()).await?;
    Ok(http::json(200, &json!({ "runs": runs }))?)
}

/// `GET /v1/inbound/polls`: each polled channel's watermark and last run.
pub async fn status(env: &Env) -> Result<Response, Fault> {
    let records = rows::poll_records(&store::db(env)?).await?;
    let items: Vec<Value> = records.iter().map(PollRecord::to_json).collect();
    Ok(http::json(200, &json!({ "items": items }))?)
}
