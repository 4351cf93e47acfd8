//! The channels the model sells on: who they are, how much they sell, and how long their
//! platforms take to apply an update and to tell StockEdge of a sale. The delays are parameters
//! with the sources and the reasoning in docs/oversell.md ("Platform delays"); the propagation
//! from a commit to the platform's API is measured instead (`delay::Propagation`).

use super::delay::Delay;

/// A sales channel in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// The merchant's own storefront, holding through StockEdge: strongly consistent, never
    /// oversells (a hold is refused when the ledger cannot cover it).
    Storefront,
    Shopify,
    WooCommerce,
    Amazon,
    Ebay,
    /// A trading partner ordering by EDI 850 from the 846 inventory StockEdge sends it.
    Wholesale,
}

/// Every channel, in report order.
pub const ALL: [Channel; 6] =
    [Channel::Storefront, Channel::Shopify, Channel::WooCommerce, Channel::Amazon, Channel::Ebay, Channel::Wholesale];

/// The channels that sell from a quantity they were told (every channel but the storefront).
pub const MARKETPLACES: [Channel; 5] =
    [Channel::Shopify, Channel::WooCommerce, Channel::Amazon, Channel::Ebay, Channel::Wholesale];

/// A channel's demand for one SKU of popularity 1: orders per day and the units per order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Demand {
    pub orders_per_day: f64,
    pub min_units: u32,
    pub max_units: u32,
}

impl Demand {
    /// Mean units per order.
    pub fn mean_units(&self) -> f64 {
        (self.min_units + self.max_units) as f64 / 2.0
    }
}

const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;

impl Channel {
    /// The channel kind's name in StockEdge's registry (`None` for the storefront, which is not
    /// a channel connection).
    pub fn kind(self) -> Option<&'static str> {
        match self {
            Channel::Storefront => None,
            Channel::Shopify => Some("shopify"),
            Channel::WooCommerce => Some("woocommerce"),
            Channel::Amazon => Some("amazon"),
            Channel::Ebay => Some("ebay"),
            Channel::Wholesale => Some("wholesale"),
        }
    }

    /// The channel of kind `kind`, if the model knows it.
    pub fn of_kind(kind: &str) -> Option<Channel> {
        MARKETPLACES.into_iter().find(|c| c.kind() == Some(kind))
    }

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Storefront => "storefront",
            other => other.kind().unwrap_or("storefront"),
        }
    }

    /// Whether it sells from a quantity it was told (false: it holds through StockEdge).
    pub fn sells_from_belief(self) -> bool {
        self != Channel::Storefront
    }

    /// Its demand for a SKU of popularity 1 (the model's default mix: Amazon the largest
    /// marketplace, wholesale rare and large orders).
    pub fn demand(self) -> Demand {
        let d = |orders_per_day, min_units, max_units| Demand { orders_per_day, min_units, max_units };
        match self {
            Channel::Storefront => d(3.0, 1, 2),
            Channel::Shopify => d(2.0, 1, 2),
            Channel::WooCommerce => d(1.0, 1, 2),
            Channel::Amazon => d(4.0, 1, 1),
            Channel::Ebay => d(1.5, 1, 1),
            Channel::Wholesale => d(0.2, 4, 12),
        }
    }

    /// From the platform accepting a quantity to buyers seeing it (and being refused beyond it).
    pub fn apply_delay(self) -> Delay {
        match self {
            Channel::Storefront => Delay::NONE,
            // inventorySetQuantities answers with the level already set; storefront caches.
            Channel::Shopify => Delay::uniform(200, 2 * SECOND),
            // The REST write lands in the shop's own database.
            Channel::WooCommerce => Delay::uniform(100, SECOND),
            // Listings Items API: accepted at once, applied asynchronously within minutes.
            Channel::Amazon => Delay::uniform(2 * MINUTE, 15 * MINUTE),
            // Inventory API: seconds, sometimes minutes before the listing shows it.
            Channel::Ebay => Delay::uniform(5 * SECOND, 3 * MINUTE),
            // The partner loads the 846 into its system on its own schedule.
            Channel::Wholesale => Delay::uniform(15 * MINUTE, 60 * MINUTE),
        }
    }

    /// From a sale on the platform to the platform showing it to an API reader (its order feed):
    /// what a batch tool waits for before its next run can pull the order.
    pub fn feed_lag(self) -> Delay {
        match self {
            Channel::Storefront => Delay::NONE,
            Channel::Shopify => Delay::uniform(0, 2 * SECOND),
            Channel::WooCommerce => Delay::uniform(0, SECOND),
            Channel::Amazon => Delay::uniform(30 * SECOND, 2 * MINUTE),
            Channel::Ebay => Delay::uniform(SECOND, 30 * SECOND),
            Channel::Wholesale => Delay::uniform(5 * MINUTE, 30 * MINUTE),
        }
    }

    /// From a sale on the platform to StockEdge's ledger recording it (webhook, or the order-feed
    /// poll every 2 minutes after the feed shows it).
    pub fn inbound_delay(self) -> Delay {
        match self {
            Channel::Storefront => Delay::NONE,
            Channel::Shopify => Delay::uniform(SECOND, 10 * SECOND),
            // Webhooks are delivered by WordPress's Action Scheduler, asynchronously.
            Channel::WooCommerce => Delay::uniform(SECOND, 60 * SECOND),
            // The order-feed poll runs every 2 minutes; orders appear in the feed after a lag.
            Channel::Amazon => Delay::uniform(30 * SECOND, 4 * MINUTE),
            Channel::Ebay => Delay::uniform(5 * SECOND, 2 * MINUTE),
            // An 850 purchase order arrives through the partner's EDI run.
            Channel::Wholesale => Delay::uniform(5 * MINUTE, 30 * MINUTE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_the_storefront_has_none() {
        for c in MARKETPLACES {
            assert_eq!(Channel::of_kind(c.kind().expect("kind")), Some(c));
        }
        assert_eq!(Channel::Storefront.kind(), None);
        assert_eq!(Channel::of_kind("storefront"), None);
        assert!(!Channel::Storefront.sells_from_belief());
    }
}
