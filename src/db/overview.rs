//! D1 reads of `GET /v1/overview`: every count the console's first view shows, as one batch
//! ([`reads`], one round trip, whatever the number of SKUs) whose results decode, statement by
//! statement, into [`OverviewRows`]. Each statement is an aggregate over an index or a small
//! table (channels, open failures, alerts), so the batch stays fast with thousands of listings.
//! What the counts mean is `api::overview`'s.

use serde::Deserialize;

use super::{int, Query};
use crate::time::Millis;

/// How far back `drift` counts drift events.
pub const DRIFT_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// A count.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct CountRow {
    pub n: i64,
}

/// A count per channel (or per alert kind).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct GroupRow {
    pub key: String,
    pub n: i64,
}

/// A channel as the overview lists it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ChannelRow {
    pub channel: String,
    pub kind: String,
    pub enabled: i64,
}

/// Per channel, its listings with a change not yet accepted, and since when the oldest waits.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PendingRow {
    pub channel: String,
    pub n: i64,
    pub oldest: Option<i64>,
}

/// Per channel (`None`: dead letters, no channel known), its open sync failures and how many of
/// them are the platform refusing the credentials.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct FailureGroupRow {
    pub channel: Option<String>,
    pub n: i64,
    pub credentials: i64,
}

/// The results of [`reads`], in its order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OverviewRows {
    pub products: Vec<CountRow>,
    pub channels: Vec<ChannelRow>,
    pub listings: Vec<GroupRow>,
    pub pending: Vec<PendingRow>,
    pub failures: Vec<FailureGroupRow>,
    pub alerts: Vec<GroupRow>,
    pub unmatched: Vec<CountRow>,
    pub drift: Vec<CountRow>,
}

/// The statements of one overview, to run as one batch; their results decode in this order into
/// the fields of [`OverviewRows`].
pub fn reads(now: Millis) -> [Query; 8] {
    let q = |sql: &str| Query::new(sql, Vec::new());
    [
        q("SELECT COUNT(*) AS n FROM products"),
        q("SELECT channel, kind, enabled FROM channels ORDER BY channel"),
        q("SELECT channel AS key, COUNT(*) AS n FROM listings GROUP BY channel"),
        q("SELECT s.channel, COUNT(*) AS n, MIN(s.pending_since) AS oldest FROM listing_sync s \
           JOIN listings l ON l.channel = s.channel AND l.sku = s.sku \
           WHERE s.pending_version IS NOT NULL GROUP BY s.channel"),
        q("SELECT channel, COUNT(*) AS n, COALESCE(SUM(kind = 'credentials'), 0) AS credentials \
           FROM sync_failures WHERE retried_at IS NULL GROUP BY channel"),
        q("SELECT kind AS key, COUNT(*) AS n FROM alerts WHERE acknowledged_at IS NULL GROUP BY kind"),
        q("SELECT COUNT(*) AS n FROM unmatched_lines WHERE mapped_at IS NULL"),
        Query::new(
            "SELECT COUNT(*) AS n FROM drift_events WHERE received_at >= ?1",
            vec![int(now.0 - DRIFT_WINDOW_MS)],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::assert_bound;

    #[test]
    fn one_batch_of_bound_reads_with_drift_counted_over_the_last_day() {
        let qs = reads(Millis(DRIFT_WINDOW_MS + 5));
        assert_bound(&qs);
        assert_eq!(qs[7].args, vec![crate::db::Arg::Int(5)]);
        assert!(qs[6].sql.contains("mapped_at IS NULL"), "mapped lines no longer count");
    }
}
