use super::*;
use crate::stock::OversoldAlert;
use crate::sync::FailureKind;
use crate::time::Millis;

fn event(sku: &str, version: u64, cause: Op, channel: Option<&str>) -> StockChanged {
    StockChanged {
        sku: Sku::parse(sku).expect("sku"),
        version,
        available: 0,
        on_hand: 0,
        cause,
        at: Millis(1_000),
        oversold: 0,
        alert: None,
        channel: channel.map(str::to_owned),
        ops: Vec::new(),
        orders: Vec::new(),
        erp_behind: Vec::new(),
    }
}

/// Parses rendered text into `{ "name{labels}": value }`, checking every sample's family is typed.
fn parse(text: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').expect("name value");
        let name = series.split('{').next().expect("name");
        let family = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        assert!(
            text.contains(&format!("# TYPE {name} ")) || text.contains(&format!("# TYPE {family} histogram")),
            "{name} has no TYPE"
        );
        out.insert(series.to_owned(), value.parse().expect("integer value"));
    }
    out
}

/// Adds `increments` to `store` as D1 would (sum per key).
fn add(store: &mut Tally, increments: impl IntoIterator<Item = (Key, i64)>) {
    for (k, n) in increments {
        *store.entry(k).or_default() += n;
    }
}

#[test]
fn ledger_changes_count_by_kind_and_channel_and_repeats_count_once() {
    let oversold = StockChanged {
        alert: Some(OversoldAlert {
            units: 3,
            oversold: 3,
            op: Op::Sale,
            channel: Some("ebay".into()),
            order_id: Some("9".into()),
        }),
        ..event("B", 4, Op::Sale, Some("ebay"))
    };
    let batch = vec![
        event("A", 1, Op::Set, None),
        event("A", 2, Op::Reserve, Some("web")),
        event("A", 2, Op::Reserve, Some("web")), // the queue's repeat
        event("A", 3, Op::Commit, None),
        event("A", 4, Op::Reserve, None),
        event("A", 5, Op::Release, None),
        event("A", 6, Op::Reserve, None),
        event("A", 7, Op::Expire, None),
        event("A", 8, Op::Sale, Some("amazon")),
        event("A", 9, Op::Cancel, Some("amazon")),
        oversold.clone(),
    ];
    let counted = counted_changes(&batch);
    assert_eq!(counted.len(), 9, "the set counts nothing; the repeat once");
    let mut store = Tally::new();
    add(&mut store, counted.into_iter().flat_map(|c| c.increments));
    let text = render(&store.into_iter().collect::<Vec<_>>());
    let m = parse(&text);
    assert_eq!(m["stockedge_holds_total{outcome=\"placed\"}"], 3);
    assert_eq!(m["stockedge_holds_total{outcome=\"committed\"}"], 1);
    assert_eq!(m["stockedge_holds_total{outcome=\"released\"}"], 1);
    assert_eq!(m["stockedge_holds_total{outcome=\"expired\"}"], 1);
    assert_eq!(m["stockedge_sales_total{channel=\"amazon\"}"], 1);
    assert_eq!(m["stockedge_sales_total{channel=\"ebay\"}"], 1);
    assert_eq!(m["stockedge_cancels_total{channel=\"amazon\"}"], 1);
    assert_eq!(m["stockedge_oversold_units_total{channel=\"ebay\"}"], 3);
    assert_eq!(m.len(), 8, "{text}");
}

#[test]
fn pushes_count_by_channel_and_result_and_latency_fills_cumulative_buckets() {
    let ok = PushResult::Pushed;
    let throttled = PushResult::RetryAfter(2);
    let bad = PushResult::permanent(FailureKind::Credentials, "401");
    let tally = push_increments(
        [("shop", &ok), ("shop", &ok), ("shop", &throttled), ("amazon", &bad)],
        [("shop", 7), ("shop", 60), ("shop", 60_000), ("amazon", 100)],
    );
    let m = parse(&render(&tally.into_iter().collect::<Vec<_>>()));
    assert_eq!(m["stockedge_pushes_total{channel=\"shop\",result=\"pushed\"}"], 2);
    assert_eq!(m["stockedge_pushes_total{channel=\"shop\",result=\"throttled\"}"], 1);
    assert_eq!(m["stockedge_pushes_total{channel=\"amazon\",result=\"permanent\"}"], 1);
    assert_eq!(m["stockedge_push_latency_ms_bucket{channel=\"shop\",le=\"10\"}"], 1);
    assert_eq!(m["stockedge_push_latency_ms_bucket{channel=\"shop\",le=\"50\"}"], 1);
    assert_eq!(m["stockedge_push_latency_ms_bucket{channel=\"shop\",le=\"100\"}"], 2);
    assert_eq!(m["stockedge_push_latency_ms_bucket{channel=\"shop\",le=\"10000\"}"], 2);
    assert_eq!(m["stockedge_push_latency_ms_bucket{channel=\"shop\",le=\"+Inf\"}"], 3);
    assert_eq!(m["stockedge_push_latency_ms_count{channel=\"shop\"}"], 3);
    assert_eq!(m["stockedge_push_latency_ms_sum{channel=\"shop\"}"], 60_067);
    assert_eq!(m["stockedge_push_latency_ms_bucket{channel=\"amazon\",le=\"50\"}"], 0, "buckets below stay 0");
    assert_eq!(m["stockedge_push_latency_ms_bucket{channel=\"amazon\",le=\"100\"}"], 1);
}

