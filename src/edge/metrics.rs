//! The counters of `GET /v1/metrics` (admin, Prometheus text), of two kinds:
//! - the isolate's own (`crate::metrics::Counters`): recorded at the shell's choke points —
//!   every D1 round trip (`store`), every stock-change message the sync consumer receives
//!   (`sync_consumer`), every outbox send of a SKU object (`sku_object`). Per isolate: under
//!   `wrangler dev` the Worker, its objects and its consumers share one, so one read sees all of
//!   them; on Cloudflare each isolate counts its own.
//! - the durable ones (`crate::metrics::durable`), true across isolates: kept in D1
//!   (`crate::db::metrics`), added to by the sync consumer (ledger changes once per
//!   `(sku, version)`, pushes, push latency, queue lag) and the webhook receiver.

use std::cell::RefCell;

use worker::{console_error, D1Database, Env, Response, ResponseBody};

use crate::db::metrics::{self as table, CounterRow};
use crate::fault::Fault;
use crate::metrics::durable;
use crate::metrics::refusals::{reason_of, RefusalBuffer};
use crate::metrics::{current_origin, Counters, Origin, Scoped};
use crate::stock::Token;
use crate::sync::{ListingResult, StockChanged};
use crate::time::Millis;

use super::clock::now;
use super::http;
use super::store::{self, Query, StoreResult};

/// Prometheus text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

thread_local! {
    static COUNTERS: RefCell<Option<Counters>> = const { RefCell::new(None) };
    static REFUSALS: RefCell<RefusalBuffer> = RefCell::new(RefusalBuffer::default());
}

fn record(f: impl FnOnce(&mut Counters)) {
    COUNTERS.with(|c| f(c.borrow_mut().get_or_insert_with(|| Counters::new(now()))));
}

/// One D1 round trip carrying `statements` statements, counted under what the isolate is doing.
pub fn d1(statements: usize) {
    let origin = current_origin();
    record(|c| c.d1(origin, statements));
}

/// The sync consumer received these stock-change messages.
pub fn delivered(events: &[StockChanged]) {
    record(|c| events.iter().for_each(|e| c.delivered(&e.sku, e.version)));
}

/// An availability read answered its items from these sources.
pub fn availability_read(sources: crate::api::availability_cache::ItemSources) {
    record(|c| c.availability_read(sources));
}

/// A SKU object's outbox send of `events` events answered (`ok`) or failed.
pub fn outbox_send(events: usize, ok: bool) {
    record(|c| c.outbox_send(events, ok));
}

/// The statements that count a batch of stock changes in D1, each `(sku, version)` once across
/// deliveries and isolates, and with `taken_at` (the main consumer's batches, not the dead
/// letters') set the queue lag gauge. The consumer runs them in the batch that settles its pushes
/// (`store::sync_state::settle`): an error there leaves nothing counted and the messages are
/// retried.
pub fn change_counts(events: &[StockChanged], taken_at: Option<Millis>) -> Vec<Query> {
    let mut qs = table::count_changes(&durable::counted_changes(events), now());
    if let Some(t) = taken_at {
        let (lag, value) = durable::queue_lag(events, t);
        qs.extend(table::set(&lag, value));
    }
    qs
}

/// Counts the pushes a batch made and its platform calls' latencies (`(channel, ms)`). Best
/// effort: a failure is logged and the pushes stand (they are settled already).
pub async fn count_pushes(db: &D1Database, results: &[ListingResult], calls: &[(Token, u64)]) {
    let tally = durable::push_increments(
        results.iter().map(|r| (r.key.channel.as_str(), &r.outcome)),
        calls.iter().map(|(c, ms)| (c.as_str(), *ms)),
    );
    if let Err(e) = store::batch_of(db, table::add(&tally)).await {
        console_error!("metrics: pushes not counted: {e}");
    }
}

/// Counts one webhook delivery of `platform` ended with `outcome`. Best effort: logged on failure.
pub async fn count_webhook(env: &Env, platform: &str, outcome: durable::WebhookOutcome) {
    let (key, n) = durable::webhook_increment(platform, outcome);
    let tally = durable::Tally::from([(key, n)]);
    let counted = match store::db(env) {
        Ok(db) => store::batch_of(&db, table::add(&tally)).await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = counted {
        console_error!("metrics: webhook delivery not counted: {e}");
    }
}

/// Counts the order-feed poll runs `(channel, result)`. Best effort: logged on failure.
pub async fn count_poll_runs(db: &D1Database, runs: &[(Token, &'static str)]) {
    let tally = durable::poll_run_increments(runs.iter().map(|(c, r)| (c.as_str(), *r)));
    if let Err(e) = store::batch_of(db, table::add(&tally)).await {
        console_error!("metrics: poll runs not counted: {e}");
    }
}

/// Forgets the counted changes older than `durable::SEEN_RETENTION_MS` (the cron).
pub async fn prune_seen(db: &D1Database) -> StoreResult<()> {
    store::execute(db, table::prune_seen(now())).await.map(drop)
}

/// Sees the answer to a `POST /v1/reservations`: a `409` is a refused hold, counted under its
/// problem type (`metrics::refusals`). Synchronous, so the hold's answer waits on nothing: the
/// body is the bytes the shell rendered (`http::raw_json`), read in place. Returns the write of
/// the isolate's refusals when one is due, to run after the answer is sent (`waitUntil`); a failed
/// write is put back.
pub fn hold_answered(resp: &Response, env: &Env) -> Option<impl std::future::Future<Output = ()> + 'static> {
    if resp.status_code() == 409 {
        let body = match resp.body() {
            ResponseBody::Body(bytes) => bytes.as_slice(),
            ResponseBody::Empty | ResponseBody::Stream(_) => &[],
        };
        let reason = reason_of(body);
        REFUSALS.with(|r| r.borrow_mut().refused(&reason));
    }
    let tally = REFUSALS.with(|r| r.borrow_mut().due(now()))?;
    let env = env.clone();
    Some(async move {
        let written = match store::db(&env) {
            Ok(db) => store::batch_of(&db, table::add(&tally)).await.map(drop),
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            console_error!("metrics: refused holds not counted yet: {e}");
            REFUSALS.with(|r| r.borrow_mut().restore(tally));
        }
    })
}

/// `GET /v1/metrics`: the durable counters, then the isolate's.
pub async fn serve(env: &Env) -> std::result::Result<Response, Fault> {
    let db = store::db(env)?;
    let rows: Vec<CounterRow> = Scoped::new(Origin::Metrics, store::read(&db, table::all())).await?;
    let rows: Vec<_> = rows.into_iter().map(CounterRow::into_sample).collect();
    let mut body = durable::render(&rows);
    record(|c| body.push_str(&c.render()));
    Ok(http::text(200, body, CONTENT_TYPE)?)
}
