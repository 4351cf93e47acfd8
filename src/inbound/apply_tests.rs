//! One test per decision of the apply planner.

use super::*;
use crate::catalog::Component;

const NOW: Millis = Millis(1_800_000_000_000);

fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("sku")
}

fn channel(settings: &str) -> InboundChannel {
    InboundChannel::of("shop", "shop.example.com".into(), None, settings).expect("channel")
}

fn at(kind: ChannelKind) -> Arrival<'static> {
    Arrival { kind, topic: "orders/create", dedupe_key: Some("d-1"), now: NOW }
}

fn shopify_line(id: &str, sku: &str, qty: i64) -> InboundLine {
    InboundLine {
        identity: LineIdentity {
            sku: Some(sku.into()),
            ids: PlatformIds::Shopify {
                inventory_item_id: None,
                variant_id: Some(9),
                product_id: None,
                location_id: None,
            },
        },
        line_id: id.into(),
        qty,
        restock: None,
        order_line_id: None,
    }
}

fn level(item: i64, location: i64, qty: i64) -> InboundLine {
    crate::inbound::shopify::level_line(item, location, qty)
}

fn event(kind: EventKind, lines: Vec<InboundLine>) -> InboundEvent {
    InboundEvent {
        channel_kind: ChannelKind::Shopify,
        account: "shop.example.com".into(),
        order_id: (kind != EventKind::Drift).then(|| "1001".into()),
        kind,
        lines,
        occurred_at: Millis(NOW.0 - 1000),
    }
}

fn listing(s: &str, identity: &str, last_pushed: Option<i64>) -> Listing {
    Listing {
        sku: s.into(),
        identity: identity.into(),
        external: r#"{"inventory_item_id":7,"location_id":1}"#.into(),
        rule: StoredRule { buffer: 0, percent: 100, max_listed: None, zero_at_or_below: None },
        last_pushed,
    }
}

fn loaded(listings: Vec<Listing>) -> Loaded {
    Loaded { listings, ..Loaded::default() }
}

fn state(s: &str, available: i64) -> StockChanged {
    StockChanged::current(sku(s), 4, available, available, 0, NOW)
}

fn run(ch: &InboundChannel, events: &[InboundEvent], l: &Loaded) -> Plan {
    plan(ch, &at(ChannelKind::Shopify), events, l).expect("plan")
}

#[test]
fn two_lines_of_one_sku_are_sold_as_two_lines_with_the_platforms_ids() {
    let e = event(EventKind::Sale, vec![shopify_line("11", "A", 1), shopify_line("12", "A", 2)]);
    let p = run(&channel("{}"), &[e], &loaded(vec![listing("A", "shopify:inventory_item:7", None)]));
    let Effect::Sell { order, lines } = &p.effects[0] else { panic!("sell expected: {:?}", p.effects) };
    assert_eq!(order.order_id.as_str(), "1001");
    let ids: Vec<(&str, &str, i64)> = lines.iter().map(|l| (l.sku.as_str(), l.line_id.as_str(), l.qty)).collect();
    assert_eq!(ids, vec![("A", "11", 1), ("A", "12", 2)]);
    assert_eq!(p.tally.sold_lines, 2);
}

#[test]
fn unmatched_lines_are_recorded_and_nothing_is_sold_for_them() {
    let e = event(EventKind::Sale, vec![shopify_line("11", "A", 1), shopify_line("12", "NOPE", 2)]);
    let p = run(&channel(r#"{"location":"east"}"#), &[e], &loaded(vec![listing("A", "x", None)]));
    let Effect::RecordUnmatched(u) = &p.effects[0] else { panic!("unmatched first") };
    assert_eq!((u[0].line_id.as_str(), u[0].kind, u[0].received_at), ("12", UnmatchedKind::Sale, NOW));
    let Effect::Sell { lines, .. } = &p.effects[1] else { panic!("then the sale") };
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].location.as_str(), "east", "settings.location");
    assert_eq!((p.tally.sold_lines, p.tally.unmatched_lines), (1, 1));
}

#[test]
fn bundles_sell_their_components_under_derived_line_ids() {
    let e = event(EventKind::Sale, vec![shopify_line("11", "KIT", 2)]);
    let mut l = loaded(vec![listing("KIT", "k", None)]);
    let kit = Bundle { sku: sku("KIT"), components: vec![Component { sku: sku("A"), qty: 3 }] };
    l.bundles.insert(sku("KIT"), kit);
    assert_eq!(needs(std::slice::from_ref(&e), &l.listings).bundles_of, vec![sku("KIT")]);
    let p = run(&channel("{}"), &[e], &l);
    let Effect::Sell { lines, .. } = &p.effects[0] else { panic!("sell") };
    assert_eq!((lines[0].sku.as_str(), lines[0].qty, lines[0].line_id.as_str()), ("A", 6, "11/A"));
    assert_eq!(p.tally.sold_lines, 1, "the platform's lines are counted");
}

