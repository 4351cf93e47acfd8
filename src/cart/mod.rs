//! Carts: reservations over several SKUs, held, committed, extended and released all or nothing.

pub mod coordinator;
pub mod plan;
pub mod reservation;

pub use coordinator::{CartError, CartStore, SaveError, ShortLine, SkuPort, SkuReply};
pub use plan::{plan, OverLine, Part, PlanError};
pub use reservation::{End, Phase, Reservation, Shown, Status};
