//! Linearizability of recorded histories: is what concurrent clients saw of one SKU explainable by
//! the SKU's ledger applying their calls one at a time, each at some instant between its invoke
//! and its return?
//!
//! - [`record`]: the history format (JSON) the end-to-end recorder writes: per SKU, the initial
//!   state and every call with its invoke and return times and its outcome (`null` when the
//!   client never learnt it: a timeout, a `5xx`).
//! - [`model`]: what the search needs of a sequential specification.
//! - [`ledger_model`]: the specification used, which is the real ledger (`stock::Ledger`) and the
//!   views the API answers with (`api::views`), not a re-statement of them.
//! - [`fingerprint`]: the ledger state as a 128-bit key for the search's memo.
//! - [`search`]: the checker, Wing & Gong's search with Lowe's just-in-time linearization and the
//!   memo of (linearized set, state) that Knossos and porcupine use.
//! - [`bits`]: the set of linearized operations.
//! - [`report`]: checking recorded files and the summary `check-history` prints.
//!
//! Calls whose outcome was never seen are pending forever, as in Knossos: they may have taken
//! effect at any instant after their invoke, or never. Histories of different SKUs are checked
//! separately: every call here touches one SKU, and linearizability is compositional (Herlihy &
//! Wing), so the whole history is linearizable exactly when each SKU's is.
//!
//! Native only: the Worker never checks histories (`cargo run --bin check-history`,
//! `tests/linearizability.rs`, `tests/e2e/linearizability.test.mjs`).

pub mod bits;
pub mod fingerprint;
pub mod ledger_model;
pub mod model;
pub mod record;
pub mod report;
pub mod search;

pub use ledger_model::{check_history, LedgerModel, LedgerOp, LedgerState};
pub use model::Model;
pub use record::{Call, History, HistoryFile, Initial, Outcome, Recorded};
pub use report::{check_paths, Summary};
pub use search::{check, Timed, Verdict};
