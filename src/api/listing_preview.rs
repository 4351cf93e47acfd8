//! `POST /v1/listings/preview?after=&limit=` `{"channel", "rule"}`: for a page of a channel's
//! listings, what each lists now and what it would list under a proposed rule — both through
//! [`ListingRule::listed`] of the SKU's sellable units, the function the sync consumer pushes
//! with. Nothing is written. Pure: the edge reads the page and the SKUs' states.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::catalog_bodies::rule_member;
use super::fields::{parse_object, Fields};
use super::problem::{FieldError, Problem};
use crate::catalog::ListingRule;
use crate::stock::limits::MAX_PREVIEW_PAGE;
use crate::stock::{Sku, Token};
use crate::sync::StockChanged;

/// A valid preview request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewRequest {
    pub channel: Token,
    pub rule: ListingRule,
    /// Listings of SKUs after this one (`""`: from the first).
    pub after: String,
    /// 1..=[`MAX_PREVIEW_PAGE`].
    pub limit: usize,
}

/// Reads the query (`after`, `limit`) and the body (`channel`, `rule`, both required); every
/// faulty field is named in one `422`.
pub fn request(pairs: &[(String, String)], body: &[u8]) -> Result<PreviewRequest, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let mut after = String::new();
    let mut limit = MAX_PREVIEW_PAGE;
    for (k, v) in pairs {
        match k.as_str() {
            "after" => match Sku::parse(v) {
                Ok(s) => after = s.to_string(),
                Err(e) => errors.push(FieldError::new("after", format!("{v:?} {e} (the previous page's next)"))),
            },
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_PREVIEW_PAGE).contains(&n) => limit = n,
                _ => errors
                    .push(FieldError::new("limit", format!("must be a whole number from 1 to {MAX_PREVIEW_PAGE}"))),
            },
            _ => {}
        }
    }
    let channel = Fields::new(&obj, "", &mut errors).id("channel", Token::parse);
    let rule = match obj.get("rule") {
        None | Some(Value::Null) => {
            errors.push(FieldError::new("rule", "is required: the rule to preview"));
            None
        }
        given => rule_member(given, &mut errors),
    };
    for k in obj.keys().filter(|k| !["channel", "rule"].contains(&k.as_str())) {
        errors.push(FieldError::new(k, "is not a member of a preview request (channel, rule)"));
    }
    match (channel, rule) {
        (Some(channel), Some(rule)) if errors.is_empty() => Ok(PreviewRequest { channel, rule, after, limit }),
        _ => Err(Problem::invalid(errors)),
    }
}

/// The answer for the page `listings` (SKU and current rule, in SKU order, `limit + 1` read to
/// know whether more follow) of `channel`, with the SKUs' current `states` (absent: never
/// stocked, all 0).
pub fn preview(
    channel: &Token,
    proposed: &ListingRule,
    listings: &[(Sku, ListingRule)],
    states: &BTreeMap<Sku, StockChanged>,
    limit: usize,
) -> Value {
    let page = &listings[..listings.len().min(limit)];
    let items: Vec<Value> = page
        .iter()
        .map(|(sku, current)| {
            let state = states.get(sku);
            let sellable = state.map_or(0, StockChanged::sellable);
            json!({
                "sku": sku.as_str(),
                "available": state.map_or(0, |s| s.available.max(0)),
                "current_quantity": current.listed(sellable),
                "proposed_quantity": proposed.listed(sellable),
            })
        })
        .collect();
    let mut body = json!({ "channel": channel.as_str(), "items": items });
    if listings.len() > limit {
        if let Some((last, _)) = page.last() {
            body["next"] = Value::from(last.as_str());
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::testing::pairs;
    use crate::api::Kind;
    use crate::time::Millis;

    fn fields(p: Problem) -> Vec<String> {
        assert_eq!(p.kind, Kind::ValidationFailed);
        crate::api::testing::fields(&p)
    }

    #[test]
    fn reads_the_request_and_names_every_faulty_field() {
        let ok = request(&pairs(&[("limit", "2"), ("after", "A")]), br#"{"channel":"shop","rule":{"buffer":3}}"#)
            .expect("valid");
        assert_eq!((ok.channel.as_str(), ok.rule.buffer, ok.after.as_str(), ok.limit), ("shop", 3, "A", 2));
        let defaulted = request(&[], br#"{"channel":"shop","rule":{}}"#).expect("valid");
        assert_eq!((defaulted.rule, defaulted.limit), (ListingRule::default(), MAX_PREVIEW_PAGE));
        let bad = request(
            &pairs(&[("limit", "0"), ("after", "../x")]),
            br#"{"channel":"a b","rule":{"percent":101,"nope":1},"extra":true}"#,
        )
        .expect_err("refused");
        let f = fields(bad);
        for want in ["limit", "after", "channel", "rule.percent", "rule.nope", "extra"] {
            assert!(f.iter().any(|x| x == want), "{want} in {f:?}");
        }
        assert_eq!(fields(request(&[], b"{}").expect_err("refused")), vec!["channel", "rule"]);
    }

    fn state(sku: &Sku, available: i64) -> StockChanged {
        StockChanged::current(sku.clone(), 1, available, available, 0, Millis(0))
    }

    #[test]
    fn lists_now_and_under_the_proposed_rule_with_next_while_more_follow() {
        let (a, b, c) = (Sku::parse("A").expect("a"), Sku::parse("B").expect("b"), Sku::parse("C").expect("c"));
        let half = ListingRule { percent: 50, ..ListingRule::default() };
        let listings = vec![(a.clone(), ListingRule::default()), (b.clone(), half), (c, ListingRule::default())];
        let states: BTreeMap<Sku, StockChanged> = [(a.clone(), state(&a, 10)), (b.clone(), state(&b, 4))].into();
        let proposed = ListingRule { buffer: 2, ..ListingRule::default() };
        let shop = Token::parse("shop").expect("shop");
        let v = preview(&shop, &proposed, &listings, &states, 2);
        assert_eq!(
            v["items"],
            json!([
                {"sku": "A", "available": 10, "current_quantity": 10, "proposed_quantity": 8},
                {"sku": "B", "available": 4, "current_quantity": 2, "proposed_quantity": 2},
            ])
        );
        assert_eq!(v["next"], "B");
        let last = preview(&shop, &proposed, &listings, &states, 3);
        assert!(last.get("next").is_none());
        assert_eq!(
            last["items"][2],
            json!({"sku": "C", "available": 0, "current_quantity": 0, "proposed_quantity": 0})
        );
    }
}
