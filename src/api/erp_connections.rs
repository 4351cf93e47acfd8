//! ERP connection and mapping bodies without HTTP: `PUT /v1/erp/connections/{id}` and
//! `PUT /v1/erp/connections/{id}/mappings` validated (every fault names its field), and their
//! views (docs/api.md).

use serde_json::{json, Map, Value};

use super::fields::{parse_object, Fields};
use super::problem::{FieldError, Problem};
use crate::catalog::model::is_secret_name;
use crate::erp::connection::{settings_faults, Connection, ErpKind, LocalAdjustments};
use crate::erp::connectors::webhook;
use crate::erp::mapping::Mappings;
use crate::stock::{Location, Sku, Token};

/// The longest base URL and secret name accepted.
pub const MAX_URL_LEN: usize = 500;
/// Mapping entries one `PUT …/mappings` may carry.
pub const MAX_MAPPINGS_PER_REQUEST: usize = 1_000;
/// The longest ERP item or warehouse code.
pub const MAX_CODE_LEN: usize = 100;

/// `PUT /v1/erp/connections/{id}`: `{"kind", "base_url", "credentials_secret"?, "settings"?,
/// "local_adjustments"? ("refuse" | "forward"), "enabled"?}`.
pub fn connection(id: Token, body: &[u8]) -> Result<Connection, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let kind = match f.object().get("kind").and_then(Value::as_str).map(ErpKind::parse) {
        Some(Some(k)) => Some(k),
        _ => {
            f.fault("kind", "must be one of sap_b1, odoo, netsuite, webhook");
            None
        }
    };
    let base_url = match f.object().get("base_url").and_then(Value::as_str) {
        Some(u) if (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= MAX_URL_LEN => {
            Some(u.trim_end_matches('/').to_owned())
        }
        _ => {
            f.fault("base_url", format!("must be an http(s) URL of at most {MAX_URL_LEN} characters"));
            None
        }
    };
    let credentials_secret = f.text_opt("credentials_secret", MAX_URL_LEN);
    let settings = match f.object().get("settings") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            f.fault("settings", "must be an object");
            Map::new()
        }
    };
    let local_adjustments = match f.object().get("local_adjustments") {
        None | Some(Value::Null) => LocalAdjustments::default(),
        Some(v) => v.as_str().and_then(LocalAdjustments::parse).unwrap_or_else(|| {
            f.fault("local_adjustments", "must be refuse or forward");
            LocalAdjustments::default()
        }),
    };
    let enabled = f.bool_opt("enabled").unwrap_or(true);
    for fault in kind.map(|k| settings_faults(k, local_adjustments, &settings)).unwrap_or_default() {
        f.fault(&fault.field, fault.reason);
    }
    if kind == Some(ErpKind::Webhook) {
        webhook_fields(&mut f, base_url.as_deref(), credentials_secret.as_deref());
    }
    match (kind, base_url, errors.is_empty()) {
        (Some(kind), Some(base_url), true) => {
            Ok(Connection { id, kind, base_url, credentials_secret, settings, local_adjustments, enabled })
        }
        _ => Err(Problem::invalid(errors)),
    }
}

/// The webhook ERP's URL (`base_url`, where its documents are POSTed) must be `https://` (or
/// `http://` to a loopback host), and its signing key named (`credentials_secret`).
fn webhook_fields(f: &mut Fields<'_>, url: Option<&str>, secret: Option<&str>) {
    if let Some(Err(why)) = url.map(webhook::url_ok) {
        f.fault("base_url", format!("for webhook: {why}"));
    }
    if !secret.is_some_and(is_secret_name) {
        f.fault(
            "credentials_secret",
            "is required for webhook: the Worker secret holding the signing key (A-Z, 0-9, _, starting with a letter)",
        );
    }
}

/// A connection as the API shows it (the secret's name, never a value).
pub fn connection_view(c: &Connection) -> Value {
    json!({
        "id": c.id,
        "kind": c.kind,
        "base_url": c.base_url,
        "credentials_secret": c.credentials_secret,
        "settings": c.settings,
        "local_adjustments": c.local_adjustments,
        "enabled": c.enabled,
    })
}

/// A mapping change: codes to set (`Some`) or remove (`None`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappingChange {
    pub items: Vec<(String, Option<Sku>)>,
    pub warehouses: Vec<(String, Option<Location>)>,
}

fn entries<T>(
    obj: &Map<String, Value>,
    name: &str,
    parse: fn(&str) -> Result<T, crate::stock::IdError>,
    errors: &mut Vec<FieldError>,
) -> Vec<(String, Option<T>)> {
    let Some(v) = obj.get(name).filter(|v| !v.is_null()) else { return Vec::new() };
    let Some(m) = v.as_object() else {
        errors.push(FieldError::new(name, "must be an object of ERP code to name (or null to remove)"));
        return Vec::new();
    };
    let mut out = Vec::with_capacity(m.len());
    for (code, target) in m {
        let field = format!("{name}.{code}");
        if code.is_empty() || code.chars().count() > MAX_CODE_LEN {
            errors.push(FieldError::new(&field, format!("an ERP code has 1 to {MAX_CODE_LEN} characters")));
            continue;
        }
        match target {
            Value::Null => out.push((code.clone(), None)),
            Value::String(s) => match parse(s) {
                Ok(t) => out.push((code.clone(), Some(t))),
                Err(e) => errors.push(FieldError::new(&field, e.to_string())),
            },
            _ => errors.push(FieldError::new(&field, "must be a string or null")),
        }
    }
    out
}

