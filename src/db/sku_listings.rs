//! D1 read of `GET /v1/skus/{sku}/listings`: every listing of one SKU with its channel's kind and
//! state, its sync record (`listing_sync`) and whether an open sync failure is kept for it
//! (`sync_failures`) — one statement. What the rows mean is `api::sku_listings`'.

use serde::Deserialize;
use serde_json::Value;

use super::{corrupt, text, Query, StoreResult};
use crate::catalog::model::{ChannelKind, External};
use crate::catalog::{ListingRule, StoredRule};
use crate::stock::Sku;

/// One listing of the SKU, with its channel and sync state.
#[derive(Clone, Debug, Deserialize)]
pub struct SkuListingRow {
    pub channel: String,
    pub kind: String,
    pub enabled: i64,
    /// The identity on the platform, as stored JSON.
    pub external: String,
    pub buffer: i64,
    pub percent: i64,
    pub max_listed: Option<i64>,
    pub zero_at_or_below: Option<i64>,
    pub last_quantity: Option<i64>,
    pub last_version: Option<i64>,
    pub pushed_at: Option<i64>,
    pub pending_version: Option<i64>,
    pub pending_since: Option<i64>,
    pub last_error: Option<String>,
    /// Open (not retried) sync failures of this listing.
    pub open_failures: i64,
}

impl SkuListingRow {
    pub fn kind(&self) -> StoreResult<ChannelKind> {
        super::channels::kind(&self.kind)
    }

    /// The listing's rule; a stored value out of bounds is a corrupt row (never clamped).
    pub fn rule(&self) -> StoreResult<ListingRule> {
        let stored = StoredRule {
            buffer: self.buffer,
            percent: self.percent,
            max_listed: self.max_listed,
            zero_at_or_below: self.zero_at_or_below,
        };
        stored.rule().map_err(|e| corrupt(format!("listing {}: {e}", self.channel)))
    }

    /// The identity on the channel.
    pub fn external(&self) -> StoreResult<External> {
        let kind = self.kind()?;
        let v: Value = serde_json::from_str(&self.external).map_err(corrupt)?;
        External::from_stored(kind, &v)
            .ok_or_else(|| corrupt(format!("listing on {}: {} identity {v}", self.channel, kind.as_str())))
    }
}

/// The read of every listing of `sku`, in channel order ([`SkuListingRow`]s).
pub fn read(sku: &Sku) -> Query {
    Query::new(
        "SELECT l.channel, c.kind, c.enabled, l.external, l.buffer, l.percent, l.max_listed, l.zero_at_or_below, \
         s.last_quantity, s.last_version, s.pushed_at, s.pending_version, s.pending_since, s.last_error, \
         (SELECT COUNT(*) FROM sync_failures f WHERE f.channel = l.channel AND f.retried_at IS NULL \
          AND f.sku = l.sku) AS open_failures \
         FROM listings l JOIN channels c ON c.channel = l.channel \
         LEFT JOIN listing_sync s ON s.channel = l.channel AND s.sku = l.sku \
         WHERE l.sku = ?1 ORDER BY l.channel",
        vec![text(sku.as_str())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{assert_bound, rows};
    use crate::db::StoreError;
    use serde_json::json;

    fn row(kind: &str, external: Value, percent: i64) -> Value {
        json!({
            "channel": "shop", "kind": kind, "enabled": 1, "external": external.to_string(), "buffer": 1,
            "percent": percent, "max_listed": null, "zero_at_or_below": null, "last_quantity": null,
            "last_version": null, "pushed_at": null, "pending_version": null, "pending_since": null,
            "last_error": null, "open_failures": 0
        })
    }

    #[test]
    fn reads_one_sku_and_decodes_or_refuses_its_rows() {
        assert_bound(&[read(&Sku::parse("A").expect("sku"))]);
        let good: Vec<SkuListingRow> = rows(json!([row("woocommerce", json!({"product_id": 7}), 50)]));
        assert_eq!(good[0].rule().map(|r| (r.buffer, r.percent)), Ok((1, 50)));
        assert_eq!(good[0].external().map(|e| e.int("product_id")), Ok(Some(7)));
        let bad: Vec<SkuListingRow> = rows(json!([row("woocommerce", json!({"nope": 1}), 500)]));
        assert!(matches!(bad[0].rule(), Err(StoreError::Corrupt(_))), "a stored rule out of bounds");
        assert!(matches!(bad[0].external(), Err(StoreError::Corrupt(_))));
        let unknown: Vec<SkuListingRow> = rows(json!([row("etsy", json!({}), 100)]));
        assert!(matches!(unknown[0].kind(), Err(StoreError::Corrupt(_))));
    }
}
