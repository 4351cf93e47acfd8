//! Catalogue request bodies (`PUT /v1/products/{sku}`, `/v1/locations/{id}`,
//! `/v1/channels/{id}`, `/v1/channels/{id}/listings/{sku}`) and list queries, read into
//! `catalog::model` records; and the catalogue's answers that are problems. Every reader takes a
//! whole body and names every faulty field (`components[1].qty`, `external.inventory_item_id`,
//! `rule.percent`, …) in one `422 validation-failed`.

use serde_json::{Map, Value};

use super::fields::{parse_object, Fields};
use super::problem::{FieldError, Kind, Problem};
use crate::catalog::model::{
    is_secret_name, Channel, ChannelKind, Entity, External, FieldFault, Listing, LocationRecord, PageQuery, Product,
    MAX_ACCOUNT_LEN, MAX_BARCODE_LEN, MAX_NAME_LEN, MAX_SETTINGS_BYTES, ON_DRIFT,
};
use crate::catalog::{Bundle, BundleError, Component, ListingRule, RuleError};
use crate::stock::limits::{
    DEFAULT_PAGE, MAX_BACKORDER_LIMIT, MAX_LINES, MAX_LINE_QTY, MAX_ON_HAND, MAX_PAGE, MAX_RULE_BUFFER,
    MAX_RULE_LISTED, MAX_RULE_PERCENT, MAX_RULE_ZERO_AT_OR_BELOW, MAX_TEXT_LEN,
};
use crate::stock::{OrderKey, Sku, Token};

/// `422 validation-failed` naming the catalogue's faults.
pub fn invalid(faults: Vec<FieldFault>) -> Problem {
    Problem::invalid(faults.into_iter().map(|f| FieldError::new(f.field, f.message)).collect())
}

/// `404`: no such record. `id` names it (a listing: `"<sku> on <channel>"`).
pub fn not_found(entity: Entity, id: &str) -> Problem {
    Problem::new(Kind::NotFound, format!("{} {id} not found", entity.noun())).with("resource", entity.noun())
}

/// `422` on `external`: this channel identity already belongs to another SKU's listing.
pub fn identity_taken(channel: &Token, identity: &str, other_sku: Option<&str>) -> Problem {
    let message = match other_sku {
        Some(s) => format!("this identity ({identity}) is already listed on channel {channel} as SKU {s}; one channel identity maps to one SKU"),
        None => format!("this identity ({identity}) is already listed on channel {channel} for another SKU; one channel identity maps to one SKU"),
    };
    let p = Problem::invalid(vec![FieldError::new("external", message)]);
    match other_sku {
        Some(s) => p.with("conflicting_sku", s),
        None => p,
    }
}

fn finish<T>(errors: Vec<FieldError>, value: Option<T>) -> Result<T, Problem> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ if errors.is_empty() => Err(Problem::invalid(vec![FieldError::new("body", "is incomplete")])),
        _ => Err(Problem::invalid(errors)),
    }
}

/// An optional boolean member.
fn bool_opt(f: &mut Fields<'_>, name: &str) -> Option<bool> {
    match f.object().get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            f.fault(name, "must be true or false");
            None
        }
    }
}

/// An optional string member that must satisfy `ok` (described by `rule`), at most `max` characters.
fn string_opt(f: &mut Fields<'_>, name: &str, max: usize, ok: fn(&str) -> bool, rule: &str) -> Option<String> {
    match f.object().get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => {
            f.fault(name, "must not be empty");
            None
        }
        Some(Value::String(s)) if s.chars().count() > max => {
            f.fault(name, format!("must be at most {max} characters"));
            None
        }
        Some(Value::String(s)) if !ok(s) => {
            f.fault(name, rule.to_owned());
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            f.fault(name, "must be a string");
            None
        }
    }
}

fn string_req(f: &mut Fields<'_>, name: &str, max: usize, ok: fn(&str) -> bool, rule: &str) -> Option<String> {
    if f.object().get(name).is_none_or(Value::is_null) {
        f.fault(name, "is required");
        return None;
    }
    string_opt(f, name, max, ok, rule)
}

