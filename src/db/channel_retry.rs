//! D1 side of `POST /v1/sync/failures/retry?channel=`: the open failures of one channel, and
//! the one batch that gives their listings their attempts back and marks them retried (after
//! their events are on the queue again, as the single retry does).

use serde::Deserialize;

use super::{corrupt, count, in_chunks, int, text, Query, StoreResult};
use crate::stock::{Sku, Token};
use crate::sync::StockChanged;
use crate::time::Millis;

/// An open failure of the channel, with its stored event.
#[derive(Debug, Deserialize)]
pub struct OpenFailureRow {
    pub id: i64,
    pub event: String,
}

/// A failure to retry: its id and the event to send again.
#[derive(Clone, Debug, PartialEq)]
pub struct ToRetry {
    pub id: i64,
    pub event: StockChanged,
}

/// The read of up to `limit` open failures of `channel`, oldest first ([`OpenFailureRow`]s).
pub fn open_failures(channel: &Token, limit: usize) -> Query {
    Query::new(
        "SELECT id, event FROM sync_failures WHERE channel = ?1 AND retried_at IS NULL ORDER BY id LIMIT ?2",
        vec![text(channel.as_str()), count(limit)],
    )
}

/// The failures of [`OpenFailureRow`]s; an event that does not decode is a corrupt row.
pub fn to_retry(rows: Vec<OpenFailureRow>) -> StoreResult<Vec<ToRetry>> {
    rows.into_iter()
        .map(|r| {
            let event =
                serde_json::from_str(&r.event).map_err(|e| corrupt(format!("sync failure {} event: {e}", r.id)))?;
            Ok(ToRetry { id: r.id, event })
        })
        .collect()
}

/// The writes, for one batch, once the events of `retried` are queued again: the channel's
/// listings of their SKUs get their attempts back, and each failure is marked retried at `now`
/// (only while still open, so a failure retried meanwhile keeps its first time).
pub fn settle(channel: &Token, retried: &[ToRetry], now: Millis) -> Vec<Query> {
    let mut skus: Vec<&Sku> = retried.iter().map(|r| &r.event.sku).collect();
    skus.sort();
    skus.dedup();
    let mut out = in_chunks(
        &skus,
        &[text(channel.as_str())],
        |list| format!("UPDATE listing_sync SET attempts = 0 WHERE channel = ? AND sku IN ({list})"),
        |s| text(s.as_str()),
    );
    let ids: Vec<i64> = retried.iter().map(|r| r.id).collect();
    out.extend(in_chunks(
        &ids,
        &[int(now.0)],
        |list| format!("UPDATE sync_failures SET retried_at = ? WHERE retried_at IS NULL AND id IN ({list})"),
        |id| int(*id),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{assert_bound, rows};
    use crate::db::StoreError;
    use serde_json::json;

    fn event(sku: &str, version: u64) -> StockChanged {
        StockChanged::current(Sku::parse(sku).expect("sku"), version, 1, 1, 0, Millis(0))
    }

    #[test]
    fn reads_decode_and_a_bad_event_is_corrupt() {
        let ch = Token::parse("shop").expect("channel");
        assert_bound(&[open_failures(&ch, 1000)]);
        let stored = serde_json::to_string(&event("A", 3)).expect("json");
        let ok = to_retry(rows(json!([{"id": 4, "event": stored}]))).expect("rows");
        assert_eq!(ok, vec![ToRetry { id: 4, event: event("A", 3) }]);
        assert!(matches!(to_retry(rows(json!([{"id": 5, "event": "{"}]))), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn settles_each_sku_once_and_every_failure_in_bound_chunks() {
        let ch = Token::parse("shop").expect("channel");
        let retried: Vec<ToRetry> =
            (1..=200).map(|i| ToRetry { id: i, event: event(if i % 2 == 0 { "A" } else { "B" }, 1) }).collect();
        let qs = settle(&ch, &retried, Millis(7));
        assert_bound(&qs);
        assert_eq!(qs[0].args.len(), 3, "the channel and two SKUs, each once");
        let marked: usize = qs[1..].iter().map(|q| q.args.len() - 1).sum();
        assert_eq!(marked, 200);
        assert!(settle(&ch, &[], Millis(7)).is_empty());
    }
}
