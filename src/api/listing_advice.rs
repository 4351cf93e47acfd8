//! `GET /v1/channels/{c}/listings/{sku}/advice` without HTTP: the query, the sales a listing and
//! its SKU's other channels show in the SKU's journal, and the buffer advisor's answer
//! (`oversell::advisor`) with the assumptions it rests on (docs/oversell.md, "The buffer
//! advisor"). The shell reads the listing (its channel kind and buffer) and the journal's newest
//! entries, and answers what [`advice`] makes of them.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::problem::{FieldError, Kind, Problem};
use super::views::EntryView;
use crate::oversell::advisor::{
    self, Inputs, Observed, Sizes, DEFAULT_SELLOUTS_PER_DAY, DEFAULT_TARGET_PER_10K_ORDERS, DEFAULT_TARGET_PER_DAY,
    WINDOW_QUANTILE,
};
use crate::oversell::channel::Channel;
use crate::oversell::delay::measured;
use crate::stock::{Op, Sku, Token};
use crate::time::Millis;

/// The days of journal the sales rates are read over, unless `days` says otherwise.
pub const DEFAULT_DAYS: u32 = 7;
/// The longest `days` the query takes.
pub const MAX_DAYS: u32 = 90;
/// The newest journal entries read (a SKU busier than this over `days` is observed over the
/// span those entries cover: `observed.limited`).
pub const JOURNAL_TAIL: usize = 5_000;
/// Rates are never taken over less than an hour (a SKU first sold a minute ago).
pub const MIN_OBSERVED_MS: i64 = 3_600_000;
/// The loosest `target_per_10k_orders` the query takes (every order).
pub const MAX_TARGET_PER_10K_ORDERS: f64 = 10_000.0;
/// The most sell-outs a day the query takes.
pub const MAX_SELLOUTS_PER_DAY: f64 = 24.0;

const DAY_MS: f64 = 86_400_000.0;

/// What the query asks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdviceQuery {
    /// The probability of an oversell per day not to exceed (0 < target < 1).
    pub target: f64,
    /// Oversold orders per 10,000 of the listing's orders not to exceed (> 0).
    pub target_per_10k_orders: f64,
    pub days: u32,
    pub sellouts_per_day: f64,
}

