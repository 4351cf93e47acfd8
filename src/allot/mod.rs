//! Flash-sale allotments: a hot SKU's ledger lends blocks of units to K allotment holders, each
//! of which answers holds from its block, so holds of one SKU spread over K objects and the
//! SKU's own object sees only lends, reports and commits (docs/architecture.md, "Allotments").
//!
//! Pure and sans-IO like `stock::ledger`: [`lender`] is the SKU's side (it serves the calls of
//! allotments on the ledger), [`allotment`] the holder's side (a state machine that says which
//! call to send and takes the answer back), [`hotness`] says whether a SKU is hot (an operator's policy, or automatic above a hold rate),
//! [`home`] names allotments and their reservation ids,
//! [`policy`] is a SKU's hot policy and [`limits`] its bounds.

pub mod allotment;
pub mod home;
pub mod hotness;
pub mod lender;
pub mod limits;
pub mod policy;

pub use allotment::{Allotment, Block, Commit, Reserve};
pub use home::AllotHome;
pub use hotness::{AutoRule, Hotness};
pub use lender::{LenderCall, LenderReply};
pub use policy::HotPolicy;
