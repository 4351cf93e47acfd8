//! The counters that are true across isolates: what to count from the shell's durable events,
//! and their Prometheus text. Pure: the shell persists the increments in D1
//! (`crate::db::metrics`, table `metric_counters`, migrations/0010) — one database, so every
//! isolate adds to and reads the same numbers — and hands the rows back to [`render`].
//!
//! - Ledger changes ([`change_increments`]): every `StockChanged` the sync consumer receives is
//!   counted once per `(sku, version)` however often the queue delivers it (the store guards
//!   each change with `metric_seen`): holds by outcome, sales and cancels by channel, oversold
//!   units by channel.
//! - Pushes ([`push_increments`]): each listing push the consumer made, by channel and result,
//!   and each platform call's latency in a histogram per channel.
//! - Webhooks ([`webhook_increment`]): deliveries by platform and outcome.
//! - Order-feed polls ([`poll_run_increments`]): runs by channel and result.
//! - Queue lag ([`QUEUE_LAG`]): a gauge, the age of the oldest change in the newest batch.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::stock::{Op, Sku};
use crate::sync::{OpCount, PushResult, StockChanged};

/// Holds by outcome: `placed`, `committed`, `released`, `expired` (one per SKU line).
pub const HOLDS: &str = "stockedge_holds_total";
/// Marketplace sales recorded in the ledger, by channel (one per SKU line).
pub const SALES: &str = "stockedge_sales_total";
/// Cancelled sales given back to the ledger, by channel (one per SKU line).
pub const CANCELS: &str = "stockedge_cancels_total";
/// Units newly oversold, by channel of the order that oversold.
pub const OVERSOLD_UNITS: &str = "stockedge_oversold_units_total";
/// Listing pushes, by channel and result.
pub const PUSHES: &str = "stockedge_pushes_total";
/// Platform call latency of pushes, by channel (histogram, milliseconds).
pub const PUSH_LATENCY: &str = "stockedge_push_latency_ms";
/// The age of the oldest change in the newest batch the consumer took (gauge, milliseconds).
pub const QUEUE_LAG: &str = "stockedge_queue_lag_ms";
/// Webhook deliveries, by platform and outcome (`accepted`, `duplicate` or a rejection reason).
pub const WEBHOOKS: &str = "stockedge_webhook_deliveries_total";
/// Order-feed poll runs, by channel and result (`polled`, `incomplete`, `busy`).
pub const POLL_RUNS: &str = "stockedge_poll_runs_total";
/// Holds refused, by reason (`POST /v1/reservations` answered `409`; see `metrics::refusals`).
pub const HOLDS_REFUSED: &str = "stockedge_holds_refused_total";

/// How long a counted ledger change is remembered (`metric_seen`) so that a repeated delivery
/// counts once; the cron forgets older ones. The queue redelivers within hours; a change sent
/// again later than this (an operator retrying a sync failure after a week) counts again.
pub const SEEN_RETENTION_MS: i64 = 7 * 24 * 3_600 * 1_000;

/// The upper bounds of the push latency histogram's buckets (ms); `+Inf` follows.
pub const LATENCY_BUCKETS_MS: [u64; 10] = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/// The label value of a change or alert that names no channel.
pub const NO_CHANNEL: &str = "none";

/// Every durable family, in rendering order: name, type, help.
const FAMILIES: [(&str, &str, &str); 10] = [
    (HOLDS, "counter", "Holds by outcome (placed, committed, released, expired), one per SKU line."),
    (SALES, "counter", "Marketplace sales applied to the ledger, by channel, one per SKU line."),
    (CANCELS, "counter", "Cancelled sales given back to the ledger, by channel, one per SKU line."),
    (OVERSOLD_UNITS, "counter", "Units newly oversold, by channel of the order that oversold."),
    (PUSHES, "counter", "Listing pushes by channel and result (pushed, throttled, transient, stale, permanent)."),
    (PUSH_LATENCY, "histogram", "Platform call latency of pushes, by channel, in milliseconds."),
    (QUEUE_LAG, "gauge", "Age of the oldest stock change in the newest batch the sync consumer took (ms)."),
    (WEBHOOKS, "counter", "Webhook deliveries by platform and outcome (accepted, duplicate, ping, or why not taken)."),
    (POLL_RUNS, "counter", "Order-feed poll runs by channel and result (polled, incomplete, busy)."),
    (HOLDS_REFUSED, "counter", "Holds refused (POST /v1/reservations answered 409), by reason (the problem type)."),
];