#[test]
fn large_orders_are_sold_in_chunks_the_desk_accepts() {
    let lines: Vec<InboundLine> = (0..MAX_LINES + 1).map(|i| shopify_line(&i.to_string(), "A", 1)).collect();
    let p = run(&channel("{}"), &[event(EventKind::Sale, lines)], &loaded(vec![listing("A", "x", None)]));
    let sizes: Vec<usize> =
        p.effects.iter().map(|e| if let Effect::Sell { lines, .. } = e { lines.len() } else { 0 }).collect();
    assert_eq!(sizes, vec![MAX_LINES, 1]);
}

#[test]
fn a_cancellation_cancels_the_whole_order_with_the_topic_as_reason() {
    let p = run(&channel("{}"), &[event(EventKind::Cancel, Vec::new())], &Loaded::default());
    let Effect::Cancel { order, reason } = &p.effects[0] else { panic!("cancel") };
    assert_eq!((order.channel.as_str(), reason.as_str()), ("shop", "shopify orders/create"));
    assert_eq!(p.tally.cancelled_orders, 1);
}

#[test]
fn restocks_of_returns_apply_once_per_refund_line_and_cancel_lines_are_deferred() {
    let mut back = shopify_line("r1", "A", 2);
    back.restock = Some(RestockType::Return);
    let mut unfulfilled = shopify_line("r2", "A", 1);
    unfulfilled.restock = Some(RestockType::Cancel);
    let mut lost = shopify_line("r3", "NOPE", 1);
    lost.restock = Some(RestockType::LegacyRestock);
    let e = event(EventKind::Restock, vec![back, unfulfilled, lost]);
    assert_eq!(lookups(std::slice::from_ref(&e)).skus, vec!["A", "NOPE"], "deferred lines are not looked up");
    let p = run(&channel("{}"), &[e], &loaded(vec![listing("A", "x", None)]));
    let restock = p.effects.iter().find_map(|e| if let Effect::Restock(r) = e { Some(r) } else { None });
    let r = restock.expect("a restock");
    assert_eq!(r.key, "inbound-restock:shop:1001:r1:A");
    assert_eq!((r.qty, r.cause.reason.as_deref(), r.cause.reference.as_deref()), (2, Some("restock"), Some("d-1")));
    assert!(matches!(r.command(), Command::Adjust { delta: 2, .. }));
    let call = r.call();
    let fp = crate::api::idempotency::fingerprint("POST", RESTOCK_KEY, r.fingerprint_body().as_bytes());
    assert_eq!((call.sku.as_str(), call.idempotency), ("A", Some((r.key.clone(), fp))), "applied once under its key");
    assert!(matches!(&call.action, crate::api::sku_call::SkuAction::Apply { commands } if commands == &[r.command()]));
    let t = p.tally;
    assert_eq!((t.restocked_lines, t.deferred_restock_lines, t.unmatched_lines), (1, 1, 1));
}

fn drift_plan(settings: &str, reported: i64, last_pushed: Option<i64>, available: Option<i64>) -> Plan {
    let e = event(EventKind::Drift, vec![level(7, 1, reported)]);
    let mut l = loaded(vec![listing("A", "shopify:inventory_item:7", last_pushed)]);
    if let Some(a) = available {
        l.states.insert(sku("A"), state("A", a));
    }
    run(&channel(settings), &[e], &l)
}

#[test]
fn an_echo_of_stockedges_own_push_is_nothing_and_needs_no_state() {
    let e = event(EventKind::Drift, vec![level(7, 1, 5)]);
    let listings = vec![listing("A", "shopify:inventory_item:7", Some(5))];
    assert_eq!(needs(std::slice::from_ref(&e), &listings), Needs::default());
    assert_eq!(drift_plan("{}", 5, Some(5), None), Plan::default());
}

#[test]
fn a_level_equal_to_what_stockedge_lists_now_is_nothing() {
    assert_eq!(drift_plan("{}", 8, Some(5), Some(8)), Plan::default());
}

#[test]
fn drift_is_recorded_and_pushed_back_by_default() {
    let p = drift_plan("{}", 3, Some(5), Some(8));
    let Effect::RecordDrift(d) = &p.effects[0] else { panic!("record first") };
    assert_eq!((d.reported, d.last_pushed, d.listed, d.action), (3, Some(5), 8, OnDrift::PushBack));
    let Effect::PushBack { state, seen } = &p.effects[1] else { panic!("then push back") };
    assert_eq!((state.available, state.version, *seen), (8, 4, 3));
    assert_eq!((p.tally.drift_recorded, p.tally.drift_pushed_back), (1, 1));
}

#[test]
fn a_never_stocked_sku_is_judged_and_pushed_as_zero() {
    let p = drift_plan("{}", 3, None, None);
    let Effect::PushBack { state, .. } = &p.effects[1] else { panic!("push back") };
    assert_eq!((state.version, state.available, state.at), (0, 0, NOW));
}

