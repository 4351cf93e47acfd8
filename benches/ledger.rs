//! Criterion benchmarks of the pure core: `cargo bench --bench ledger`.
//!
//! - `reserve_release/1000_active_holds`: one Reserve + one Release (fresh hold id) on a ledger
//!   that keeps 1,000 active holds (and `…_10000_terminal_holds`: the same with 10,000 released
//!   holds retained, which each command's expiry scan walks too);
//! - `sale_apply/3_lines`: one marketplace Sale of 3 lines over 2 locations (fresh order);
//! - `journal_replay/100000_entries`: `journal::replay` of 100,000 entries;
//! - `restore/10000_holds`: `Ledger::restore` of a snapshot holding 10,000 holds;
//! - `cart_plan/100_lines`: `cart::plan` of 100 lines over 40 SKUs and 2 locations.
//!
//! Each bench is kept short (1 s warm-up, 3 s measurement) so that the whole run takes a couple
//! of minutes on 2 cores. Under `cargo test --all-targets` criterion runs each bench once (test
//! mode), in a debug build, as a smoke test.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use stockedge::cart::plan;
use stockedge::orders::Line;
use stockedge::stock::{
    invariants, journal, Cause, Command, Entry, Hold, HoldStatus, Ledger, Levels, Location, OrderKey, SaleLine, Sku,
    Snapshot, Token,
};
use stockedge::time::Millis;

fn loc(s: &str) -> Location {
    Location::parse(s).expect("location")
}
fn tok(s: &str) -> Token {
    Token::parse(s).expect("token")
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(50)
}

/// Runs `body(ledger, i)` for `iters` iterations, on a fresh clone of `base` every `chunk`
/// iterations (the clone is not timed), so that state built up by the iterations (released
/// holds, orders) stays bounded.
fn chunked(base: &Ledger, iters: u64, chunk: u64, mut body: impl FnMut(&mut Ledger, &Token, Millis)) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = chunk.min(iters - done);
        let mut l = base.clone();
        let ids: Vec<Token> = (0..n).map(|i| tok(&format!("b{i}"))).collect();
        let start = Instant::now();
        for (i, id) in ids.iter().enumerate() {
            body(&mut l, id, Millis(1_000 + i as i64));
        }
        total += start.elapsed();
        drop(black_box(l));
        done += n;
    }
    total
}

fn stocked(on_hand: i64) -> Ledger {
    let mut l = Ledger::new();
    for location in ["main", "east"] {
        let set = Command::Set { location: loc(location), on_hand, expected_version: None, cause: Cause::default() };
        l.apply(set, Millis(0)).expect("set");
    }
    l.take_changes();
    l
}

fn reserve_release(c: &mut Criterion) {
    let mut g = c.benchmark_group("reserve_release");
    g.throughput(Throughput::Elements(1));
    // 1,000 active holds; then the same with 10,000 terminal (released) holds kept for their
    // 7-day retention, which every command's `expire_due` scan also walks.
    for (name, terminal) in [("1000_active_holds", 0), ("1000_active_10000_terminal_holds", 10_000)] {
        let base = Ledger::restore(snapshot_with_holds(1_000, terminal, 0));
        assert_eq!(base.holds().filter(|h| h.status == HoldStatus::Held).count(), 1_000);
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                chunked(&base, iters, 1_000, |l, id, now| {
                    let reserve = Command::Reserve {
                        hold: id.clone(),
                        lines: vec![(loc("main"), 2)],
                        expires_at: Millis(now.0 + 900_000),
                        channel: None,
                        reference: None,
                    };
                    black_box(l.apply(reserve, now).expect("reserve"));
                    black_box(l.apply(Command::Release { hold: id.clone() }, now).expect("release"));
                    l.take_changes();
                })
            })
        });
    }
    g.finish();
}

fn sale_apply(c: &mut Criterion) {
    let base = stocked(1_000);
    let mut g = c.benchmark_group("sale_apply");
    g.throughput(Throughput::Elements(1));
    g.bench_function("3_lines", |b| {
        b.iter_custom(|iters| {
            chunked(&base, iters, 1_000, |l, id, now| {
                let sale = Command::Sale {
                    order: OrderKey { channel: tok("amazon"), order_id: id.clone() },
                    lines: vec![
                        SaleLine { line_id: tok("1"), location: loc("main"), qty: 1 },
                        SaleLine { line_id: tok("2"), location: loc("main"), qty: 2 },
                        SaleLine { line_id: tok("3"), location: loc("east"), qty: 1 },
                    ],
                };
                black_box(l.apply(sale, now).expect("sale"));
                l.take_changes();
            })
        })
    });
    g.finish();
}

