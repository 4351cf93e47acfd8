//! Live reconciliation, the pure core: read back what each channel shows for a listing, compare
//! it with what StockEdge intends, and decide what to do about a difference.
//!
//! - [`read`]: per platform, the request that reads a listing's live quantity and the reading of
//!   the answer (wired into each platform's registry entry as `read`; a platform without one —
//!   wholesale EDI 846 is one-way — cannot be reconciled).
//! - [`decide`]: the quantity a listing should show now (its rule over the SKU's current state,
//!   the same function the sync planner pushes with) and the [`decide::Verdict`] on a live value.
//! - [`run`]: what one channel's run came to, as reported by `POST /v1/reconciliation/run`.
//! - [`limits`]: how many listings a run reads.
//!
//! The shell (`edge/reconcile.rs`) loads the listings, performs the reads, records each read and
//! the drift found (`db::reconcile`), and repairs through the existing push path.

pub mod decide;
pub mod limits;
pub mod read;
pub mod run;

pub use decide::{decide, intended, InFlight, Verdict};
pub use read::{Read, ReadError};
pub use run::RunReport;
