//! Runs `db::inbound`: channels as webhooks and polls read them, the listings inbound lines map
//! to, deliveries, unmatched lines, drift, poll state, leases and seen orders.

use std::collections::BTreeMap;

use serde_json::Value;
use worker::D1Database;

pub use crate::db::inbound::{DriftRow, PolledChannel, UnmatchedRow};

use super::{batch_of, batch_rows, execute, read, read_first, StoreResult};
use crate::catalog::model::ChannelKind;
use crate::db::inbound::{self as sql, Delivery, ValueRow};
use crate::db::Exists;
use crate::inbound::apply::{DriftRecord, Listing, Lookups, UnmatchedLine};
use crate::inbound::poll::{PollRecord, PollRun, PollState};
use crate::inbound::InboundChannel;
use crate::stock::{Sku, Token};
use crate::time::Millis;

/// The `kind` channels a webhook delivery may be for (see `db::inbound::webhook_channels`).
pub async fn webhook_channels(
    db: &D1Database,
    kind: ChannelKind,
    account: Option<&str>,
    hint: Option<&str>,
) -> StoreResult<Vec<InboundChannel>> {
    Ok(sql::inbound_channels(read(db, sql::webhook_channels(kind, account, hint)).await?))
}

/// The channels whose feeds may be polled (or only `only`).
pub async fn polled_channels(db: &D1Database, only: Option<&Token>) -> StoreResult<Vec<PolledChannel>> {
    Ok(read(db, sql::polled_channels(only)).await?.into_iter().filter_map(sql::polled).collect())
}

/// The channel's listings with one of the identities or SKUs, in one D1 batch.
pub async fn listings(db: &D1Database, channel: &Token, lookups: &Lookups) -> StoreResult<Vec<Listing>> {
    Ok(sql::listings_of(batch_rows(db, sql::listings(channel, lookups)).await?))
}

/// The Amazon marketplaces the channel's listings name.
pub async fn marketplaces(db: &D1Database, channel: &Token) -> StoreResult<Vec<String>> {
    Ok(read::<ValueRow>(db, sql::marketplaces(channel)).await?.into_iter().map(|r| r.value).collect())
}

/// Whether a delivery with this de-duplication key was handled.
pub async fn delivery_seen(db: &D1Database, key: &str) -> StoreResult<bool> {
    Ok(read_first::<Exists>(db, sql::delivery_seen(key)).await?.is_some())
}

/// Records a handled delivery (and forgets those older than the retention).
pub async fn record_delivery(
    db: &D1Database,
    key: &str,
    channel: &Token,
    topic: &str,
    outcome: &str,
    detail: &Value,
    t: Millis,
) -> StoreResult<()> {
    let d = Delivery { key, channel, topic, outcome, detail };
    batch_of(db, sql::record_delivery(&d, t)).await.map(drop)
}

/// Records lines no listing maps to, once per (channel, order, line, kind).
pub async fn record_unmatched(db: &D1Database, lines: &[UnmatchedLine]) -> StoreResult<()> {
    batch_of(db, sql::record_unmatched(lines)?).await.map(drop)
}

/// Records a drift event.
pub async fn record_drift(db: &D1Database, d: &DriftRecord) -> StoreResult<()> {
    execute(db, sql::record_drift(d)).await.map(drop)
}

/// Takes the channel's lease; `false` when another run holds it.
pub async fn lease(db: &D1Database, channel: &Token, initial: &PollState, t: Millis) -> StoreResult<bool> {
    Ok(execute(db, sql::lease(channel, initial, t)?).await? > 0)
}

/// The channel's poll state (a new one from `since` when none is stored or it is unreadable),
/// starting at `since` as configured now.
pub async fn poll_state(db: &D1Database, channel: &Token, since: Millis) -> StoreResult<PollState> {
    Ok(sql::poll_state_of(read_first(db, sql::poll_state(channel)).await?, since))
}

/// Stores the channel's poll state.
pub async fn save_state(db: &D1Database, channel: &Token, state: &PollState) -> StoreResult<()> {
    execute(db, sql::save_state(channel, state)?).await.map(drop)
}

/// Releases the lease and records the run.
pub async fn finish(db: &D1Database, r: &PollRun, t: Millis) -> StoreResult<()> {
    execute(db, sql::finish(r, t)).await.map(drop)
}

/// Forgets order fingerprints older than the retention.
pub async fn prune_seen(db: &D1Database, t: Millis) -> StoreResult<()> {
    execute(db, sql::prune_seen(t)).await.map(drop)
}

/// The fingerprints of the orders already applied, among `ids`, by order id.
pub async fn seen_fingerprints(
    db: &D1Database,
    channel: &Token,
    ids: &[String],
) -> StoreResult<BTreeMap<String, String>> {
    Ok(sql::fingerprints_of(batch_rows(db, sql::seen_fingerprints(channel, ids)).await?))
}

/// Remembers the fingerprints of the orders a page got through, in one D1 batch.
pub async fn remember(db: &D1Database, channel: &Token, done: &[(&str, &str)], t: Millis) -> StoreResult<()> {
    batch_of(db, sql::remember(channel, done, t)).await.map(drop)
}

/// Every pollable channel's poll record, in channel id order.
pub async fn poll_records(db: &D1Database) -> StoreResult<Vec<PollRecord>> {
    read(db, sql::poll_records()).await
}

/// Up to `limit` unmatched lines with ids above `after` (only `channel`'s when given).
pub async fn unmatched(
    db: &D1Database,
    after: i64,
    channel: Option<&Token>,
    limit: i64,
) -> StoreResult<Vec<UnmatchedRow>> {
    read(db, sql::unmatched(after, channel, limit)).await
}

/// Up to `limit` drift records with ids above `after` (only `channel`'s, `sku`'s when given).
pub async fn drift(
    db: &D1Database,
    after: i64,
    filters: (Option<&Token>, Option<&Sku>),
    limit: i64,
) -> StoreResult<Vec<DriftRow>> {
    read(db, sql::drift(after, filters, limit)).await
}
