//! StockEdge: the single source of truth for stock across sales channels.
//!
//! Layout (pure core first, thin shell last; only `edge` knows about Cloudflare Workers):
//! - [`alerts`]: alerts out — problems and their de-duplication, destinations, signed webhook and Slack bodies.
//! - [`allot`]: flash-sale allotments — a hot SKU lends blocks to K holders that answer its holds.
//! - [`stock`]: the ledger of one SKU — levels, holds, orders, journal, invariants, limits. No I/O, no clock.
//! - [`cart`]: multi-SKU reservations — line planning and the coordinator's protocol, generic over ports.
//! - [`orders`]: the order book — sales, cancellations and fulfilments turned into idempotent ledger commands.
//! - [`erp`]: the ERP as the master of physical stock — snapshot lines and how they set on hand without double counting.
//! - [`catalog`]: products and bundles, locations, channels, listings and their rules, secret names.
//! - [`channels`]: the channel registry — one entry per platform wiring its push adapter, webhook reader and order feed.
//! - [`import`]: stock files in and out — Shopify, WooCommerce and plain CSV readers, the plan, writers.
//! - [`sync`]: outbound channel sync — stock events, coalescing, one adapter per platform, retry policy.
//! - [`inbound`]: marketplace webhooks and order-feed polls — signatures, dedupe, payloads, poll windows.
//! - [`reconcile`]: live reconciliation — reading each listing's quantity back from its channel, drift and its repair.
//! - [`api`]: the HTTP contract without HTTP — routes, request validation, views, problem types.
//! - [`db`]: the catalogue database (D1) as pure plans — SQL, bound values, row structs and their decoding, per table family.
//! - [`oversell`]: the oversell window, measured — a seeded model of channels selling shared stock, and the buffer advisor.
//! - [`metrics`]: counters of D1 queries, queue deliveries and outbox sends, rendered as Prometheus text.
//! - [`history`] (native only): linearizability of recorded histories — the Wing–Gong/Lowe search with a memo, the ledger as its model.
//! - [`fault`]: the typed failures of storage, Durable Object calls and the runtime, mapped to HTTP once in `api`.
//! - [`time`]: milliseconds since the epoch, as the shell passes the clock in.
//! - `edge` (wasm32 only): the Cloudflare Workers shell — router, Durable Objects, D1 store, queues, cron.

pub mod access;
pub mod alerts;
pub mod allot;
pub mod api;
pub mod cart;
pub mod catalog;
pub mod channels;
pub mod db;
pub mod erp;
pub mod fault;
#[cfg(not(target_arch = "wasm32"))]
pub mod history;
pub mod import;
pub mod inbound;
pub mod metrics;
pub mod orders;
pub mod oversell;
pub mod reconcile;
pub mod stock;
pub mod sync;
pub mod time;

#[cfg(target_arch = "wasm32")]
mod edge;
