//! The HTTP side of live reconciliation without HTTP: the queries of
//! `POST /v1/reconciliation/run`, `GET /v1/reconciliation` and `POST /v1/reconciliation/repair`,
//! and the answer bodies (`docs/api.md`, "Live reconciliation").

use serde_json::{json, Value};

use super::operator_views::paged;
use super::paging::{id_page_fields, Filter, IdPage};
use super::problem::{FieldError, Problem};
use crate::db::reconcile::ReconcileRow;
use crate::reconcile::RunReport;
use crate::stock::{Sku, Token};
use crate::time::Millis;

/// `?channel=` (and `?sku=` where taken) of the run and repair endpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub channel: Option<Token>,
    pub sku: Option<Sku>,
}

/// Reads `channel` (required when `need_channel`) and, when `with_sku`, `sku`; every faulty
/// parameter is named in one `validation-failed`. Other parameters are ignored.
pub fn scope(pairs: &[(String, String)], need_channel: bool, with_sku: bool) -> Result<Scope, Problem> {
    let mut errors = Vec::new();
    let mut s = Scope::default();
    for (k, v) in pairs {
        match k.as_str() {
            "channel" => match Token::parse(v) {
                Ok(c) => s.channel = Some(c),
                Err(e) => errors.push(FieldError::new("channel", e.to_string())),
            },
            "sku" if with_sku => match Sku::parse(v) {
                Ok(sku) => s.sku = Some(sku),
                Err(e) => errors.push(FieldError::new("sku", format!("{v:?} {e}"))),
            },
            _ => {}
        }
    }
    if need_channel && s.channel.is_none() && errors.is_empty() {
        errors.push(FieldError::new("channel", "required: the channel whose drifted listings to repair"));
    }
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(Problem::invalid(errors))
    }
}

/// `GET /v1/reconciliation`'s query: the id page with `channel` and `sku`, and `drifted`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub page: IdPage,
    /// Only reads that found drift.
    pub drifted: bool,
}

pub fn list_query(pairs: &[(String, String)]) -> Result<ListQuery, Problem> {
    // One problem naming every faulty parameter: the page's, then `drifted`.
    let mut errors = Vec::new();
    let page = id_page_fields(pairs, &[Filter::Channel, Filter::Sku], &mut errors);
    let mut drifted = false;
    for (k, v) in pairs.iter().filter(|(k, _)| k == "drifted") {
        match v.as_str() {
            "true" => drifted = true,
            "false" => drifted = false,
            _ => errors.push(FieldError::new(k, "must be true or false")),
        }
    }
    if errors.is_empty() {
        Ok(ListQuery { page, drifted })
    } else {
        Err(Problem::invalid(errors))
    }
}

/// `POST /v1/reconciliation/run`: each channel's run; `limited` when the request's listing
/// budget ended the pass before every listing was read.
pub fn runs(reports: &[RunReport], limited: bool) -> Value {
    json!({ "runs": reports, "limited": limited })
}

/// `GET /v1/reconciliation`: the latest read of each listing, paged by id.
pub fn page(rows: Vec<ReconcileRow>, limit: i64) -> Value {
    let items = rows
        .into_iter()
        .map(|r| {
            let external = serde_json::from_str::<Value>(&r.external).unwrap_or(Value::Null);
            let item = json!({
                "id": r.id,
                "channel": r.channel,
                "sku": r.sku,
                "external": external,
                "intended": r.intended,
                "live": r.live,
                "drift": r.drift,
                "status": r.status,
                "action": r.action,
                "error": r.error,
                "read_at": Millis(r.read_at).to_rfc3339(),
                "repaired_at": r.repaired_at.map(|t| Millis(t).to_rfc3339()),
            });
            (r.id, item)
        })
        .collect();
    paged(items, limit)
}

/// `POST /v1/reconciliation/repair`: how many drifted listings were queued for a push.
pub fn repaired(n: usize) -> Value {
    json!({ "repaired": n })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::testing::{fields, pairs};
    use crate::api::Kind;

    #[test]
    fn repair_needs_a_channel_and_names_bad_parameters() {
        let s = scope(&pairs(&[("channel", "shop"), ("sku", "A/1")]), true, true).expect("valid");
        assert_eq!(
            (s.channel.map(|c| c.to_string()), s.sku.map(|s| s.to_string())),
            (Some("shop".into()), Some("A/1".into()))
        );
        let p = scope(&[], true, true).expect_err("no channel");
        assert_eq!((p.kind, fields(&p)), (Kind::ValidationFailed, vec!["channel".to_owned()]));
        let p = scope(&pairs(&[("channel", "a b"), ("sku", "bad sku")]), false, true).expect_err("bad");
        assert_eq!(fields(&p), ["channel", "sku"]);
        assert_eq!(scope(&pairs(&[("sku", "bad sku")]), false, false), Ok(Scope::default()), "sku not taken");
    }

    #[test]
    fn the_list_reads_drifted_and_the_page_parameters() {
        let q = list_query(&pairs(&[("drifted", "true"), ("channel", "shop"), ("limit", "5")])).expect("valid");
        assert!(q.drifted);
        assert_eq!((q.page.limit, q.page.channel.map(|c| c.to_string())), (5, Some("shop".into())));
        let p = list_query(&pairs(&[("drifted", "yes")])).expect_err("bad");
        assert_eq!(fields(&p), ["drifted"]);
        let p = list_query(&pairs(&[("limit", "0"), ("drifted", "1")])).expect_err("bad");
        assert_eq!(fields(&p), ["limit", "drifted"]);
    }

    #[test]
    fn a_read_lists_both_values_and_its_drift() {
        let row: ReconcileRow = serde_json::from_value(json!({
            "id": 3, "channel": "shop", "sku": "A", "external": "{\"inventory_item_id\": 1}", "intended": 5,
            "live": 9, "drift": 4, "status": "drifted", "action": "repaired", "error": null, "read_at": 0,
            "repaired_at": 0
        }))
        .expect("row");
        let body = page(vec![row], 10);
        let item = &body["items"][0];
        assert_eq!(
            (item["intended"].clone(), item["live"].clone(), item["drift"].clone()),
            (json!(5), json!(9), json!(4))
        );
        assert_eq!(item["external"]["inventory_item_id"], 1);
        assert_eq!(item["read_at"], "1970-01-01T00:00:00.000Z");
        assert!(body.get("next").is_none());
    }
}
