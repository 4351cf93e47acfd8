//! Alerts, the shell. D1 `alerts` (migrations/0007, rebuilt by 0011): the queue consumer records
//! the oversold alerts that `StockChanged` events carry; operators list them
//! (`GET /v1/alerts`) and acknowledge them (`POST /v1/alerts/{id}/acknowledge`). What raises an
//! oversold alert is decided in the SKU object by `stock::oversold_alert`; what a query or an
//! answer looks like is `api::alerts`.
//!
//! Alerts out (`crate::alerts`): the same consumer observes each SKU's `oversold` and low-stock
//! problems from the events it already receives (their thresholds and stored problems are read
//! with the consumer's other reads, in its one read batch) and the channels' credentials from its push results; the cron observes the
//! channel-level problems (`super::alert_watch`). Problems that move are carried out by
//! [`carry_out`]: alerts listed, messages queued (`super::alerts_out`), states written.

use std::collections::BTreeMap;

use worker::{console_error, console_log, console_warn, D1Database, Env, Response};

use crate::alerts::evaluate::{advance, raised, StoredStates};
use crate::alerts::observe::{sku_observations, Key};
use crate::alerts::{AlertMessage, Observation};
use crate::api::alerts::{alert_page, alerting_body, alerts_query, AlertView, AlertingView};
use crate::api::{Kind, Problem};
use crate::fault::Fault;
use crate::stock::{Sku, Token};
use crate::sync::{FailureKind, ListingResult, PushResult, StockChanged};
use crate::time::Millis;

use super::clock::now;
use super::store::alerts_out::{self as problems, SkuState};
use super::{http, store};

/// Records the alert of every event that carries one, once per (kind, sku, version): a
/// redelivered or re-queued event adds nothing. Warns in the log for each alert newly recorded.
/// Then observes the SKUs' oversold and low-stock problems (messages out) against `state`, their
/// thresholds and stored problems as read for [`skus_of`]`(events)`; a failure there is
/// logged, not returned.
pub async fn record(env: &Env, db: &D1Database, events: &[StockChanged], state: &SkuState) -> Result<(), Fault> {
    let raised: Vec<&StockChanged> = events.iter().filter(|e| e.alert.is_some()).collect();
    if !raised.is_empty() {
        let inserted = store::alerts::record(db, &raised).await?;
        for (e, new) in raised.iter().zip(inserted) {
            if let (true, Some(a)) = (new, &e.alert) {
                console_warn!(
                    "OVERSOLD sku={} version={} units={} oversold={} channel={} order_id={}",
                    e.sku,
                    e.version,
                    a.units,
                    a.oversold,
                    a.channel.as_deref().unwrap_or("-"),
                    a.order_id.as_deref().unwrap_or("-")
                );
            }
        }
    }
    let behind: Vec<&StockChanged> = events.iter().filter(|e| !e.erp_behind.is_empty()).collect();
    if !behind.is_empty() {
        let inserted = store::alerts::record_erp_behind(db, &behind).await?;
        for (e, new) in behind.iter().zip(inserted) {
            for b in e.erp_behind.iter().filter(|_| new) {
                console_warn!(
                    "ERP BEHIND sku={} version={} location={} pending={}",
                    e.sku,
                    e.version,
                    b.location,
                    b.pending
                );
            }
        }
    }
    // Alerts out must not hold up the sync: a failure here is logged, and the SKUs' next
    // events observe their problems again (no state was written).
    if let Err(e) = observe_skus(env, db, events, state).await {
        console_error!("alert problems of a sync batch not observed: {e}");
    }
    Ok(())
}

/// The SKU problems of `events`' SKUs, stepped by their newest events.
/// The SKUs of `events`, each once, sorted: what [`record`]'s `state` must be read for
/// (`store::alerts_out::SkuStateRead`).
pub fn skus_of(events: &[StockChanged]) -> Vec<&str> {
    let mut skus: Vec<&str> = events.iter().map(|e| e.sku.as_str()).collect();
    skus.sort_unstable();
    skus.dedup();
    skus
}

