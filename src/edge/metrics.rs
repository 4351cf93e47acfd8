//! The isolate's counters (`crate::metrics`): recorded at the shell's choke points — every D1
//! round trip (`store`), every stock-change message the sync consumer receives
//! (`sync_consumer`), every outbox send of a SKU object (`sku_object`) — and served at
//! `GET /v1/metrics` (admin) in Prometheus text. Per isolate: under `wrangler dev` the Worker,
//! its objects and its consumers share one, so one read sees all of them.

use std::cell::RefCell;

use worker::{Response, Result};

use crate::metrics::{current_origin, Counters};
use crate::sync::StockChanged;

use super::clock::now;
use super::http;

/// Prometheus text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

thread_local! {
    static COUNTERS: RefCell<Option<Counters>> = const { RefCell::new(None) };
}

fn record(f: impl FnOnce(&mut Counters)) {
    COUNTERS.with(|c| f(c.borrow_mut().get_or_insert_with(|| Counters::new(now()))));
}

/// One D1 round trip carrying `statements` statements, counted under what the isolate is doing.
pub fn d1(statements: usize) {
    let origin = current_origin();
    record(|c| c.d1(origin, statements));
}

/// The sync consumer received these stock-change messages.
pub fn delivered(events: &[StockChanged]) {
    record(|c| events.iter().for_each(|e| c.delivered(&e.sku, e.version)));
}

/// A SKU object's outbox send of `events` events answered (`ok`) or failed.
pub fn outbox_send(events: usize, ok: bool) {
    record(|c| c.outbox_send(events, ok));
}

/// `GET /v1/metrics`.
pub fn serve() -> Result<Response> {
    let mut body = String::new();
    record(|c| body = c.render());
    http::text(200, body, CONTENT_TYPE)
}
