//! The query of the operators' D1 listings paged by id (`/v1/alerts`, `/v1/inbound/unmatched`,
//! `/v1/inbound/drift`): optional `channel` and `sku` filters, `after` (the previous page's
//! `next`) and `limit`. Each listing says which filters it takes; other parameters are ignored.

use super::problem::{FieldError, Problem};
use crate::stock::limits::{DEFAULT_PAGE, MAX_PAGE};
use crate::stock::{Sku, Token};

/// The filters a listing takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    Channel,
    Sku,
}

/// A validated listing query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdPage {
    pub channel: Option<Token>,
    pub sku: Option<Sku>,
    /// Rows with ids above this.
    pub after: i64,
    /// 1..=[`MAX_PAGE`]; the listing reads one more row to know whether to answer `next`.
    pub limit: i64,
}

/// Reads the query; every faulty parameter is named in one `validation-failed`, in query order.
pub fn id_page(pairs: &[(String, String)], filters: &[Filter]) -> Result<IdPage, Problem> {
    let mut errors = Vec::new();
    let p = id_page_fields(pairs, filters, &mut errors);
    if errors.is_empty() {
        Ok(p)
    } else {
        Err(Problem::invalid(errors))
    }
}

/// Reads the query as [`id_page`] does, adding each faulty parameter to `errors` (in query order)
/// for a listing that reads more parameters of its own and answers all of them in one
/// `validation-failed`. The page answered is meaningful only while `errors` stays empty.
pub fn id_page_fields(pairs: &[(String, String)], filters: &[Filter], errors: &mut Vec<FieldError>) -> IdPage {
    let mut p = IdPage { channel: None, sku: None, after: 0, limit: DEFAULT_PAGE as i64 };
    for (k, v) in pairs {
        match k.as_str() {
            "channel" if filters.contains(&Filter::Channel) => match Token::parse(v) {
                Ok(c) => p.channel = Some(c),
                Err(e) => errors.push(FieldError::new("channel", e.to_string())),
            },
            "sku" if filters.contains(&Filter::Sku) => match Sku::parse(v) {
                Ok(s) => p.sku = Some(s),
                Err(e) => errors.push(FieldError::new("sku", format!("{v:?} {e}"))),
            },
            "after" => match v.parse::<i64>() {
                Ok(n) if n >= 0 => p.after = n,
                _ => errors
                    .push(FieldError::new("after", "must be a whole number, 0 or more (the previous page's next)")),
            },
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => p.limit = n as i64,
                _ => errors.push(FieldError::new("limit", format!("must be a whole number from 1 to {MAX_PAGE}"))),
            },
            _ => {}
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Kind;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reads_the_filters_a_listing_takes_and_ignores_the_rest() {
        let q = id_page(
            &pairs(&[("channel", "shop-1"), ("sku", "TEE/M"), ("after", "7"), ("limit", "1000")]),
            &[Filter::Sku],
        )
        .expect("valid");
        assert_eq!((q.channel, q.sku.map(|s| s.to_string()), q.after, q.limit), (None, Some("TEE/M".into()), 7, 1000));
        assert_eq!(id_page(&[], &[]).map(|q| q.limit), Ok(DEFAULT_PAGE as i64));
    }

    #[test]
    fn names_every_faulty_parameter_in_query_order() {
        let p = id_page(&pairs(&[("limit", "0"), ("after", "x"), ("channel", "a b")]), &[Filter::Channel])
            .expect_err("invalid");
        assert_eq!(p.kind, Kind::ValidationFailed);
        let errors = p.extra.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().filter_map(|e| e.get("field").and_then(|f| f.as_str())).collect();
        assert_eq!(fields, ["limit", "after", "channel"]);
        assert!(id_page(&pairs(&[("limit", "1001")]), &[]).is_err());
        assert!(id_page(&pairs(&[("after", "-1")]), &[]).is_err());
    }
}
