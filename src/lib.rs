//! StockEdge: the single source of truth for stock across sales channels.
//!
//! Layout (pure core first, thin shell last):
//! - [`stock`]: the per-SKU ledger — levels, holds, orders, journal, invariants. No I/O, no clock.
//! - [`cart`]: multi-SKU reservations — line planning and the coordinator's state machine.
//! - [`api`]: the HTTP contract without HTTP — request validation, response views, problem types.
//! - `edge` (wasm32 only): the Cloudflare Workers shell — router, Durable Objects, bindings.

pub mod api;
pub mod cart;
pub mod catalog;
pub mod fault;
pub mod import;
pub mod inbound;
pub mod orders;
pub mod stock;
pub mod sync;
pub mod time;

#[cfg(target_arch = "wasm32")]
mod edge;
