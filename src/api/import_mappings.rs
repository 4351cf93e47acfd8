//! Saved column mappings over HTTP (docs/api.md "Saved column mappings"): the routes under
//! `/v1/import-mappings` (resolved in `routes`), the `PUT` body validated into an [`import::Mapping`](Mapping), the
//! `mapping=` and `mode=` of `POST /v1/imports`, and the views.
//!
//! Body of `PUT /v1/import-mappings/{name}`:
//! `{"columns": {"sku": "...", "quantity": "...", "location": "..."?}, "delimiter": ","|";"|"\t"|"|"?,
//!   "locations": {"<name in the file>": "<location id>", ...}?, "mode": "set"|"adjust"?}`.
//! Every fault names its field (`columns.sku`, `locations.Main WH`, …).

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::fields::parse_object;
use super::problem::{FieldError, Problem};
use super::requests::token_in_path;
use crate::import::limits::{MAX_COLUMN_NAME_CHARS, MAX_LOCATIONS_PER_FILE};
use crate::import::mapping::{Delimiter, MappedColumns, Mapping};
use crate::import::Mode;
use crate::stock::{Location, Token};
use crate::time::Millis;

/// A route under `/v1/import-mappings`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingRoute {
    List,
    Get(Token),
    Put(Token),
    Delete(Token),
}

/// The request log's name of the route.
pub fn label(route: &MappingRoute) -> &'static str {
    match route {
        MappingRoute::List => "ImportMappings.List",
        MappingRoute::Get(_) => "ImportMappings.Get",
        MappingRoute::Put(_) => "ImportMappings.Put",
        MappingRoute::Delete(_) => "ImportMappings.Delete",
    }
}

fn column(obj: &Map<String, Value>, name: &str, required: bool, errors: &mut Vec<FieldError>) -> Option<String> {
    let field = format!("columns.{name}");
    match obj.get(name).filter(|v| !v.is_null()) {
        None if required => {
            errors.push(FieldError::new(field, "is required: the header name of the column"));
            None
        }
        None => None,
        Some(Value::String(s)) if s.trim().is_empty() => {
            errors.push(FieldError::new(field, "must not be empty"));
            None
        }
        Some(Value::String(s)) if s.chars().count() > MAX_COLUMN_NAME_CHARS => {
            errors.push(FieldError::new(field, format!("must be at most {MAX_COLUMN_NAME_CHARS} characters")));
            None
        }
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

fn columns(v: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<MappedColumns> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        errors.push(FieldError::new("columns", "is required: {\"sku\": \"…\", \"quantity\": \"…\"}"));
        return None;
    };
    let Some(obj) = v.as_object() else {
        errors.push(FieldError::new("columns", "must be an object"));
        return None;
    };
    for key in obj.keys().filter(|k| !["sku", "quantity", "location"].contains(&k.as_str())) {
        errors.push(FieldError::new(format!("columns.{key}"), "is not a column role (sku, quantity, location)"));
    }
    let sku = column(obj, "sku", true, errors);
    let quantity = column(obj, "quantity", true, errors);
    let location = column(obj, "location", false, errors);
    Some(MappedColumns { sku: sku?, quantity: quantity?, location })
}

fn locations(v: Option<&Value>, errors: &mut Vec<FieldError>) -> BTreeMap<String, Location> {
    let mut out = BTreeMap::new();
    let Some(v) = v.filter(|v| !v.is_null()) else { return out };
    let Some(obj) = v.as_object() else {
        errors.push(FieldError::new("locations", "must be an object of file name → location id"));
        return out;
    };
    if obj.len() > MAX_LOCATIONS_PER_FILE {
        errors.push(FieldError::new("locations", format!("must map at most {MAX_LOCATIONS_PER_FILE} names")));
        return out;
    }
    let mut seen = BTreeMap::new();
    for (name, loc) in obj {
        let field = format!("locations.{name}");
        let key = crate::import::header::normalise(name);
        if key.is_empty() || name.chars().count() > MAX_COLUMN_NAME_CHARS {
            errors.push(FieldError::new(field, format!("names must be 1–{MAX_COLUMN_NAME_CHARS} characters")));
            continue;
        }
        if let Some(other) = seen.insert(key, name.clone()) {
            errors.push(FieldError::new(
                field,
                format!("is the same name as {other:?} (names match case-insensitively)"),
            ));
            continue;
        }
        match loc.as_str().map(Location::parse) {
            Some(Ok(l)) => {
                out.insert(name.trim().to_owned(), l);
            }
            Some(Err(e)) => errors.push(FieldError::new(field, e.to_string())),
            None => errors.push(FieldError::new(field, "must be a location id (string)")),
        }
    }
    out
}

/// Validates the body of `PUT /v1/import-mappings/{name}`.
pub fn mapping_body(body: &[u8]) -> Result<Mapping, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    for key in obj.keys().filter(|k| !["columns", "delimiter", "locations", "mode"].contains(&k.as_str())) {
        errors.push(FieldError::new(key.clone(), "is not a mapping field (columns, delimiter, locations, mode)"));
    }
    let columns = columns(obj.get("columns"), &mut errors);
    let delimiter = match obj.get("delimiter").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match v.as_str().and_then(Delimiter::parse) {
            Some(d) => Some(d),
            None => {
                errors.push(FieldError::new("delimiter", "must be one of \",\", \";\", \"\\t\" (tab), \"|\""));
                None
            }
        },
    };
    let locations = locations(obj.get("locations"), &mut errors);
    let mode = match obj.get("mode").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match v.as_str().map(Mode::from_query) {
            Some(Ok(m)) => Some(m),
            _ => {
                errors.push(FieldError::new("mode", "must be set or adjust"));
                None
            }
        },
    };
    match columns {
        Some(columns) if errors.is_empty() => Ok(Mapping { columns, delimiter, locations, mode }),
        _ => Err(Problem::invalid(errors)),
    }
}

