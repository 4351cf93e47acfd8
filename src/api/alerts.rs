//! The alerts endpoints without HTTP: `GET /v1/alerts?sku=&kind=&after=&limit=` (query
//! validation, the page and its `next`), the alert as answered by it and by
//! `POST /v1/alerts/{id}/acknowledge`, and the `PUT /v1/skus/{sku}/alerting` body.
//!
//! An alert is a row of D1 `alerts` (migrations/0007_alerts.sql, rebuilt by 0011): an
//! `oversold` alert is written by the queue consumer from the `alert` of a `StockChanged` event;
//! the other kinds when their problem opens (`crate::alerts`). Times are stored as epoch
//! milliseconds and answered as RFC 3339.

use serde::{Deserialize, Serialize};

use super::fields::{parse_object, Fields};
use super::paging::{id_page_fields, Filter};
use super::problem::{FieldError, Problem};
use crate::alerts::AlertKind;
use crate::stock::limits::MAX_ON_HAND;
use crate::stock::Sku;
use crate::time::Millis;

/// A validated `GET /v1/alerts` query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertsQuery {
    /// Only this SKU's alerts.
    pub sku: Option<Sku>,
    /// Only alerts of this kind.
    pub kind: Option<AlertKind>,
    /// Alerts with ids above this (the previous page's `next`).
    pub after: i64,
    pub limit: i64,
}

/// Reads `sku`, `kind`, `after` and `limit` ([`id_page`]); every faulty one is named in one
/// `validation-failed`. Other parameters are ignored.
pub fn alerts_query(pairs: &[(String, String)]) -> Result<AlertsQuery, Problem> {
    let mut errors = Vec::new();
    let p = id_page_fields(pairs, &[Filter::Sku], &mut errors);
    let mut kind = None;
    if let Some((_, v)) = pairs.iter().find(|(k, _)| k == "kind") {
        match AlertKind::parse(v) {
            Some(k) => kind = Some(k),
            None => {
                let names: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
                errors.push(FieldError::new("kind", format!("must be one of {}", names.join(", "))));
            }
        }
    }
    if errors.is_empty() {
        Ok(AlertsQuery { sku: p.sku, kind, after: p.after, limit: p.limit })
    } else {
        Err(Problem::invalid(errors))
    }
}

/// Reads a `PUT /v1/skus/{sku}/alerting` body: `{"low_stock_below": n|null}` (required; `null`
/// removes the threshold). The SKU is low on stock while its `available` is below `n`.
pub fn alerting_body(body: &[u8]) -> Result<Option<i64>, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let below = match obj.get("low_stock_below") {
        None => {
            f.fault("low_stock_below", "is required: a count, or null to remove the threshold");
            None
        }
        Some(serde_json::Value::Null) => None,
        Some(_) => f.int_opt("low_stock_below", 0..=MAX_ON_HAND),
    };
    if errors.is_empty() {
        Ok(below)
    } else {
        Err(Problem::invalid(errors))
    }
}

/// The answer of `PUT /v1/skus/{sku}/alerting`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertingView {
    pub sku: String,
    pub low_stock_below: Option<i64>,
}

/// One row of D1 `alerts`, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AlertRecord {
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub sku: Option<String>,
    pub version: i64,
    pub units: Option<i64>,
    pub oversold_total: Option<i64>,
    pub op: Option<String>,
    pub channel: Option<String>,
    pub order_id: Option<String>,
    /// The kind's facts, JSON text.
    pub detail: String,
    pub raised_at: i64,
    pub acknowledged_at: Option<i64>,
}

/// An alert as the API answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertView {
    pub id: i64,
    /// `oversold`, `low_stock`, `dead_letters`, `channel_auth`, `drift`, `poll_behind` or `erp_behind`.
    pub kind: String,
    /// What it is about: a SKU, a channel id, or `stock-changes` (dead letters).
    pub subject: String,
    /// The SKU, for SKU kinds (`oversold`, `low_stock`); `null` otherwise.
    pub sku: Option<String>,
    /// The SKU version of the change that raised it; for channel kinds, the problem's episode.
    pub version: i64,
    /// Units newly oversold by that change (`oversold` only).
    pub units: Option<i64>,
    /// The SKU's oversold units right after that change (`oversold` only).
    pub oversold_total: Option<i64>,
    /// The change's journal op (`sale` for a marketplace sale; `oversold` only).
    pub op: Option<String>,
    pub channel: Option<String>,
    pub order_id: Option<String>,
    /// The kind's facts when it was raised (`available` and `threshold`, `count`, …).
    pub detail: serde_json::Value,
    pub raised_at: String,
    /// When it was first acknowledged; `null` while open.
    pub acknowledged_at: Option<String>,
}

