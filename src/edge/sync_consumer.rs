//! The `stock-changes` queue consumer: pushes every committed change to every listing of the
//! SKU. Every decision is the core's (`crate::sync::BatchPlan`, `crate::sync::ChannelPush`);
//! this loads the rows (`store::sync_state`), performs the steps the plan asks for (tokens,
//! control numbers, platform calls), writes what it settles and acknowledges or retries each
//! message. Messages that exhaust their retries reach the dead-letter queue, whose consumer
//! records them as failures. Before any of that, the oversold alerts the batch's events carry are
//! recorded in D1 `alerts` and the SKUs' alert problems observed (`super::alerts`). The same entry
//! point consumes `import-jobs` and `alerts-out` (`super::alerts_out`). After the channels, the
//! batch's order changes are delivered to the ERPs mastering their locations (`super::erp_orders`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use worker::*;

use crate::fault::Fault;
use crate::metrics::{Origin, Scoped};
use crate::stock::{Location, Sku, Token};
use crate::sync::{
    dead_letters, Answer, BatchPlan, Channel, ChannelPush, HttpRequest, Loaded, PushResult, RetryPolicy, Step,
    StockChanged, TokenBucket,
};
use crate::time::Millis;

use super::clock::now;
use super::limits::{CALL_TIMEOUT, FAILED_BATCH_DELAY_S};
use super::store::alerts_out::{SkuState, SkuStateRead};
use super::store::catalog::ContainingRead;
use super::store::erp_routes::RoutesRead;
use super::store::sync_state::{ListingFacts, ListingFactsRead};
use super::store::{self, sync_state};
use super::{secrets, tokens};
use crate::db::erp_routes::Routes;
use crate::db::groups::Groups;

const DLQ: &str = "stock-changes-dlq";

/// The Worker's one queue entry point; its D1 queries count as the queue's, not a request's
/// (`crate::metrics::Origin`). It never returns an error: workers-rs turns a queue
/// handler's `Err` into a panic, which aborts the isolate's wasm instance, and every later event
/// of that isolate fails with it. A batch that could not be handled is retried instead (the
/// consumers are idempotent: pushes by (listing, version), alerts and failures by key, import
/// chunks by their ledger key).
#[event(queue)]
pub async fn consume(batch: MessageBatch<StockChanged>, env: Env, _ctx: Context) -> Result<()> {
    if let Err(e) = Scoped::new(Origin::Queue, dispatch(&batch, &env)).await {
        console_error!("queue {}: batch not handled ({e}); retried in {FAILED_BATCH_DELAY_S} s", batch.queue());
        batch.retry_all_with_options(&delay(FAILED_BATCH_DELAY_S));
    }
    Ok(())
}

async fn dispatch(batch: &MessageBatch<StockChanged>, env: &Env) -> std::result::Result<(), Fault> {
    if batch.queue() == DLQ {
        return record_dead_letters(batch, env).await;
    }
    // Import job chunks share this entry point (one #[event(queue)] per Worker); their bodies
    // are read raw, not as stock changes.
    if batch.queue() == super::import_jobs::QUEUE_NAME {
        return super::import_jobs::consume(batch, env).await;
    }
    if batch.queue() == super::alerts_out::QUEUE_NAME {
        return super::alerts_out::consume(batch, env).await;
    }
    stock_changes(batch, env).await
}