/// `mapping=` and whether `mode=` was given, from the query of `POST /v1/imports` (the rest
/// of the query is read by `requests::import_query`). `format=` with `mapping=` is refused.
pub fn import_query(pairs: &[(String, String)]) -> Result<(Option<Token>, bool), Problem> {
    let mut name = None;
    let mut mode_given = false;
    let mut format_given = false;
    for (k, v) in pairs {
        match k.as_str() {
            "mapping" => name = Some(token_in_path("mapping", v)?),
            "mode" => mode_given = true,
            "format" => format_given = true,
            _ => {}
        }
    }
    if name.is_some() && format_given {
        return Err(Problem::invalid(vec![FieldError::new(
            "mapping",
            "a mapping says how the file is read: give mapping or format, not both",
        )]));
    }
    Ok((name, mode_given))
}

/// A stored mapping as answered (`GET`, `PUT`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MappingView {
    pub name: String,
    #[serde(flatten)]
    pub mapping: Mapping,
    pub updated_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(p: &Problem) -> Vec<String> {
        let v = p.to_json();
        v["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_owned()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_full_body_validates() {
        let m = mapping_body(
            br#"{"columns": {"sku": "Item No.", "quantity": "Qty On Hand", "location": "Warehouse"},
                "delimiter": ";", "locations": {"Main WH": "main"}, "mode": "adjust"}"#,
        )
        .expect("valid");
        assert_eq!(m.columns.location.as_deref(), Some("Warehouse"));
        assert_eq!(m.delimiter, Some(Delimiter::Semicolon));
        assert_eq!(m.locations.get("Main WH").map(Location::as_str), Some("main"));
        assert_eq!(m.mode, Some(Mode::Adjust));
        let view = serde_json::to_value(MappingView { name: "erp".into(), mapping: m, updated_at: Millis(1) }).unwrap();
        assert_eq!(view["columns"]["sku"], "Item No.");
        assert_eq!(view["delimiter"], ";");
        assert_eq!(view["mode"], "adjust");
    }

    #[test]
    fn every_fault_is_named() {
        let p = mapping_body(
            br#"{"columns": {"sku": "", "qty": "x"}, "delimiter": ":", "locations": {"A": "Not A Location", "a": "b"},
                "mode": "add", "extra": 1}"#,
        )
        .unwrap_err();
        assert_eq!(p.status(), 422);
        let f = fields(&p);
        for want in ["columns.sku", "columns.quantity", "columns.qty", "delimiter", "locations.A", "mode", "extra"] {
            assert!(f.iter().any(|x| x == want), "{want} missing from {f:?}");
        }
        assert!(f.iter().any(|x| x == "locations.a" || x == "locations.A"));
        assert_eq!(fields(&mapping_body(b"{}").unwrap_err()), vec!["columns"]);
    }

    #[test]
    fn the_import_query() {
        let q = |pairs: &[(&str, &str)]| {
            import_query(&pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>())
        };
        assert!(matches!(q(&[("mapping", "erp"), ("mode", "adjust")]), Ok((Some(_), true))));
        assert_eq!(q(&[("dry_run", "true")]), Ok((None, false)));
        assert!(q(&[("mapping", "erp"), ("format", "csv")]).is_err());
        assert!(q(&[("mapping", "bad name")]).is_err());
    }
}