/// One counter: its family (or histogram series) name and its label set, rendered
/// (`channel="a",result="pushed"`, label values escaped).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub name: String,
    pub labels: String,
}

impl Key {
    pub fn new(name: &str, labels: &[(&str, &str)]) -> Key {
        let labels = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect::<Vec<_>>().join(",");
        Key { name: name.to_owned(), labels }
    }
}

/// Increments summed by counter: what one write adds.
pub type Tally = BTreeMap<Key, i64>;

/// Label values as the text format wants them: `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// What one ledger change adds to the counters: each of its transitions (`StockChanged::ops`;
/// for older messages, `cause` and `channel` as one) of a counted kind, and its newly oversold
/// units. Nothing for the other kinds (stock set or adjusted, imports, lending, …).
pub fn change_increments(e: &StockChanged) -> Vec<(Key, i64)> {
    let single;
    let ops: &[OpCount] = if e.ops.is_empty() {
        single = [OpCount { op: e.cause, channel: e.channel.clone(), n: 1 }];
        &single
    } else {
        &e.ops
    };
    let mut out = Vec::new();
    for c in ops {
        let channel = c.channel.as_deref().unwrap_or(NO_CHANNEL);
        let key = match c.op {
            Op::Reserve => Key::new(HOLDS, &[("outcome", "placed")]),
            Op::Commit => Key::new(HOLDS, &[("outcome", "committed")]),
            Op::Release => Key::new(HOLDS, &[("outcome", "released")]),
            Op::Expire => Key::new(HOLDS, &[("outcome", "expired")]),
            Op::Sale => Key::new(SALES, &[("channel", channel)]),
            Op::Cancel => Key::new(CANCELS, &[("channel", channel)]),
            _ => continue,
        };
        out.push((key, i64::try_from(c.n).unwrap_or(i64::MAX)));
    }
    if let Some(a) = e.alert.as_ref().filter(|a| a.units > 0) {
        let channel = a.channel.as_deref().or(e.channel.as_deref()).unwrap_or(NO_CHANNEL);
        out.push((Key::new(OVERSOLD_UNITS, &[("channel", channel)]), a.units));
    }
    out
}

/// A change to count once: its `(sku, version)` and what it adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountedChange {
    pub sku: Sku,
    pub version: u64,
    pub increments: Vec<(Key, i64)>,
}

/// The changes of a batch to count: each `(sku, version)` once (the queue may repeat a message
/// within a batch), only those that add something. The store adds each one's increments unless
/// an earlier batch counted it.
pub fn counted_changes(events: &[StockChanged]) -> Vec<CountedChange> {
    let mut seen = BTreeMap::new();
    for e in events {
        let increments = change_increments(e);
        if !increments.is_empty() {
            seen.entry((e.sku.clone(), e.version)).or_insert(increments);
        }
    }
    seen.into_iter().map(|((sku, version), increments)| CountedChange { sku, version, increments }).collect()
}

/// The result label of a push.
fn push_result(outcome: &PushResult) -> &'static str {
    match outcome {
        PushResult::Pushed => "pushed",
        PushResult::RetryAfter(_) => "throttled",
        PushResult::Backoff(_) => "transient",
        PushResult::Stale => "stale",
        PushResult::Permanent(_) => "permanent",
    }
}

/// What a batch's pushes add: each listing push `(channel, outcome)` by result, and each
/// platform call `(channel, milliseconds)` in the latency histogram (cumulative buckets, `_sum`
/// and `_count`).
pub fn push_increments<'a>(
    pushes: impl IntoIterator<Item = (&'a str, &'a PushResult)>,
    calls: impl IntoIterator<Item = (&'a str, u64)>,
) -> Tally {
    let mut t = Tally::new();
    for (channel, outcome) in pushes {
        *t.entry(Key::new(PUSHES, &[("channel", channel), ("result", push_result(outcome))])).or_default() += 1;
    }
    for (channel, ms) in calls {
        // Every bucket is written (with 0 above the latency), so each channel's histogram has
        // all of its buckets from its first call.
        for le in LATENCY_BUCKETS_MS {
            let key = Key::new(&format!("{PUSH_LATENCY}_bucket"), &[("channel", channel), ("le", &le.to_string())]);
            *t.entry(key).or_default() += i64::from(ms <= le);
        }
        let inf = Key::new(&format!("{PUSH_LATENCY}_bucket"), &[("channel", channel), ("le", "+Inf")]);
        *t.entry(inf).or_default() += 1;
        *t.entry(Key::new(&format!("{PUSH_LATENCY}_sum"), &[("channel", channel)])).or_default() +=
            i64::try_from(ms).unwrap_or(i64::MAX);
        *t.entry(Key::new(&format!("{PUSH_LATENCY}_count"), &[("channel", channel)])).or_default() += 1;
    }
    t
}

