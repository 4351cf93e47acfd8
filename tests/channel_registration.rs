//! A channel is a registration: a made-up platform ("etsy"), declared in a test-only registry
//! with its own push adapter, goes from a listing body to a stored identity, the listing's JSON
//! and a planned, sent and settled push, through the same generic code the real platforms use —
//! and nothing outside this file knows it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Map, Value};
use stockedge::api::catalog_bodies;
use stockedge::catalog::model::{External, Stamps};
use stockedge::channels::{
    Auth, BaseUrl, ChannelKind, Chars, Grammar, Identity, IdentityField, Platform, Push, Registry,
};
use stockedge::inbound::{LineIdentity, LookupKey, PlatformIds};
use stockedge::stock::{Op, Sku, Token};
use stockedge::sync::adapter::{for_all, Built, ChannelAdapter, PushCall};
use stockedge::sync::connection::{required, ConnectionError};
use stockedge::sync::{
    BatchPlan, Channel, HttpRequest, HttpResponse, ListingResult, ListingUpdate, Loaded, Method, PushResult,
    RetryPolicy, Step, StockChanged, SyncWrite,
};
use stockedge::time::Millis;

// ---------------------------------------------------------------------------------------------
// The platform: what `src/sync/etsy.rs` and its registry entry would hold.

const ETSY: Platform = Platform {
    name: "etsy",
    identity: Identity {
        fields: &[
            IdentityField::required("shop_id", Grammar::Id),
            IdentityField::required("listing_id", Grammar::Id),
            IdentityField::optional("offering", Grammar::Text { max: 32, chars: Chars::Word }),
        ],
        key: etsy_key,
    },
    base_url: BaseUrl::Fixed("https://openapi.etsy.test"),
    auth: Auth::Secret,
    push: Push::Adapter(etsy_connect),
    daily_revisions: false,
    webhook: None,
    feed: None,
    order_fetch: None,
    read: None,
};

static PLATFORMS: [Platform; 1] = [ETSY];
static TEST_REGISTRY: Registry = Registry::new(&PLATFORMS);

fn etsy() -> ChannelKind {
    ChannelKind::of(&PLATFORMS[0])
}

fn etsy_key(e: &External, _: &Sku) -> String {
    format!("etsy:listing:{}", e.int("listing_id").unwrap_or_default())
}

fn etsy_connect(secret: &str, _: &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    Ok(Box::new(EtsyAdapter { token: required(secret)?.to_owned() }))
}

struct EtsyAdapter {
    token: String,
}

#[derive(Serialize)]
struct Quantity {
    quantity: i64,
}

impl ChannelAdapter for EtsyAdapter {
    fn kind(&self) -> ChannelKind {
        etsy()
    }

    fn batch_limit(&self) -> usize {
        1
    }

    fn build(&self, updates: &[ListingUpdate], _now: Millis) -> Built {
        let mut built = Built::default();
        for u in updates {
            let (Some(shop), Some(listing)) = (u.external.int("shop_id"), u.external.int("listing_id")) else {
                continue;
            };
            let body = serde_json::to_string(&Quantity { quantity: u.quantity }).unwrap_or_default();
            let request = HttpRequest::new(Method::Put, format!("/v3/shops/{shop}/listings/{listing}/inventory"))
                .header("Authorization", format!("Bearer {}", self.token))
                .body(body);
            built.calls.push(PushCall { request, updates: vec![u.clone()] });
        }
        built
    }

    fn interpret(&self, call: &PushCall, response: &HttpResponse, _now: Millis) -> Vec<ListingResult> {
        let outcome = if response.is_success() { PushResult::Pushed } else { PushResult::backoff("not taken") };
        for_all(call, outcome)
    }
}

// ---------------------------------------------------------------------------------------------

fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("sku")
}

fn token(s: &str) -> Token {
    Token::parse(s).expect("token")
}

