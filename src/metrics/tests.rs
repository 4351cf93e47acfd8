use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::executor::block_on;
use futures::future::join;

use super::*;

fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("sku")
}

#[test]
fn repeats_count_as_deliveries_not_as_changes() {
    let mut c = Counters::new(Millis(5));
    for v in [1, 2, 2, 3, 1, 3, 3] {
        c.delivered(&sku("A"), v);
    }
    c.delivered(&sku("B"), 1);
    assert_eq!(c.deliveries(), 8);
    assert_eq!(c.distinct_changes(), 4);
}

#[test]
fn seen_versions_stay_one_range_per_sku_when_consecutive_in_any_order() {
    let mut s = SeenChanges::default();
    let a = sku("A");
    for v in [5, 3, 4, 1, 2, 7, 6, 6, 0] {
        s.insert(&a, v);
    }
    assert_eq!(s.len(), 8);
    assert_eq!(s.ranges(&a), 1);
    assert!(!s.insert(&a, 4), "4 was seen");
    assert!(s.insert(&a, 9));
    assert_eq!(s.ranges(&a), 2, "8 is missing");
    assert!(s.insert(&a, 8));
    assert_eq!(s.ranges(&a), 1);
    assert!(s.insert(&a, u64::MAX));
    assert!(!s.insert(&a, u64::MAX));
    assert_eq!(s.len(), 11);
}

#[test]
fn d1_queries_are_counted_by_origin() {
    let mut c = Counters::new(Millis(0));
    c.d1(Origin::Request, 1);
    c.d1(Origin::Queue, 3);
    c.d1(Origin::Queue, 1);
    assert_eq!(c.d1_queries(Origin::Request), 1);
    assert_eq!(c.d1_queries(Origin::Queue), 2);
    let text = c.render();
    assert!(text.contains("stockedge_d1_queries_total{origin=\"request\"} 1\n"), "{text}");
    assert!(text.contains("stockedge_d1_queries_total{origin=\"queue\"} 2\n"), "{text}");
    assert!(text.contains("stockedge_d1_statements_total{origin=\"queue\"} 4\n"), "{text}");
}

#[test]
fn render_is_prometheus_text_with_every_family_typed() {
    let mut c = Counters::new(Millis(1_700_000_000_000));
    c.outbox_send(3, true);
    c.outbox_send(2, false);
    c.delivered(&sku("A"), 1);
    let text = c.render();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let (name, value) = line.rsplit_once(' ').expect("name value");
        let family = name.split('{').next().expect("family");
        assert!(text.contains(&format!("# TYPE {family} ")), "{family} has no TYPE");
        assert!(value.parse::<u64>().is_ok(), "{line}");
    }
    assert!(text.contains("stockedge_outbox_sends_total 2\n"));
    assert!(text.contains("stockedge_outbox_events_sent_total 3\n"));
    assert!(text.contains("stockedge_outbox_send_failures_total 1\n"));
    assert!(text.contains("stockedge_queue_deliveries_total 1\n"));
    assert!(text.contains("stockedge_queue_changes_total 1\n"));
    assert!(text.contains("stockedge_counters_since_ms 1700000000000\n"));
}

/// Pending once, then ready: a future that yields at an await.
struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn each_poll_sees_its_own_future_origin_when_events_interleave() {
    let seen = std::cell::RefCell::new(Vec::new());
    let task = |name: &'static str| {
        let seen = &seen;
        async move {
            for _ in 0..3 {
                seen.borrow_mut().push((name, current_origin()));
                YieldOnce(false).await;
            }
        }
    };
    block_on(join(Scoped::new(Origin::Queue, task("queue")), task("request")));
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 6);
    // The two interleave, and each step saw its own origin.
    assert!(seen.windows(2).any(|w| w[0].0 != w[1].0), "{seen:?}");
    for (name, origin) in seen {
        assert_eq!(origin.as_str(), name);
    }
    assert_eq!(current_origin(), Origin::Request, "restored after the poll");
}