/// The `stock-changes` consumer: every listing of the batch's SKUs gets its newest version.
///
/// D1 round trips per batch: one read (the SKUs' alert thresholds and problems, the bundles made
/// of them, their listings, channels and sync records, and — when the batch carries order
/// changes — where the ERPs want them: [`BatchReads`]), one more when the batch
/// has bundles (their listings), and one write settling the pushes with the batch's change
/// counters; then only what the batch calls for (eBay revision counts, alerts that moved, push
/// counters).
async fn stock_changes(batch: &MessageBatch<StockChanged>, env: &Env) -> std::result::Result<(), Fault> {
    let messages = batch.messages()?;
    let mut events: Vec<StockChanged> = messages.iter().map(|m| m.body().clone()).collect();
    // What the ERPs get (below): the changes that carry order changes, kept before bundle events
    // join the batch; a batch of holds clones nothing.
    let ordered: Vec<StockChanged> = events.iter().filter(|e| !e.orders.is_empty()).cloned().collect();
    super::metrics::delivered(&events);
    let db = store::db(env)?;
    // The durable counters, each change once however often it is delivered; written with the
    // sync records (below), so a failure retries the batch and counts nothing twice.
    let counts = super::metrics::change_counts(&events, Some(now()));
    let changed = skus_of(&events);
    let read = BatchReads::add(&changed, &super::alerts::skus_of(&events), &ordered);
    let (alerting, bundle_skus, mut facts, routes) = read.run(&db).await?;
    // Alerts first, from every message: coalescing keeps only the newest version per listing,
    // and an alert rides on the version that oversold, which may not be the newest. If recording
    // fails the whole batch is retried, so no alert is acknowledged unrecorded.
    super::alerts::record(env, &db, &events, &alerting).await?;
    // Bundles made of the changed SKUs: their listings follow their components.
    let (bundle_events, bundle_members) = super::bundle_listings::events_for(env, &events, bundle_skus).await?;
    let bundles: Vec<Sku> = skus_of(&bundle_events).into_iter().filter(|s| changed.binary_search(s).is_err()).collect();
    if !bundles.is_empty() {
        facts.extend(sync_state::listing_facts(&db, &bundles).await?);
    }
    events.extend(bundle_events);
    let ListingFacts { listings, channels: records, synced } = facts;
    for corrupt in listings.iter().filter_map(|l| l.as_ref().err()) {
        console_error!("listing {} is not pushed: {}", corrupt.key, corrupt.reason);
    }
    let channels = records
        .into_iter()
        .map(|(channel, r)| {
            let secret = secrets::read(env, r.credentials_secret.as_deref());
            let c =
                Channel { channel: channel.clone(), kind: r.kind, account: r.account, settings: r.settings, secret };
            (channel, c)
        })
        .collect();
    let t = now();
    let loaded = Loaded { listings, channels, synced, bundle_members };
    let mut plan = BatchPlan::new(events, loaded, t, RetryPolicy::default());
    sync_state::count_revisions(&db, &plan.revisions, t.0).await?;
    let mut results = Vec::new();
    let mut calls = Vec::new();
    for push in std::mem::take(&mut plan.pushes) {
        results.extend(drive(&db, push, t, &mut calls).await.results());
    }
    let pushed = results.clone();
    let settled = plan.settle(results);
    sync_state::settle(&db, &settled.writes, &settled.failures, counts).await?;
    super::metrics::count_pushes(&db, &pushed, &calls).await;
    // Channels whose pushes were refused for credentials, or taken: read by the alerts cron.
    if let Err(e) = super::alerts::observe_pushes(&db, &pushed).await {
        console_error!("channel credential state not recorded: {e}");
    }
    // Orders to the ERPs mastering the changes' locations (`super::erp_orders`): after the
    // channels, so a slow ERP never holds up what the channels list.
    let erp = super::erp_orders::deliver(env, &db, &ordered, &routes.unwrap_or_default()).await?;
    if !erp.failures.is_empty() {
        sync_state::settle(&db, &[], &erp.failures, Vec::new()).await?;
    }
    for m in &messages {
        let sku = &m.body().sku;
        match settled.retry.get(sku).copied().max(erp.retry.get(sku).copied()) {
            Some(seconds) => m.retry_with_options(&delay(seconds)),
            None => m.ack(),
        }
    }
    Ok(())
}

/// Carries out one channel's steps until it is done; each platform call's latency is added to
/// `calls` as `(channel, ms)`.
async fn drive(db: &D1Database, mut push: ChannelPush, t: Millis, calls: &mut Vec<(Token, u64)>) -> ChannelPush {
    loop {
        match push.step() {
            Step::Done => return push,
            Step::Token { source, forget } => {
                if let Some(token) = forget {
                    tokens::forget(&source, &token);
                }
                push.token(tokens::bearer(&source, t, CALL_TIMEOUT).await);
            }
            Step::ControlNumber => {
                let channel = push.channel().clone();
                let n = sync_state::next_interchange(db, &channel).await;
                push.control_number(n.map_err(|e| PushResult::backoff(format!("control number: {e}"))));
            }
            Step::Send { base, requests } => {
                let answers = send_all(&base, &requests, push.pacing()).await;
                let channel = push.channel();
                calls.extend(answers.iter().map(|(_, ms)| (channel.clone(), *ms)));
                push.answered(answers.into_iter().map(|(a, _)| a).collect());
            }
        }
    }
}

thread_local! {
    /// Per paced account, its request rate, kept for the isolate's life.
    static RATES: RefCell<BTreeMap<String, TokenBucket>> = const { RefCell::new(BTreeMap::new()) };
}

