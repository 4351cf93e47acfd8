//! The pure D1 plans: statements bind exactly the parameters their SQL names (within D1's
//! limit), lists are split where D1 needs them split, and stored rows decode into domain values
//! or fail as [`StoreError::Corrupt`] — never clamped, never guessed.

use serde_json::json;

use super::testing::{assert_bound, rows};
use super::*;
use crate::catalog::model::{Channel, ChannelKind, External, Listing, LocationRecord, Product, Stamps};
use crate::catalog::{Component, ListingRule};
use crate::inbound::poll::PollState;
use crate::stock::{Location, Op, OversoldAlert, Sku, Token};
use crate::sync::{FailureRecord, ListingId, StockChanged, SyncWrite};
use crate::time::Millis;

fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("sku")
}
fn token(s: &str) -> Token {
    Token::parse(s).expect("token")
}
const ST: Stamps = Stamps { created_at: Millis(1), updated_at: Millis(2) };

fn is_corrupt<T>(r: StoreResult<T>) -> bool {
    matches!(r, Err(StoreError::Corrupt(_)))
}

fn product(s: &str, components: Vec<Component>) -> Product {
    Product {
        sku: sku(s),
        title: Some("T".into()),
        barcode: None,
        tracked: true,
        backorder_limit: Some(3),
        low_stock_threshold: None,
        components,
    }
}

fn event(s: &str, version: u64, alert: bool) -> StockChanged {
    StockChanged {
        sku: sku(s),
        version,
        available: 0,
        on_hand: 0,
        cause: Op::Sale,
        at: Millis(9),
        oversold: 1,
        alert: alert.then_some(OversoldAlert { units: 1, oversold: 1, op: Op::Sale, channel: None, order_id: None }),
        channel: None,
        ops: Vec::new(),
        orders: Vec::new(),
        erp_behind: Vec::new(),
    }
}

fn listing_row(channel: &str, s: &str, percent: i64, external: serde_json::Value) -> serde_json::Value {
    json!({
        "channel": channel, "sku": s, "identity": "k", "external": external.to_string(), "buffer": 0,
        "percent": percent, "max_listed": null, "zero_at_or_below": null, "created_at": 1, "updated_at": 2
    })
}

fn channel_row(channel: &str, kind: &str, settings: &str) -> serde_json::Value {
    json!({
        "channel": channel, "kind": kind, "account": "a", "enabled": 1, "credentials_secret": null,
        "settings": settings, "created_at": 1, "updated_at": 2
    })
}

// ---------------------------------------------------------------------------------------------
// Catalogue

