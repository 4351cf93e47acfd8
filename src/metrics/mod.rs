//! The counters of `GET /v1/metrics`. [`durable`] holds those that are true across isolates
//! (kept in D1 by the shell: ledger changes, pushes, queue lag, webhooks); the rest of this
//! module the isolate's own.
//!
//! Counters of what the Worker costs, for the benchmark and the tests: D1 queries by what the
//! Worker was doing when it made them ([`Origin`]), queue deliveries of stock changes against the
//! distinct changes they carried, and the SKU objects' outbox sends. Pure: the shell keeps one
//! [`Counters`] per isolate, records into it at its few choke points, and serves
//! [`Counters::render`] (Prometheus text exposition) at `GET /v1/metrics` (admin).
//!
//! The counters are per isolate and start at zero when it starts ([`Counters::since`]). Under
//! `wrangler dev` the Worker, its Durable Objects and its queue consumers run in one isolate, so
//! one read sees everything; on Cloudflare each isolate (and each object's) counts its own.

mod changes;
pub mod durable;
pub mod refusals;
mod scope;

pub use changes::SeenChanges;
pub use scope::{current_origin, Origin, Scoped};

use std::fmt::Write;

use crate::api::availability_cache::ItemSources;
use crate::stock::Sku;
use crate::time::Millis;

/// The isolate's counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// When counting started (the isolate's first record or read).
    pub since: Millis,
    /// D1 round trips (a batch is one) and statements, by origin.
    d1_queries: [u64; Origin::COUNT],
    d1_statements: [u64; Origin::COUNT],
    /// Stock-change messages the sync consumer received, and how many distinct (sku, version)
    /// changes they carried.
    deliveries: u64,
    seen: SeenChanges,
    /// Outbox sends of the SKU objects: queue calls, events in them, calls that failed.
    outbox_sends: u64,
    outbox_events: u64,
    outbox_failures: u64,
    /// Availability read items, by where they were answered from.
    availability_items: ItemSources,
}

impl Counters {
    pub fn new(since: Millis) -> Counters {
        Counters { since, ..Counters::default() }
    }

    /// One D1 round trip carrying `statements` statements, made while doing `origin`'s work.
    pub fn d1(&mut self, origin: Origin, statements: usize) {
        self.d1_queries[origin.index()] += 1;
        self.d1_statements[origin.index()] += statements as u64;
    }

    /// The sync consumer received one message announcing `(sku, version)`.
    pub fn delivered(&mut self, sku: &Sku, version: u64) {
        self.deliveries += 1;
        self.seen.insert(sku, version);
    }

    /// A SKU object's outbox send of `events` events answered: accepted (`ok`) or failed.
    pub fn outbox_send(&mut self, events: usize, ok: bool) {
        self.outbox_sends += 1;
        if ok {
            self.outbox_events += events as u64;
        } else {
            self.outbox_failures += 1;
        }
    }

    /// An availability read answered these items from these sources.
    pub fn availability_read(&mut self, sources: ItemSources) {
        self.availability_items.memory += sources.memory;
        self.availability_items.cache += sources.cache;
        self.availability_items.object += sources.object;
    }

    pub fn availability_items(&self) -> ItemSources {
        self.availability_items
    }

    pub fn d1_queries(&self, origin: Origin) -> u64 {
        self.d1_queries[origin.index()]
    }
    pub fn deliveries(&self) -> u64 {
        self.deliveries
    }
    pub fn distinct_changes(&self) -> u64 {
        self.seen.len()
    }

    /// The counters in Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in samples {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        let by_origin = |a: &[u64; Origin::COUNT]| -> Vec<(String, u64)> {
            Origin::ALL.iter().map(|o| (format!("{{origin=\"{}\"}}", o.as_str()), a[o.index()])).collect()
        };
        let one = |v: u64| vec![(String::new(), v)];
        family(
            "stockedge_d1_queries_total",
            "counter",
            "D1 round trips (a batch counts once), by what the Worker was doing.",
            &by_origin(&self.d1_queries),
        );
        family(
            "stockedge_d1_statements_total",
            "counter",
            "D1 statements executed, by what the Worker was doing.",
            &by_origin(&self.d1_statements),
        );
        family(
            "stockedge_queue_deliveries_total",
            "counter",
            "Stock-change messages received by the sync consumer, repeats included.",
            &one(self.deliveries),
        );
        family(
            "stockedge_queue_changes_total",
            "counter",
            "Distinct (sku, version) changes among the messages received by the sync consumer.",
            &one(self.seen.len()),
        );
        family(
            "stockedge_outbox_sends_total",
            "counter",
            "Outbox sends of SKU objects (queue calls).",
            &one(self.outbox_sends),
        );
        family(
            "stockedge_outbox_events_sent_total",
            "counter",
            "Events in outbox sends the queue accepted.",
            &one(self.outbox_events),
        );
        family(
            "stockedge_outbox_send_failures_total",
            "counter",
            "Outbox sends that failed (their events stay for the retry).",
            &one(self.outbox_failures),
        );
        let items = self.availability_items;
        family(
            "stockedge_availability_items_total",
            "counter",
            "Availability read items, by where they were answered from: the isolate's memory, the shared cache (Cache API), the SKU's object.",
            &[
                ("{source=\"memory\"}".to_owned(), items.memory),
                ("{source=\"cache\"}".to_owned(), items.cache),
                ("{source=\"object\"}".to_owned(), items.object),
            ],
        );
        family(
            "stockedge_counters_since_ms",
            "gauge",
            "When this isolate started counting (ms since the epoch); counters reset with the isolate.",
            &one(u64::try_from(self.since.0).unwrap_or(0)),
        );
        out
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
