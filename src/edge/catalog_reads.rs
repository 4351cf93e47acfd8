//! What the stock paths read from the catalogue: bundle definitions (to expand bundle lines and
//! compute bundle availability) and listing rules (to answer availability per channel). The
//! queries are `store::{catalog, listings}`.

use std::collections::BTreeMap;

use worker::Env;

use super::store::{self, StoreResult};
use crate::catalog::{Bundle, ListingRule};
use crate::stock::{Sku, Token};

/// The bundles among `skus`, with their components.
pub async fn bundles(env: &Env, skus: &[Sku]) -> StoreResult<BTreeMap<Sku, Bundle>> {
    store::catalog::bundles(&store::db(env)?, skus).await
}

/// The listing rules of `channel` for those of `skus` it lists; unlisted SKUs are absent. A
/// stored rule out of bounds fails the read (`StoreError::Corrupt`), never clamped.
pub async fn listing_rules(env: &Env, channel: &Token, skus: &[Sku]) -> StoreResult<BTreeMap<Sku, ListingRule>> {
    store::listings::rules(&store::db(env)?, channel, skus).await
}