#[test]
fn with_on_drift_flag_drift_is_only_recorded() {
    let p = drift_plan(r#"{"on_drift":"flag"}"#, 3, Some(5), Some(8));
    assert_eq!(p.effects.len(), 1);
    assert!(matches!(&p.effects[0], Effect::RecordDrift(d) if d.action == OnDrift::Flag));
}

#[test]
fn levels_at_another_location_or_of_unlisted_items_are_not_stockedges_business() {
    let e = event(EventKind::Drift, vec![level(7, 2, 3), level(8, 1, 3)]);
    let l = loaded(vec![listing("A", "shopify:inventory_item:7", Some(5))]);
    assert!(needs(std::slice::from_ref(&e), &l.listings).states_of.is_empty());
    assert_eq!(run(&channel("{}"), &[e], &l), Plan::default());
}

#[test]
fn a_stored_rule_out_of_bounds_is_refused_not_clamped() {
    let e = event(EventKind::Drift, vec![level(7, 1, 3)]);
    let mut l = loaded(vec![listing("A", "shopify:inventory_item:7", Some(5))]);
    l.listings[0].rule.percent = 150;
    let err = plan(&channel("{}"), &at(ChannelKind::Shopify), &[e], &l).expect_err("refused");
    assert!(matches!(err, StoreError::Corrupt(m) if m.contains("listing A of channel shop")));
}

#[test]
fn platform_ids_that_are_no_tokens_become_stable_digests() {
    let long = "x".repeat(300);
    assert_eq!(token_of(&long), token_of(&long));
    assert!(token_of(&long).as_str().starts_with("h:"));
    assert_eq!(token_of("1001").as_str(), "1001");
}

#[test]
fn the_answer_says_what_was_done_and_why_not() {
    let mut r = Report::new(&token_of("shop"));
    r.tally.sold_lines = 2;
    let a = r.answer("orders/create");
    assert_eq!(
        (a["result"].as_str(), a["sold_lines"].as_u64(), a["topic"].as_str()),
        (Some("applied"), Some(2), Some("orders/create"))
    );
    r.ignored = Some(Ignored::NothingRestocked);
    assert_eq!(r.result(), "ignored");
    assert_eq!(r.answer("t")["ignored"]["reason"], "nothing_restocked");
    assert_eq!(Report::unusable(&token_of("shop"), "why").answer("t")["detail"], "why");
}

#[test]
fn tallies_add_up() {
    let mut t = Tally { sold_lines: 1, ..Tally::default() };
    t.add(&Tally { sold_lines: 2, unmatched_lines: 1, ..Tally::default() });
    assert_eq!((t.sold_lines, t.unmatched_lines), (3, 1));
}

#[test]
fn a_line_an_operator_mapped_is_planned_as_the_webhook_plans_a_matched_one() {
    let ch = channel(r#"{"location":"north"}"#);
    let sold = event(EventKind::Sale, vec![shopify_line("11", "THEIRS", 2)]);
    let l = loaded(vec![listing("OURS", "shopify:inventory_item:7", None)]);
    let mapped = plan_mapped(&ch, &at(ChannelKind::Shopify), std::slice::from_ref(&sold), &sku("OURS"), &l);
    // The same effect the webhook plans once a listing maps the line.
    let mut matched_line = shopify_line("11", "OURS", 2);
    matched_line.identity.sku = Some("OURS".into());
    let matched = run(&ch, &[event(EventKind::Sale, vec![matched_line])], &l);
    assert_eq!(mapped.effects, matched.effects);
    let Effect::Sell { order, lines } = &mapped.effects[0] else { panic!("sell: {:?}", mapped.effects) };
    assert_eq!((order.order_id.as_str(), lines[0].line_id.as_str()), ("1001", "11"));
    assert_eq!((lines[0].sku.as_str(), lines[0].qty, lines[0].location.as_str()), ("OURS", 2, "north"));
    assert_eq!(mapped.tally.unmatched_lines, 0, "nothing is recorded unmatched again");

    let mut back = shopify_line("r1", "THEIRS", 1);
    back.restock = Some(RestockType::Return);
    let mut kit = Loaded::default();
    kit.bundles.insert(sku("KIT"), Bundle { sku: sku("KIT"), components: vec![Component { sku: sku("A"), qty: 2 }] });
    let restocked =
        plan_mapped(&ch, &at(ChannelKind::Shopify), &[event(EventKind::Restock, vec![back])], &sku("KIT"), &kit);
    let Effect::Restock(r) = &restocked.effects[0] else { panic!("restock: {:?}", restocked.effects) };
    assert_eq!((r.sku.as_str(), r.qty, r.key.as_str()), ("A", 2, "inbound-restock:shop:1001:r1:A"));
    let nothing = plan_mapped(&ch, &at(ChannelKind::Shopify), &[event(EventKind::Cancel, Vec::new())], &sku("A"), &kit);
    assert_eq!(nothing, Plan::default());
}
