//! `GET /v1/availability`: composing the ledgers' answers with bundles and channel rules.

use std::collections::BTreeMap;

use serde::Serialize;

use super::views::AvailabilityItem;
use crate::catalog::{Bundle, ListingRule};
use crate::stock::Sku;

/// One answered item. For a bundle, quantities are how many whole bundles the components
/// allow. With a channel, `available` and `sellable` are what that channel's listing shows
/// (its rule applied); a SKU the channel does not list shows 0 with `listed: false`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    pub sku: String,
    pub available: i64,
    pub sellable: i64,
    pub version: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bundle: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed: Option<bool>,
}

/// The SKUs whose ledgers must be read: the plain SKUs asked for and every bundle's components.
pub fn ledgers_to_read(skus: &[Sku], bundles: &BTreeMap<Sku, Bundle>) -> Vec<Sku> {
    let mut out: Vec<Sku> = Vec::new();
    for s in skus {
        match bundles.get(s) {
            Some(b) => out.extend(b.components.iter().map(|c| c.sku.clone())),
            None => out.push(s.clone()),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The answer, in query order, from the ledgers' items (`ledgers`), the bundles among the SKUs
/// and, with a channel, that channel's listing rules.
pub fn compose(
    skus: &[Sku],
    bundles: &BTreeMap<Sku, Bundle>,
    ledgers: &BTreeMap<Sku, AvailabilityItem>,
    rules: Option<&BTreeMap<Sku, ListingRule>>,
) -> Vec<Item> {
    let of = |s: &Sku| ledgers.get(s);
    skus.iter()
        .map(|sku| {
            let (available, sellable, version, bundle) = match bundles.get(sku) {
                Some(b) => (
                    b.available(|c| of(c).map_or(0, |i| i.available)),
                    b.available(|c| of(c).map_or(0, |i| i.sellable)),
                    b.components.iter().filter_map(|c| of(&c.sku).map(|i| i.version)).max().unwrap_or(0),
                    true,
                ),
                None => of(sku).map_or((0, 0, 0, false), |i| (i.available, i.sellable, i.version, false)),
            };
            let (available, sellable, listed) = match rules {
                None => (available, sellable, None),
                Some(rules) => match rules.get(sku) {
                    Some(rule) => (rule.listed(available), rule.listed(sellable), Some(true)),
                    None => (0, 0, Some(false)),
                },
            };
            Item { sku: sku.to_string(), available, sellable, version, bundle, listed }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Component;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }
    fn item(s: &str, available: i64, version: u64) -> (Sku, AvailabilityItem) {
        (sku(s), AvailabilityItem { sku: s.into(), available, sellable: available, version })
    }

    #[test]
    fn bundles_and_channel_rules() {
        let kit = Bundle {
            sku: sku("KIT"),
            components: vec![Component { sku: sku("A"), qty: 2 }, Component { sku: sku("B"), qty: 1 }],
        };
        let bundles = BTreeMap::from([(sku("KIT"), kit)]);
        assert_eq!(ledgers_to_read(&[sku("KIT"), sku("C"), sku("A")], &bundles), vec![sku("A"), sku("B"), sku("C")]);
        let ledgers = BTreeMap::from([item("A", 9, 4), item("B", 3, 7), item("C", 10, 1)]);
        let plain = compose(&[sku("KIT"), sku("C")], &bundles, &ledgers, None);
        assert_eq!((plain[0].available, plain[0].version, plain[0].bundle), (3, 7, true));
        let rules = BTreeMap::from([(sku("C"), ListingRule { buffer: 2, ..ListingRule::default() })]);
        let on_channel = compose(&[sku("KIT"), sku("C")], &bundles, &ledgers, Some(&rules));
        assert_eq!((on_channel[0].available, on_channel[0].listed), (0, Some(false)));
        assert_eq!((on_channel[1].available, on_channel[1].listed), (8, Some(true)));
    }
}
