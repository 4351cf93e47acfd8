//! Carts: reservations over several SKUs, held, committed, extended and released all or nothing
//! by a coordinator; a reservation of one SKU is kept by that SKU's ledger instead (`single`),
//! and its id says which (`home`).

pub mod coordinator;
pub mod home;
pub mod plan;
pub mod registration;
pub mod reservation;
pub mod single;

pub use coordinator::{CartError, CartStore, SaveError, ShortLine, SkuPort, SkuReply};
pub use home::{home, Home};
pub use plan::{plan, OverLine, Part, PlanError};
pub use reservation::{End, Phase, Reservation, Shown, Status};