impl From<AlertRecord> for AlertView {
    fn from(r: AlertRecord) -> Self {
        AlertView {
            id: r.id,
            kind: r.kind,
            subject: r.subject,
            sku: r.sku,
            version: r.version,
            units: r.units,
            oversold_total: r.oversold_total,
            op: r.op,
            channel: r.channel,
            order_id: r.order_id,
            detail: serde_json::from_str(&r.detail).unwrap_or_else(|_| serde_json::json!({})),
            raised_at: Millis(r.raised_at).to_rfc3339(),
            acknowledged_at: r.acknowledged_at.map(|t| Millis(t).to_rfc3339()),
        }
    }
}

/// A page of alerts, oldest first; `next` (pass it as `after`) when more follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertPage {
    pub items: Vec<AlertView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// The page from up to `limit + 1` rows read in id order: the extra row only tells that more
/// follow.
pub fn alert_page(mut rows: Vec<AlertRecord>, limit: i64) -> AlertPage {
    let limit = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(|r| r.id) } else { None };
    AlertPage { items: rows.into_iter().map(AlertView::from).collect(), next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Kind;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn row(id: i64) -> AlertRecord {
        AlertRecord {
            id,
            kind: "oversold".into(),
            subject: "A".into(),
            sku: Some("A".into()),
            version: id + 1,
            units: Some(3),
            oversold_total: Some(3),
            op: Some("sale".into()),
            channel: Some("amazon".into()),
            order_id: Some("113-1".into()),
            detail: "{}".into(),
            raised_at: 0,
            acknowledged_at: None,
        }
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            alerts_query(&[]),
            Ok(AlertsQuery { sku: None, kind: None, after: 0, limit: crate::stock::limits::DEFAULT_PAGE as i64 })
        );
        let q =
            alerts_query(&pairs(&[("sku", "TEE/M"), ("after", "7"), ("limit", "1000"), ("x", "y")])).expect("valid");
        assert_eq!(q, AlertsQuery { sku: Some(Sku::parse("TEE/M").expect("sku")), kind: None, after: 7, limit: 1000 });
        let k = alerts_query(&pairs(&[("kind", "low_stock")])).expect("valid");
        assert_eq!(k.kind, Some(AlertKind::LowStock));
    }

    #[test]
    fn names_every_faulty_parameter() {
        let p = alerts_query(&pairs(&[("sku", "a b"), ("after", "-1"), ("limit", "0")])).expect_err("invalid");
        assert_eq!(p.kind, Kind::ValidationFailed);
        let errors = p.extra.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().filter_map(|e| e.get("field").and_then(|f| f.as_str())).collect();
        assert_eq!(fields, ["sku", "after", "limit"]);
        let both = alerts_query(&pairs(&[("kind", "nope"), ("limit", "0")])).expect_err("invalid");
        let errors = both.extra.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().filter_map(|e| e.get("field").and_then(|f| f.as_str())).collect();
        assert_eq!(fields, ["limit", "kind"]);
        assert!(alerts_query(&pairs(&[("kind", "Oversold")])).is_err());
        assert!(alerts_query(&pairs(&[("limit", "1001")])).is_err());
        assert!(alerts_query(&pairs(&[("after", "x")])).is_err());
    }

    #[test]
    fn a_page_names_next_only_when_more_follow() {
        let page = alert_page(vec![row(1), row(2), row(3)], 2);
        assert_eq!(page.items.iter().map(|a| a.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(page.next, Some(2));
        let last = alert_page(vec![row(3)], 2);
        assert_eq!(last.next, None);
        let json = serde_json::to_value(&last).expect("json");
        assert!(json.get("next").is_none());
    }

    #[test]
    fn times_are_rfc3339_and_open_alerts_have_null_acknowledged_at() {
        let v = AlertView::from(AlertRecord { raised_at: 1_795_993_008_123, ..row(1) });
        let json = serde_json::to_value(&v).expect("json");
        assert_eq!(json["raised_at"], Millis(1_795_993_008_123).to_rfc3339());
        assert!(json["acknowledged_at"].is_null());
        assert_eq!(json["units"], 3);
        assert_eq!(json["subject"], "A");
        assert_eq!(json["detail"], serde_json::json!({}));
        let acked = AlertView::from(AlertRecord { acknowledged_at: Some(0), ..row(1) });
        assert_eq!(acked.acknowledged_at.as_deref(), Some(Millis(0).to_rfc3339().as_str()));
    }

    #[test]
    fn alerting_body_sets_or_removes_and_names_faults() {
        assert_eq!(alerting_body(br#"{"low_stock_below": 5}"#), Ok(Some(5)));
        assert_eq!(alerting_body(br#"{"low_stock_below": null}"#), Ok(None));
        for bad in [&br#"{}"#[..], br#"{"low_stock_below": -1}"#, br#"{"low_stock_below": "5"}"#] {
            let p = alerting_body(bad).expect_err("invalid");
            assert_eq!(p.extra["errors"][0]["field"], "low_stock_below");
        }
    }
}