/// Free text: no control characters, no leading or trailing whitespace.
fn plain(s: &str) -> bool {
    !s.chars().any(char::is_control) && s.trim() == s
}

/// One token: printable, no whitespace at all.
fn no_space(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// The field a bundle fault belongs to.
fn bundle_fault_field(components: &[Component], e: &BundleError) -> String {
    let at = |sku: &str, last: bool| {
        let mut idx = components.iter().enumerate().filter(|(_, c)| c.sku.as_str() == sku).map(|(i, _)| i);
        let i = if last { idx.next_back() } else { idx.next() };
        i.map_or_else(|| "components".to_owned(), |i| format!("components[{i}]"))
    };
    match e {
        BundleError::Empty | BundleError::TooMany | BundleError::TooLarge { .. } => "components".into(),
        BundleError::Qty(s) => format!("{}.qty", at(s, false)),
        BundleError::Duplicate(s) => format!("{}.sku", at(s, true)),
        BundleError::SelfReference => {
            let s = components.first().map(|c| c.sku.as_str()).unwrap_or_default();
            format!("{}.sku", at(s, false))
        }
    }
}

/// `PUT /v1/products/{sku}`: `{title?, barcode?, tracked?, backorder_limit?,
/// low_stock_threshold?, components?: [{sku, qty}]}`. An empty or absent `components` makes
/// the product a plain SKU; otherwise it is a bundle (checked with [`Bundle::validate`]).
pub fn product(sku: &Sku, body: &[u8]) -> Result<Product, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let title = f.text_opt("title", MAX_TEXT_LEN).filter(|t| !t.is_empty());
    let barcode = match obj.get("barcode") {
        Some(Value::String(s)) if s.is_empty() => None,
        _ => string_opt(&mut f, "barcode", MAX_BARCODE_LEN, no_space, "may not contain spaces or control characters"),
    };
    let tracked = bool_opt(&mut f, "tracked").unwrap_or(true);
    let backorder_limit = f.int_opt("backorder_limit", 0..=MAX_BACKORDER_LIMIT);
    let low_stock_threshold = f.int_opt("low_stock_threshold", 0..=MAX_ON_HAND);

    let mut components = Vec::new();
    let mut components_ok = true;
    let listed = matches!(obj.get("components"), Some(Value::Array(a)) if !a.is_empty())
        || !matches!(obj.get("components"), None | Some(Value::Null) | Some(Value::Array(_)));
    if listed {
        let items = f.objects("components", MAX_LINES);
        components_ok = !items.is_empty();
        for (i, item) in items.into_iter().enumerate() {
            let mut g = f.nested(item, "components", i);
            let csku = g.id("sku", Sku::parse);
            let qty = g.int("qty", 1..=MAX_LINE_QTY);
            if let Some(c) = &csku {
                if c == sku {
                    g.fault("sku", BundleError::SelfReference.to_string());
                } else if components.iter().any(|d: &Component| &d.sku == c) {
                    g.fault("sku", BundleError::Duplicate(c.to_string()).to_string());
                }
            }
            match (csku, qty) {
                (Some(sku), Some(qty)) => components.push(Component { sku, qty }),
                _ => components_ok = false,
            }
        }
    }
    let fresh_faults = errors.iter().any(|e| e.field.starts_with("components"));
    if components_ok && !fresh_faults && !components.is_empty() {
        let b = Bundle { sku: sku.clone(), components: components.clone() };
        if let Err(e) = b.validate() {
            errors.push(FieldError::new(bundle_fault_field(&components, &e), e.to_string()));
        }
    }
    finish(
        errors,
        Some(Product { sku: sku.clone(), title, barcode, tracked, backorder_limit, low_stock_threshold, components }),
    )
}

/// `PUT /v1/locations/{location}`: `{name}`.
pub fn location(location: &crate::stock::Location, body: &[u8]) -> Result<LocationRecord, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let name = string_req(
        &mut f,
        "name",
        MAX_NAME_LEN,
        plain,
        "may not contain control characters or start or end with spaces",
    );
    finish(errors, name.map(|name| LocationRecord { location: location.clone(), name }))
}

