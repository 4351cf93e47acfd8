//! `POST /v1/inbound/unmatched/{id}/map` `{"sku", "external"?}`: an operator says which SKU an
//! unmatched inbound line is. Decided here, without I/O: the request; the listing to use or to
//! create ([`target`]) — from what the channel already lists and what the line says of itself
//! ([`line_external`]); the line as the event the webhook would have applied ([`event_of`]); and
//! the answer ([`answer`]). The edge reads, creates the listing, applies the line through
//! `inbound::apply::plan_mapped` (the same effects as a matched webhook line: each line once) and
//! keeps the first answer for repeats.

use serde_json::{json, Map, Value};

use super::catalog_bodies::{external_member, identity_taken};
use super::fields::{parse_object, Fields};
use super::order_call::SkuLine;
use super::problem::{FieldError, Problem};
use crate::catalog::model::{ChannelKind, External};
use crate::db::inbound::UnmatchedRow;
use crate::db::{corrupt, StoreResult};
use crate::inbound::{EventKind, InboundEvent, InboundLine, LineIdentity, PlatformIds, RestockType};
use crate::stock::{Sku, Token};
use crate::time::Millis;

/// A valid map request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapRequest {
    pub sku: Sku,
    /// The listing's identity when the line does not say enough (checked against the channel's
    /// kind once it is known).
    pub external: Option<Value>,
}

/// Reads the body: `sku` (required), `external` (an object, optional); other members are refused.
pub fn request(body: &[u8]) -> Result<MapRequest, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let sku = Fields::new(&obj, "", &mut errors).id("sku", Sku::parse);
    let external = match obj.get("external") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => {
            errors.push(FieldError::new("external", "must be an object: the SKU's identity on the line's channel"));
            None
        }
    };
    for k in obj.keys().filter(|k| !["sku", "external"].contains(&k.as_str())) {
        errors.push(FieldError::new(k, "is not a member of a map request (sku, external)"));
    }
    match sku {
        Some(sku) if errors.is_empty() => Ok(MapRequest { sku, external }),
        _ => Err(Problem::invalid(errors)),
    }
}

/// The listing identity a line gives by itself on a channel of `kind` with `settings`, when it
/// says enough: WooCommerce product (and variation) ids; eBay inventory SKU; Amazon seller id and
/// seller SKU, in the channel's `settings.marketplace_ids`; a Shopify inventory item with its
/// location. Shopify order lines (variant only) and other platforms need the operator's
/// `external`.
pub fn line_external(kind: ChannelKind, line: &LineIdentity, settings: &Map<String, Value>) -> Option<External> {
    let members = match &line.ids {
        PlatformIds::Woocommerce { product_id, variation_id } => {
            let mut m = json!({ "product_id": product_id });
            if let Some(v) = variation_id {
                m["variation_id"] = json!(v);
            }
            m
        }
        PlatformIds::Ebay { .. } => json!({ "sku": line.sku.as_deref()? }),
        PlatformIds::Amazon { seller_id, .. } => json!({
            "seller_id": seller_id,
            "seller_sku": line.sku.as_deref()?,
            "marketplace_ids": settings.get("marketplace_ids")?,
        }),
        PlatformIds::Shopify { inventory_item_id: Some(item), location_id: Some(location), .. } => {
            json!({ "inventory_item_id": item, "location_id": location })
        }
        PlatformIds::Shopify { .. } | PlatformIds::Keyed { .. } => return None,
    };
    // The members are read as the channel's kind declares its identity: a line of another
    // platform's shape does not read.
    External::read(kind, members.as_object()?).ok()
}

/// What the channel already has for the mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Existing {
    /// The SKU of the listing the line's look-up keys find now (one created meanwhile).
    pub maps_line_to: Option<Sku>,
    /// The identity key under which the requested SKU is listed on the channel.
    pub sku_listed_as: Option<String>,
}

/// The listing a mapping goes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The channel's listing of the SKU, as it is.
    Listed,
    /// A new listing of the SKU under this identity.
    Create(External),
}

