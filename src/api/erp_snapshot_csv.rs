//! `POST /v1/erp/snapshots?format=csv`: a CSV body of `sku`, `quantity` and optionally `location`
//! columns (a header row naming them, in any order and case; separated by `,`, `;`, tab or `|`, read
//! from the header line as imports read it, `import::mapping::sniff_delimiter`; a UTF-8 BOM is
//! skipped), with the snapshot's other members in the query under their JSON names (`snapshot`,
//! `basis`, `as_of.at`, `as_of.sequence`, `seen_through`). The rows are read into the JSON body's
//! shape and validated by the same rules ([`snapshot_object`]), so a fault names the same field:
//! `lines[i].quantity` (`i` counts data rows from 0), `as_of.sequence`, … A CSV snapshot lists no
//! `seen_orders`: what the ERP had received is given by `seen_through`.

use serde_json::{Map, Value};

use super::erp_snapshots::{snapshot_object, SnapshotRequest};
use super::problem::{FieldError, Problem};
use crate::erp::limits::MAX_SNAPSHOT_LINES;
use crate::import::mapping::sniff_delimiter;

/// Whether the query asks for the CSV form (`format=csv`).
pub fn is_csv(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(k, v)| k == "format" && v == "csv")
}

/// A query value as JSON: an integer when it reads as one, else the text (the validator then
/// says what it should be).
fn scalar(v: &str) -> Value {
    v.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(v))
}

fn invalid(field: &str, message: impl Into<String>) -> Problem {
    Problem::invalid(vec![FieldError::new(field, message)])
}

/// Reads and validates a CSV snapshot.
pub fn snapshot_csv(pairs: &[(String, String)], body: &[u8]) -> Result<SnapshotRequest, Problem> {
    snapshot_object(&snapshot_csv_object(pairs, body)?)
}

/// Reads a CSV snapshot into the JSON body's shape, not yet validated. A webhook ERP's signed
/// route also takes `item` (its item code) for `sku` and `warehouse` (its warehouse code) for
/// `location` (`super::erp_snapshot_codes`); elsewhere such a column leaves `sku` missing.
pub fn snapshot_csv_object(pairs: &[(String, String)], body: &[u8]) -> Result<Map<String, Value>, Problem> {
    let mut top = Map::new();
    let mut as_of = Map::new();
    for (k, v) in pairs {
        match k.as_str() {
            "snapshot" | "basis" => top.insert(k.clone(), Value::from(v.as_str())),
            "seen_through" => top.insert(k.clone(), scalar(v)),
            "as_of.at" => as_of.insert("at".into(), scalar(v)),
            "as_of.sequence" => as_of.insert("sequence".into(), scalar(v)),
            _ => None,
        };
    }
    if !as_of.is_empty() {
        top.insert("as_of".into(), Value::Object(as_of));
    }
    let text = std::str::from_utf8(body).map_err(|_| invalid("body", "must be UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let delimiter = sniff_delimiter(text.as_bytes()).byte();
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| invalid("body", e.to_string()))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    // Each (member, column): the SKU or the ERP's item code, the location or its warehouse code.
    let named = |a: &'static str, b: &'static str| column(a).map(|c| (a, c)).or_else(|| column(b).map(|c| (b, c)));
    let (Some((sku_member, sku)), Some(quantity)) = (named("sku", "item"), column("quantity")) else {
        return Err(invalid(
            "header",
            "must name the columns sku and quantity (and optionally location); a webhook ERP's signed route also \
             takes item and warehouse (its codes)",
        ));
    };
    let location = named("location", "warehouse");
    let mut lines = Vec::new();
    for (i, row) in reader.records().enumerate() {
        if i >= MAX_SNAPSHOT_LINES {
            return Err(invalid("lines", format!("must have at most {MAX_SNAPSHOT_LINES} items")));
        }
        let row = row.map_err(|e| invalid(&format!("lines[{i}]"), e.to_string()))?;
        let cell = |c: usize| row.get(c).map(str::trim).unwrap_or("");
        let mut line = Map::new();
        line.insert(sku_member.into(), Value::from(cell(sku)));
        line.insert("quantity".into(), scalar(cell(quantity)));
        if let Some((member, l)) = location.map(|(m, c)| (m, cell(c))).filter(|(_, l)| !l.is_empty()) {
            line.insert(member.into(), Value::from(l));
        }
        lines.push(Value::Object(line));
    }
    top.insert("lines".into(), Value::Array(lines));
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn semicolons_a_bom_and_any_column_order_read_like_json() {
        let pairs = q(&[("format", "csv"), ("snapshot", "sap-1"), ("basis", "available"), ("as_of.sequence", "12")]);
        assert!(is_csv(&pairs));
        let body = "\u{feff}Quantity;SKU;Location\n7;TEE-1;east\n-2;MUG;\n";
        let r = snapshot_csv(&pairs, body.as_bytes()).expect("valid");
        let got: Vec<(String, String, i64)> =
            r.lines.iter().map(|(s, l)| (s.to_string(), l.location.to_string(), l.figure.quantity)).collect();
        assert_eq!(got, vec![("TEE-1".into(), "east".into(), 7), ("MUG".into(), "main".into(), -2)]);
        assert_eq!(r.lines[0].1.as_of.sequence, Some(12));
    }

    #[test]
    fn faults_name_the_same_fields_as_json() {
        let pairs = q(&[("snapshot", "s"), ("basis", "available"), ("as_of.sequence", "soon")]);
        let p = snapshot_csv(&pairs, b"sku,quantity\nA,1\nB,lots\n").expect_err("invalid");
        let fields: Vec<&str> =
            p.extra["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
        assert_eq!(fields, vec!["as_of.sequence", "lines[1].quantity"]);
        let p = snapshot_csv(&pairs, b"item,qty\nA,1\n").expect_err("header");
        assert_eq!(p.extra["errors"][0]["field"], "header");
    }

    #[test]
    fn an_erps_codes_are_read_into_the_members_the_signed_route_maps() {
        let pairs = q(&[("snapshot", "s"), ("basis", "available"), ("as_of.sequence", "1")]);
        let o = snapshot_csv_object(&pairs, b"Item;Warehouse;Quantity\nA100;WH1;7\nB200;;2\n").expect("read");
        assert_eq!(
            o["lines"],
            serde_json::json!([{"item":"A100","warehouse":"WH1","quantity":7},{"item":"B200","quantity":2}])
        );
        // The admin route does not map codes: the SKU is missing there.
        let p = snapshot_csv(&pairs, b"item,quantity\nA100,1\n").expect_err("no sku");
        assert_eq!(p.extra["errors"][0]["field"], "lines[0].sku");
    }
}
