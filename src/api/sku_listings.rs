//! `GET /v1/skus/{sku}/listings`: each listing of a SKU with the quantity StockEdge intends it to
//! show now — its rule applied to the SKU's sellable units, as reconciliation judges it
//! ([`reconcile::intended`](crate::reconcile::intended), the function the sync consumer pushes
//! with) — beside what the platform last accepted, and the listing's status. Pure: the edge
//! reads the rows (`db::sku_listings`) and the SKU's state.

use serde::Serialize;
use serde_json::{json, Value};

use crate::catalog::model::rule_json;
use crate::db::sku_listings::SkuListingRow;
use crate::db::StoreResult;
use crate::reconcile::intended;
use crate::stock::Sku;
use crate::sync::StockChanged;
use crate::time::Millis;

/// Where a listing's sync stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    /// The platform accepted the newest change.
    InSync,
    /// A change is not yet accepted; the consumer retries it by itself.
    Pending,
    /// A push failed for good (an open sync failure): an operator must retry it.
    Failing,
    /// The channel is disabled: nothing is pushed to it.
    Disabled,
}

/// The status of a listing: disabled before failing before pending.
pub fn status(channel_enabled: bool, open_failures: i64, pending_version: Option<i64>) -> ListingStatus {
    if !channel_enabled {
        ListingStatus::Disabled
    } else if open_failures > 0 {
        ListingStatus::Failing
    } else if pending_version.is_some() {
        ListingStatus::Pending
    } else {
        ListingStatus::InSync
    }
}

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |m| Value::from(Millis(m).to_rfc3339()))
}

/// The answer for `sku` whose current state is `state` (`None`: never stocked, all 0), with its
/// listing `rows`, at `now`. A corrupt row fails the whole answer (never a guessed quantity).
pub fn sku_listings(
    sku: &Sku,
    state: Option<&StockChanged>,
    rows: &[SkuListingRow],
    now: Millis,
) -> StoreResult<Value> {
    let available = state.map_or(0, |s| s.available.max(0));
    let sellable = state.map_or(0, StockChanged::sellable);
    let items = rows
        .iter()
        .map(|r| {
            let rule = r.rule()?;
            let st = status(r.enabled != 0, r.open_failures, r.pending_version);
            Ok(json!({
                "channel": r.channel,
                "channel_kind": r.kind()?.as_str(),
                "external": r.external()?.to_json(),
                "rule": rule_json(&rule),
                "intended_quantity": intended(&rule, state),
                "last_quantity": r.last_quantity,
                "last_version": r.last_version,
                "pushed_at": time(r.pushed_at),
                "pending_version": r.pending_version,
                "lag_ms": r.pending_version.and(r.pending_since).map(|since| (now.0 - since).max(0)),
                "last_error": r.last_error,
                "status": st,
            }))
        })
        .collect::<StoreResult<Vec<Value>>>()?;
    Ok(json!({ "sku": sku.as_str(), "available": available, "sellable": sellable, "items": items }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::rows;

    fn state(available: i64, oversold: i64) -> StockChanged {
        StockChanged::current(Sku::parse("A").expect("sku"), 3, available, available, oversold, Millis(0))
    }

    fn row(channel: &str, enabled: i64, buffer: i64, sync: Value) -> Value {
        let mut r = json!({
            "channel": channel, "kind": "woocommerce", "enabled": enabled, "external": "{\"product_id\":7}",
            "buffer": buffer, "percent": 100, "max_listed": null, "zero_at_or_below": null, "last_quantity": null,
            "last_version": null, "pushed_at": null, "pending_version": null, "pending_since": null,
            "last_error": null, "open_failures": 0
        });
        if let (Some(r), Value::Object(s)) = (r.as_object_mut(), sync) {
            r.extend(s);
        }
        r
    }

    #[test]
    fn status_is_disabled_then_failing_then_pending_then_in_sync() {
        assert_eq!(status(false, 3, Some(2)), ListingStatus::Disabled);
        assert_eq!(status(true, 1, None), ListingStatus::Failing);
        assert_eq!(status(true, 0, Some(2)), ListingStatus::Pending);
        assert_eq!(status(true, 0, None), ListingStatus::InSync);
    }

    #[test]
    fn intends_the_rule_of_the_sellable_units_beside_the_last_push() {
        let rs: Vec<SkuListingRow> = rows(json!([
            row("a", 1, 2, json!({"last_quantity": 5, "last_version": 2, "pushed_at": 0})),
            row("b", 1, 0, json!({"pending_version": 3, "pending_since": 400, "last_error": "HTTP 503"})),
            row("c", 0, 0, json!({"open_failures": 1})),
        ]));
        let sku = Sku::parse("A").expect("sku");
        let v = sku_listings(&sku, Some(&state(9, 2)), &rs, Millis(1_000)).expect("answer");
        assert_eq!((v["available"].as_i64(), v["sellable"].as_i64()), (Some(9), Some(7)));
        let items = v["items"].as_array().expect("items");
        assert_eq!(items[0]["intended_quantity"], 5, "(9 − 2 oversold) − buffer 2");
        assert_eq!(items[0]["status"], "in_sync");
        assert_eq!(items[0]["pushed_at"], "1970-01-01T00:00:00.000Z");
        assert_eq!(items[0]["lag_ms"], Value::Null);
        assert_eq!((items[1]["status"].as_str(), items[1]["lag_ms"].as_i64()), (Some("pending"), Some(600)));
        assert_eq!(items[1]["intended_quantity"], 7);
        assert_eq!(items[2]["status"], "disabled");
        assert_eq!(items[0]["external"], json!({"product_id": 7}));
        assert_eq!(items[0]["channel_kind"], "woocommerce");
    }

    #[test]
    fn a_sku_never_stocked_intends_zero_and_a_corrupt_row_fails() {
        let sku = Sku::parse("A").expect("sku");
        let rs: Vec<SkuListingRow> = rows(json!([row("a", 1, 0, json!({}))]));
        let v = sku_listings(&sku, None, &rs, Millis(0)).expect("answer");
        assert_eq!((v["available"].as_i64(), v["items"][0]["intended_quantity"].as_i64()), (Some(0), Some(0)));
        let bad: Vec<SkuListingRow> = rows(json!([row("a", 1, -1, json!({}))]));
        assert!(sku_listings(&sku, None, &bad, Millis(0)).is_err());
        let none = sku_listings(&sku, None, &[], Millis(0)).expect("answer");
        assert_eq!(none["items"], json!([]));
    }
}
