//! Runs `db::overview`: the counts of `GET /v1/overview`, in one D1 batch.

use worker::D1Database;

use super::{batch_of, corrupt_batch, rows, StoreResult};
use crate::db::overview::{reads, OverviewRows};
use crate::time::Millis;

/// Every count of the overview at `now`, read in one round trip.
pub async fn read(db: &D1Database, now: Millis) -> StoreResult<OverviewRows> {
    let res = batch_of(db, reads(now)).await?;
    let [products, channels, listings, pending, failures, alerts, unmatched, drift] = res.as_slice() else {
        return Err(corrupt_batch());
    };
    Ok(OverviewRows {
        products: rows(products)?,
        channels: rows(channels)?,
        listings: rows(listings)?,
        pending: rows(pending)?,
        failures: rows(failures)?,
        alerts: rows(alerts)?,
        unmatched: rows(unmatched)?,
        drift: rows(drift)?,
    })
}