fn faults(p: &stockedge::api::Problem) -> Vec<String> {
    p.extra["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect()
}

#[test]
fn the_kind_comes_from_its_registry_only() {
    assert_eq!(TEST_REGISTRY.parse("etsy"), Some(etsy()));
    assert_eq!(TEST_REGISTRY.names(), "etsy");
    assert_eq!(etsy().as_str(), "etsy");
    assert_eq!(ChannelKind::parse("etsy"), None, "the Worker's registry does not know it");
    assert_eq!(TEST_REGISTRY.parse("shopify"), None);
}

#[test]
fn a_listing_body_is_read_against_the_declared_identity() {
    let body = json!({"external": {"shop_id": "12", "listing_id": 0, "offering": "a b", "sku": "X"}});
    let p = catalog_bodies::listing(etsy(), &token("etsy-main"), &sku("MUG-01"), body.to_string().as_bytes())
        .expect_err("invalid");
    assert_eq!(faults(&p), ["external.sku", "external.shop_id", "external.listing_id", "external.offering"]);
    let missing = catalog_bodies::listing(etsy(), &token("etsy-main"), &sku("MUG-01"), b"{}").expect_err("missing");
    assert_eq!(faults(&missing), ["external"]);
    assert!(
        missing.extra["errors"][0]["message"].as_str().is_some_and(|m| m.contains("shop_id, listing_id, offering")),
        "{missing:?}"
    );
}

#[test]
fn a_listing_goes_from_body_to_store_to_json_to_a_settled_push() {
    let (channel, listed) = (token("etsy-main"), sku("MUG-01"));
    let body = json!({"external": {"shop_id": 12, "listing_id": 345}, "rule": {"buffer": 1}});
    let listing = catalog_bodies::listing(etsy(), &channel, &listed, body.to_string().as_bytes()).expect("listing");

    // Stored as its JSON, read back as the same identity.
    let stored = listing.external.to_json().to_string();
    let read: Value = serde_json::from_str(&stored).expect("json");
    assert_eq!(External::from_stored(etsy(), &read), Some(listing.external.clone()));
    assert_eq!(External::from_stored(etsy(), &json!({"shop_id": 12})), None, "a required member is missing");

    // Answered as the contract's listing shape.
    let stamps = Stamps { created_at: Millis(0), updated_at: Millis(0) };
    let v = listing.to_json(stamps);
    assert_eq!(v["kind"], "etsy");
    assert_eq!(v["external"], json!({"shop_id": 12, "listing_id": 345}));
    assert_eq!(v["identity"], "etsy:listing:345");

    // Planned and pushed by the generic consumer planner, with the adapter the entry registers.
    let event = StockChanged {
        sku: listed.clone(),
        version: 7,
        available: 10,
        on_hand: 10,
        cause: Op::Sale,
        at: Millis(1_000),
        oversold: 0,
        alert: None,
        channel: None,
        ops: Vec::new(),
        orders: Vec::new(),
        erp_behind: Vec::new(),
    };
    let conn = Channel {
        channel: channel.clone(),
        kind: etsy(),
        account: "my-etsy-shop".into(),
        settings: Map::new(),
        secret: Ok("etsy-token".into()),
    };
    let loaded =
        Loaded { listings: vec![Ok(listing)], channels: BTreeMap::from([(channel, conn)]), ..Loaded::default() };
    let mut plan = BatchPlan::new(vec![event], loaded, Millis(2_000), RetryPolicy::default());
    assert_eq!(plan.pushes.len(), 1);
    let mut push = plan.pushes.remove(0);
    let Step::Send { base, requests } = push.step() else { panic!("expected a send: {:?}", push.step()) };
    assert_eq!(base, "https://openapi.etsy.test");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v3/shops/12/listings/345/inventory");
    assert_eq!(requests[0].header_value("authorization"), Some("Bearer etsy-token"));
    assert_eq!(requests[0].body, r#"{"quantity":9}"#, "the listing rule's buffer of 1 applies");
    push.answered(vec![Ok(HttpResponse::new(200, "{}"))]);
    assert_eq!(push.step(), Step::Done);
    let settled = plan.settle(push.results());
    assert!(matches!(&settled.writes[..], [SyncWrite::Pushed { version: 7, quantity: 9, .. }]), "{:?}", settled.writes);
}

#[test]
fn its_inbound_lines_map_by_the_key_its_listing_stored() {
    let listing = catalog_bodies::listing(
        etsy(),
        &token("etsy-main"),
        &sku("MUG-01"),
        json!({"external": {"shop_id": 12, "listing_id": 345}}).to_string().as_bytes(),
    )
    .expect("listing");
    let external = External::from_stored(etsy(), &json!({"shop_id": 12, "listing_id": 345})).expect("stored");
    let line = LineIdentity {
        sku: Some("MUG-01".into()),
        ids: PlatformIds::Keyed { identity: Some(external.identity(&sku("MUG-01"))) },
    };
    assert_eq!(
        line.lookup_keys(),
        [LookupKey::Identity(listing.identity()), LookupKey::Sku("MUG-01".into())],
        "the key first, then the line's SKU"
    );
    let bare = LineIdentity { sku: None, ids: PlatformIds::Keyed { identity: None } };
    assert!(bare.lookup_keys().is_empty(), "a line that says nothing maps to nothing");
}

/// The served contract lists exactly the registered kinds, and one identity schema per platform
/// with the members its entry declares (required ones required, no others): a new platform's
/// entry cannot ship without its contract.
#[test]
fn the_openapi_document_agrees_with_the_registry() {
    let doc: Value = serde_json::from_slice(include_bytes!("../openapi.json")).expect("openapi.json");
    let schemas = &doc["components"]["schemas"];
    let kinds: Vec<&str> =
        schemas["ChannelKind"]["enum"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let registered: Vec<&str> = ChannelKind::all().map(ChannelKind::as_str).collect();
    assert_eq!(kinds, registered, "components.schemas.ChannelKind.enum");

    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = match v {
            Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            Value::Object(o) => o.keys().cloned().collect(),
            _ => Vec::new(),
        };
        n.sort();
        n
    };
    let documented: Vec<(Vec<String>, Vec<String>)> = schemas["ExternalIdentity"]["anyOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["$ref"].as_str()?.rsplit('/').next())
        .map(|name| {
            let s = &schemas[name];
            assert_eq!(s["additionalProperties"], json!(false), "{name} refuses unknown members");
            (names(&s["properties"]), names(&s["required"]))
        })
        .collect();
    assert_eq!(documented.len(), registered.len(), "one identity schema per platform");
    for kind in ChannelKind::all() {
        let fields = kind.platform().identity.fields;
        let mut all: Vec<String> = fields.iter().map(|f| f.name.to_owned()).collect();
        let mut required: Vec<String> = fields.iter().filter(|f| f.required).map(|f| f.name.to_owned()).collect();
        all.sort();
        required.sort();
        assert!(documented.contains(&(all, required)), "{kind}: its identity schema declares its members");
    }
}
