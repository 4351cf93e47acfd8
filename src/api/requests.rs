//! The request bodies of docs/api.md, validated into typed values. Every fault names its field.

use serde::{Deserialize, Serialize};

use super::availability_cache::Consistency;
use crate::allot::limits::{MAX_ALLOTMENTS, MAX_BLOCK, MAX_LEASE_SECONDS, MIN_LEASE_SECONDS};
use crate::allot::HotPolicy;

use super::fields::{with_fields, Fields};
use super::problem::{FieldError, Problem};
use crate::cart::home::LEDGER_PREFIX;
use crate::stock::limits::*;
use crate::stock::order::HOLD_LINE_PREFIX;
use crate::stock::{Location, Sku, Token};

/// Validates a SKU taken from a path segment.
pub fn sku_in_path(raw: &str) -> Result<Sku, Problem> {
    Sku::parse(raw).map_err(|e| Problem::invalid(vec![FieldError::new("sku", e.to_string())]))
}

/// Validates a reservation id taken from a path segment.
pub fn token_in_path(field: &str, raw: &str) -> Result<Token, Problem> {
    Token::parse(raw).map_err(|e| Problem::invalid(vec![FieldError::new(field, e.to_string())]))
}

/// `PUT /v1/skus/{sku}/stock`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetStock {
    pub on_hand: i64,
    pub location: Location,
    pub expected_version: Option<u64>,
    pub reason: Option<String>,
    pub backorder_limit: Option<i64>,
}

pub fn set_stock(body: &[u8]) -> Result<SetStock, Problem> {
    with_fields(body, |f| {
        let on_hand = f.int("on_hand", 0..=MAX_ON_HAND);
        let location = f.id_opt("location", Location::parse).unwrap_or_default();
        let expected_version = f.int_opt("expected_version", 0..=i64::MAX).map(|v| v as u64);
        let reason = f.text_opt("reason", MAX_TEXT_LEN);
        let backorder_limit = f.int_opt("backorder_limit", 0..=MAX_BACKORDER_LIMIT);
        Some(SetStock { on_hand: on_hand?, location, expected_version, reason, backorder_limit })
    })
}

/// The operator reasons an adjustment may give.
pub const ADJUST_REASONS: [&str; 6] = ["received", "correction", "damaged", "shrinkage", "restock", "cycle_count"];

/// `POST /v1/skus/{sku}/adjustments`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    pub delta: i64,
    pub reason: String,
    pub location: Location,
}

pub fn adjustment(body: &[u8]) -> Result<Adjustment, Problem> {
    with_fields(body, |f| {
        let delta = f.int("delta", -MAX_ADJUST_DELTA..=MAX_ADJUST_DELTA);
        if delta == Some(0) {
            f.fault("delta", "must not be zero");
        }
        let reason = match f.text_opt("reason", MAX_TEXT_LEN) {
            Some(r) if ADJUST_REASONS.contains(&r.as_str()) => Some(r),
            Some(_) => {
                f.fault("reason", format!("must be one of {}", ADJUST_REASONS.join(", ")));
                None
            }
            None => {
                f.fault("reason", "is required");
                None
            }
        };
        let location = f.id_opt("location", Location::parse).unwrap_or_default();
        Some(Adjustment { delta: delta?, reason: reason?, location })
    })
}

/// One line of a reservation, sale or fulfilment (the domain's type; requests parse into it).
pub use crate::orders::Line;

