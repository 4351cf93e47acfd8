//! `POST /v1/erp/snapshots` without HTTP: the body validated into one [`SnapshotLine`] per SKU
//! line (every fault names its field), and the per-line answer (docs/api.md, docs/erp.md).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::fields::{parse_object, with_object, Fields};
use super::problem::{from_ledger, FieldError, Kind, Problem};
use super::sku_call::{SkuAnswer, SkuRefusal, SkuResult};
use crate::erp::limits::{MAX_ERP_QUANTITY, MAX_SEEN_IDS, MAX_SEEN_ORDERS, MAX_SNAPSHOT_LINES};
use crate::erp::{AsOf, Basis, Figure, Seen, SeenOrder, SnapshotLine};
use crate::stock::{Location, Sku, Token};
use crate::time::Millis;

/// A validated snapshot: its id and its lines, each for one SKU at one location.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotRequest {
    pub snapshot: Token,
    pub lines: Vec<(Sku, SnapshotLine)>,
}

/// A point in time given as RFC 3339 text or milliseconds since the epoch.
fn time_opt(f: &mut Fields<'_>, name: &str) -> Option<Millis> {
    match f.object().get(name).filter(|v| !v.is_null())? {
        Value::String(s) => Millis::parse_rfc3339(s).or_else(|| {
            f.fault(name, "must be an RFC 3339 timestamp or milliseconds since the epoch");
            None
        }),
        Value::Number(_) => f.int_opt(name, 0..=i64::MAX).map(Millis),
        _ => {
            f.fault(name, "must be an RFC 3339 timestamp or milliseconds since the epoch");
            None
        }
    }
}

/// An optional array of at most `max` identifiers.
fn tokens_opt(f: &mut Fields<'_>, name: &str, max: usize) -> Option<Vec<Token>> {
    let v = f.object().get(name).filter(|v| !v.is_null())?;
    let Some(items) = v.as_array().filter(|a| a.len() <= max) else {
        f.fault(name, format!("must be an array of at most {max} identifiers"));
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_str().map(Token::parse) {
            Some(Ok(t)) => out.push(t),
            Some(Err(e)) => f.fault(&format!("{name}[{i}]"), e.to_string()),
            None => f.fault(&format!("{name}[{i}]"), "must be a string"),
        }
    }
    Some(out)
}

fn as_of(f: &mut Fields<'_>) -> Option<AsOf> {
    let Some(obj) = f.object().get("as_of").and_then(Value::as_object) else {
        f.fault("as_of", "is required: an object with at, sequence or both");
        return None;
    };
    let errors_before = f.errors.len();
    let mut g = Fields::new(obj, "as_of", f.errors);
    let at = time_opt(&mut g, "at");
    let sequence = g.int_opt("sequence", 0..=i64::MAX).map(|n| n as u64);
    let a = AsOf { at, sequence };
    if a.is_empty() && f.errors.len() == errors_before {
        f.fault("as_of", "must name at, sequence or both");
    }
    (!a.is_empty()).then_some(a)
}

fn basis(f: &mut Fields<'_>) -> Option<Basis> {
    match f.object().get("basis").and_then(Value::as_str) {
        Some("available") => Some(Basis::Available),
        Some("on_hand") => Some(Basis::OnHand),
        _ => {
            f.fault("basis", "must be available or on_hand");
            None
        }
    }
}

fn seen_orders(f: &mut Fields<'_>) -> Vec<SeenOrder> {
    if f.object().get("seen_orders").is_none_or(Value::is_null) {
        return Vec::new();
    }
    let items = f.objects("seen_orders", MAX_SEEN_ORDERS);
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let mut g = f.nested(item, "seen_orders", i);
        let channel = g.id("channel", Token::parse);
        let order_id = g.id("order_id", Token::parse);
        let lines = tokens_opt(&mut g, "lines", MAX_SEEN_IDS);
        let cancelled = g.bool_opt("cancelled").unwrap_or(false);
        let shipments = tokens_opt(&mut g, "shipments", MAX_SEEN_IDS).unwrap_or_default();
        if let (Some(channel), Some(order_id)) = (channel, order_id) {
            out.push(SeenOrder { channel, order_id, lines, cancelled, shipments });
        }
    }
    out
}