/// The queue lag gauge for a batch taken at `now`: the age of its oldest change (0 when the
/// batch is empty or its clocks disagree).
pub fn queue_lag(events: &[StockChanged], now: crate::time::Millis) -> (Key, i64) {
    let oldest = events.iter().map(|e| e.at.0).min().unwrap_or(now.0);
    (Key::new(QUEUE_LAG, &[]), now.0.saturating_sub(oldest).max(0))
}

/// How a webhook delivery ended: taken (applied or recorded), or why it was not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Verified and processed (its lines applied, or recorded as refused by the channel's rules).
    Accepted,
    /// Verified, and seen before: nothing applied again.
    Duplicate,
    /// An unsigned creation ping (WooCommerce).
    Ping,
    /// Verified, but its payload could not be read: recorded as unusable.
    Unusable,
    /// Rejected: no matching channel, or no key verifies its signature.
    Unauthorized,
    /// Rejected: the body is over the limit.
    TooLarge,
    /// Not completed (a key or the store was unavailable): the platform is asked to send again.
    Unavailable,
}

impl WebhookOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Accepted => "accepted",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Ping => "ping",
            WebhookOutcome::Unusable => "unusable",
            WebhookOutcome::Unauthorized => "unauthorized",
            WebhookOutcome::TooLarge => "too_large",
            WebhookOutcome::Unavailable => "unavailable",
        }
    }
}

/// One webhook delivery of `platform` that ended as `outcome`.
pub fn webhook_increment(platform: &str, outcome: WebhookOutcome) -> (Key, i64) {
    (Key::new(WEBHOOKS, &[("platform", platform), ("outcome", outcome.as_str())]), 1)
}

/// What a cron's (or an operator's) poll runs add: one per `(channel, result)` run.
pub fn poll_run_increments<'a>(runs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Tally {
    let mut t = Tally::new();
    for (channel, result) in runs {
        *t.entry(Key::new(POLL_RUNS, &[("channel", channel), ("result", result)])).or_default() += 1;
    }
    t
}

/// Sort key of a sample: name, labels without `le`, then `le` as a number (`+Inf` last).
fn order(k: &Key) -> (String, String, f64) {
    match k.labels.rsplit_once(",le=\"") {
        Some((rest, le)) => {
            let le = le.trim_end_matches('"');
            (k.name.clone(), rest.to_owned(), le.parse::<f64>().unwrap_or(f64::INFINITY))
        }
        None => (k.name.clone(), k.labels.clone(), 0.0),
    }
}

/// The durable counters in Prometheus text (`# HELP`, `# TYPE`, then the samples; histogram
/// buckets in increasing `le`). Every family is announced even before it has a sample.
pub fn render(rows: &[(Key, i64)]) -> String {
    let mut out = String::new();
    for (family, kind, help) in FAMILIES {
        let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} {kind}");
        let mut samples: Vec<&(Key, i64)> = rows
            .iter()
            .filter(|(k, _)| {
                k.name == family
                    || (kind == "histogram"
                        && k.name.strip_prefix(family).is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s)))
            })
            .collect();
        samples.sort_by(|a, b| order(&a.0).partial_cmp(&order(&b.0)).unwrap_or(std::cmp::Ordering::Equal));
        for (k, v) in samples {
            if k.labels.is_empty() {
                let _ = writeln!(out, "{} {v}", k.name);
            } else {
                let _ = writeln!(out, "{}{{{}}} {v}", k.name, k.labels);
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "durable_tests.rs"]
mod tests;
