//! What operators read of sync and inbound traffic, as answer bodies: `GET /v1/sync/status`,
//! `GET /v1/sync/failures`, `POST /v1/sync/failures/{id}/retry`, `GET /v1/inbound/unmatched`
//! and `GET /v1/inbound/drift`, from the stored rows (`db::sync_state`, `db::inbound`).

use serde_json::{json, Value};

use super::{FieldError, Kind, Problem};
use crate::db::channel_retry::ToRetry;
use crate::db::inbound::{DriftRow, UnmatchedRow};
use crate::db::sync_state::{FailureRow, SyncRow};
use crate::inbound::LineIdentity;
use crate::stock::Token;
use crate::sync::StockChanged;
use crate::time::Millis;

/// Milliseconds in a day: eBay counts revisions per UTC day.
const DAY_MS: i64 = 86_400_000;

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |m| Value::from(Millis(m).to_rfc3339()))
}

/// `GET /v1/sync/status` at `now`: every listing's sync state, with how long it has lagged and
/// today's eBay revisions.
pub fn sync_status(rows: Vec<SyncRow>, now: Millis) -> Value {
    let t = now.0;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "channel": r.channel, "sku": r.sku,
                "last_version": r.last_version, "last_quantity": r.last_quantity, "pushed_at": time(r.pushed_at),
                "pending_version": r.pending_version, "attempts": r.attempts, "last_error": r.last_error,
                "lag_ms": r.pending_since.map_or(0, |s| (t - s).max(0)),
                "revisions_today": if r.revisions_day == t.div_euclid(DAY_MS) { r.revisions } else { 0 },
            })
        })
        .collect();
    json!({ "items": items })
}

/// `GET /v1/sync/failures`: the failures not yet retried.
pub fn sync_failures(rows: Vec<FailureRow>) -> Value {
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "channel": r.channel, "sku": r.sku, "version": r.version, "reason": r.reason,
                "at": time(Some(r.created_at)),
            })
        })
        .collect();
    json!({ "items": items })
}

/// `POST /v1/sync/failures/{id}/retry`: the event sent again.
pub fn retried(id: i64, event: &StockChanged) -> Value {
    json!({ "id": id, "retried": true, "sku": event.sku.as_str(), "version": event.version })
}

/// `POST /v1/sync/failures/retry?channel=`: the channel whose open failures to retry (required;
/// other parameters are ignored). A missing or bad `channel` is `422` naming it.
pub fn retry_channel_query(pairs: &[(String, String)]) -> Result<Token, Problem> {
    let bad = |m: String| Problem::invalid(vec![FieldError::new("channel", m)]);
    match pairs.iter().find(|(k, _)| k == "channel") {
        Some((_, v)) => Token::parse(v).map_err(|e| bad(e.to_string())),
        None => Err(bad("is required: the channel whose open failures to retry".into())),
    }
}

/// `POST /v1/sync/failures/retry?channel=`: the failures sent again.
pub fn retried_channel(channel: &Token, retried: &[ToRetry]) -> Value {
    let items: Vec<Value> = retried
        .iter()
        .map(|r| json!({ "id": r.id, "sku": r.event.sku.as_str(), "version": r.event.version }))
        .collect();
    json!({ "channel": channel.as_str(), "retried": items.len(), "items": items })
}

/// The answer to a retry of a failure that is not open.
pub fn no_open_failure(id: i64) -> Problem {
    Problem::new(Kind::NotFound, format!("no open sync failure {id}")).with("resource", "sync failure")
}

/// `{"items": [...], "next": <last id>}` from up to `limit + 1` `(id, item)`s (`next` only when
/// there is more).
fn paged(rows: Vec<(i64, Value)>, limit: i64) -> Value {
    let limit = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    let (ids, items): (Vec<i64>, Vec<Value>) = rows.into_iter().take(limit).unzip();
    let mut body = json!({ "items": items });
    if let (true, Some(last)) = (more, ids.last()) {
        body["next"] = Value::from(*last);
    }
    body
}

/// `GET /v1/inbound/unmatched`: lines that mapped to no listing, with the keys StockEdge looked
/// them up by.
pub fn unmatched_page(rows: Vec<UnmatchedRow>, limit: i64) -> Value {
    let items = rows
        .into_iter()
        .map(|r| {
            let identity: Option<LineIdentity> = serde_json::from_str(&r.identity).ok();
            let item = json!({
                "id": r.id,
                "channel": r.channel,
                "order_id": r.order_id,
                "line_id": r.line_id,
                "kind": r.kind,
                "qty": r.qty,
                "sku": identity.as_ref().and_then(|i| i.sku.clone()),
                "identity": serde_json::from_str::<Value>(&r.identity).unwrap_or(Value::Null),
                "lookup_keys": identity.map(|i| i.lookup_keys()).unwrap_or_default(),
                "received_at": Millis(r.received_at).to_rfc3339(),
            });
            (r.id, item)
        })
        .collect();
    paged(items, limit)
}