/// Validates a `POST /v1/erp/snapshots` body.
pub fn snapshot_request(body: &[u8]) -> Result<SnapshotRequest, Problem> {
    snapshot_object(&parse_object(body)?)
}

/// A snapshot's body read into the JSON body's shape, not yet validated: the JSON object, or with
/// `?format=csv` (`pairs`) the CSV's rows in that shape (`erp_snapshot_csv`). The signed
/// per-connection route maps an ERP's codes in it (`erp_snapshot_codes`) before
/// [`snapshot_object`].
pub fn snapshot_body(pairs: &[(String, String)], body: &[u8]) -> Result<Map<String, Value>, Problem> {
    if super::erp_snapshot_csv::is_csv(pairs) {
        super::erp_snapshot_csv::snapshot_csv_object(pairs, body)
    } else {
        parse_object(body)
    }
}

/// Validates a snapshot already read into a JSON object (the JSON body, or a CSV body's rows in
/// its shape: `erp_snapshot_csv`).
pub fn snapshot_object(obj: &Map<String, Value>) -> Result<SnapshotRequest, Problem> {
    with_object(obj, |f| {
        let snapshot = f.id("snapshot", Token::parse);
        let basis = basis(f);
        let as_of = as_of(f);
        let through = time_opt(f, "seen_through");
        let items = f.objects("lines", MAX_SNAPSHOT_LINES);
        let mut lines = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let mut g = f.nested(item, "lines", i);
            let sku = g.id("sku", Sku::parse);
            let location = g.id_opt("location", Location::parse).unwrap_or_default();
            let quantity = g.int("quantity", -MAX_ERP_QUANTITY..=MAX_ERP_QUANTITY);
            let orders = seen_orders(&mut g);
            if let (Some(sku), Some(quantity), Some(snapshot), Some(basis), Some(as_of)) =
                (sku, quantity, snapshot.clone(), basis, as_of)
            {
                let seen = Seen { through, orders };
                let figure = Figure { basis, quantity };
                lines.push((sku, SnapshotLine { snapshot, location, figure, as_of, seen }));
            }
        }
        let mut places: Vec<(&Sku, &Location)> = lines.iter().map(|(s, l)| (s, &l.location)).collect();
        places.sort();
        if places.windows(2).any(|w| w[0] == w[1]) {
            f.fault("lines", "name each SKU and location once");
        }
        snapshot.map(|snapshot| SnapshotRequest { snapshot, lines })
    })
}