/// `PUT /v1/channels/{channel}`: `{kind, account, enabled?, credentials_secret?, settings?}`.
pub fn channel(id: &Token, body: &[u8]) -> Result<Channel, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    if id.as_str() == OrderKey::DIRECT {
        errors.push(FieldError::new(
            "channel",
            format!("{:?} is reserved for the storefront's own orders", OrderKey::DIRECT),
        ));
    }
    let mut f = Fields::new(&obj, "", &mut errors);
    let kind = match obj.get("kind") {
        None | Some(Value::Null) => {
            f.fault("kind", "is required");
            None
        }
        Some(Value::String(s)) => {
            let k = ChannelKind::parse(s);
            if k.is_none() {
                f.fault("kind", format!("must be one of {}", ChannelKind::names()));
            }
            k
        }
        Some(_) => {
            f.fault("kind", format!("must be one of {}", ChannelKind::names()));
            None
        }
    };
    let account =
        string_req(&mut f, "account", MAX_ACCOUNT_LEN, no_space, "may not contain spaces or control characters");
    let enabled = bool_opt(&mut f, "enabled").unwrap_or(true);
    let credentials_secret = match obj.get("credentials_secret") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_secret_name(s) => Some(s.clone()),
        Some(_) => {
            f.fault(
                "credentials_secret",
                "must be the NAME of a Worker secret (1-64 of A-Z 0-9 _, starting with a letter, e.g. SHOPIFY_TOKEN_MYSHOP), never the secret itself",
            );
            None
        }
    };
    let settings = match obj.get("settings") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(s)) => {
            if let Some(d) = s.get("on_drift") {
                if !d.as_str().is_some_and(|d| ON_DRIFT.contains(&d)) {
                    f.fault("settings.on_drift", format!("must be one of {}", ON_DRIFT.join(", ")));
                }
            }
            if Value::Object(s.clone()).to_string().len() > MAX_SETTINGS_BYTES {
                f.fault("settings", format!("must be at most {MAX_SETTINGS_BYTES} bytes of JSON"));
            }
            s.clone()
        }
        Some(_) => {
            f.fault("settings", "must be an object");
            Map::new()
        }
    };
    let value = match (kind, account) {
        (Some(kind), Some(account)) => {
            Some(Channel { channel: id.clone(), kind, account, enabled, credentials_secret, settings })
        }
        _ => None,
    };
    finish(errors, value)
}

/// Reads `external` for a channel of `kind`, as its registration declares it (faults under the
/// cursor's prefix).
fn external(kind: ChannelKind, f: &mut Fields<'_>) -> Option<External> {
    match External::read(kind, f.object()) {
        Ok(e) => Some(e),
        Err(faults) => {
            for fault in faults {
                f.fault(&fault.field, fault.message);
            }
            None
        }
    }
}

fn rule_fault_field(e: &RuleError) -> &'static str {
    match e {
        RuleError::Buffer => "rule.buffer",
        RuleError::Percent => "rule.percent",
        RuleError::MaxListed => "rule.max_listed",
        RuleError::Threshold => "rule.zero_at_or_below",
    }
}

/// `PUT /v1/channels/{channel}/listings/{sku}` on a channel of `kind`:
/// `{external: {...per kind}, rule?: {buffer?, percent?, max_listed?, zero_at_or_below?}}`.
pub fn listing(kind: ChannelKind, channel: &Token, sku: &Sku, body: &[u8]) -> Result<Listing, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let external_value = external_member(kind, obj.get("external"), &mut errors);
    let rule = rule_member(obj.get("rule"), &mut errors);
    let value = match (external_value, rule) {
        (Some(external), Some(rule)) => Some(Listing { channel: channel.clone(), sku: sku.clone(), external, rule }),
        _ => None,
    };
    finish(errors, value)
}

/// A listing's `external` member on a channel of `kind` (required): `None` with its faults in
/// `errors` (named `external…`) when it is missing or not valid.
pub fn external_member(kind: ChannelKind, value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<External> {
    match value {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(
                "external",
                format!(
                    "is required: the SKU's identity on this {} channel ({})",
                    kind.as_str(),
                    kind.platform().identity.names()
                ),
            ));
            None
        }
        Some(Value::Object(e)) => {
            let mut f = Fields::new(e, "external", errors);
            external(kind, &mut f)
        }
        Some(_) => {
            errors.push(FieldError::new("external", "must be an object"));
            None
        }
    }
}

