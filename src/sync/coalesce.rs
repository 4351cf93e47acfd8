//! The coalescer: from a batch of events, the one update each listing still needs.

use std::collections::{BTreeMap, BTreeSet};

use super::event::StockChanged;
use super::update::{LastPushed, ListingId, ListingUpdate};
use crate::catalog::model::Listing;
use crate::stock::Sku;
use crate::time::Millis;

/// Per (channel, listing), the single newest update to push.
///
/// - `events`: a consumer batch, in any order, possibly with duplicates (at-least-once delivery).
/// - `listings`: the listings of the SKUs in the batch (a key listed twice counts once, the
///   first wins).
/// - `pushed`: per listing, what it last received.
/// - `attempted`: per listing, the newest version pushed without an accepting answer (the sync
///   record's pending version). A push whose answer was lost (a timeout) may have been applied,
///   so no version older than it is pushed after it: only it or a newer one (its message is
///   retried, or recorded as a failure to retry).
///
/// A listing gets an update only when the batch holds a version newer than the one it last
/// received and not older than the one last attempted, and then exactly one: the batch's newest
/// version of its SKU, with
/// `quantity = rule.listed(sellable)` of that version ([`ListingRule::listed`],
/// [`StockChanged::sellable`]: available less units owed to oversold orders). Older and
/// equal versions are dropped, so replays and out-of-order deliveries never move a listing
/// backwards. The result is sorted by listing key.
///
/// [`ListingRule::listed`]: crate::catalog::ListingRule::listed
pub fn coalesce(
    events: &[StockChanged],
    listings: &[Listing],
    pushed: &BTreeMap<ListingId, LastPushed>,
    attempted: &BTreeMap<ListingId, u64>,
) -> Vec<ListingUpdate> {
    let mut by_sku: BTreeMap<&Sku, Vec<&StockChanged>> = BTreeMap::new();
    for e in events {
        by_sku.entry(&e.sku).or_default().push(e);
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for listing in listings {
        let key = ListingId { channel: listing.channel.clone(), sku: listing.sku.clone() };
        if !seen.insert(key.clone()) {
            continue;
        }
        let Some(sku_events) = by_sku.get(&listing.sku) else { continue };
        let floor = pushed.get(&key).map(|p| p.version);
        let tried = attempted.get(&key).copied().unwrap_or(0);
        let mut newest: Option<&StockChanged> = None;
        let mut since: Option<Millis> = None;
        for e in sku_events.iter().filter(|e| floor.is_none_or(|f| e.version > f) && e.version >= tried) {
            if newest.is_none_or(|n| e.version > n.version) {
                newest = Some(e);
            }
            since = Some(since.map_or(e.at, |s| s.min(e.at)));
        }
        let Some(e) = newest else { continue };
        out.push(ListingUpdate {
            key: key.clone(),
            external: listing.external.clone(),
            version: e.version,
            available: e.available,
            quantity: listing.rule.listed(e.sellable()),
            expected: pushed.get(&key).map(|p| p.quantity),
            cause: e.cause,
            at: e.at,
            since: since.unwrap_or(e.at),
        });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ListingRule;
    use crate::stock::{Op, Token};
    use crate::sync::ebay::EbayIdentity;
    use proptest::prelude::*;

    fn sku(i: u8) -> Sku {
        Sku::parse(&format!("SKU-{i}")).unwrap()
    }
    fn channel(i: u8) -> Token {
        Token::parse(&format!("ch{i}")).unwrap()
    }
    fn event(s: u8, version: u64, available: i64) -> StockChanged {
        StockChanged {
            sku: sku(s),
            version,
            available,
            on_hand: available,
            cause: Op::Adjust,
            at: Millis(version as i64 * 10),
            oversold: 0,
            alert: None,
            channel: None,
            ops: Vec::new(),
            orders: Vec::new(),
            erp_behind: Vec::new(),
        }
    }
    fn listing(c: u8, s: u8, rule: ListingRule) -> Listing {
        Listing {
            channel: channel(c),
            sku: sku(s),
            external: EbayIdentity { sku: format!("E{s}"), offer_id: None }.into(),
            rule,
        }
    }

    #[test]
    fn keeps_the_newest_and_applies_the_rule() {
        let rule = ListingRule { buffer: 2, percent: 100, max_listed: Some(10), zero_at_or_below: None };
        let events = [event(1, 3, 7), event(1, 5, 50), event(1, 4, 1), event(2, 9, 9)];
        let listings = [listing(1, 1, rule), listing(2, 1, ListingRule::default()), listing(1, 3, rule)];
        let mut pushed = BTreeMap::new();
        pushed.insert(ListingId { channel: channel(2), sku: sku(1) }, LastPushed { version: 5, quantity: 4 });
        let out = coalesce(&events, &listings, &pushed, &BTreeMap::new());
        assert_eq!(out.len(), 1, "ch2 already has v5; SKU-3 had no event; SKU-2 has no listing");
        let u = &out[0];
        assert_eq!((u.version, u.available, u.quantity, u.expected), (5, 50, 10, None));
        assert_eq!((u.at, u.since), (Millis(50), Millis(30)));
    }

    #[test]
    fn a_replayed_batch_yields_nothing_new() {
        let events = [event(1, 2, 5), event(1, 2, 5)];
        let listings = [listing(1, 1, ListingRule::default())];
        let out = coalesce(&events, &listings, &BTreeMap::new(), &BTreeMap::new());
        assert_eq!(out.len(), 1);
        let mut pushed = BTreeMap::new();
        pushed.insert(out[0].key.clone(), LastPushed { version: out[0].version, quantity: out[0].quantity });
        assert!(coalesce(&events, &listings, &pushed, &BTreeMap::new()).is_empty());
    }

    /// Found by the system simulation (`tests/system_simulation.rs`): version 9's push timed out
    /// after the platform applied it; a later batch holding only version 8 (the queue splits and
    /// reorders retried messages) pushed 8 over 9, since the record still said 7.
    #[test]
    fn nothing_older_than_a_version_already_attempted_is_pushed() {
        let listings = [listing(1, 1, ListingRule::default())];
        let key = ListingId { channel: channel(1), sku: sku(1) };
        let pushed = BTreeMap::from([(key.clone(), LastPushed { version: 7, quantity: 3 })]);
        let attempted = BTreeMap::from([(key, 9)]);
        assert!(coalesce(&[event(1, 8, 4)], &listings, &pushed, &attempted).is_empty(), "8 after 9 was attempted");
        let out = coalesce(&[event(1, 8, 4), event(1, 9, 2)], &listings, &pushed, &attempted);
        assert_eq!(out.iter().map(|u| u.version).collect::<Vec<_>>(), [9], "the attempted version itself goes again");
        let out = coalesce(&[event(1, 10, 1)], &listings, &pushed, &attempted);
        assert_eq!(out.iter().map(|u| u.version).collect::<Vec<_>>(), [10]);
    }

    fn rule() -> impl Strategy<Value = ListingRule> {
        (0i64..20, 0u8..=100, proptest::option::of(0i64..50), proptest::option::of(0i64..10)).prop_map(
            |(buffer, percent, max_listed, zero_at_or_below)| ListingRule {
                buffer,
                percent,
                max_listed,
                zero_at_or_below,
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn pushes_exactly_the_newest_unpushed_version(
            raw_events in proptest::collection::vec((0u8..4, 1u64..30), 0..40),
            raw_listings in proptest::collection::vec((0u8..3, 0u8..4, rule()), 0..12),
            raw_pushed in proptest::collection::vec((0u8..3, 0u8..4, 0u64..30, 0i64..50), 0..12),
        ) {
            // A version names one state of its SKU, so the available is a function of (SKU, version).
            let events: Vec<StockChanged> =
                raw_events.iter().map(|&(s, v)| event(s, v, (i64::from(s) * 37 + v as i64 * 13) % 150 - 5)).collect();
            let listings: Vec<Listing> = raw_listings.iter().map(|(c, s, r)| listing(*c, *s, *r)).collect();
            let mut pushed = BTreeMap::new();
            for &(c, s, v, q) in &raw_pushed {
                pushed.insert(ListingId { channel: channel(c), sku: sku(s) }, LastPushed { version: v, quantity: q });
            }
            let out = coalesce(&events, &listings, &pushed, &BTreeMap::new());

            let mut keys = BTreeSet::new();
            for u in &out {
                prop_assert!(keys.insert(u.key.clone()), "one update per listing");
                let floor = pushed.get(&u.key).map(|p| p.version);
                prop_assert!(floor.is_none_or(|f| u.version > f), "never a version ≤ the last pushed");
                let max = events.iter().filter(|e| e.sku == u.key.sku).map(|e| e.version).max().unwrap();
                prop_assert_eq!(u.version, max, "the batch's newest version of the SKU");
                let e = events.iter().find(|e| e.sku == u.key.sku && e.version == max).unwrap();
                let l = listings.iter().find(|l| l.channel == u.key.channel && l.sku == u.key.sku).unwrap();
                prop_assert_eq!(u.available, e.available);
                prop_assert_eq!(u.quantity, l.rule.listed(e.sellable()));
                prop_assert_eq!(u.expected, pushed.get(&u.key).map(|p| p.quantity));
                prop_assert!(u.since <= u.at);
            }
            // Every listing behind its SKU's newest version gets its update.
            for l in &listings {
                let key = ListingId { channel: l.channel.clone(), sku: l.sku.clone() };
                let max = events.iter().filter(|e| e.sku == l.sku).map(|e| e.version).max();
                let floor = pushed.get(&key).map(|p| p.version);
                let due = max.is_some_and(|m| floor.is_none_or(|f| m > f));
                prop_assert_eq!(due, keys.contains(&key));
            }
        }
    }
}