#[test]
fn histogram_buckets_render_in_increasing_le_and_every_family_is_announced() {
    let tally = push_increments([], [("c", 3_000)]);
    let text = render(&tally.into_iter().collect::<Vec<_>>());
    let les: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("stockedge_push_latency_ms_bucket"))
        .map(|l| l.split("le=\"").nth(1).and_then(|s| s.split('"').next()).expect("le"))
        .collect();
    let mut want: Vec<String> = LATENCY_BUCKETS_MS.iter().map(u64::to_string).collect();
    want.push("+Inf".into());
    assert_eq!(les, want.iter().map(String::as_str).collect::<Vec<_>>());
    for (family, kind, _) in FAMILIES {
        assert!(text.contains(&format!("# HELP {family} ")), "{family}");
        assert!(text.contains(&format!("# TYPE {family} {kind}\n")), "{family}");
    }
}

#[test]
fn queue_lag_is_the_oldest_change_age_and_webhooks_count_by_platform_and_outcome() {
    let mut old = event("A", 1, Op::Set, None);
    old.at = Millis(400);
    let (key, lag) = queue_lag(&[event("A", 2, Op::Set, None), old], Millis(1_500));
    assert_eq!((key.name.as_str(), lag), (QUEUE_LAG, 1_100));
    assert_eq!(queue_lag(&[], Millis(9)).1, 0);
    let mut store = Tally::new();
    add(&mut store, [webhook_increment("shopify", WebhookOutcome::Accepted)]);
    add(&mut store, [webhook_increment("shopify", WebhookOutcome::Unauthorized)]);
    add(&mut store, [webhook_increment("shopify", WebhookOutcome::Unauthorized)]);
    add(&mut store, [(key, lag)]);
    let m = parse(&render(&store.into_iter().collect::<Vec<_>>()));
    assert_eq!(m["stockedge_webhook_deliveries_total{platform=\"shopify\",outcome=\"accepted\"}"], 1);
    assert_eq!(m["stockedge_webhook_deliveries_total{platform=\"shopify\",outcome=\"unauthorized\"}"], 2);
    assert_eq!(m["stockedge_queue_lag_ms"], 1_100);
}

#[test]
fn label_values_are_escaped() {
    let e = event("A", 1, Op::Sale, Some("we\"ird\\"));
    let (k, _) = &change_increments(&e)[0];
    assert_eq!(k.labels, "channel=\"we\\\"ird\\\\\"");
}

#[test]
fn every_transition_of_a_change_counts_by_its_own_kind_and_channel() {
    use crate::sync::OpCount;
    let e = StockChanged {
        ops: vec![
            OpCount { op: Op::Expire, channel: None, n: 2 },
            OpCount { op: Op::Reserve, channel: Some("web".into()), n: 1 },
        ],
        ..event("A", 7, Op::Reserve, Some("web"))
    };
    let mut store = Tally::new();
    add(&mut store, change_increments(&e));
    let m = parse(&render(&store.into_iter().collect::<Vec<_>>()));
    assert_eq!(m["stockedge_holds_total{outcome=\"expired\"}"], 2);
    assert_eq!(m["stockedge_holds_total{outcome=\"placed\"}"], 1);
}

#[test]
fn poll_runs_count_by_channel_and_result() {
    let tally = poll_run_increments([("woo", "polled"), ("woo", "polled"), ("amz", "busy")]);
    let rows: Vec<(Key, i64)> = tally.into_iter().collect();
    let text = render(&rows);
    assert!(text.contains("# TYPE stockedge_poll_runs_total counter"));
    let samples = parse(&text);
    assert_eq!(samples.get("stockedge_poll_runs_total{channel=\"woo\",result=\"polled\"}"), Some(&2));
    assert_eq!(samples.get("stockedge_poll_runs_total{channel=\"amz\",result=\"busy\"}"), Some(&1));
}
