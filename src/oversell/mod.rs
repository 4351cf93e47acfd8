//! The oversell window, measured (docs/oversell.md): how many marketplace sales exceed stock when
//! channels learn of each other's sales late, under StockEdge's push path and under batch sync,
//! and the smallest per-listing buffer that keeps a listing's oversells below a target.
//!
//! - [`channel`]: the channels the model sells on, their demand and their platforms' delays.
//! - [`delay`]: delay distributions — the measured propagation (commit → platform received) and
//!   the documented ranges.
//! - [`advisor`]: the buffer advisor, a pure function (the Worker answers it at
//!   `GET /v1/channels/{c}/listings/{sku}/advice`).
//! - [`scenario`]: what one run simulates — catalogue, horizon, bursts, faults, strategy, buffers.
//! - [`tally`]: what a run counts, and the mean with its confidence interval over seeds.
//! - `rng`, `demand`, `sim`, `study` (native only): the seeded generator, the demand, the
//!   event-driven simulation, the study the command runs, and `svg`, `report`: its plots and
//!   its Markdown tables.

pub mod advisor;
pub mod channel;
pub mod delay;
pub mod scenario;
pub mod tally;

#[cfg(not(target_arch = "wasm32"))]
pub mod demand;
#[cfg(not(target_arch = "wasm32"))]
pub mod report;
#[cfg(not(target_arch = "wasm32"))]
pub mod rng;
#[cfg(not(target_arch = "wasm32"))]
pub mod sim;
#[cfg(not(target_arch = "wasm32"))]
pub mod study;
#[cfg(not(target_arch = "wasm32"))]
pub mod svg;
