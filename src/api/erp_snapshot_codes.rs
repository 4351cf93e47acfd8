//! A webhook ERP's snapshot in its own codes (`POST /v1/erp/connections/{id}/snapshots`): a line
//! may name the ERP's item code (`item`) instead of a SKU and its warehouse code (`warehouse`)
//! instead of a location, as the documents StockEdge sends that ERP do. Before the snapshot is
//! validated, such lines are rewritten into StockEdge's terms through the connection's mappings
//! (`PUT /v1/erp/connections/{id}/mappings`), so every other rule and answer is the snapshot
//! route's. A code the connection does not map refuses the snapshot (`422` naming
//! `lines[i].item` or `lines[i].warehouse`, nothing applied), like a line at a location the
//! connection does not master.

use serde_json::{Map, Value};

use super::problem::{FieldError, Problem};
use crate::erp::mapping::Mappings;
use crate::stock::Token;

/// A line member naming an ERP code, the member it becomes, and its mapping.
struct Code {
    member: &'static str,
    becomes: &'static str,
    mapped: fn(&Mappings, &str) -> Option<String>,
}

const CODES: [Code; 2] = [
    Code { member: "item", becomes: "sku", mapped: |m, c| m.items.get(c).map(|s| s.as_str().to_owned()) },
    Code {
        member: "warehouse",
        becomes: "location",
        mapped: |m, c| m.warehouses.get(c).map(|l| l.as_str().to_owned()),
    },
];

/// Whether any line of `obj` names an ERP code (then the connection's mappings are read).
pub fn names_codes(obj: &Map<String, Value>) -> bool {
    lines(obj).any(|l| CODES.iter().any(|c| l.contains_key(c.member)))
}

fn lines(obj: &Map<String, Value>) -> impl Iterator<Item = &Map<String, Value>> {
    obj.get("lines").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object)
}

/// Rewrites the lines of `obj` that name ERP codes: `item` → `sku`, `warehouse` → `location`,
/// through `mappings`. Refused (nothing rewritten that matters: the snapshot is not applied): a
/// line naming both a code and what it stands for, a code that is not text, a code `connection`
/// does not map.
pub fn into_stockedge_terms(
    obj: &mut Map<String, Value>,
    mappings: &Mappings,
    connection: &Token,
) -> Result<(), Problem> {
    let mut faults = Vec::new();
    let Some(Value::Array(items)) = obj.get_mut("lines") else { return Ok(()) };
    for (i, item) in items.iter_mut().enumerate() {
        let Value::Object(line) = item else { continue };
        for Code { member: code, becomes: member, mapped } in CODES {
            let Some(value) = line.remove(code) else { continue };
            let field = format!("lines[{i}].{code}");
            if line.contains_key(member) {
                faults.push(FieldError::new(field, format!("name either {member} or {code}, not both")));
                continue;
            }
            let Value::String(text) = value else {
                faults.push(FieldError::new(field, "must be the ERP's code, as text"));
                continue;
            };
            match mapped(mappings, &text) {
                Some(t) => {
                    line.insert(member.into(), Value::String(t));
                }
                None => faults.push(FieldError::new(
                    field,
                    format!(
                        "ERP connection {connection} maps no {member} to {code} code {text:?} \
                         (PUT /v1/erp/connections/{connection}/mappings)"
                    ),
                )),
            }
        }
    }
    if faults.is_empty() {
        Ok(())
    } else {
        Err(Problem::invalid(faults))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::{Location, Sku};
    use serde_json::json;

    fn mappings() -> Mappings {
        let mut m = Mappings::default();
        m.items.insert("A100".into(), Sku::parse("TEE-1").expect("sku"));
        m.warehouses.insert("WH1".into(), Location::parse("hook").expect("location"));
        m
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn codes_become_skus_and_locations_and_stockedge_terms_stay() {
        let mut o = obj(json!({"snapshot":"s","lines":[
            {"item":"A100","warehouse":"WH1","quantity":7},
            {"sku":"MUG","location":"hook","quantity":2},
            {"item":"A100","quantity":1}]}));
        assert!(names_codes(&o));
        into_stockedge_terms(&mut o, &mappings(), &Token::parse("erp").expect("token")).expect("mapped");
        assert_eq!(
            o["lines"],
            json!([{"sku":"TEE-1","location":"hook","quantity":7},
                   {"sku":"MUG","location":"hook","quantity":2},
                   {"sku":"TEE-1","quantity":1}])
        );
        assert!(!names_codes(&obj(json!({"lines":[{"sku":"A","quantity":1}]}))));
    }

    #[test]
    fn an_unmapped_code_or_a_line_naming_both_is_refused_naming_the_field() {
        let mut o = obj(json!({"lines":[
            {"item":"NOPE","warehouse":"WH1","quantity":1},
            {"item":"A100","sku":"TEE-1","quantity":1},
            {"item":"A100","warehouse":"WH9","quantity":1},
            {"item":7,"quantity":1}]}));
        let p = into_stockedge_terms(&mut o, &mappings(), &Token::parse("erp").expect("token")).expect_err("refused");
        let fields: Vec<String> = p.to_json()["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(fields, ["lines[0].item", "lines[1].item", "lines[2].warehouse", "lines[3].item"]);
        assert!(p.to_json()["detail"].as_str().unwrap_or("").contains("\"NOPE\""));
    }
}