/// A webhook ERP's snapshot (`POST /v1/erp/connections/{id}/snapshots`) may set stock only where
/// its connection is the master: `mastered` are the locations `connection`'s warehouse codes map
/// to. A line elsewhere refuses the whole snapshot (`422`, each such `lines[i].location` named;
/// nothing applied).
pub fn only_mastered(
    request: &SnapshotRequest,
    connection: &Token,
    mastered: &BTreeSet<Location>,
) -> Result<(), Problem> {
    let errors: Vec<FieldError> = request
        .lines
        .iter()
        .enumerate()
        .filter(|(_, (_, line))| !mastered.contains(&line.location))
        .map(|(i, (_, line))| {
            FieldError::new(
                format!("lines[{i}].location"),
                format!(
                    "ERP connection {connection} does not master location {} (no warehouse code of it maps there)",
                    line.location
                ),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::invalid(errors))
    }
}

/// The answer item for one line: what it did and the location's levels after it, or the
/// problem that refused it (nothing of that line applied).
pub fn item(sku: &Sku, location: &Location, result: &SkuResult) -> Value {
    let mut m = Map::new();
    m.insert("sku".into(), json!(sku));
    m.insert("location".into(), json!(location));
    match result {
        Ok(SkuAnswer::Applied(a)) => {
            m.insert("effect".into(), json!(a.effect));
            let here = a.state.locations.iter().find(|l| l.location == location.as_str());
            m.insert("on_hand".into(), json!(here.map_or(0, |l| l.on_hand)));
            m.insert("available".into(), json!(here.map_or(0, |l| l.available)));
            m.insert("version".into(), json!(a.state.version));
        }
        Ok(_) => {
            m.insert("problem".into(), Problem::new(Kind::Internal, "an unexpected ledger answer").to_json());
        }
        Err(SkuRefusal::Ledger { sku, error }) => {
            m.insert("problem".into(), from_ledger(sku.as_str(), error).to_json());
        }
        Err(e) => {
            m.insert("problem".into(), Problem::new(Kind::Internal, e.to_string()).to_json());
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(p: &Problem) -> Vec<String> {
        p.extra["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    #[test]
    fn a_body_is_read_as_json_or_as_csv_when_the_query_says_so() {
        let csv = [("format".to_owned(), "csv".to_owned()), ("snapshot".to_owned(), "s".to_owned())];
        let from_csv = snapshot_body(&csv, b"sku,quantity\nTEE-1,4\n").expect("csv");
        assert_eq!(from_csv["lines"], json!([{"sku":"TEE-1","quantity":4}]));
        let from_json =
            snapshot_body(&[], br#"{"snapshot":"s","lines":[{"sku":"TEE-1","quantity":4}]}"#).expect("json");
        assert_eq!(from_json["lines"], from_csv["lines"]);
        // The same bytes read as JSON are no object: refused, naming the body.
        assert!(snapshot_body(&[], b"sku,quantity\nTEE-1,4\n").is_err());
    }

    #[test]
    fn a_full_body_reads_into_lines() {
        let body = br#"{"snapshot":"ns-1","basis":"available","as_of":{"at":"2026-12-06T10:00:00Z","sequence":7},
            "seen_through":1000,
            "lines":[{"sku":"TEE","location":"east","quantity":7,
                      "seen_orders":[{"channel":"direct","order_id":"1001","shipments":["s1"]}]},
                     {"sku":"MUG","quantity":-2}]}"#;
        let r = snapshot_request(body).expect("valid");
        assert_eq!(r.snapshot.as_str(), "ns-1");
        let (sku, line) = &r.lines[0];
        assert_eq!((sku.as_str(), line.location.as_str(), line.figure.quantity), ("TEE", "east", 7));
        assert_eq!(line.as_of.sequence, Some(7));
        assert_eq!(line.seen.through, Some(Millis(1000)));
        assert_eq!(line.seen.orders[0].shipments, vec![Token::parse("s1").expect("t")]);
        assert_eq!(r.lines[1].1.location, Location::main());
    }

    #[test]
    fn faults_name_their_fields() {
        let body = br#"{"basis":"shelf","as_of":{},"lines":[{"sku":"a b","quantity":"x",
            "seen_orders":[{"channel":"web","shipments":[1]}]}]}"#;
        let p = snapshot_request(body).expect_err("invalid");
        assert_eq!(p.status(), 422);
        let f = fields(&p);
        for want in [
            "snapshot",
            "basis",
            "as_of",
            "lines[0].sku",
            "lines[0].quantity",
            "lines[0].seen_orders[0].order_id",
            "lines[0].seen_orders[0].shipments[0]",
        ] {
            assert!(f.iter().any(|x| x == want), "{want} in {f:?}");
        }
    }

    #[test]
    fn a_connection_may_set_only_the_locations_it_masters() {
        let body = br#"{"snapshot":"s","basis":"available","as_of":{"sequence":1},
            "lines":[{"sku":"A","location":"hook","quantity":1},{"sku":"B","quantity":2},
                     {"sku":"C","location":"hook","quantity":3},{"sku":"D","location":"east","quantity":4}]}"#;
        let r = snapshot_request(body).expect("valid");
        let conn = Token::parse("erp").expect("t");
        let hook = Location::parse("hook").expect("l");
        let p = only_mastered(&r, &conn, &BTreeSet::from([hook.clone()])).expect_err("main and east are not its");
        assert_eq!(p.status(), 422);
        assert_eq!(fields(&p), vec!["lines[1].location", "lines[3].location"]);
        let all = BTreeSet::from([hook, Location::main(), Location::parse("east").expect("l")]);
        assert!(only_mastered(&r, &conn, &all).is_ok());
        assert!(only_mastered(&r, &conn, &BTreeSet::new()).is_err());
    }

    #[test]
    fn a_place_named_twice_is_refused() {
        let body = br#"{"snapshot":"s","basis":"on_hand","as_of":{"sequence":1},
            "lines":[{"sku":"A","quantity":1},{"sku":"A","location":"main","quantity":2}]}"#;
        assert_eq!(fields(&snapshot_request(body).expect_err("twice")), vec!["lines"]);
    }
}
