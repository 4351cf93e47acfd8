//! The stock ledger of one SKU: pure, deterministic, and the only place quantities change.

pub mod alarm;
pub mod alert;
pub mod command;
pub mod error;
pub mod hold;
pub mod ids;
pub mod invariants;
pub mod journal;
pub mod ledger;
pub mod lend;
pub mod levels;
pub mod limits;
pub mod order;
pub mod outbox;
pub mod storage;

pub use alert::{oversold_alert, OversoldAlert};
pub use command::{Accepted, Command, Effect, SaleLine};
pub use error::{Incomparable, LedgerError};
pub use hold::{Hold, HoldStatus};
pub use ids::{HoldId, IdError, Location, OrderKey, Sku, Token};
pub use journal::{Cause, Entry, Op};
pub use ledger::{Changes, Ledger, Snapshot};
pub use lend::{Lend, Report};
pub use levels::{Deltas, Levels, Totals};
pub use order::{Order, OrderLine};