fn lines(f: &mut Fields<'_>, with_line_id: bool) -> Option<Vec<Line>> {
    let items = f.objects("lines", MAX_LINES);
    let mut out = Vec::with_capacity(items.len());
    let mut ok = !items.is_empty();
    for (i, item) in items.into_iter().enumerate() {
        let mut g = f.nested(item, "lines", i);
        let sku = g.id("sku", Sku::parse);
        let qty = g.int("qty", 1..=MAX_LINE_QTY);
        let location = g.id_opt("location", Location::parse).unwrap_or_default();
        let line_id = if with_line_id { g.id_opt("line_id", Token::parse) } else { None };
        if line_id.as_ref().is_some_and(|l| l.as_str().starts_with(HOLD_LINE_PREFIX)) {
            g.fault("line_id", format!("may not start with {HOLD_LINE_PREFIX:?} (reserved for reservations)"));
        }
        match (sku, qty) {
            (Some(sku), Some(qty)) => out.push(Line { sku, qty, location, line_id }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// `POST /v1/reservations`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateReservation {
    pub id: Option<Token>,
    pub lines: Vec<Line>,
    pub ttl_seconds: i64,
    pub channel: Option<Token>,
    pub reference: Option<String>,
}

pub fn create_reservation(body: &[u8]) -> Result<CreateReservation, Problem> {
    with_fields(body, |f| {
        let id = f.id_opt("id", Token::parse);
        if id.as_ref().is_some_and(|i| i.as_str().len() > MAX_RESERVATION_ID_LEN) {
            f.fault("id", format!("must be at most {MAX_RESERVATION_ID_LEN} characters"));
        }
        if id.as_ref().is_some_and(|i| i.as_str().starts_with(LEDGER_PREFIX)) {
            f.fault("id", format!("may not start with {LEDGER_PREFIX:?} (reserved for ids StockEdge gives)"));
        }
        if id.as_ref().is_some_and(|i| crate::allot::home::is_reserved_prefix(i.as_str())) {
            f.fault("id", format!("may not start with {:?} (reserved for allotments)", crate::allot::home::PREFIX));
        }
        let lines = lines(f, false);
        let ttl_seconds = f.int_opt("ttl_seconds", MIN_TTL_SECONDS..=MAX_TTL_SECONDS).unwrap_or(DEFAULT_TTL_SECONDS);
        let channel = f.id_opt("channel", Token::parse);
        let reference = f.text_opt("reference", MAX_TEXT_LEN);
        Some(CreateReservation { id, lines: lines?, ttl_seconds, channel, reference })
    })
}

/// `PUT /v1/skus/{sku}/policy`: `{"hot": true, "allotments", "block", "lease_seconds"}` makes the
/// SKU hot (every field required, within `allot::limits`); `{"hot": false}` makes it ordinary.
pub fn hot_policy(body: &[u8]) -> Result<Option<HotPolicy>, Problem> {
    with_fields(body, |f| {
        let hot = match f.object().get("hot") {
            Some(serde_json::Value::Bool(b)) => Some(*b),
            Some(_) => {
                f.fault("hot", "must be true or false");
                None
            }
            None => {
                f.fault("hot", "is required");
                None
            }
        };
        if hot == Some(false) {
            return Some(None);
        }
        let allotments = f.int("allotments", 1..=i64::from(MAX_ALLOTMENTS));
        let block = f.int("block", 1..=MAX_BLOCK);
        let lease_seconds = f.int("lease_seconds", MIN_LEASE_SECONDS..=MAX_LEASE_SECONDS);
        let policy =
            HotPolicy { allotments: u32::try_from(allotments?).ok()?, block: block?, lease_seconds: lease_seconds? };
        hot?;
        Some(Some(policy))
    })
}

/// `POST /v1/reservations/{id}/commit`
pub fn commit(body: &[u8]) -> Result<Option<Token>, Problem> {
    with_fields(body, |f| Some(f.id_opt("order_id", Token::parse)))
}

/// `POST /v1/reservations/{id}/extend`
pub fn extend(body: &[u8]) -> Result<i64, Problem> {
    with_fields(body, |f| f.int("ttl_seconds", MIN_TTL_SECONDS..=MAX_TTL_SECONDS))
}

/// `POST /v1/sales`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sale {
    pub channel: Token,
    pub order_id: Token,
    pub lines: Vec<Line>,
}

pub fn sale(body: &[u8]) -> Result<Sale, Problem> {
    with_fields(body, |f| {
        let channel = f.id("channel", Token::parse);
        let order_id = f.id("order_id", Token::parse);
        let lines = lines(f, true);
        Some(Sale { channel: channel?, order_id: order_id?, lines: lines? })
    })
}

/// `POST /v1/sales/{channel}/{order_id}/cancel`: an optional `reason`.
pub fn cancel(body: &[u8]) -> Result<Option<String>, Problem> {
    with_fields(body, |f| Some(f.text_opt("reason", MAX_TEXT_LEN)))
}

/// `POST /v1/fulfilments`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fulfilment {
    pub channel: Token,
    pub order_id: Token,
    pub lines: Vec<Line>,
}

pub fn fulfilment(body: &[u8]) -> Result<Fulfilment, Problem> {
    with_fields(body, |f| {
        let channel = f.id_opt("channel", Token::parse).unwrap_or_else(direct);
        let order_id = f.id("order_id", Token::parse);
        let lines = lines(f, false);
        Some(Fulfilment { channel, order_id: order_id?, lines: lines? })
    })
}

/// The channel of orders that name none.
pub fn direct() -> Token {
    Token::parse(crate::stock::OrderKey::DIRECT).unwrap_or_else(|_| unreachable!("constant is valid"))
}

/// `GET /v1/availability?sku=…&channel=…&consistency=…`
#[derive(Clone, Debug, PartialEq)]
pub struct AvailabilityQuery {
    /// The SKUs asked for, distinct, in query order.
    pub skus: Vec<Sku>,
    pub channel: Option<Token>,
    /// `bounded` (the default: answered from the edge cache within the staleness bound) or
    /// `strong` (from the SKU objects).
    pub consistency: Consistency,
}

pub fn availability_query(pairs: &[(String, String)]) -> Result<AvailabilityQuery, Problem> {
    let mut errors = Vec::new();
    let mut skus = Vec::new();
    let mut channel = None;
    let mut consistency = Consistency::default();
    for (k, v) in pairs {
        match k.as_str() {
            "sku" => match Sku::parse(v) {
                Ok(s) if !skus.contains(&s) => skus.push(s),
                Ok(_) => {}
                Err(e) => errors.push(FieldError::new(format!("sku[{}]", skus.len()), format!("{v:?} {e}"))),
            },
            "channel" => match Token::parse(v) {
                Ok(c) => channel = Some(c),
                Err(e) => errors.push(FieldError::new("channel", e.to_string())),
            },
            "consistency" => match Consistency::from_query(v) {
                Some(c) => consistency = c,
                None => errors
                    .push(FieldError::new("consistency", format!("must be one of {}", Consistency::VALUES.join(", ")))),
            },
            _ => {}
        }
    }
    if skus.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("sku", "at least one sku is required"));
    }
    if skus.len() > MAX_AVAILABILITY_SKUS {
        errors.push(FieldError::new("sku", format!("at most {MAX_AVAILABILITY_SKUS} SKUs per query")));
    }
    if errors.is_empty() {
        Ok(AvailabilityQuery { skus, channel, consistency })
    } else {
        Err(Problem::invalid(errors))
    }
}

