//! The catalogue's pure rules: what a listing shows, and what a bundle is made of.

pub mod bundle;
pub mod rules;

pub use bundle::{Bundle, BundleError, Component};
pub use rules::{ListingRule, RuleError};