/// `PUT /v1/erp/connections/{id}/mappings`: `{"items": {"<item code>": "<sku>" | null},
/// "warehouses": {"<warehouse code>": "<location>" | null}}`.
pub fn mapping_change(body: &[u8]) -> Result<MappingChange, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let items = entries(&obj, "items", Sku::parse, &mut errors);
    let warehouses = entries(&obj, "warehouses", Location::parse, &mut errors);
    if items.len() + warehouses.len() > MAX_MAPPINGS_PER_REQUEST {
        errors.push(FieldError::new("items", format!("at most {MAX_MAPPINGS_PER_REQUEST} entries per request")));
    }
    if errors.is_empty() {
        Ok(MappingChange { items, warehouses })
    } else {
        Err(Problem::invalid(errors))
    }
}

/// A connection's mappings as the API shows them.
pub fn mappings_view(id: &Token, m: &Mappings) -> Value {
    json!({ "connection": id, "items": m.items, "warehouses": m.warehouses })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Kind;

    fn id() -> Token {
        Token::parse("sap").expect("token")
    }

    #[test]
    fn a_connection_is_validated_field_by_field() {
        let c = connection(
            id(),
            br#"{"kind":"sap_b1","base_url":"https://b1.example.com:50000/","credentials_secret":"SAP_B1",
                "settings":{"card_code":"C20000"},"local_adjustments":"forward"}"#,
        )
        .expect("valid");
        assert_eq!(c.kind, ErpKind::SapB1);
        assert_eq!(c.base_url, "https://b1.example.com:50000");
        assert_eq!(c.local_adjustments, LocalAdjustments::Forward);
        assert!(c.enabled);
        assert_eq!(connection_view(&c)["settings"]["card_code"], "C20000");
        let p = connection(id(), br#"{"kind":"oracle","base_url":"ftp://x","local_adjustments":"allow"}"#)
            .expect_err("invalid");
        assert_eq!(p.kind, Kind::ValidationFailed);
        let fields: Vec<String> = p.extra["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(fields, vec!["kind", "base_url", "local_adjustments"]);
        let p = connection(id(), br#"{"kind":"sap_b1","base_url":"https://b1"}"#).expect_err("no card code");
        assert_eq!(p.extra["errors"][0]["field"], "settings.card_code");
        let p = connection(id(), br#"{"kind":"netsuite","base_url":"https://ns","settings":{"page_size":100}}"#)
            .expect_err("no customer");
        assert_eq!(p.kind, Kind::ValidationFailed);
        assert_eq!(p.extra["errors"][0]["field"], "settings.customer_id");
        let c = connection(id(), br#"{"kind":"netsuite","base_url":"https://ns","settings":{"orders":"off"}}"#)
            .expect("stock only needs no customer");
        assert_eq!(c.orders(), crate::erp::connection::Orders::Off);
        let p = connection(id(), br#"{"kind":"odoo","base_url":"https://o","settings":{"orders":"sometimes"}}"#)
            .expect_err("orders");
        assert_eq!(p.extra["errors"][0]["field"], "settings.orders");
    }

    #[test]
    fn a_webhook_connection_needs_a_safe_url_and_a_signing_secret() {
        let c = connection(
            id(),
            br#"{"kind":"webhook","base_url":"https://erp.example.com/stockedge","credentials_secret":"ERP_HOOK_KEY",
                "local_adjustments":"forward"}"#,
        )
        .expect("valid");
        assert_eq!(c.kind, ErpKind::Webhook);
        assert!(connection(
            id(),
            br#"{"kind":"webhook","base_url":"http://127.0.0.1:9/erp","credentials_secret":"K"}"#
        )
        .is_ok());
        let p = connection(id(), br#"{"kind":"webhook","base_url":"http://erp.example.com/hook"}"#)
            .expect_err("plain http, no secret");
        assert_eq!(p.extra["errors"][0]["field"], "base_url");
        assert_eq!(p.extra["errors"][1]["field"], "credentials_secret");
        let p = connection(id(), br#"{"kind":"webhook","base_url":"https://e.example","credentials_secret":"lower"}"#)
            .expect_err("not a secret name");
        assert_eq!(p.extra["errors"][0]["field"], "credentials_secret");
    }

    #[test]
    fn mapping_changes_set_and_remove_codes() {
        let c = mapping_change(br#"{"items":{"A100":"TEE-1","B200":null},"warehouses":{"01":"main"}}"#).expect("ok");
        assert_eq!(c.items, vec![("A100".into(), Some(Sku::parse("TEE-1").expect("sku"))), ("B200".into(), None)]);
        assert_eq!(c.warehouses, vec![("01".into(), Some(Location::main()))]);
        let p = mapping_change(br#"{"items":{"A":"bad sku"},"warehouses":{"01":"Main"}}"#).expect_err("bad");
        assert_eq!(p.extra["errors"][0]["field"], "items.A");
        assert_eq!(p.extra["errors"][1]["field"], "warehouses.01");
    }
}