/// A listing's `rule` member (absent: the default rule): `None` with its faults in `errors`
/// (named `rule…`) when it is not valid.
pub fn rule_member(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<ListingRule> {
    match value {
        None | Some(Value::Null) => Some(ListingRule::default()),
        Some(Value::Object(r)) => {
            let before = errors.len();
            let rule = {
                let mut f = Fields::new(r, "rule", errors);
                for k in r.keys() {
                    if !["buffer", "percent", "max_listed", "zero_at_or_below"].contains(&k.as_str()) {
                        f.fault(k, "is not a rule field (buffer, percent, max_listed, zero_at_or_below)");
                    }
                }
                ListingRule {
                    buffer: f.int_opt("buffer", 0..=MAX_RULE_BUFFER).unwrap_or(0),
                    percent: f.int_opt("percent", 0..=i64::from(MAX_RULE_PERCENT)).map_or(100, |p| p as u8),
                    max_listed: f.int_opt("max_listed", 0..=MAX_RULE_LISTED),
                    zero_at_or_below: f.int_opt("zero_at_or_below", 0..=MAX_RULE_ZERO_AT_OR_BELOW),
                }
            };
            if errors.len() == before {
                if let Err(e) = rule.validate() {
                    errors.push(FieldError::new(rule_fault_field(&e), e.to_string()));
                }
            }
            Some(rule)
        }
        Some(_) => {
            errors.push(FieldError::new("rule", "must be an object"));
            None
        }
    }
}

/// `?after=&limit=` of a catalogue list.
pub fn page_query(pairs: &[(String, String)]) -> Result<PageQuery, Problem> {
    let mut errors = Vec::new();
    let mut q = PageQuery { after: String::new(), limit: DEFAULT_PAGE };
    for (k, v) in pairs {
        match k.as_str() {
            "after" if v.chars().count() <= crate::stock::limits::MAX_ID_LEN => q.after = v.clone(),
            "after" => errors.push(FieldError::new(
                "after",
                format!("must be at most {} characters", crate::stock::limits::MAX_ID_LEN),
            )),
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => q.limit = n,
                _ => errors.push(FieldError::new("limit", format!("must be between 1 and {MAX_PAGE}"))),
            },
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(q)
    } else {
        Err(Problem::invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::problem::with_key_fault;
    use crate::api::testing::fields;
    use crate::catalog::model::{kind_change_fault, nesting_faults, Stamps};
    use crate::time::Millis;
    use serde_json::json;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }
    fn token(s: &str) -> Token {
        Token::parse(s).expect("token")
    }
    fn body(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }
    const T: Stamps = Stamps { created_at: Millis(0), updated_at: Millis(1_000) };

    #[test]
    fn product_defaults_and_view() {
        let p = product(&sku("TEE-1"), b"{}").expect("product");
        assert!(p.tracked);
        assert!(p.bundle().is_none());
        let v = p.to_json(T);
        assert_eq!(
            v,
            json!({"sku":"TEE-1","tracked":true,"components":[],"created_at":"1970-01-01T00:00:00.000Z","updated_at":"1970-01-01T00:00:01.000Z"})
        );
        let p = product(&sku("KIT"), &body(json!({"title":"Kit","barcode":"0123456789012","tracked":false,"backorder_limit":5,"low_stock_threshold":2,"components":[{"sku":"A","qty":2},{"sku":"B","qty":1}]}))).expect("kit");
        assert_eq!(p.bundle().expect("bundle").available(|s| if s.as_str() == "A" { 7 } else { 9 }), 3);
        assert_eq!(p.to_json(T)["components"], json!([{"sku":"A","qty":2},{"sku":"B","qty":1}]));
        assert_eq!(product(&sku("X"), &body(json!({"components": []}))).expect("empty").components, vec![]);
    }

    #[test]
    fn product_names_every_faulty_field() {
        let p = product(
            &sku("KIT"),
            &body(json!({"title": 3, "barcode": "a b", "tracked": "yes", "backorder_limit": 1_000_001, "low_stock_threshold": -1,
                "components": [{"sku": "A", "qty": 0}, {"sku": "bad sku", "qty": 1}, {"sku": "KIT", "qty": 1}, {"qty": 1}, 7]})),
        )
        .expect_err("invalid");
        assert_eq!(p.kind, Kind::ValidationFailed);
        assert_eq!(
            fields(&p),
            [
                "title",
                "barcode",
                "tracked",
                "backorder_limit",
                "low_stock_threshold",
                "components[4]",
                "components[0].qty",
                "components[1].sku",
                "components[2].sku",
                "components[3].sku"
            ]
        );
        let dup = product(&sku("KIT"), &body(json!({"components": [{"sku": "A", "qty": 1}, {"sku": "A", "qty": 2}]})))
            .expect_err("dup");
        assert_eq!(fields(&dup), ["components[1].sku"]);
        let not_array = product(&sku("KIT"), &body(json!({"components": {"sku": "A"}}))).expect_err("not array");
        assert_eq!(fields(&not_array), ["components"]);
        let too_many: Vec<Value> = (0..101).map(|i| json!({"sku": format!("C{i}"), "qty": 1})).collect();
        assert_eq!(
            fields(&product(&sku("KIT"), &body(json!({"components": too_many}))).expect_err("many")),
            ["components"]
        );
        assert_eq!(product(&sku("KIT"), b"[]").expect_err("array").kind, Kind::InvalidJson);
    }

    #[test]
    fn bundle_errors_map_to_fields() {
        let cs = vec![Component { sku: sku("A"), qty: 1 }, Component { sku: sku("A"), qty: 1 }];
        assert_eq!(bundle_fault_field(&cs, &BundleError::Duplicate("A".into())), "components[1].sku");
        assert_eq!(bundle_fault_field(&cs, &BundleError::Qty("A".into())), "components[0].qty");
        assert_eq!(bundle_fault_field(&cs, &BundleError::TooMany), "components");
    }

    #[test]
    fn bundles_do_not_nest() {
        let kit =
            product(&sku("KIT"), &body(json!({"components": [{"sku": "A", "qty": 1}, {"sku": "BOX", "qty": 1}]})))
                .expect("kit");
        let f = nesting_faults(&kit, &["BOX".into()], &[]);
        assert_eq!(f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["components[1].sku"]);
        let f = nesting_faults(&kit, &[], &["MEGA".into()]);
        assert_eq!(f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["components"]);
        let plain = product(&sku("A"), b"{}").expect("plain");
        assert!(nesting_faults(&plain, &[], &["KIT".into()]).is_empty(), "a component may stay a plain SKU");
    }

    #[test]
    fn locations() {
        let main = crate::stock::Location::main();
        let l = location(&main, &body(json!({"name": "Main warehouse"}))).expect("location");
        assert_eq!(l.to_json(T)["name"], "Main warehouse");
        assert_eq!(fields(&location(&main, b"{}").expect_err("no name")), ["name"]);
        assert_eq!(fields(&location(&main, &body(json!({"name": " x"}))).expect_err("spaces")), ["name"]);
        assert_eq!(fields(&location(&main, &body(json!({"name": "x".repeat(201)}))).expect_err("long")), ["name"]);
    }

    #[test]
    fn channels() {
        let c = channel(&token("shop-main"), &body(json!({"kind": "shopify", "account": "myshop.myshopify.com", "credentials_secret": "SHOPIFY_TOKEN_MYSHOP", "settings": {"on_drift": "flag", "x": 1}}))).expect("channel");
        assert!(c.enabled);
        assert_eq!(c.on_drift(), "flag");
        let v = c.to_json(T);
        assert_eq!(v["kind"], "shopify");
        assert_eq!(v["settings"], json!({"on_drift": "flag", "x": 1}));
        let p = channel(&token("direct"), &body(json!({"kind": "etsy", "account": "a b", "enabled": 1, "credentials_secret": "shpat_123abc", "settings": {"on_drift": "ignore"}}))).expect_err("bad");
        assert_eq!(fields(&p), ["channel", "kind", "account", "enabled", "credentials_secret", "settings.on_drift"]);
        assert_eq!(fields(&channel(&token("c"), b"{}").expect_err("empty")), ["kind", "account"]);
        assert_eq!(
            fields(
                &channel(&token("c"), &body(json!({"kind": "ebay", "account": "me", "settings": []})))
                    .expect_err("settings")
            ),
            ["settings"]
        );
        assert!(is_secret_name("A"));
        assert!(is_secret_name(&format!("A{}", "B".repeat(63))));
        assert!(!is_secret_name(&format!("A{}", "B".repeat(64))));
        assert!(!is_secret_name("1ABC") && !is_secret_name("") && !is_secret_name("ABC-D"));
        assert!(kind_change_fault(ChannelKind::Shopify, ChannelKind::Ebay, 1).is_some());
        assert!(kind_change_fault(ChannelKind::Shopify, ChannelKind::Ebay, 0).is_none());
        assert!(kind_change_fault(ChannelKind::Shopify, ChannelKind::Shopify, 3).is_none());
    }

    #[test]
    fn shopify_identities_accept_numbers_digit_strings_and_gids() {
        let ch = token("shop");
        let a = listing(
            ChannelKind::Shopify,
            &ch,
            &sku("A"),
            &body(json!({"external": {"inventory_item_id": 123, "location_id": "gid://shopify/Location/9"}})),
        )
        .expect("a");
        let b = listing(
            ChannelKind::Shopify,
            &ch,
            &sku("B"),
            &body(json!({"external": {"inventory_item_id": "gid://shopify/InventoryItem/123", "location_id": "9"}})),
        )
        .expect("b");
        assert_eq!(a.external, b.external);
        assert_eq!(a.identity(), "shopify:inventory_item:123");
        assert_eq!(a.rule, ListingRule::default());
        let v = a.to_json(T);
        assert_eq!(v["external"], json!({"inventory_item_id": 123, "location_id": 9}));
        assert_eq!(v["rule"], json!({"buffer": 0, "percent": 100}));
        let p = listing(ChannelKind::Shopify, &ch, &sku("A"), &body(json!({"external": {"inventory_item_id": "gid://shopify/Location/1", "location_id": 0, "product_id": 1}}))).expect_err("bad");
        assert_eq!(fields(&p), ["external.product_id", "external.inventory_item_id", "external.location_id"]);
    }

    #[test]
    fn identities_per_kind() {
        let ch = token("c");
        let s = sku("S-1");
        let ok = |kind, e: Value| listing(kind, &ch, &s, &body(json!({"external": e}))).expect("valid").identity();
        assert_eq!(ok(ChannelKind::Woocommerce, json!({"product_id": 12})), "woocommerce:product:12");
        assert_eq!(
            ok(ChannelKind::Woocommerce, json!({"product_id": 12, "variation_id": 34})),
            "woocommerce:product:12:variation:34"
        );
        assert_eq!(crate::sync::woocommerce::identity_key(12, Some(0)), "woocommerce:product:12");
        assert_eq!(
            ok(
                ChannelKind::Amazon,
                json!({"seller_id": "A2EUQ1WTGCTBG2", "seller_sku": "TEE 1", "marketplace_ids": ["ATVPDKIKX0DER"]})
            ),
            "amazon:A2EUQ1WTGCTBG2:TEE 1"
        );
        assert_eq!(ok(ChannelKind::Ebay, json!({"sku": "E-1", "offer_id": "5005317010"})), "ebay:sku:E-1");
        assert_eq!(
            ok(ChannelKind::Wholesale, json!({"partner_id": "acme", "item_code": "X9"})),
            "wholesale:acme|item:X9"
        );
        assert_eq!(ok(ChannelKind::Wholesale, json!({"partner_id": "acme"})), "wholesale:acme|sku:S-1");

        let bad = |kind, e: Value| fields(&listing(kind, &ch, &s, &body(json!({"external": e}))).expect_err("invalid"));
        assert_eq!(
            bad(ChannelKind::Woocommerce, json!({"product_id": 0, "variation_id": "3"})),
            ["external.product_id", "external.variation_id"]
        );
        assert_eq!(
            bad(ChannelKind::Amazon, json!({"seller_id": "a-b", "marketplace_ids": []})),
            ["external.seller_id", "external.seller_sku", "external.marketplace_ids"]
        );
        assert_eq!(
            bad(
                ChannelKind::Amazon,
                json!({"seller_id": "A", "seller_sku": "x", "marketplace_ids": ["ok1", "OK", "OK"]})
            ),
            ["external.marketplace_ids[0]", "external.marketplace_ids[2]"]
        );
        assert_eq!(bad(ChannelKind::Ebay, json!({"offer_id": "a b"})), ["external.sku", "external.offer_id"]);
        assert_eq!(
            bad(ChannelKind::Wholesale, json!({"partner_id": "a b", "item_code": ""})),
            ["external.partner_id", "external.item_code"]
        );
        assert_eq!(fields(&listing(ChannelKind::Ebay, &ch, &s, b"{}").expect_err("missing")), ["external"]);
    }

    #[test]
    fn listing_rules() {
        let ch = token("c");
        let e = json!({"sku": "E-1"});
        let l = listing(
            ChannelKind::Ebay,
            &ch,
            &sku("A"),
            &body(
                json!({"external": e, "rule": {"buffer": 2, "percent": 50, "max_listed": 10, "zero_at_or_below": 3}}),
            ),
        )
        .expect("rule");
        assert_eq!(l.rule.listed(4), 1);
        assert_eq!(l.to_json(T)["rule"], json!({"buffer": 2, "percent": 50, "max_listed": 10, "zero_at_or_below": 3}));
        let p = listing(ChannelKind::Ebay, &ch, &sku("A"), &body(json!({"external": e, "rule": {"buffer": -1, "percent": 101, "max_listed": "x", "zero_at_or_below": 2_000_000, "floor": 1}}))).expect_err("bad rule");
        assert_eq!(
            fields(&p),
            ["rule.floor", "rule.buffer", "rule.percent", "rule.max_listed", "rule.zero_at_or_below"]
        );
        assert_eq!(
            fields(
                &listing(ChannelKind::Ebay, &ch, &sku("A"), &body(json!({"external": 1, "rule": 1})))
                    .expect_err("shapes")
            ),
            ["external", "rule"]
        );
    }

    #[test]
    fn identity_conflicts_name_the_other_sku() {
        let p = identity_taken(&token("shop"), "shopify:inventory_item:1", Some("B"));
        assert_eq!(p.kind, Kind::ValidationFailed);
        assert_eq!(fields(&p), ["external"]);
        assert_eq!(p.extra["conflicting_sku"], "B");
        assert_eq!(not_found(Entity::Channel, "x").to_json()["status"], 404);
    }

    #[test]
    fn key_faults_merge_with_body_faults() {
        let key = Problem::invalid(vec![FieldError::new("Idempotency-Key", "too long")]);
        let body: Result<(), Problem> = Err(Problem::invalid(vec![FieldError::new("name", "is required")]));
        assert_eq!(fields(&with_key_fault(Some(&key), body).expect_err("both")), ["Idempotency-Key", "name"]);
        assert_eq!(fields(&with_key_fault(Some(&key), Ok(())).expect_err("key")), ["Idempotency-Key"]);
        assert_eq!(with_key_fault(None, Ok(1)), Ok(1));
        let json = Err::<(), _>(Problem::new(Kind::InvalidJson, "x"));
        assert_eq!(with_key_fault(Some(&key), json).expect_err("json").kind, Kind::InvalidJson);
    }

    #[test]
    fn pages() {
        let q = page_query(&[("after".into(), "B".into()), ("limit".into(), "2".into())]).expect("query");
        assert_eq!(q, PageQuery { after: "B".into(), limit: 2 });
        assert_eq!(page_query(&[]).expect("defaults").limit, DEFAULT_PAGE);
        let p = page_query(&[("limit".into(), "0".into()), ("after".into(), "x".repeat(129))]).expect_err("bad");
        assert_eq!(fields(&p), ["limit", "after"]);
    }
}
