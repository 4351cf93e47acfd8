//! The catalogue's pure rules: what a listing shows, what a bundle is made of, and the records
//! (products, locations, channels, listings) with their validation.

pub mod bundle;
pub mod model;
pub mod rules;
pub mod secret;

pub use bundle::{Bundle, BundleError, Component};
pub use rules::{ListingRule, RuleError, StoredRule};
