//! Orders taken on other channels (and committed storefront orders): one book per order that
//! turns sales, cancellations and fulfilments into idempotent SKU ledger commands.

pub mod book;

pub use book::{Book, BookError, BookLine, Plan};