/// Decides the listing for mapping a line (`line`) of channel `channel` (`kind`, `settings`) to
/// `req.sku`, given what the channel has (`existing`). Refused (`422`): the line already maps to
/// another SKU (`sku`, with `conflicting_sku`); the SKU is listed on the channel under another
/// identity (`sku`, with `listed_identity`); a bad `external`, or none where the line does not
/// say enough.
pub fn target(
    (channel, kind, settings): (&Token, ChannelKind, &Map<String, Value>),
    line: &LineIdentity,
    req: &MapRequest,
    existing: &Existing,
) -> Result<Target, Problem> {
    if let Some(other) = &existing.maps_line_to {
        if other == &req.sku {
            return Ok(Target::Listed);
        }
        let why =
            format!("channel {channel} already maps this line to SKU {other}: map it there, or change that listing");
        return Err(Problem::invalid(vec![FieldError::new("sku", why)]).with("conflicting_sku", other.as_str()));
    }
    let external = match &req.external {
        Some(given) => {
            let mut errors = Vec::new();
            match external_member(kind, Some(given), &mut errors) {
                Some(e) if errors.is_empty() => e,
                _ => return Err(Problem::invalid(errors)),
            }
        }
        None => line_external(kind, line, settings).ok_or_else(|| {
            let why = format!(
                "is required: this {} line does not say enough to list the SKU ({})",
                kind.as_str(),
                kind.platform().identity.names()
            );
            Problem::invalid(vec![FieldError::new("external", why)])
        })?,
    };
    let identity = external.identity(&req.sku);
    match &existing.sku_listed_as {
        Some(listed) if listed == &identity => Ok(Target::Listed),
        Some(listed) => {
            let why = format!(
                "SKU {} is already listed on channel {channel} as {listed}, not as this line's {identity}",
                req.sku
            );
            Err(Problem::invalid(vec![FieldError::new("sku", why)]).with("listed_identity", listed.as_str()))
        }
        None => Ok(Target::Create(external)),
    }
}

/// `422` on `external`: the identity is already listed for another SKU (the unique index refused
/// the new listing: a listing was written meanwhile).
pub fn identity_conflict(channel: &Token, identity: &str, other: Option<&Sku>) -> Problem {
    identity_taken(channel, identity, other.map(Sku::as_str))
}

/// The line as the event its delivery would have carried: a sale of it, or a restock of it that
/// puts the units back (only such restocks are recorded unmatched).
pub fn event_of(row: &UnmatchedRow, kind: ChannelKind, account: &str) -> StoreResult<(InboundEvent, LineIdentity)> {
    let identity: LineIdentity =
        serde_json::from_str(&row.identity).map_err(|e| corrupt(format!("unmatched line {} identity: {e}", row.id)))?;
    let (event_kind, restock) = match row.kind.as_str() {
        "sale" => (EventKind::Sale, None),
        "restock" => (EventKind::Restock, Some(RestockType::Return)),
        other => return Err(corrupt(format!("unmatched line {} kind {other:?}", row.id))),
    };
    let line = InboundLine {
        identity: identity.clone(),
        line_id: row.line_id.clone(),
        qty: row.qty,
        restock,
        order_line_id: None,
    };
    let event = InboundEvent {
        channel_kind: kind,
        account: account.to_owned(),
        order_id: Some(row.order_id.clone()),
        kind: event_kind,
        lines: vec![line],
        occurred_at: Millis(row.received_at),
    };
    Ok((event, identity))
}