/// `GET /v1/inbound/drift`: levels a platform reported that StockEdge did not push, with what it
/// did.
pub fn drift_page(rows: Vec<DriftRow>, limit: i64) -> Value {
    let items = rows
        .into_iter()
        .map(|r| {
            let item = json!({
                "id": r.id,
                "channel": r.channel,
                "sku": r.sku,
                "level": r.line_id,
                "reported": r.reported,
                "last_pushed": r.last_pushed,
                "listed": r.listed,
                "action": r.action,
                "occurred_at": Millis(r.occurred_at).to_rfc3339(),
                "received_at": Millis(r.received_at).to_rfc3339(),
            });
            (r.id, item)
        })
        .collect();
    paged(items, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drift(id: i64) -> DriftRow {
        serde_json::from_value(json!({
            "id": id, "channel": "shop", "sku": "A", "line_id": "l", "reported": 3, "last_pushed": null,
            "listed": 5, "action": "pushed_back", "occurred_at": 0, "received_at": 0
        }))
        .expect("row")
    }

    #[test]
    fn a_page_names_next_only_when_more_follow() {
        let page = drift_page(vec![drift(4), drift(7), drift(9)], 2);
        assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(page["next"], 7);
        let last = drift_page(vec![drift(9)], 2);
        assert!(last.get("next").is_none());
        assert_eq!(last["items"][0]["level"], "l");
    }

    #[test]
    fn an_unmatched_line_shows_its_lookup_keys_and_survives_an_unreadable_identity() {
        let row = |identity: &str| -> UnmatchedRow {
            serde_json::from_value(json!({
                "id": 1, "channel": "shop", "order_id": "o", "line_id": "l", "kind": "sale",
                "identity": identity, "qty": 2, "received_at": 0
            }))
            .expect("row")
        };
        let bad = unmatched_page(vec![row("{")], 10);
        assert_eq!(bad["items"][0]["identity"], Value::Null);
        assert_eq!(bad["items"][0]["lookup_keys"], json!([]));
        let ids = crate::inbound::PlatformIds::Woocommerce { product_id: 7, variation_id: None };
        let identity = serde_json::to_string(&LineIdentity { sku: Some("A".into()), ids }).expect("identity");
        let good = unmatched_page(vec![row(&identity)], 10);
        assert_eq!(good["items"][0]["sku"], "A");
        assert!(good["items"][0]["lookup_keys"].as_array().is_some_and(|k| !k.is_empty()));
    }

    #[test]
    fn retrying_a_channel_names_it_and_lists_what_went_again() {
        let q = |p: &[(&str, &str)]| {
            retry_channel_query(&p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>())
        };
        assert_eq!(q(&[("x", "1"), ("channel", "shop")]).map(|c| c.to_string()), Ok("shop".into()));
        for bad in [q(&[]), q(&[("channel", "")]), q(&[("channel", "a b")])] {
            let p = bad.expect_err("refused");
            assert_eq!(p.kind, Kind::ValidationFailed);
            assert_eq!(p.to_json()["errors"][0]["field"], "channel");
        }
        let shop = Token::parse("shop").expect("channel");
        let event: crate::sync::StockChanged = serde_json::from_value(json!({
            "sku": "A", "version": 4, "available": 1, "on_hand": 1, "cause": "set", "at": 0
        }))
        .expect("event");
        let body = retried_channel(&shop, &[ToRetry { id: 9, event }]);
        assert_eq!(body, json!({"channel": "shop", "retried": 1, "items": [{"id": 9, "sku": "A", "version": 4}]}));
        assert_eq!(retried_channel(&shop, &[])["retried"], 0);
    }

    #[test]
    fn sync_status_counts_lag_and_only_todays_revisions() {
        let now = Millis(3 * DAY_MS + 500);
        let row = |day: i64| -> SyncRow {
            serde_json::from_value(json!({
                "channel": "shop", "sku": "A", "last_version": 1, "last_quantity": 2, "pushed_at": null,
                "pending_version": 2, "pending_since": 3 * DAY_MS + 100, "attempts": 1, "last_error": null,
                "revisions_day": day, "revisions": 4
            }))
            .expect("row")
        };
        let body = sync_status(vec![row(3), row(2)], now);
        assert_eq!(body["items"][0]["lag_ms"], 400);
        assert_eq!(body["items"][0]["revisions_today"], 4);
        assert_eq!(body["items"][1]["revisions_today"], 0, "yesterday's revisions do not count today");
        assert_eq!(body["items"][0]["pushed_at"], Value::Null);
    }
}