async fn observe_skus(env: &Env, db: &D1Database, events: &[StockChanged], state: &SkuState) -> Result<(), Fault> {
    if events.is_empty() {
        return Ok(());
    }
    let (thresholds, stored) = state;
    carry_out(env, db, stored, sku_observations(events, thresholds), now()).await?;
    Ok(())
}

/// Steps the observed problems; for those that moved: lists the alerts of the ones that opened,
/// queues their messages, then writes their states (each naming the revision it read). Messages
/// are queued before the write: if the write fails the batch or cron runs again and makes the
/// same messages (same ids), which the delivery record sends once; if another evaluation wrote
/// first, its messages have the same ids too. Answers how many messages were queued.
pub(super) async fn carry_out(
    env: &Env,
    db: &D1Database,
    stored: &StoredStates,
    observations: Vec<(Key, Observation)>,
    t: Millis,
) -> Result<usize, Fault> {
    let moved = advance(stored, observations, t);
    if moved.is_empty() {
        return Ok(0);
    }
    problems::raise(db, &raised(&moved)).await?;
    let messages: Vec<AlertMessage> = moved.iter().flat_map(|m| m.messages.iter().cloned()).collect();
    super::alerts_out::enqueue(env, db, &messages).await?;
    let won = problems::write_problems(db, &moved, t).await?;
    for (m, w) in moved.iter().zip(won) {
        if !w {
            console_log!("alert problem {}/{} moved by another evaluation meanwhile", m.key.0.as_str(), m.key.1);
        }
    }
    for m in &messages {
        console_warn!("ALERT {}", m.text());
    }
    Ok(messages.len())
}

/// Records, per channel of `results`, whether its pushes were refused for credentials (a
/// `Permanent(Credentials)` result, which wins) or taken (a `Pushed` one). Read by the cron
/// (`channel_auth`).
pub async fn observe_pushes(db: &D1Database, results: &[ListingResult]) -> Result<(), Fault> {
    let mut seen: BTreeMap<Token, Option<String>> = BTreeMap::new();
    for r in results {
        match &r.outcome {
            PushResult::Permanent(f) if f.kind == FailureKind::Credentials => {
                seen.insert(r.key.channel.clone(), Some(f.message.clone()));
            }
            PushResult::Pushed => {
                seen.entry(r.key.channel.clone()).or_insert(None);
            }
            _ => {}
        }
    }
    if seen.is_empty() {
        return Ok(());
    }
    let seen: Vec<(Token, Option<String>)> = seen.into_iter().collect();
    Ok(problems::channel_auth(db, &seen, now()).await?)
}

/// `GET /v1/alerts?sku=&kind=&after=&limit=`: alerts oldest first, with `next` when more follow.
pub async fn list(query: &[(String, String)], env: &Env) -> Result<Response, Fault> {
    let q = match alerts_query(query) {
        Ok(q) => q,
        Err(p) => return Ok(http::problem(&p)?),
    };
    let rows = store::alerts::page(&store::db(env)?, q.after, q.sku.as_ref(), q.kind, q.limit + 1).await?;
    Ok(http::json(200, &alert_page(rows, q.limit))?)
}

/// `POST /v1/alerts/{id}/acknowledge`: sets `acknowledged_at` the first time; later calls
/// answer the alert as it is. An unknown id is `404 not-found`.
pub async fn acknowledge(env: &Env, id: i64) -> Result<Response, Fault> {
    match store::alerts::acknowledge(&store::db(env)?, id, now()).await? {
        Some(r) => Ok(http::json(200, &AlertView::from(r))?),
        None => Ok(http::problem(&Problem::new(Kind::NotFound, format!("no alert {id}")).with("resource", "alert"))?),
    }
}

/// `PUT /v1/skus/{sku}/alerting`: sets or removes the SKU's low-stock threshold. It is observed
/// with the SKU's next stock change.
pub async fn put_alerting(env: &Env, sku: Sku, body: &[u8]) -> Result<Response, Fault> {
    let below = match alerting_body(body) {
        Ok(b) => b,
        Err(p) => return Ok(http::problem(&p)?),
    };
    problems::set_threshold(&store::db(env)?, &sku, below, now()).await?;
    Ok(http::json(200, &AlertingView { sku: sku.to_string(), low_stock_below: below })?)
}