#[test]
fn a_product_is_written_with_its_components_only_when_it_has_some() {
    let plain = catalog::product_writes(&product("A", vec![]), ST).expect("writes");
    assert_eq!(plain.len(), 2, "upsert and components delete");
    let bundle = catalog::product_writes(&product("B", vec![Component { sku: sku("A"), qty: 2 }]), ST).expect("w");
    assert_eq!(bundle.len(), 3);
    assert!(bundle[2].sql.starts_with("INSERT INTO bundle_components"));
    assert_eq!(bundle[2].args[1], text(r#"[{"sku":"A","qty":2}]"#));
    assert_eq!(plain[0].args[3], Arg::Int(1), "tracked is stored as 1");
    assert_bound(&plain);
    assert_bound(&bundle);
}

#[test]
fn a_products_page_gives_each_product_its_own_components_in_order() {
    let products = rows(json!([
        {"sku": "A", "title": null, "barcode": null, "tracked": 1, "backorder_limit": null,
         "low_stock_threshold": null, "created_at": 1, "updated_at": 2},
        {"sku": "B", "title": "b", "barcode": null, "tracked": 0, "backorder_limit": 5,
         "low_stock_threshold": null, "created_at": 3, "updated_at": 4}
    ]));
    let components = rows(json!([
        {"bundle_sku": "B", "component_sku": "X", "qty": 1},
        {"bundle_sku": "B", "component_sku": "Y", "qty": 2}
    ]));
    let page = catalog::page_of(products, components).expect("page");
    assert_eq!(page.len(), 2);
    assert!(page[0].0.components.is_empty());
    assert_eq!(page[1].0.components, vec![Component { sku: sku("X"), qty: 1 }, Component { sku: sku("Y"), qty: 2 }]);
    assert!(!page[1].0.tracked);
    assert_eq!(page[1].1, Stamps { created_at: Millis(3), updated_at: Millis(4) });
    assert_bound(&catalog::page_reads("", 51));
}

#[test]
fn a_stored_sku_that_is_not_one_is_a_corrupt_row() {
    let products = rows(json!([{"sku": "../x", "title": null, "barcode": null, "tracked": 1,
        "backorder_limit": null, "low_stock_threshold": null, "created_at": 1, "updated_at": 2}]));
    assert!(is_corrupt(catalog::product_of(products, &[])));
    let components = rows(json!([{"bundle_sku": "B", "component_sku": "", "qty": 1}]));
    assert!(is_corrupt(catalog::add_bundles(&mut Default::default(), components)));
    let locations: Vec<catalog::LocationRow> =
        rows(json!([{"location": "bad location!", "name": "n", "created_at": 1, "updated_at": 1}]));
    assert!(locations.into_iter().all(|l| is_corrupt(l.into_record())));
}

#[test]
fn ensured_products_fit_d1s_parameter_and_batch_limits() {
    let many: Vec<(Sku, Option<i64>)> = (0..1_210).map(|i| (sku(&format!("S{i}")), None)).collect();
    let batches = catalog::ensure_products(&many, Millis(5));
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![50, 11], "61 statements of 20 rows");
    let all: Vec<Query> = batches.concat();
    assert_bound(&all);
    assert_eq!(all.iter().map(|q| q.args.len() / 4).sum::<usize>(), 1_210, "every product once");
    assert!(catalog::ensure_products(&[], Millis(5)).is_empty());
}

#[test]
fn in_lists_are_split_into_chunks_d1_can_bind() {
    let skus: Vec<Sku> = (0..200).map(|i| sku(&format!("S{i}"))).collect();
    let reads = catalog::bundle_reads(&skus);
    assert_eq!(reads.iter().map(|q| q.args.len()).collect::<Vec<_>>(), vec![90, 90, 20]);
    assert_bound(&reads);
    let lookups: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    let reads = listings::with_values(&token("shop"), listings::Column::Identity, &lookups);
    assert_eq!(reads.iter().map(|q| q.args.len()).collect::<Vec<_>>(), vec![91, 11], "the channel, then 90 values");
    assert!(reads.iter().all(|q| q.args[0] == text("shop") && q.sql.contains("l.identity IN")));
    assert_bound(&reads);
    assert!(catalog::bundle_reads(&[]).is_empty(), "no values, no statement");
}

#[test]
fn a_replay_keeps_its_answer_and_refuses_a_status_that_is_not_one() {
    let ok = rows(json!([{"status": 201, "body": "{}"}])).pop().expect("row");
    assert_eq!(catalog::replay_of(ok), Ok((201, "{}".to_owned())));
    let bad = rows(json!([{"status": -1, "body": "{}"}])).pop().expect("row");
    assert!(is_corrupt(catalog::replay_of(bad)));
    let loc = LocationRecord { location: Location::parse("main").expect("loc"), name: "Main".into() };
    let mut all = catalog::replay_writes(("k", "fp"), (200, "{}"), Millis(10), Millis(1)).to_vec();
    all.extend([catalog::location_write(&loc, ST), catalog::location_read(&loc.location)]);
    all.extend(catalog::product_deletes(&sku("A")));
    all.extend(catalog::nesting_reads(&sku("A"), &[]).expect("reads"));
    assert_bound(&all);
}

// ---------------------------------------------------------------------------------------------
// Channels and listings

#[test]
fn a_channel_row_with_an_unknown_kind_or_non_object_settings_is_corrupt() {
    let good: Vec<channels::ChannelRow> = rows(json!([channel_row("shop", "shopify", r#"{"a":1}"#)]));
    let (c, st) = good[0].channel().expect("channel");
    assert_eq!((c.kind, c.settings.len(), st), (ChannelKind::Shopify, 1, ST));
    let unknown: Vec<channels::ChannelRow> = rows(json!([channel_row("shop", "etsy", "{}")]));
    assert!(is_corrupt(unknown[0].channel()));
    let array: Vec<channels::ChannelRow> = rows(json!([channel_row("shop", "shopify", "[]")]));
    assert!(is_corrupt(array[0].settings()));
    assert_eq!(channels::kind_of(rows(json!([]))), Ok(None));
    assert!(is_corrupt(channels::kind_of(rows(json!([{"kind": "etsy"}])))));
    let ch = Channel {
        channel: token("shop"),
        kind: ChannelKind::Shopify,
        account: "a".into(),
        enabled: false,
        credentials_secret: None,
        settings: Default::default(),
    };
    let w = channels::write(&ch, ST);
    assert_eq!((&w.args[3], &w.args[4], &w.args[5]), (&Arg::Int(0), &Arg::Null, &text("{}")));
    let mut all = vec![w, channels::get(&ch.channel), channels::page("", 10), channels::listing_count(&ch.channel)];
    all.extend(channels::deletes(&ch.channel));
    assert_bound(&all);
}

#[test]
fn a_listing_rule_out_of_bounds_is_refused_not_clamped() {
    let external = json!({"inventory_item_id": 1, "location_id": 2});
    let over: Vec<listings::ListingRow> = rows(json!([listing_row("shop", "A", 150, external)]));
    assert!(is_corrupt(over[0].rule()));
    assert!(is_corrupt(listings::rules_of(over)));
    let fine: Vec<listings::ListingRow> = rows(json!([listing_row("shop", "A", 40, json!({}))]));
    assert_eq!(listings::rules_of(fine).expect("rules")[&sku("A")].percent, 40);
}

#[test]
fn a_listing_whose_mapping_key_is_not_its_identitys_is_corrupt() {
    let l = Listing {
        channel: token("shop"),
        sku: sku("A"),
        external: External::from(crate::sync::shopify::ShopifyIdentity { inventory_item_id: 1, location_id: 2 }),
        rule: ListingRule::default(),
    };
    let w = listings::write(&l, ST);
    assert_bound(std::slice::from_ref(&w));
    let mut row: serde_json::Value = listing_row("shop", "A", 100, l.external.to_json());
    row["identity"] = json!(l.identity());
    let stored: Vec<listings::ListingRow> = rows(json!([row.clone()]));
    assert_eq!(stored[0].listing(ChannelKind::Shopify).expect("listing"), (l, ST));
    assert!(is_corrupt(stored[0].listing(ChannelKind::Woocommerce)), "the identity is a Shopify one");
    row["identity"] = json!("other");
    let moved: Vec<listings::ListingRow> = rows(json!([row]));
    assert!(is_corrupt(moved[0].listing(ChannelKind::Shopify)));
}

// ---------------------------------------------------------------------------------------------
// Sync state

#[test]
fn unreadable_listings_come_back_as_corrupt_listings_and_unknown_channels_are_left_out() {
    let shopify = json!({"inventory_item_id": 1, "location_id": 2});
    let listing_rows = rows(json!([
        listing_row("shop", "A", 100, shopify.clone()),
        listing_row("shop", "B", 101, shopify.clone()),
        listing_row("shop", "C", 100, json!({"product_id": 1})),
        listing_row("etsy1", "D", 100, shopify.clone()),
        listing_row("gone", "E", 100, shopify),
    ]));
    let channel_rows = rows(json!([channel_row("shop", "shopify", "[]"), channel_row("etsy1", "etsy", "{}")]));
    let (listings, channels) = sync_state::listings_of(listing_rows, channel_rows);
    let outcome: Vec<(String, Result<(), String>)> = listings
        .iter()
        .map(|l| match l {
            Ok(l) => (l.sku.to_string(), Ok(())),
            Err(c) => (c.key.sku.to_string(), Err(c.reason.clone())),
        })
        .collect();
    assert_eq!(outcome.len(), 4, "E's channel is not enabled or not there: left out");
    assert_eq!(outcome[0], ("A".into(), Ok(())));
    assert!(matches!(&outcome[1], (s, Err(r)) if s == "B" && r.starts_with("listing rule")));
    assert!(matches!(&outcome[2], (s, Err(r)) if s == "C" && r.contains("identity")));
    assert!(matches!(&outcome[3], (s, Err(r)) if s == "D" && r.contains("unknown channel kind")));
    assert_eq!(channels.keys().map(Token::as_str).collect::<Vec<_>>(), vec!["shop"]);
    assert!(channels[&token("shop")].settings.is_empty(), "settings that are not an object: pushed with none");
    assert_bound(&sync_state::listings(&(0..100).map(|i| sku(&format!("S{i}"))).collect::<Vec<_>>()));
}

#[test]
fn sync_records_read_negative_counts_as_zero_and_need_both_halves_of_last_pushed() {
    let synced = sync_state::synced_of(rows(json!([
        {"channel": "shop", "sku": "A", "last_version": 4, "last_quantity": null, "pushed_at": null,
         "pending_version": null, "pending_since": null, "attempts": -3, "last_error": null,
         "revisions_day": 7, "revisions": 2},
        {"channel": "shop", "sku": "B", "last_version": 4, "last_quantity": 9, "pushed_at": 1,
         "pending_version": null, "pending_since": null, "attempts": 1, "last_error": null,
         "revisions_day": 7, "revisions": 0},
        {"channel": "", "sku": "C", "last_version": 4, "last_quantity": 9, "pushed_at": 1,
         "pending_version": null, "pending_since": null, "attempts": 1, "last_error": null,
         "revisions_day": 7, "revisions": 0}
    ])));
    let a = &synced[&ListingId { channel: token("shop"), sku: sku("A") }];
    assert_eq!((a.last, a.attempts, a.revisions.count), (None, 0, 2));
    let b = &synced[&ListingId { channel: token("shop"), sku: sku("B") }];
    assert_eq!(b.last.map(|l| (l.version, l.quantity)), Some((4, 9)));
    assert_eq!(synced.len(), 2, "an unreadable channel id is left out");
}

#[test]
fn settling_writes_each_record_and_failure_with_its_bound_values() {
    let key = ListingId { channel: token("shop"), sku: sku("A") };
    let writes = [
        SyncWrite::Pushed { key: key.clone(), version: 3, quantity: 5, at: Millis(8) },
        SyncWrite::Failed { key, version: 4, since: Millis(1), attempts: 2, error: "503".into(), at: Millis(9) },
    ];
    let failures =
        [FailureRecord { channel: None, event: event("A", 4, false), reason: "r".into(), kind: None, at: Millis(9) }];
    let qs = sync_state::settle(&writes, &failures).expect("settle");
    assert_eq!(qs.len(), 3);
    assert_eq!(qs[2].args[0], Arg::Null, "a failure before any channel was known");
    let stored: StockChanged = match &qs[2].args[4] {
        Arg::Text(t) => serde_json::from_str(t).expect("event JSON"),
        other => panic!("event bound as {other:?}"),
    };
    assert_eq!(stored, failures[0].event);
    assert_bound(&qs);
    let rewind = sync_state::rewind(&token("shop"), &event("A", 1, false), None, Millis(1));
    assert_eq!((&rewind.args[0], &rewind.args[5]), (&Arg::Int(0), &Arg::Int(1)));
    assert_bound(&[
        rewind,
        sync_state::status(),
        sync_state::open_failures(),
        sync_state::next_interchange(&token("w")),
    ]);
    assert_eq!(sync_state::interchange_of(None), 1);
    assert!(is_corrupt(sync_state::failed_event_of(3, rows(json!([{"event": "{"}])).pop())));
}

// ---------------------------------------------------------------------------------------------
// Alerts, imports, inbound

#[test]
fn only_events_that_carry_an_alert_are_recorded() {
    let (a, b) = (event("A", 2, true), event("B", 3, false));
    let qs = alerts::record(&[&a, &b]);
    assert_eq!(qs.len(), 1);
    assert_eq!((&qs[0].args[0], &qs[0].args[1], &qs[0].args[4]), (&text("A"), &Arg::Int(2), &text("sale")));
    assert_bound(&qs);
    assert_bound(&[alerts::page(0, None, None, 10), alerts::acknowledge(1, Millis(1))]);
}

#[test]
fn an_import_chunk_or_report_that_does_not_decode_is_corrupt() {
    let bad: imports::ChunkRow = rows(json!([{"outcomes": "not json", "report": null, "attempts": 1}])).remove(0);
    assert!(is_corrupt(imports::chunk_of(bad)));
    let fresh: imports::ChunkRow = rows(json!([{"outcomes": "[]", "report": "[]", "attempts": 2}])).remove(0);
    let c = imports::chunk_of(fresh).expect("chunk");
    assert!(c.finished && c.outcomes.is_empty() && c.attempts == 2);
    assert!(is_corrupt(imports::summaries_of(rows(json!([{"value": "{"}])))));
    assert_bound(&imports::begin_chunk("j", 0, Millis(1)));
    assert_bound(&[imports::job("j"), imports::exists("j"), imports::chunk("j", 1)]);
}

#[test]
fn a_poll_state_that_does_not_decode_starts_again_from_since() {
    let since = Millis(1_000);
    let unreadable: Vec<inbound::StateRow> = rows(json!([{"state": "nonsense"}]));
    assert_eq!(inbound::poll_state_of(unreadable.into_iter().next(), since), PollState::new(since));
    let mut stored = PollState::new(Millis(5));
    stored.watermark = Some(Millis(700));
    let row: Vec<inbound::StateRow> = rows(json!([{"state": serde_json::to_string(&stored).expect("json")}]));
    let state = inbound::poll_state_of(row.into_iter().next(), since);
    assert_eq!((state.since, state.watermark), (since, Some(Millis(700))), "since as configured now");
}

#[test]
fn inbound_listings_are_one_per_sku_and_the_polled_kinds_come_from_the_registry() {
    let external = json!({"inventory_item_id": 1, "location_id": 2});
    let listings = inbound::listings_of(rows(json!([
        listing_row("shop", "B", 100, external.clone()),
        listing_row("shop", "A", 100, external.clone()),
        listing_row("shop", "B", 100, external),
    ])));
    assert_eq!(listings.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>(), vec!["A", "B"]);
    let records = inbound::poll_records();
    assert!(records.sql.contains("IN ('woocommerce', 'amazon', 'ebay')"), "{}", records.sql);
    let polled = inbound::polled_channels(Some(&token("woo")));
    assert_bound(&[records, polled, inbound::unmatched(0, None, 5), inbound::drift(0, (None, None), 5)]);
    let seen: Vec<String> = (0..95).map(|i| format!("o{i}")).collect();
    assert_bound(&inbound::seen_fingerprints(&token("woo"), &seen));
    let shop = inbound::webhook_channels(ChannelKind::Shopify, Some("Shop.Example"), None);
    assert_eq!(shop.args[1], text("shop.example"), "accounts match case-insensitively");
    assert_bound(&[shop, inbound::webhook_channels(ChannelKind::Shopify, None, None)]);
}

// ---------------------------------------------------------------------------------------------
// Every statement against the schema

/// One statement of every kind the store sends.
fn every_statement() -> Vec<Query> {
    let (shop, a) = (token("shop"), sku("A"));
    let l = Listing {
        channel: shop.clone(),
        sku: a.clone(),
        external: External::from(crate::sync::shopify::ShopifyIdentity { inventory_item_id: 1, location_id: 2 }),
        rule: ListingRule::default(),
    };
    let ch = Channel {
        channel: shop.clone(),
        kind: ChannelKind::Shopify,
        account: "a".into(),
        enabled: true,
        credentials_secret: Some("S".into()),
        settings: Default::default(),
    };
    let loc = LocationRecord { location: Location::main(), name: "Main".into() };
    let e = event("A", 2, true);
    let mut all = Vec::new();
    all.extend(catalog::product_reads(&a));
    all.extend(catalog::nesting_reads(&a, &[Component { sku: sku("B"), qty: 1 }]).expect("reads"));
    all.extend(catalog::page_reads("", 10));
    all.extend(catalog::product_writes(&product("K", vec![Component { sku: a.clone(), qty: 1 }]), ST).expect("w"));
    all.extend(catalog::product_deletes(&a));
    all.extend(catalog::bundle_reads(std::slice::from_ref(&a)));
    all.extend(catalog::containing_reads(std::slice::from_ref(&a)));
    all.extend(catalog::ensure_products(&[(a.clone(), Some(1))], Millis(1)).concat());
    all.extend([catalog::tracked_read(), catalog::location_read(&loc.location), catalog::locations_read("", 5)]);
    all.extend([catalog::location_write(&loc, ST), catalog::location_delete(&loc.location)]);
    all.push(catalog::replay_read("k", "fp", Millis(1)));
    all.extend(catalog::replay_writes(("k", "fp"), (200, "{}"), Millis(2), Millis(1)));
    all.extend([channels::kind_read(&shop), channels::get(&shop), channels::page("", 5)]);
    all.extend([channels::listing_count(&shop), channels::write(&ch, ST)]);
    all.extend(channels::deletes(&shop));
    all.extend([listings::get(&shop, &a), listings::page(&shop, "", 5), listings::write(&l, ST)]);
    all.extend([listings::delete(&shop, &a), listings::by_identity(&shop, "k")]);
    all.extend(listings::with_values(&shop, listings::Column::Sku, &["A"]));
    all.extend(alerts::record(&[&e]));
    all.extend([
        alerts::page(0, Some(&a), Some(crate::alerts::AlertKind::Drift), 5),
        alerts::acknowledge(1, Millis(1)),
    ]);
    let job = imports::Job {
        id: "j".into(),
        format: crate::import::Format::Plain,
        basis: crate::import::Basis::OnHand,
        mode: crate::import::Mode::Set,
        dry_run: false,
        fingerprint: "fp".into(),
        location_mappings: json!([]),
    };
    all.extend(imports::submit(&job, &[Vec::new(), Vec::new()], (0, 0), Millis(1)).expect("submit"));
    let summary = crate::import::Summary::default();
    all.extend(imports::finish_chunk("j", 1, &[], &summary, Millis(1)).expect("finish"));
    all.extend(imports::begin_chunk("j", 1, Millis(1)));
    all.extend([imports::exists("j"), imports::job("j"), imports::chunk("j", 1)]);
    all.extend([imports::stalled(Millis(1), 5), imports::unfinished("j"), imports::moved("j", Millis(1))]);
    all.extend([imports::finished("j", imports::Finished::Summary), imports::finished("j", imports::Finished::Report)]);
    all.extend([inbound::webhook_channels(ChannelKind::Shopify, Some("s"), None)]);
    all.extend([inbound::polled_channels(None), inbound::marketplaces(&shop), inbound::delivery_seen("d")]);
    let lookups = crate::inbound::apply::Lookups { identities: vec!["i".into()], skus: vec!["A".into()] };
    all.extend(inbound::listings(&shop, &lookups));
    let detail = json!({});
    let d = inbound::Delivery { key: "d", channel: &shop, topic: "t", outcome: "o", detail: &detail };
    all.extend(inbound::record_delivery(&d, Millis(1)));
    all.push(inbound::lease(&shop, &PollState::new(Millis(0)), Millis(1)).expect("lease"));
    all.extend([inbound::poll_state(&shop), inbound::save_state(&shop, &PollState::new(Millis(0))).expect("s")]);
    all.push(inbound::finish(&crate::inbound::poll::PollRun::new(&shop, ChannelKind::Woocommerce), Millis(1)));
    all.extend([inbound::prune_seen(Millis(1)), inbound::poll_records()]);
    all.extend(inbound::seen_fingerprints(&shop, &["o".into()]));
    all.extend(inbound::remember(&shop, &[("o", "f")], Millis(1)));
    all.extend([inbound::unmatched(0, Some(&shop), 5), inbound::drift(0, (Some(&shop), Some(&a)), 5)]);
    all.extend(sync_state::listings(std::slice::from_ref(&a)));
    all.extend(sync_state::synced(std::slice::from_ref(&a)));
    let key = ListingId { channel: shop.clone(), sku: a.clone() };
    let revisions = crate::sync::DailyRevisions { day: 1, count: 2 };
    all.extend(sync_state::count_revisions(&[(key.clone(), revisions)], 1));
    let pushed = SyncWrite::Pushed { key, version: 1, quantity: 1, at: Millis(1) };
    all.extend(sync_state::settle(&[pushed], &[]).expect("settle"));
    all.extend([sync_state::next_interchange(&shop), sync_state::status(), sync_state::open_failures()]);
    all.extend([sync_state::failed_event(1), sync_state::reset_attempts(&a), sync_state::mark_retried(1, Millis(1))]);
    all.push(sync_state::rewind(&shop, &e, Some(3), Millis(1)));
    all
}

/// The tables the migrations leave: created, less those dropped, renamed as they were renamed.
fn schema_tables() -> std::collections::BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("migrations").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let mut tables = std::collections::BTreeSet::new();
    for f in files {
        let sql = std::fs::read_to_string(f).expect("migration");
        let mut words: Vec<&str> =
            sql.split(|c: char| c.is_whitespace() || c == '(' || c == ';').filter(|w| !w.is_empty()).collect();
        words.extend([""; 5]);
        for w in words.windows(6) {
            match w {
                ["CREATE", "TABLE", "IF", "NOT", "EXISTS", t] | ["CREATE", "TABLE", t, ..] => {
                    tables.insert((*t).to_owned());
                }
                ["DROP", "TABLE", t, ..] => {
                    tables.remove(*t);
                }
                ["ALTER", "TABLE", from, "RENAME", "TO", to] => {
                    tables.remove(*from);
                    tables.insert((*to).to_owned());
                }
                _ => {}
            }
        }
    }
    tables.remove("IF");
    tables
}

#[test]
fn every_statement_names_tables_the_migrations_create_and_binds_what_it_names() {
    let tables = schema_tables();
    assert!(tables.contains("channels") && !tables.contains("channels_new"), "{tables:?}");
    let statements = every_statement();
    assert_bound(&statements);
    for q in &statements {
        let words: Vec<&str> =
            q.sql.split(|c: char| c.is_whitespace() || c == '(' || c == ',').filter(|w| !w.is_empty()).collect();
        for w in words.windows(2) {
            if let ["FROM" | "INTO" | "UPDATE" | "JOIN", t] = w {
                let builtin = t.starts_with("json_each") || ["SELECT", "SET"].contains(t);
                assert!(builtin || tables.contains(*t), "{t} (in {}) is not a table of the migrations", q.sql);
            }
        }
    }
}