/// Performs `requests` one after another, each after the account's bucket allows it (if paced);
/// each answer with how long the call took (ms, pacing excluded).
async fn send_all(base: &str, requests: &[HttpRequest], pacing: Option<(String, TokenBucket)>) -> Vec<(Answer, u64)> {
    let mut answers = Vec::with_capacity(requests.len());
    for req in requests {
        if let Some((key, fresh)) = &pacing {
            pace(key, *fresh).await;
        }
        let started = now();
        let answer = super::platform_http::send(base, req, CALL_TIMEOUT).await;
        let ms = u64::try_from(now().0.saturating_sub(started.0)).unwrap_or(0);
        answers.push((answer, ms));
    }
    answers
}

/// Waits until the bucket under `key` allows one more call (also reconciliation's paced reads).
pub(super) async fn pace(key: &str, fresh: TokenBucket) {
    loop {
        let t = now();
        let wait = RATES.with(|b| b.borrow_mut().entry(key.to_owned()).or_insert(fresh).try_take(t));
        match wait {
            Ok(()) => return,
            Err(ms) => Delay::from(Duration::from_millis(ms.max(1))).await,
        }
    }
}

/// The SKUs of `events`, each once, sorted.
fn skus_of(events: &[StockChanged]) -> Vec<Sku> {
    events.iter().map(|e| e.sku.clone()).collect::<BTreeSet<_>>().into_iter().collect()
}

/// Everything the consumer reads for a batch's changed SKUs, sent as one D1 batch.
struct BatchReads {
    groups: Groups,
    alerting: SkuStateRead,
    containing: ContainingRead,
    listings: ListingFactsRead,
    /// Where the batch's order changes go (`super::erp_orders`); only for a batch carrying some.
    routes: Option<RoutesRead>,
}

/// What [`BatchReads::run`] answers: the SKUs' alerting state, the bundles made of them, their
/// listings' facts, and the ERP routes of the order changes (when asked for).
type BatchFacts = (SkuState, BTreeSet<Sku>, ListingFacts, Option<Routes>);

impl BatchReads {
    /// `changed`: the batch's SKUs; `alerting`: the same as text ([`super::alerts::skus_of`]);
    /// `ordered`: the changes that carry order changes (none: the ERP routes are not read).
    fn add(changed: &[Sku], alerting: &[&str], ordered: &[StockChanged]) -> BatchReads {
        let mut groups = Groups::new();
        let alerting = SkuStateRead::add(&mut groups, alerting);
        let containing = ContainingRead::add(&mut groups, changed);
        let listings = ListingFactsRead::add(&mut groups, changed);
        let routes = (!ordered.is_empty()).then(|| {
            let locations: BTreeSet<Location> =
                ordered.iter().flat_map(|e| &e.orders).map(|c| c.location.clone()).collect();
            let locations: Vec<Location> = locations.into_iter().collect();
            RoutesRead::add(&mut groups, &locations, &skus_of(ordered))
        });
        BatchReads { groups, alerting, containing, listings, routes }
    }

    async fn run(self, db: &D1Database) -> store::StoreResult<BatchFacts> {
        let mut answered = store::batch_groups(db, self.groups).await?;
        let alerting = self.alerting.decode(&mut answered)?;
        let bundles = self.containing.decode(&mut answered)?;
        let listings = self.listings.decode(&mut answered)?;
        let routes = self.routes.map(|r| r.decode(&mut answered)).transpose()?;
        Ok((alerting, bundles, listings, routes))
    }
}

fn delay(seconds: u32) -> QueueRetryOptions {
    QueueRetryOptionsBuilder::new().with_delay_seconds(seconds).build()
}

async fn record_dead_letters(batch: &MessageBatch<StockChanged>, env: &Env) -> std::result::Result<(), Fault> {
    let db = store::db(env)?;
    let messages = batch.messages()?;
    // An event that never got through the main consumer still raises its alert and is counted
    // (once: a change the main consumer counted adds nothing).
    let events: Vec<StockChanged> = messages.iter().map(|m| m.body().clone()).collect();
    let alerting = store::alerts_out::sku_state(&db, &super::alerts::skus_of(&events)).await?;
    super::alerts::record(env, &db, &events, &alerting).await?;
    let counts = super::metrics::change_counts(&events, None);
    sync_state::settle(&db, &[], &dead_letters(&events, now()), counts).await?;
    for m in messages {
        m.ack();
    }
    Ok(())
}
