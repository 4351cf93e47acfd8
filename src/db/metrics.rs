//! D1 `metric_counters` and `metric_seen` (migrations/0010): the counters of `/v1/metrics` that
//! are true across isolates (`crate::metrics::durable` decides what they count). A counter is a
//! row `(name, labels, value)` that writes only add to (gauges are set). A ledger change adds
//! its increments only if its `(sku, version)` is not yet in `metric_seen`, and is put there in
//! the same batch: the queue's repeats count once.

use super::{count, int, placeholders, text, Query};
use crate::metrics::durable::{CountedChange, Key, Tally, SEEN_RETENTION_MS};
use crate::time::Millis;

/// Increment rows per statement (5 bound parameters each; D1 binds at most 100).
const CHANGE_ROWS: usize = 20;
/// `(sku, version, seen_at)` rows per statement (3 parameters each).
const SEEN_ROWS: usize = 30;
/// Counter rows per statement (3 parameters each).
const COUNTER_ROWS: usize = 30;

/// The statements counting `changes` once each, to run as one batch in this order: the guarded
/// increments, then the `metric_seen` rows (seen at `now`) that guard the next delivery.
pub fn count_changes(changes: &[CountedChange], now: Millis) -> Vec<Query> {
    let rows: Vec<(&CountedChange, &Key, i64)> =
        changes.iter().flat_map(|c| c.increments.iter().map(move |(k, n)| (c, k, *n))).collect();
    let mut out: Vec<Query> = rows
        .chunks(CHANGE_ROWS)
        .map(|chunk| {
            let values = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let args = chunk
                .iter()
                .flat_map(|(c, k, n)| [text(c.sku.as_str()), count(c.version), text(&k.name), text(&k.labels), int(*n)])
                .collect();
            Query::new(
                format!(
                    "WITH inc(sku, version, name, labels, n) AS (VALUES {values}) \
                     INSERT INTO metric_counters (name, labels, value) \
                     SELECT name, labels, SUM(n) FROM inc WHERE NOT EXISTS \
                     (SELECT 1 FROM metric_seen s WHERE s.sku = inc.sku AND s.version = inc.version) \
                     GROUP BY name, labels \
                     ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value"
                ),
                args,
            )
        })
        .collect();
    out.extend(changes.chunks(SEEN_ROWS).map(|chunk| {
        let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
        let args = chunk.iter().flat_map(|c| [text(c.sku.as_str()), count(c.version), int(now.0)]).collect();
        Query::new(format!("INSERT OR IGNORE INTO metric_seen (sku, version, seen_at) VALUES {values}"), args)
    }));
    out
}

fn upsert(rows: &[(&Key, i64)], on_conflict: &str) -> Vec<Query> {
    rows.chunks(COUNTER_ROWS)
        .map(|chunk| {
            let values = vec![format!("({})", placeholders(3)); chunk.len()].join(", ");
            let args = chunk.iter().flat_map(|(k, n)| [text(&k.name), text(&k.labels), int(*n)]).collect();
            Query::new(
                format!(
                    "INSERT INTO metric_counters (name, labels, value) VALUES {values} \
                     ON CONFLICT (name, labels) DO UPDATE SET {on_conflict}"
                ),
                args,
            )
        })
        .collect()
}

/// The statements adding `tally` to the counters.
pub fn add(tally: &Tally) -> Vec<Query> {
    let rows: Vec<(&Key, i64)> = tally.iter().map(|(k, n)| (k, *n)).collect();
    upsert(&rows, "value = value + excluded.value")
}

/// The statement setting a gauge.
pub fn set(key: &Key, value: i64) -> Vec<Query> {
    upsert(&[(key, value)], "value = excluded.value")
}

/// The delete of the counted changes remembered longer than [`SEEN_RETENTION_MS`] at `now`.
pub fn prune_seen(now: Millis) -> Query {
    Query::new("DELETE FROM metric_seen WHERE seen_at < ?1", vec![int(now.0 - SEEN_RETENTION_MS)])
}

/// The read of every counter (rows of [`CounterRow`]).
pub fn all() -> Query {
    Query::new("SELECT name, labels, value FROM metric_counters ORDER BY name, labels", vec![])
}

/// A `metric_counters` row.
#[derive(Debug, serde::Deserialize)]
pub struct CounterRow {
    pub name: String,
    pub labels: String,
    pub value: i64,
}

impl CounterRow {
    pub fn into_sample(self) -> (Key, i64) {
        (Key { name: self.name, labels: self.labels }, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::assert_bound;
    use crate::metrics::durable::{push_increments, CountedChange};
    use crate::stock::Sku;

    fn change(version: u64, keys: usize) -> CountedChange {
        let increments =
            (0..keys).map(|i| (Key { name: format!("n{i}"), labels: String::new() }, 1)).collect::<Vec<_>>();
        CountedChange { sku: Sku::parse("A").expect("sku"), version, increments }
    }

    #[test]
    fn guarded_increments_come_before_the_seen_rows_and_stay_within_d1_limits() {
        let changes: Vec<CountedChange> = (1..=60).map(|v| change(v, 2)).collect();
        let qs = count_changes(&changes, Millis(9));
        assert_bound(&qs);
        let (inc, seen): (Vec<&Query>, Vec<&Query>) = qs.iter().partition(|q| q.sql.contains("metric_counters"));
        assert_eq!(inc.len(), 6, "120 increments, 20 per statement");
        assert_eq!(seen.len(), 2, "60 changes, 30 per statement");
        assert_eq!(seen[0].args[2], crate::db::Arg::Int(9), "each remembered with when it was seen");
        let first_seen = qs.iter().position(|q| q.sql.contains("INTO metric_seen")).expect("seen");
        assert!(qs[..first_seen].iter().all(|q| q.sql.contains("NOT EXISTS")), "every increment is guarded");
        assert!(qs[first_seen..].iter().all(|q| q.sql.contains("INTO metric_seen")), "seen rows last");
        assert!(count_changes(&[], Millis(9)).is_empty());
    }

    #[test]
    fn prunes_what_was_seen_longer_ago_than_the_retention() {
        let q = prune_seen(Millis(SEEN_RETENTION_MS + 5));
        assert_bound(std::slice::from_ref(&q));
        assert_eq!(q.args, vec![crate::db::Arg::Int(5)]);
    }

    #[test]
    fn adds_and_sets_bind_every_row() {
        let tally = push_increments([], [("c", 1)]);
        let qs = add(&tally);
        assert_bound(&qs);
        assert_eq!(qs.iter().map(|q| q.args.len()).sum::<usize>(), tally.len() * 3);
        assert!(qs[0].sql.contains("value = value + excluded.value"));
        let key = Key { name: "g".into(), labels: String::new() };
        let g = set(&key, 5);
        assert_bound(&g);
        assert!(g[0].sql.contains("SET value = excluded.value"));
    }
}