/// The answer: the line's id, the listing record it went through, and what applying it did.
pub fn answer(row: &UnmatchedRow, listing: Value, skus: &[SkuLine]) -> Value {
    json!({
        "id": row.id,
        "listing": listing,
        "applied": {
            "kind": row.kind,
            "order_id": row.order_id,
            "line_id": row.line_id,
            "qty": row.qty,
            "skus": skus,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Kind;
    use crate::stock::Effect;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }

    fn woo(product: i64, variation: Option<i64>) -> LineIdentity {
        LineIdentity {
            sku: Some("THEIRS".into()),
            ids: PlatformIds::Woocommerce { product_id: product, variation_id: variation },
        }
    }

    fn shop() -> Token {
        Token::parse("woo").expect("channel")
    }

    fn field(p: &Problem) -> String {
        assert_eq!(p.kind, Kind::ValidationFailed);
        p.to_json()["errors"][0]["field"].as_str().unwrap_or_default().to_owned()
    }

    #[test]
    fn reads_the_request() {
        assert_eq!(request(br#"{"sku":"A/B"}"#), Ok(MapRequest { sku: sku("A/B"), external: None }));
        let with = request(br#"{"sku":"A","external":{"product_id":3}}"#).expect("valid");
        assert_eq!(with.external, Some(json!({"product_id": 3})));
        assert_eq!(field(&request(b"{}").expect_err("no sku")), "sku");
        assert_eq!(field(&request(br#"{"sku":"../x"}"#).expect_err("bad sku")), "sku");
        assert_eq!(field(&request(br#"{"sku":"A","external":3}"#).expect_err("bad external")), "external");
        assert_eq!(field(&request(br#"{"sku":"A","other":1}"#).expect_err("unknown")), "other");
    }

    #[test]
    fn a_line_gives_its_listing_identity_where_it_says_enough() {
        let none = Map::new();
        let e = line_external(ChannelKind::Woocommerce, &woo(7, Some(8)), &none).expect("woo");
        assert_eq!(e.to_json(), json!({"product_id": 7, "variation_id": 8}));
        let ebay = LineIdentity {
            sku: Some("E-1".into()),
            ids: PlatformIds::Ebay { legacy_item_id: None, legacy_variation_id: None },
        };
        assert_eq!(line_external(ChannelKind::Ebay, &ebay, &none).map(|e| e.to_json()), Some(json!({"sku": "E-1"})));
        let amazon =
            LineIdentity { sku: Some("AM-1".into()), ids: PlatformIds::Amazon { seller_id: "S1".into(), asin: None } };
        assert!(line_external(ChannelKind::Amazon, &amazon, &none).is_none(), "no marketplaces known");
        let markets = json!({"marketplace_ids": ["ATVPDKIKX0DER"]});
        let markets = markets.as_object().expect("settings");
        let a = line_external(ChannelKind::Amazon, &amazon, markets).expect("amazon");
        assert_eq!(a.to_json()["seller_sku"], "AM-1");
        let variant = LineIdentity {
            sku: Some("X".into()),
            ids: PlatformIds::Shopify {
                inventory_item_id: None,
                variant_id: Some(9),
                product_id: None,
                location_id: None,
            },
        };
        assert!(line_external(ChannelKind::Shopify, &variant, &none).is_none(), "an order line has no inventory item");
        assert!(line_external(ChannelKind::Shopify, &woo(7, None), &none).is_none(), "another platform's line");
    }

    #[test]
    fn the_target_is_the_existing_listing_a_new_one_or_a_refusal() {
        let none = Map::new();
        let cx = (&shop(), ChannelKind::Woocommerce, &none);
        let line = woo(7, None);
        let req = MapRequest { sku: sku("A"), external: None };
        let created = target(cx, &line, &req, &Existing::default()).expect("create");
        let Target::Create(external) = created else { panic!("{created:?}") };
        let identity = external.identity(&sku("A"));

        let meanwhile = Existing { maps_line_to: Some(sku("A")), sku_listed_as: None };
        assert_eq!(target(cx, &line, &req, &meanwhile), Ok(Target::Listed));
        let other = Existing { maps_line_to: Some(sku("B")), sku_listed_as: None };
        let p = target(cx, &line, &req, &other).expect_err("another SKU");
        assert_eq!((field(&p), p.to_json()["conflicting_sku"].as_str()), ("sku".into(), Some("B")));

        let same = Existing { maps_line_to: None, sku_listed_as: Some(identity) };
        assert_eq!(target(cx, &line, &req, &same), Ok(Target::Listed));
        let elsewhere = Existing { maps_line_to: None, sku_listed_as: Some("woocommerce:product:99".into()) };
        let p = target(cx, &line, &req, &elsewhere).expect_err("listed as another product");
        assert_eq!(field(&p), "sku");
        assert_eq!(p.to_json()["listed_identity"], "woocommerce:product:99");

        let shopify = (&shop(), ChannelKind::Shopify, &none);
        let p = target(shopify, &line, &req, &Existing::default()).expect_err("needs external");
        assert_eq!(field(&p), "external");
        let given = MapRequest { sku: sku("A"), external: Some(json!({"inventory_item_id": 5, "location_id": 1})) };
        assert!(matches!(target(shopify, &line, &given, &Existing::default()), Ok(Target::Create(_))));
        let bad = MapRequest { sku: sku("A"), external: Some(json!({"inventory_item_id": "x"})) };
        let p = target(shopify, &line, &bad, &Existing::default()).expect_err("bad external");
        assert!(field(&p).starts_with("external"), "{p:?}");
    }

    fn row(kind: &str, identity: &str) -> UnmatchedRow {
        serde_json::from_value(json!({
            "id": 3, "channel": "woo", "order_id": "5001", "line_id": "9", "kind": kind,
            "identity": identity, "qty": 2, "received_at": 10
        }))
        .expect("row")
    }

    #[test]
    fn the_line_becomes_the_event_its_delivery_carried() {
        let identity = serde_json::to_string(&woo(7, None)).expect("identity");
        let (sale, id) = event_of(&row("sale", &identity), ChannelKind::Woocommerce, "shop.example").expect("sale");
        assert_eq!((sale.kind, sale.order_id.as_deref(), sale.lines[0].qty), (EventKind::Sale, Some("5001"), 2));
        assert_eq!(id, woo(7, None));
        let (back, _) = event_of(&row("restock", &identity), ChannelKind::Woocommerce, "a").expect("restock");
        assert_eq!(back.lines[0].restock, Some(RestockType::Return));
        assert!(event_of(&row("sale", "{"), ChannelKind::Woocommerce, "a").is_err());
        assert!(event_of(&row("drift", &identity), ChannelKind::Woocommerce, "a").is_err());
    }

    #[test]
    fn the_answer_names_the_line_the_listing_and_the_ledgers_answers() {
        let line = SkuLine { sku: sku("A"), effect: Effect::Applied, available: 3, oversold: 0, version: 8 };
        let v = answer(&row("sale", "{}"), json!({"sku": "A"}), &[line]);
        assert_eq!(v["id"], 3);
        assert_eq!(v["applied"]["line_id"], "9");
        assert_eq!(
            v["applied"]["skus"][0],
            json!({"sku": "A", "effect": "applied", "available": 3, "oversold": 0, "version": 8})
        );
    }
}
