//! Routes of the catalogue (products, locations, channels, listings), resolved under
//! `/v1/products`, `/v1/locations` and `/v1/channels`. All need the admin role.

use super::problem::{Kind, Problem};

/// A catalogue route. (Filled in with the catalogue.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogRoute {}

/// Resolves `method` and the path segments after `/v1/` (e.g. `["products", "A-1"]`).
pub fn resolve(_method: &str, segs: &[&str]) -> Result<CatalogRoute, Problem> {
    Err(Problem::new(Kind::NotFound, format!("no route /v1/{}", segs.join("/"))))
}