/// `GET /v1/skus/{sku}/journal?after=&limit=`
pub fn journal_query(pairs: &[(String, String)]) -> Result<(u64, usize), Problem> {
    let mut errors = Vec::new();
    let mut after = 0u64;
    let mut limit = DEFAULT_PAGE;
    for (k, v) in pairs {
        match k.as_str() {
            "after" => match v.parse::<u64>() {
                Ok(n) => after = n,
                Err(_) => errors.push(FieldError::new("after", "must be a non-negative integer")),
            },
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => limit = n,
                _ => errors.push(FieldError::new("limit", format!("must be between 1 and {MAX_PAGE}"))),
            },
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok((after, limit))
    } else {
        Err(Problem::invalid(errors))
    }
}

/// `POST /v1/imports?format=&mode=&dry_run=`: the format (detected from the header when
/// absent), the mode (default `set`) and whether to change nothing.
pub fn import_query(
    pairs: &[(String, String)],
) -> Result<(Option<crate::import::Format>, crate::import::Mode, bool), Problem> {
    let mut errors = Vec::new();
    let mut format = None;
    let mut mode = crate::import::Mode::Set;
    let mut dry_run = false;
    for (k, v) in pairs {
        match k.as_str() {
            "format" => match crate::import::Format::from_query(v) {
                Ok(f) => format = Some(f),
                Err(e) => errors.push(FieldError::new("format", e.to_string())),
            },
            "mode" => match crate::import::Mode::from_query(v) {
                Ok(m) => mode = m,
                Err(e) => errors.push(FieldError::new("mode", e.to_string())),
            },
            "dry_run" => match v.as_str() {
                "true" | "1" => dry_run = true,
                "false" | "0" => dry_run = false,
                _ => errors.push(FieldError::new("dry_run", "must be true or false")),
            },
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok((format, mode, dry_run))
    } else {
        Err(Problem::invalid(errors))
    }
}

/// `GET /v1/exports?format=`: the format (default plain `csv`).
pub fn export_query(pairs: &[(String, String)]) -> Result<crate::import::Format, Problem> {
    match pairs.iter().find(|(k, _)| k == "format") {
        None => Ok(crate::import::Format::Plain),
        Some((_, v)) => crate::import::Format::from_query(v)
            .map_err(|e| Problem::invalid(vec![FieldError::new("format", e.to_string())])),
    }
}

/// Validates an `Idempotency-Key` header value.
pub fn idempotency_key(raw: Option<String>) -> Result<Option<String>, Problem> {
    match raw {
        None => Ok(None),
        Some(k) if (MIN_IDEMPOTENCY_KEY_LEN..=MAX_IDEMPOTENCY_KEY_LEN).contains(&k.len()) => Ok(Some(k)),
        Some(_) => Err(Problem::invalid(vec![FieldError::new(
            "Idempotency-Key",
            format!("must be {MIN_IDEMPOTENCY_KEY_LEN} to {MAX_IDEMPOTENCY_KEY_LEN} characters"),
        )])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(p: &Problem) -> Vec<String> {
        p.extra["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_owned()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn reservation_defaults_and_merging_inputs() {
        let r = create_reservation(br#"{"lines":[{"sku":"A","qty":2}]}"#).expect("valid");
        assert_eq!(r.ttl_seconds, DEFAULT_TTL_SECONDS);
        assert_eq!(r.lines[0].location, Location::main());
    }

    #[test]
    fn a_client_id_may_not_take_the_prefix_of_ledger_kept_reservations() {
        let p = create_reservation(br#"{"id":"rsk_0123456789abcdef0123_A","lines":[{"sku":"A","qty":1}]}"#)
            .expect_err("reserved prefix");
        assert_eq!(fields_of(&p), vec!["id"]);
        assert!(create_reservation(br#"{"id":"rs_k","lines":[{"sku":"A","qty":1}]}"#).is_ok());
    }

    #[test]
    fn every_bad_field_is_named() {
        let p = create_reservation(br#"{"lines":[{"sku":"bad sku","qty":0},{"qty":1}],"ttl_seconds":90000}"#)
            .expect_err("invalid");
        assert_eq!(p.status(), 422);
        assert_eq!(fields_of(&p), vec!["lines[0].sku", "lines[0].qty", "lines[1].sku", "ttl_seconds"]);
    }

    #[test]
    fn malformed_json_is_400() {
        assert_eq!(set_stock(b"{on_hand: 1").expect_err("bad").status(), 400);
        assert_eq!(set_stock(b"[1]").expect_err("bad").status(), 400);
    }

    #[test]
    fn a_member_named_twice_is_400_whichever_value_is_valid() {
        let p = create_reservation(br#"{"lines":[{"sku":"E1","qty":-1,"qty":1}]}"#).expect_err("duplicate");
        assert_eq!((p.status(), p.kind), (400, crate::api::Kind::InvalidJson));
        assert!(p.detail.contains(r#""qty""#) && p.detail.contains(r#""/lines/0""#), "{}", p.detail);
        let p = set_stock(br#"{"on_hand":5,"on_hand":50}"#).expect_err("duplicate");
        assert_eq!(p.status(), 400);
        assert!(sale(br#"{"channel":"web","order_id":"bad id","order_id":"1001","lines":[{"sku":"A","qty":1}]}"#)
            .is_err_and(|p| p.status() == 400));
        assert!(commit(br#"{"order_id":"1","order_id":"1"}"#).is_err_and(|p| p.status() == 400), "even equal values");
    }

    #[test]
    fn too_many_lines_is_refused() {
        let lines: Vec<String> = (0..101).map(|i| format!(r#"{{"sku":"S{i}","qty":1}}"#)).collect();
        let body = format!(r#"{{"lines":[{}]}}"#, lines.join(","));
        let p = create_reservation(body.as_bytes()).expect_err("too many");
        assert_eq!(fields_of(&p), vec!["lines"]);
    }

    #[test]
    fn adjustment_needs_a_known_reason_and_a_nonzero_delta() {
        let p = adjustment(br#"{"delta":0,"reason":"lost"}"#).expect_err("bad");
        assert_eq!(fields_of(&p), vec!["delta", "reason"]);
        assert!(adjustment(br#"{"delta":-3,"reason":"damaged"}"#).is_ok());
    }

    #[test]
    fn availability_query_bounds() {
        let q = |n: usize| -> Vec<(String, String)> { (0..n).map(|i| ("sku".into(), format!("S{i}"))).collect() };
        assert_eq!(availability_query(&q(100)).expect("100 ok").skus.len(), 100);
        assert!(availability_query(&q(101)).is_err());
        assert!(availability_query(&[]).is_err());
    }

    #[test]
    fn availability_consistency_is_bounded_unless_strong_is_asked() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let q = availability_query(&[pair("sku", "A")]).expect("valid");
        assert_eq!(q.consistency, Consistency::Bounded);
        let q = availability_query(&[pair("sku", "A"), pair("consistency", "strong")]).expect("valid");
        assert_eq!(q.consistency, Consistency::Strong);
        let p = availability_query(&[pair("sku", "bad sku"), pair("consistency", "eventual")]).expect_err("invalid");
        assert_eq!(fields_of(&p), vec!["sku[0]", "consistency"], "every faulty field named");
    }
}