/// `?target=&target_per_10k_orders=&days=&sellouts_per_day=`, each optional; every faulty field
/// named.
pub fn advice_query(pairs: &[(String, String)]) -> Result<AdviceQuery, Problem> {
    let mut q = AdviceQuery {
        target: DEFAULT_TARGET_PER_DAY,
        target_per_10k_orders: DEFAULT_TARGET_PER_10K_ORDERS,
        days: DEFAULT_DAYS,
        sellouts_per_day: DEFAULT_SELLOUTS_PER_DAY,
    };
    let mut errors = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "target" => match v.parse::<f64>() {
                Ok(t) if t > 0.0 && t < 1.0 => q.target = t,
                _ => errors.push(FieldError::new("target", "must be a probability between 0 and 1, exclusive")),
            },
            "target_per_10k_orders" => match v.parse::<f64>() {
                Ok(t) if t > 0.0 && t <= MAX_TARGET_PER_10K_ORDERS => q.target_per_10k_orders = t,
                _ => errors.push(FieldError::new(
                    "target_per_10k_orders",
                    format!("must be above 0 and at most {MAX_TARGET_PER_10K_ORDERS}"),
                )),
            },
            "days" => match v.parse::<u32>() {
                Ok(d) if (1..=MAX_DAYS).contains(&d) => q.days = d,
                _ => errors.push(FieldError::new("days", format!("must be a whole number from 1 to {MAX_DAYS}"))),
            },
            "sellouts_per_day" => match v.parse::<f64>() {
                Ok(s) if s > 0.0 && s <= MAX_SELLOUTS_PER_DAY => q.sellouts_per_day = s,
                _ => errors.push(FieldError::new(
                    "sellouts_per_day",
                    format!("must be above 0 and at most {MAX_SELLOUTS_PER_DAY}"),
                )),
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

/// The listing asked about and what the shell read around it.
pub struct Read<'a> {
    pub channel: &'a Token,
    pub sku: &'a Sku,
    /// The listing's channel kind and current buffer.
    pub kind: &'a str,
    pub buffer: i64,
    /// The journal's newest entries, oldest first (at most [`JOURNAL_TAIL`]).
    pub entries: &'a [EntryView],
    pub now: Millis,
}

/// One channel's sales over the observed span.
#[derive(Debug, Default, PartialEq)]
struct Sales {
    orders: u64,
    units: u64,
    sizes: Sizes,
}

/// Sales over the observed span by the channel id that made them (`storefront` for committed
/// holds, each commit one order): entries of one order (its lines) are summed into one order.
fn tally(r: &Read, from: Millis) -> BTreeMap<String, Sales> {
    let mut orders: BTreeMap<(String, String), u64> = BTreeMap::new();
    for e in r.entries {
        let Some(at) = Millis::parse_rfc3339(&e.at) else { continue };
        if at < from || e.deltas.committed <= 0 {
            continue;
        }
        let units = e.deltas.committed as u64;
        let by_seq = || format!("seq {}", e.seq);
        let key = match (e.op, e.cause.channel.as_deref()) {
            (Op::Sale, Some(c)) => (c.to_string(), e.cause.order_id.clone().unwrap_or_else(by_seq)),
            (Op::Commit, _) => ("storefront".to_string(), by_seq()),
            _ => continue,
        };
        *orders.entry(key).or_default() += units;
    }
    let mut sales: BTreeMap<String, Sales> = BTreeMap::new();
    for ((channel, _), units) in orders {
        let s = sales.entry(channel).or_default();
        s.orders += 1;
        s.units += units;
        *s.sizes.entry(u32::try_from(units).unwrap_or(u32::MAX)).or_default() += 1;
    }
    sales
}

/// The advice for the listing, with its inputs and assumptions.
pub fn advice(r: &Read, q: &AdviceQuery) -> Result<Value, Problem> {
    let Some(own) = Channel::of_kind(r.kind) else {
        return Err(Problem::invalid(vec![FieldError::new(
            "channel",
            format!("the oversell model has no delays for channel kind {}", r.kind),
        )]));
    };
    let measured = measured()
        .map_err(|e| Problem::new(Kind::Internal, format!("the measured propagation does not parse: {e}")))?;
    let window_start = Millis(r.now.0 - q.days as i64 * DAY_MS as i64);
    let oldest = r.entries.first().and_then(|e| Millis::parse_rfc3339(&e.at));
    let limited = r.entries.len() >= JOURNAL_TAIL && oldest.is_some_and(|o| o > window_start);
    // A journal that begins inside the window (a new SKU, or the tail read) is observed from its
    // first entry.
    let from = oldest.map_or(window_start, |o| o.max(window_start));
    let observed_ms = (r.now.0 - from.0).max(MIN_OBSERVED_MS);
    let days = observed_ms as f64 / DAY_MS;
    let mut sales = tally(r, from);
    let own_sales = sales.remove(r.channel.as_str()).unwrap_or_default();
    let seen = |s: &Sales| Observed { orders_per_day: s.orders as f64 / days, sizes: s.sizes.clone() };
    let others: Vec<Observed> = sales.values().map(seen).collect();
    let Some(window) = advisor::window(own, measured) else {
        return Err(Problem::invalid(vec![FieldError::new(
            "channel",
            format!("no propagation measured for channel kind {}", r.kind),
        )]));
    };
    let inputs = Inputs {
        own_orders_per_day: own_sales.orders as f64 / days,
        unseen: advisor::unseen_flows(&window, &seen(&own_sales), &others),
        window_ms: window.total_ms(),
        sellouts_per_day: q.sellouts_per_day,
        target_per_day: q.target,
        target_per_10k_orders: q.target_per_10k_orders,
    };
    let per_day = |s: &Sales| s.units as f64 / days;
    let other_units_per_day: f64 = sales.values().map(per_day).sum();
    let other_orders_per_day: f64 = others.iter().map(|o| o.orders_per_day).sum();
    let by_channel: BTreeMap<&String, f64> = sales.iter().map(|(id, s)| (id, per_day(s))).collect();
    let mut sizes: BTreeMap<&str, &Sizes> = sales.iter().map(|(id, s)| (id.as_str(), &s.sizes)).collect();
    sizes.insert(r.channel.as_str(), &own_sales.sizes);
    let a = advisor::advise(&inputs);
    let current = u32::try_from(r.buffer.max(0)).unwrap_or(u32::MAX);
    let apply = own.apply_delay();
    Ok(json!({
        "channel": r.channel.as_str(),
        "sku": r.sku.as_str(),
        "kind": r.kind,
        "buffer": {"advised": a.buffer, "current": r.buffer},
        "target_oversell_per_day": q.target,
        "oversell_per_day": {
            "advised": a.oversell_per_day,
            "current": advisor::oversell_per_day(&inputs, current.min(advisor::MAX_BUFFER)),
            "without_buffer": a.oversell_per_day_without,
        },
        "target_oversold_per_10k_orders": q.target_per_10k_orders,
        "oversold_per_10k_orders": {
            "advised": a.oversold_per_10k_orders,
            "current": advisor::oversold_per_10k_orders(&inputs, current.min(advisor::MAX_BUFFER)),
            "without_buffer": a.oversold_per_10k_orders_without,
        },
        "meets_target": a.meets_target,
        "observed": {
            "from": from.to_rfc3339(),
            "to": r.now.to_rfc3339(),
            "days": days,
            "orders": own_sales.orders,
            "units": own_sales.units,
            "orders_per_day": inputs.own_orders_per_day,
            "other_orders_per_day": other_orders_per_day,
            "other_units_per_day": other_units_per_day,
            "other_units_per_day_by_channel": by_channel,
            "order_sizes_by_channel": sizes,
            "entries_read": r.entries.len(),
            "limited": limited,
        },
        "window": {
            "inbound_ms": window.inbound_ms,
            "propagation_ms": window.propagation_ms,
            "apply_ms": window.apply_ms,
            "total_ms": window.total_ms(),
            "quantile": WINDOW_QUANTILE,
        },
        "assumptions": {
            "sellouts_per_day": q.sellouts_per_day,
            "propagation_measured_at": measured.measured_at,
            "apply_delay_ms": {"from": apply.quantile(0.0), "to": apply.quantile(1.0)},
            "statement": "Orders on every channel are Poisson at the observed rates, each of a size drawn from that \
                channel's observed order sizes, so the units this listing has not been shown are compound Poisson (a \
                wholesale lot is one arrival of many units). They are every other channel's orders over the stale \
                window (this channel's sales reaching the ledger + the measured propagation + the platform's apply \
                delay, each at its 99th percentile) and this listing's own orders over its inbound delay (a push may \
                restore them before the ledger records them). The listing can oversell only while the SKU is at its \
                last units, when more than the buffer went unseen and it takes an order inside the window; \
                sellouts_per_day such moments a day. See docs/oversell.md.",
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::{Cause, Deltas};

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn sale(seq: u64, at: i64, channel: &str, order: &str, units: i64) -> EntryView {
        EntryView {
            seq,
            at: Millis(at).to_rfc3339(),
            op: Op::Sale,
            location: "main".into(),
            deltas: Deltas { on_hand: 0, reserved: 0, committed: units },
            cause: Cause { channel: Some(channel.into()), order_id: Some(order.into()), ..Cause::default() },
            version: seq,
        }
    }

    #[test]
    fn the_query_has_defaults_and_names_each_bad_field() {
        let q = advice_query(&[]).expect("defaults");
        assert_eq!((q.target, q.days, q.sellouts_per_day), (DEFAULT_TARGET_PER_DAY, DEFAULT_DAYS, 1.0));
        let q = advice_query(&pairs(&[("target", "0.01"), ("days", "30")])).expect("valid");
        assert_eq!((q.target, q.days), (0.01, 30));
        let p = advice_query(&pairs(&[("target", "1"), ("days", "0"), ("sellouts_per_day", "x")])).expect_err("422");
        let fields: Vec<&str> =
            p.extra["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
        assert_eq!(fields, ["target", "days", "sellouts_per_day"]);
    }

    #[test]
    fn a_busy_amazon_listing_beside_shopify_is_advised_a_buffer_from_its_journal() {
        let now = 10 * 86_400_000;
        let (c, s) = (Token::parse("amz").expect("token"), Sku::parse("MUG").expect("sku"));
        // Over the last 7 days: 70 Amazon orders, 140 Shopify units; older sales are left out.
        let mut entries = vec![sale(1, 86_400_000, "amz", "old", 50)];
        for i in 0..70 {
            entries.push(sale(2 + i, now - 6 * 86_400_000 + i as i64 * 60_000, "amz", &format!("a{i}"), 1));
        }
        for i in 0..70 {
            entries.push(sale(100 + i, now - 5 * 86_400_000 + i as i64 * 60_000, "shop", &format!("s{i}"), 2));
        }
        let r = Read { channel: &c, sku: &s, kind: "amazon", buffer: 0, entries: &entries, now: Millis(now) };
        let v = advice(&r, &advice_query(&[]).expect("q")).expect("advice");
        assert_eq!(v["observed"]["orders"], 70);
        assert!((v["observed"]["orders_per_day"].as_f64().expect("rate") - 10.0).abs() < 1e-9);
        assert!((v["observed"]["other_units_per_day"].as_f64().expect("rate") - 20.0).abs() < 1e-9);
        assert!(v["buffer"]["advised"].as_u64().expect("buffer") >= 1, "{v}");
        assert_eq!(v["meets_target"], true);
        assert_eq!(v["window"]["apply_ms"], Channel::Amazon.apply_delay().quantile(WINDOW_QUANTILE));
        assert!(v["oversell_per_day"]["advised"].as_f64().expect("a number") <= DEFAULT_TARGET_PER_DAY);
        assert!(v["oversell_per_day"]["current"].as_f64() > Some(DEFAULT_TARGET_PER_DAY));
    }

    #[test]
    fn a_listing_nothing_else_sells_against_needs_no_buffer() {
        let now = 10 * 86_400_000;
        let (c, s) = (Token::parse("shop").expect("token"), Sku::parse("TEE").expect("sku"));
        let lone = [sale(1, now - 3_600_000, "shop", "1", 1)];
        let r = Read { channel: &c, sku: &s, kind: "shopify", buffer: 2, entries: &lone, now: Millis(now) };
        let v = advice(&r, &advice_query(&[]).expect("q")).expect("advice");
        assert_eq!(v["buffer"], json!({"advised": 0, "current": 2}));
        assert!(
            v["oversold_per_10k_orders"]["without_buffer"].as_f64().expect("a number") < DEFAULT_TARGET_PER_10K_ORDERS
        );
    }

    #[test]
    fn an_order_of_many_lines_is_one_lot_and_the_buffer_covers_it() {
        let now = 10 * 86_400_000;
        let (c, s) = (Token::parse("amz").expect("token"), Sku::parse("MUG").expect("sku"));
        // Over the 6 days observed: 70 Amazon orders of one unit; 7 wholesale purchase orders of 12 units, each
        // journaled as two lines of 6.
        let mut entries = Vec::new();
        for i in 0..70 {
            entries.push(sale(i, now - 6 * 86_400_000 + i as i64 * 60_000, "amz", &format!("a{i}"), 1));
        }
        for i in 0..7 {
            let at = now - 5 * 86_400_000 + i as i64 * 3_600_000;
            entries.push(sale(100 + 2 * i, at, "edi", &format!("po{i}"), 6));
            entries.push(sale(101 + 2 * i, at, "edi", &format!("po{i}"), 6));
        }
        entries.sort_by_key(|e| Millis::parse_rfc3339(&e.at).map(|m| m.0));
        let r = Read { channel: &c, sku: &s, kind: "amazon", buffer: 0, entries: &entries, now: Millis(now) };
        let v = advice(&r, &advice_query(&[]).expect("q")).expect("advice");
        assert_eq!(v["observed"]["order_sizes_by_channel"], json!({"amz": {"1": 70}, "edi": {"12": 7}}));
        assert!((v["observed"]["other_orders_per_day"].as_f64().expect("rate") - 7.0 / 6.0).abs() < 1e-9, "{v}");
        assert_eq!(v["buffer"]["advised"], 12, "one lot, whole: {v}");
        assert_eq!(v["meets_target"], true);
        assert!(v["oversold_per_10k_orders"]["advised"].as_f64().expect("a number") <= DEFAULT_TARGET_PER_10K_ORDERS);
        // The same units as single-unit orders need a far smaller buffer.
        let singles: Vec<EntryView> = (0..84)
            .map(|i| sale(200 + i, now - 5 * 86_400_000 + i as i64 * 60_000, "edi", &format!("s{i}"), 1))
            .chain(entries.iter().filter(|e| e.cause.channel.as_deref() == Some("amz")).cloned())
            .collect();
        let r = Read { entries: &singles, ..r };
        let w = advice(&r, &advice_query(&[]).expect("q")).expect("advice");
        assert!(w["buffer"]["advised"].as_u64().expect("a number") < 12, "{w}");
    }

    #[test]
    fn the_per_order_target_is_read_and_checked() {
        let q = advice_query(&pairs(&[("target_per_10k_orders", "0.5")])).expect("valid");
        assert_eq!(q.target_per_10k_orders, 0.5);
        let p = advice_query(&pairs(&[("target_per_10k_orders", "0")])).expect_err("422");
        assert_eq!(p.extra["errors"][0]["field"], "target_per_10k_orders");
    }

    #[test]
    fn a_kind_the_model_does_not_know_is_refused_on_channel() {
        let (c, s) = (Token::parse("x").expect("token"), Sku::parse("A").expect("sku"));
        let r = Read { channel: &c, sku: &s, kind: "etsy", buffer: 0, entries: &[], now: Millis(0) };
        let p = advice(&r, &advice_query(&[]).expect("q")).expect_err("422");
        assert_eq!(p.kind, Kind::ValidationFailed);
    }
}