/// A journal of exactly `n` entries: a template of about 2,000 real entries (reserves,
/// releases, expiries, commits, sales, cancels, fulfilments, adjustments, a policy change),
/// repeated with its seq and versions shifted.
fn journal_of(n: usize) -> Vec<Entry> {
    let mut l = Ledger::new();
    for location in ["main", "east"] {
        let set =
            Command::Set { location: loc(location), on_hand: 500, expected_version: None, cause: Cause::default() };
        l.apply(set, Millis(0)).expect("set");
    }
    let mut template: Vec<Entry> = Vec::new();
    let mut i = 0u64;
    let mut now = 10;
    while template.len() < 2_000 {
        i += 1;
        now += 100;
        let hold = tok(&format!("r{i}"));
        let location = if i.is_multiple_of(2) { loc("main") } else { loc("east") };
        let order = OrderKey { channel: tok("direct"), order_id: tok(&format!("o{i}")) };
        let cmds = match i % 6 {
            0 | 1 => vec![Command::Reserve {
                hold: hold.clone(),
                lines: vec![(location.clone(), 2)],
                expires_at: Millis(now + 250),
                channel: None,
                reference: Some("cart".into()),
            }],
            2 => vec![
                Command::Reserve {
                    hold: hold.clone(),
                    lines: vec![(location.clone(), 1)],
                    expires_at: Millis(now + 10_000),
                    channel: None,
                    reference: None,
                },
                Command::Release { hold },
            ],
            3 => vec![
                Command::Reserve {
                    hold: hold.clone(),
                    lines: vec![(loc("main"), 1), (loc("east"), 1)],
                    expires_at: Millis(now + 10_000),
                    channel: None,
                    reference: None,
                },
                Command::Commit { hold, order: order.clone() },
                Command::Fulfil { order, location: loc("main"), qty: 1, shipment: tok("s1") },
            ],
            4 => vec![
                Command::Sale {
                    order: order.clone(),
                    lines: vec![SaleLine { line_id: tok("1"), location: location.clone(), qty: 1 }],
                },
                Command::Cancel { order, reason: Some("customer".into()) },
            ],
            _ => vec![Command::Adjust {
                location,
                delta: 2,
                cause: Cause { reason: Some("received".into()), ..Cause::default() },
            }],
        };
        for cmd in cmds {
            l.apply(cmd, Millis(now)).expect("command");
        }
        if i == 100 {
            l.apply(Command::Policy { backorder_limit: 5 }, Millis(now)).expect("policy");
        }
        template.extend(l.take_changes().entries);
    }
    let (seqs, versions) = (template.len() as u64, template.last().map_or(0, |e| e.version));
    let mut out = Vec::with_capacity(n);
    for round in 0.. {
        for e in &template {
            if out.len() == n {
                return out;
            }
            let mut e = e.clone();
            e.seq += round * seqs;
            e.version += round * versions;
            out.push(e);
        }
    }
    out
}

fn journal_replay(c: &mut Criterion) {
    let entries = journal_of(100_000);
    assert_eq!(entries.len(), 100_000);
    let r = journal::replay(&entries).expect("replay");
    assert_eq!(r.last_seq, 100_000);
    let mut g = c.benchmark_group("journal_replay");
    g.throughput(Throughput::Elements(entries.len() as u64));
    g.sample_size(30);
    g.bench_function("100000_entries", |b| b.iter(|| journal::replay(black_box(&entries)).expect("replay")));
    g.finish();
}

/// A consistent snapshot with `held` held holds (one or two lines each, deadlines from
/// 1,000,000 ms on), `released` released holds and `orders` open orders, built directly
/// (building it through `apply` is quadratic in debug builds, which check invariants after
/// every command).
fn snapshot_with_holds(held: usize, released: usize, orders_n: usize) -> Snapshot {
    let mut levels: BTreeMap<Location, Levels> = BTreeMap::new();
    levels.insert(loc("main"), Levels::default());
    let mut holds = Vec::with_capacity(held + released);
    for i in 0..held + released {
        let status = if i < held { HoldStatus::Held } else { HoldStatus::Released };
        let mut lines = BTreeMap::new();
        lines.insert(loc("main"), 1 + (i % 3) as i64);
        if i.is_multiple_of(4) {
            lines.insert(loc("east"), 1);
        }
        if status == HoldStatus::Held {
            for (l, q) in &lines {
                levels.entry(l.clone()).or_default().reserved += q;
            }
        }
        holds.push(Hold {
            id: tok(&format!("reservation-{i:06}")),
            lines,
            expires_at: Millis(1_000_000 + i as i64),
            status,
            pinned: status == HoldStatus::Held && i.is_multiple_of(50),
            channel: Some(tok("web")),
            reference: Some(format!("cart {i}")),
            order: None,
            updated_at: Millis(1_000),
            lend: None,
        });
    }
    let mut orders = Vec::with_capacity(orders_n);
    for i in 0..orders_n {
        let mut o = stockedge::stock::Order::default();
        o.lines.insert(
            tok("1"),
            stockedge::stock::OrderLine { location: loc("main"), qty: 2, fulfilled: 1, cancelled: false },
        );
        levels.entry(loc("main")).or_default().committed += 1;
        orders.push((OrderKey { channel: tok("amazon"), order_id: tok(&format!("A-{i:06}")) }, o));
    }
    for l in levels.values_mut() {
        l.on_hand = l.reserved + l.committed + 100;
    }
    let snap =
        Snapshot { levels, backorder_limit: 0, version: 12_345, last_seq: 23_456, holds, orders, erp: BTreeMap::new() };
    invariants::check(&Ledger::restore(snap.clone())).expect("a consistent snapshot");
    snap
}

fn restore(c: &mut Criterion) {
    let snap = snapshot_with_holds(10_000, 0, 1_000);
    let mut g = c.benchmark_group("restore");
    g.throughput(Throughput::Elements(snap.holds.len() as u64));
    g.sample_size(30);
    g.bench_function("10000_holds", |b| b.iter_batched(|| snap.clone(), Ledger::restore, BatchSize::LargeInput));
    g.finish();
}

fn cart_plan(c: &mut Criterion) {
    let lines: Vec<Line> = (0..100)
        .map(|i| Line {
            sku: Sku::parse(&format!("SKU-{:03}", (i * 7) % 40)).expect("sku"),
            qty: 1 + i % 3,
            location: if i % 5 == 0 { loc("east") } else { loc("main") },
            line_id: None,
        })
        .collect();
    assert_eq!(plan(&lines).expect("plan").len(), 40);
    let mut g = c.benchmark_group("cart_plan");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("100_lines", |b| b.iter(|| plan(black_box(&lines)).expect("plan")));
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = reserve_release, sale_apply, journal_replay, restore, cart_plan
}
criterion_main!(benches);
