//! Runs `db::alerts_out`: thresholds, problems, channel credential state, the cron's channel
//! facts, destinations and deliveries.

use std::collections::BTreeMap;

use worker::{D1Database, D1Result};

use super::{batch_groups, batch_of, changes, execute, read, read_first, rows, StoreResult};
use crate::alerts::destination::Destination;
use crate::alerts::evaluate::{Moved, StoredStates};
use crate::alerts::observe::{AuthRow, ChannelFacts};
use crate::alerts::AlertMessage;
use crate::db::alerts as alert_sql;
use crate::db::alerts_out::{
    self as sql, Attempted, AuthDbRow, ChannelCountRow, CountRow, DeliveryCountRow, DeliveryRow, DestinationRow,
    PollDbRow, ProblemRow, ThresholdRow,
};
use crate::db::groups::{Answered, Group, Groups};
use crate::db::Query;
use crate::stock::{Sku, Token};
use crate::time::Millis;

fn states(rows: Vec<ProblemRow>, out: &mut StoredStates) -> StoreResult<()> {
    for r in rows {
        if let Some(s) = r.decode()? {
            out.insert(s.key, (s.state, s.revision));
        }
    }
    Ok(())
}

/// A SKU's low-stock threshold and the stored states of its problems, by SKU.
pub type SkuState = (BTreeMap<String, i64>, StoredStates);

/// [`sku_state`]'s read as groups of a larger batch (the sync consumer sends it with its other
/// reads in one round trip).
pub struct SkuStateRead {
    thresholds: Group,
    problems: Group,
}

impl SkuStateRead {
    pub fn add(groups: &mut Groups, skus: &[&str]) -> SkuStateRead {
        SkuStateRead { thresholds: groups.add(sql::thresholds(skus)), problems: groups.add(sql::sku_problems(skus)) }
    }

    pub fn decode(self, answered: &mut Answered<D1Result>) -> StoreResult<SkuState> {
        let mut thresholds = BTreeMap::new();
        for r in answered.take(self.thresholds) {
            thresholds.extend(rows::<ThresholdRow>(&r)?.into_iter().map(|t| (t.sku, t.low_stock_below)));
        }
        let mut stored = StoredStates::new();
        for r in answered.take(self.problems) {
            states(rows::<ProblemRow>(&r)?, &mut stored)?;
        }
        Ok((thresholds, stored))
    }
}

/// The thresholds and the stored SKU problems of `skus`, in one batch.
pub async fn sku_state(db: &D1Database, skus: &[&str]) -> StoreResult<SkuState> {
    let mut groups = Groups::new();
    let read = SkuStateRead::add(&mut groups, skus);
    read.decode(&mut batch_groups(db, groups).await?)
}

/// What the cron reads: the channel facts (drift since `drift_since`) and every watched problem,
/// in one batch.
pub async fn watch_state(db: &D1Database, drift_since: Millis) -> StoreResult<(ChannelFacts, StoredStates)> {
    let qs = [
        sql::dead_letter_count(),
        sql::auth_rows(),
        sql::recent_drift(drift_since),
        sql::poll_rows(),
        sql::watched_problems(),
    ];
    let r = batch_of(db, qs).await?;
    let get = |i: usize| r.get(i).ok_or_else(super::corrupt_batch);
    let dead_letters = rows::<CountRow>(get(0)?)?.first().map_or(0, |c| c.n);
    let auth = rows::<AuthDbRow>(get(1)?)?.into_iter().map(AuthRow::from).collect();
    let drift = rows::<ChannelCountRow>(get(2)?)?.into_iter().map(|c| (c.channel, c.n)).collect();
    let polls = rows::<PollDbRow>(get(3)?)?.into_iter().map(PollDbRow::decode).collect::<StoreResult<_>>()?;
    let mut stored = StoredStates::new();
    states(rows::<ProblemRow>(get(4)?)?, &mut stored)?;
    Ok((ChannelFacts { dead_letters, auth, drift, polls }, stored))
}

/// Lists the alerts of the problems that opened (once per kind, subject and episode).
pub async fn raise(db: &D1Database, raised: &[(&AlertMessage, u64)]) -> StoreResult<()> {
    batch_of(db, raised.iter().map(|(m, v)| alert_sql::raise(m, *v))).await?;
    Ok(())
}

/// Writes the problems that moved, each naming the revision it read; answers, per problem,
/// whether this write won (another evaluation may have moved it first).
pub async fn write_problems(db: &D1Database, moved: &[Moved], now: Millis) -> StoreResult<Vec<bool>> {
    let qs: Vec<Query> =
        moved.iter().map(|m| sql::write_problem(&m.key, &m.state, m.revision, now)).collect::<StoreResult<_>>()?;
    batch_of(db, qs).await?.iter().map(|r| Ok(changes(r)? > 0)).collect()
}

/// Records, per channel, whether its pushes were refused for credentials (`Some(error)`) or
/// taken (`None`).
pub async fn channel_auth(db: &D1Database, seen: &[(Token, Option<String>)], now: Millis) -> StoreResult<()> {
    let qs = seen.iter().map(|(ch, failure)| match failure {
        Some(e) => sql::auth_failing(ch, e, now),
        None => sql::auth_ok(ch, now),
    });
    batch_of(db, qs).await?;
    Ok(())
}

/// Sets or removes a SKU's low-stock threshold.
pub async fn set_threshold(db: &D1Database, sku: &Sku, below: Option<i64>, now: Millis) -> StoreResult<()> {
    execute(db, sql::set_threshold(sku, below, now)).await?;
    Ok(())
}

/// Every destination with when it was last changed.
pub async fn destinations(db: &D1Database) -> StoreResult<Vec<(Destination, Millis)>> {
    read::<DestinationRow>(db, sql::destinations()).await?.into_iter().map(DestinationRow::decode).collect()
}

/// One destination.
pub async fn destination(db: &D1Database, id: &str) -> StoreResult<Option<(Destination, Millis)>> {
    read_first::<DestinationRow>(db, sql::destination(id)).await?.map(DestinationRow::decode).transpose()
}

/// How many destinations there are.
pub async fn destination_count(db: &D1Database) -> StoreResult<i64> {
    Ok(read_first::<CountRow>(db, sql::destination_count()).await?.map_or(0, |c| c.n))
}

/// Creates or replaces a destination.
pub async fn put_destination(db: &D1Database, d: &Destination, now: Millis) -> StoreResult<()> {
    execute(db, sql::put_destination(d, now)?).await?;
    Ok(())
}

/// Deletes a destination; `false` when there was none.
pub async fn delete_destination(db: &D1Database, id: &str) -> StoreResult<bool> {
    Ok(execute(db, sql::delete_destination(id)).await? > 0)
}

/// Per destination, (delivered, failed).
pub async fn delivery_tally(db: &D1Database) -> StoreResult<BTreeMap<String, (i64, i64)>> {
    Ok(sql::delivery_tally(read::<DeliveryCountRow>(db, sql::delivery_counts()).await?))
}

/// The delivery record of (destination, message), if any.
pub async fn delivery(db: &D1Database, destination: &str, message_id: &str) -> StoreResult<Option<DeliveryRow>> {
    read_first(db, sql::delivery(destination, message_id)).await
}

/// Records one attempt.
pub async fn record_attempt(db: &D1Database, a: &Attempted<'_>) -> StoreResult<()> {
    execute(db, sql::record_attempt(a)).await?;
    Ok(())
}
