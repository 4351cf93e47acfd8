//! Orders taken on other channels (and committed storefront orders): one book per order that
//! turns sales, cancellations and fulfilments into idempotent SKU ledger commands.

pub mod book;
pub mod line;
pub mod storage;

pub use book::{check_on_hand, Book, BookError, BookLine, Plan};
pub use line::Line;
