//! The channel registry: one [`Platform`] per channel kind, holding everything that varies
//! between platforms — its name, its listing identity, how calls are authorised, its push
//! adapter, webhook and order feed. The platform's code stays in its own modules
//! (`sync::<platform>`, `inbound::<platform>`); an entry only declares and wires. Everything else
//! is derived from the entries: [`ChannelKind`] parsing and listing, the `external` identity's
//! reading, stored shape and JSON ([`crate::catalog::model::External`]), webhook routes, polled
//! kinds. A new platform is a new entry in [`PLATFORMS`] plus its own modules (see "Adding a
//! channel" in `docs/channels.md`).

use serde_json::{Map, Value};

use super::identity::{Chars, Grammar, Identity, IdentityField};
use super::kind::ChannelKind;
use crate::catalog::model::MAX_MARKETPLACES;
use crate::inbound::poll::feeds::{self, FeedError, FeedOf, FeedPage};
use crate::inbound::poll::window::Window;
use crate::inbound::{Headers, InboundError, Received};
use crate::reconcile::read::{self, Read};
use crate::sync::adapter::ChannelAdapter;
use crate::sync::connection::ConnectionError;
use crate::sync::HttpResponse;
use crate::time::Millis;
use crate::{inbound, sync};

/// A platform StockEdge connects to.
pub struct Platform {
    /// The kind's name: in channel records, listings, messages and the webhook route. Unique.
    pub name: &'static str,
    /// The members of a listing's `external` identity on this platform, and its mapping key.
    pub identity: Identity,
    /// Where calls go when the channel's `settings.base_url` does not say.
    pub base_url: BaseUrl,
    /// How calls are authorised.
    pub auth: Auth,
    /// How stock is pushed.
    pub push: Push,
    /// Pushes count against a per-listing daily revision limit (eBay's 250, see
    /// [`crate::sync::admit_revisions`]).
    pub daily_revisions: bool,
    /// Its webhook, if it sends order notifications.
    pub webhook: Option<Webhook>,
    /// Its order feed, if StockEdge polls one.
    pub feed: Option<Feed>,
    /// How an order a notification or feed only names is read, if any does.
    pub order_fetch: Option<OrderFetch>,
    /// How a listing's live quantity is read back for reconciliation, if the platform has a read
    /// (`crate::reconcile::read`); `None`: its listings cannot be reconciled.
    pub read: Option<Read>,
}

/// A platform's default address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseUrl {
    /// `https://<account>` (the shop's or site's own host).
    Account,
    /// One address for every account.
    Fixed(&'static str),
}

/// How a platform's calls are authorised (see [`crate::sync::connection::access`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// The channel's secret as it is (a token, or `key:secret` for HTTP Basic).
    Secret,
    /// The channel's secret if it names one (wholesale: optional Basic credentials).
    OptionalSecret,
    /// Login with Amazon refresh-token credentials (JSON).
    Lwa,
    /// An eBay user token, or refresh-token credentials (JSON).
    Ebay,
}

/// A push adapter's constructor: the secret (or access token) and the channel's settings.
pub type AdapterFn = fn(&str, &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError>;

/// How stock is pushed to a platform.
#[derive(Clone, Copy)]
pub enum Push {
    /// Through the adapter this builds.
    Adapter(AdapterFn),
    /// EDI 846 to trading partners: needs an interchange control number per push (see
    /// [`crate::sync::connection::wholesale`]).
    Edi,
}

/// A webhook reader: verifies the delivery with the channel's key and reads it.
pub type ReceiveFn = fn(&Headers, &[u8], &[u8], Millis) -> Result<Received, InboundError>;

/// A platform's webhook: `POST /v1/webhooks/{route}`.
#[derive(Clone, Copy)]
pub struct Webhook {
    pub route: &'static str,
    /// Which channels a delivery may be for.
    pub address: WebhookAddress,
    pub verify: WebhookVerify,
    /// A delivery that is only the platform's "hello" (answered 200, nothing recorded).
    pub is_ping: Option<fn(&Headers, &[u8]) -> bool>,
}

/// How a delivery names its channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookAddress {
    /// This header holds the channel's account (compared case-insensitively); none: no channel.
    AccountHeader(&'static str),
    /// This header holds the channel's site URL (compared by host); `?channel=` narrows.
    SiteHeader(&'static str),
    /// `?channel=` names it; without it, every channel of the kind is a candidate.
    Hint,
}

/// How a delivery is authenticated.
#[derive(Clone, Copy)]
pub enum WebhookVerify {
    /// HMAC with the channel's webhook key (`settings.webhook_secret`): the reader checks it.
    Hmac(ReceiveFn),
    /// Signed with eBay's public keys (fetched by `kid`); the route also answers eBay's endpoint
    /// validation (`GET ?challenge_code=`).
    EbayKeys,
}

/// A builder of a feed page's path, and a reader of a page (a 2xx answer).
pub type FeedPathFn = fn(&FeedOf, &Window) -> String;
pub type FeedPageFn = fn(&FeedOf, &Window, &HttpResponse, Millis) -> Result<FeedPage, FeedError>;

/// A platform's order feed (see [`crate::inbound::poll`]).
#[derive(Clone, Copy)]
pub struct Feed {
    pub path: FeedPathFn,
    pub page: FeedPageFn,
    /// How far behind now a stretch ends.
    pub lag_ms: i64,
    /// Pages read per channel and run.
    pub page_budget: usize,
    /// Requests name the channel's marketplaces (settings, else its listings').
    pub needs_marketplaces: bool,
    /// How pages are authorised.
    pub auth: FeedAuth,
}

/// How a feed's pages are authorised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedAuth {
    /// HTTP Basic with the `key:secret` the channel's secret holds.
    Basic,
    /// A Login-with-Amazon access token.
    Lwa,
    /// eBay's bearer token (bare or minted).
    Ebay,
}

/// How an order a notification or a feed only names is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderFetch {
    /// SP-API `getOrderItems`, with an LWA token.
    AmazonItems,
    /// eBay Fulfillment `getOrder`, with each candidate channel's credentials in turn.
    EbayOrder,
}

/// Shopify: the variant's inventory item at one location; Admin GraphQL pushes with compare-and-set; HMAC-signed webhooks.
const SHOPIFY: Platform = Platform {
    name: "shopify",
    identity: Identity {
        fields: &[
            IdentityField::required("inventory_item_id", Grammar::IdOrPrefixed("gid://shopify/InventoryItem/")),
            IdentityField::required("location_id", Grammar::IdOrPrefixed("gid://shopify/Location/")),
        ],
        key: sync::shopify::listing_key,
    },
    base_url: BaseUrl::Account,
    auth: Auth::Secret,
    push: Push::Adapter(sync::shopify::connect),
    daily_revisions: false,
    webhook: Some(Webhook {
        route: "shopify",
        address: WebhookAddress::AccountHeader(inbound::shopify::SHOP_HEADER),
        verify: WebhookVerify::Hmac(inbound::shopify::receive),
        is_ping: None,
    }),
    feed: None,
    order_fetch: None,
    read: Some(read::shopify::READ),
};

/// WooCommerce: a product or one variation; REST batch pushes; HMAC-signed webhooks; the orders feed.
const WOOCOMMERCE: Platform = Platform {
    name: "woocommerce",
    identity: Identity {
        fields: &[
            IdentityField::required("product_id", Grammar::Id),
            IdentityField::optional("variation_id", Grammar::Id),
        ],
        key: sync::woocommerce::listing_key,
    },
    base_url: BaseUrl::Account,
    auth: Auth::Secret,
    push: Push::Adapter(sync::woocommerce::connect),
    daily_revisions: false,
    webhook: Some(Webhook {
        route: "woocommerce",
        address: WebhookAddress::SiteHeader(inbound::woocommerce::SOURCE_HEADER),
        verify: WebhookVerify::Hmac(inbound::woocommerce::receive),
        is_ping: Some(inbound::woocommerce::is_ping),
    }),
    feed: Some(Feed {
        path: feeds::woo_path,
        page: feeds::woo_page,
        lag_ms: 0,
        page_budget: 10,
        needs_marketplaces: false,
        auth: FeedAuth::Basic,
    }),
    order_fetch: None,
    read: Some(read::woocommerce::READ),
};

/// Amazon SP-API: the seller's SKU in its marketplaces; Listings Items patches with an LWA token; notifications; the orders feed.
const AMAZON: Platform = Platform {
    name: "amazon",
    identity: Identity {
        fields: &[
            IdentityField::required("seller_id", Grammar::Text { max: 64, chars: Chars::Alnum }),
            IdentityField::required("seller_sku", Grammar::Text { max: 40, chars: Chars::Plain }),
            IdentityField::required(
                "marketplace_ids",
                Grammar::Codes {
                    noun: "marketplace id",
                    example: "ATVPDKIKX0DER",
                    max_items: MAX_MARKETPLACES,
                    max_len: 32,
                    chars: Chars::UpperAlnum,
                },
            ),
        ],
        key: sync::amazon::listing_key,
    },
    base_url: BaseUrl::Fixed("https://sellingpartnerapi-na.amazon.com"),
    auth: Auth::Lwa,
    push: Push::Adapter(sync::amazon::connect),
    daily_revisions: false,
    webhook: Some(Webhook {
        route: "amazon",
        address: WebhookAddress::Hint,
        verify: WebhookVerify::Hmac(inbound::amazon::receive),
        is_ping: None,
    }),
    // SP-API refuses `LastUpdatedBefore` later than 2 minutes before now: stretches end 3
    // minutes back (a minute for clock skew). `getOrders` allows a burst of 20 and one more a
    // minute, and each order costs a `getOrderItems` (burst 30, one every 2 s): two pages.
    feed: Some(Feed {
        path: feeds::amazon_path,
        page: feeds::amazon_page,
        lag_ms: 3 * 60 * 1000,
        page_budget: 2,
        needs_marketplaces: true,
        auth: FeedAuth::Lwa,
    }),
    order_fetch: Some(OrderFetch::AmazonItems),
    read: Some(read::amazon::READ),
};

/// eBay: the inventory item's SKU (and offer); bulk price-quantity pushes; notifications signed with eBay's keys; the orders feed.
const EBAY: Platform = Platform {
    name: "ebay",
    identity: Identity {
        fields: &[
            IdentityField::required("sku", Grammar::Text { max: 50, chars: Chars::Plain }),
            IdentityField::optional("offer_id", Grammar::Text { max: 64, chars: Chars::Word }),
        ],
        key: sync::ebay::listing_key,
    },
    base_url: BaseUrl::Fixed("https://api.ebay.com"),
    auth: Auth::Ebay,
    push: Push::Adapter(sync::ebay::connect),
    daily_revisions: true,
    webhook: Some(Webhook {
        route: "ebay",
        address: WebhookAddress::Hint,
        verify: WebhookVerify::EbayKeys,
        is_ping: None,
    }),
    feed: Some(Feed {
        path: feeds::ebay_path,
        page: feeds::ebay_page,
        lag_ms: 0,
        page_budget: 5,
        needs_marketplaces: false,
        auth: FeedAuth::Ebay,
    }),
    order_fetch: Some(OrderFetch::EbayOrder),
    read: Some(read::ebay::READ),
};

/// Wholesale trading partners: the partner's item code (or our SKU); EDI 846 inventory advice.
const WHOLESALE: Platform = Platform {
    name: "wholesale",
    identity: Identity {
        fields: &[
            IdentityField::required("partner_id", Grammar::Token),
            IdentityField::optional("item_code", Grammar::Text { max: 128, chars: Chars::Plain }),
        ],
        key: sync::wholesale::listing_key,
    },
    base_url: BaseUrl::Account,
    auth: Auth::OptionalSecret,
    push: Push::Edi,
    daily_revisions: false,
    webhook: None,
    feed: None,
    order_fetch: None,
    // EDI 846 is one-way: a partner acknowledges an interchange (997) but has no read.
    read: None,
};

/// Every platform StockEdge connects to, in the order kinds are listed. Adding one here (and its
/// modules) is all a new channel takes: no migration, no other list of kinds.
pub static PLATFORMS: [Platform; 5] = [SHOPIFY, WOOCOMMERCE, AMAZON, EBAY, WHOLESALE];

/// The Worker's registry.
pub static REGISTRY: Registry = Registry::new(&PLATFORMS);

/// The kinds code names directly (payload readers, adapters, tests). A platform needs one only if
/// its own code names it: it is the entry's handle, nothing more.
#[allow(non_upper_case_globals)]
impl ChannelKind {
    pub const Shopify: ChannelKind = ChannelKind::of(&SHOPIFY);
    pub const Woocommerce: ChannelKind = ChannelKind::of(&WOOCOMMERCE);
    pub const Amazon: ChannelKind = ChannelKind::of(&AMAZON);
    pub const Ebay: ChannelKind = ChannelKind::of(&EBAY);
    pub const Wholesale: ChannelKind = ChannelKind::of(&WHOLESALE);
}

/// A list of platforms: [`REGISTRY`] in the Worker; a made-up one in tests, to show a platform
/// works from its entry alone.
pub struct Registry {
    platforms: &'static [Platform],
}

impl Registry {
    pub const fn new(platforms: &'static [Platform]) -> Registry {
        Registry { platforms }
    }

    /// Every kind, in registration order.
    pub fn kinds(&self) -> impl Iterator<Item = ChannelKind> {
        self.platforms.iter().map(ChannelKind::of)
    }

    /// The kind named `name`.
    pub fn parse(&self, name: &str) -> Option<ChannelKind> {
        self.kinds().find(|k| k.as_str() == name)
    }

    /// The kinds' names, comma-separated (for messages).
    pub fn names(&self) -> String {
        self.kinds().map(ChannelKind::as_str).collect::<Vec<_>>().join(", ")
    }

    /// The kind whose webhook is `POST /v1/webhooks/{route}`, and its webhook.
    pub fn by_webhook_route(&self, route: &str) -> Option<(ChannelKind, &'static Webhook)> {
        self.kinds().find_map(|k| k.platform().webhook.as_ref().filter(|w| w.route == route).map(|w| (k, w)))
    }

    /// The kinds whose order feeds StockEdge polls.
    pub fn polled_kinds(&self) -> impl Iterator<Item = ChannelKind> {
        self.kinds().filter(|k| k.platform().feed.is_some())
    }
}

/// The registration of `kind`.
pub fn platform(kind: ChannelKind) -> &'static Platform {
    kind.platform()
}

/// The kind whose webhook is `POST /v1/webhooks/{route}`, and its webhook.
pub fn by_webhook_route(route: &str) -> Option<(ChannelKind, &'static Webhook)> {
    REGISTRY.by_webhook_route(route)
}

/// The kinds whose order feeds StockEdge polls.
pub fn polled_kinds() -> impl Iterator<Item = ChannelKind> {
    REGISTRY.polled_kinds()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_kind_round_trips_its_name() {
        let kinds: Vec<ChannelKind> = ChannelKind::all().collect();
        assert_eq!(kinds.len(), PLATFORMS.len());
        for (i, k) in kinds.iter().enumerate() {
            assert_eq!(kinds.iter().filter(|o| o.as_str() == k.as_str()).count(), 1, "{k} is registered once");
            assert!(std::ptr::eq(k.platform(), &PLATFORMS[i]), "a parsed kind is a handle on its entry");
            assert_eq!(ChannelKind::parse(k.as_str()), Some(*k));
            assert_eq!(serde_json::to_value(k).ok(), Some(Value::from(k.as_str())), "serde writes the name");
            assert_eq!(serde_json::from_value::<ChannelKind>(Value::from(k.as_str())).ok(), Some(*k));
        }
        assert!(serde_json::from_value::<ChannelKind>(Value::from("etsy")).is_err(), "an unregistered name");
        let named = [
            (ChannelKind::Shopify, "shopify"),
            (ChannelKind::Woocommerce, "woocommerce"),
            (ChannelKind::Amazon, "amazon"),
            (ChannelKind::Ebay, "ebay"),
            (ChannelKind::Wholesale, "wholesale"),
        ];
        for (k, name) in named {
            assert_eq!(ChannelKind::parse(name), Some(k), "the named kind is the registered one");
        }
    }

    #[test]
    fn identities_declare_unique_members_and_at_least_one_required() {
        for p in &PLATFORMS {
            let fields = p.identity.fields;
            assert!(fields.iter().any(|f| f.required), "{}: an identity names something", p.name);
            for f in fields {
                assert_eq!(fields.iter().filter(|g| g.name == f.name).count(), 1, "{}.{}", p.name, f.name);
            }
        }
    }

    #[test]
    fn every_webhook_route_resolves_to_its_platform_and_routes_are_unique() {
        for p in &PLATFORMS {
            if let Some(w) = &p.webhook {
                let (found, _) = by_webhook_route(w.route).expect("route resolves");
                assert_eq!(found.as_str(), p.name);
            }
        }
        assert!(by_webhook_route("etsy").is_none());
    }

    #[test]
    fn feeds_order_fetches_and_auth_agree() {
        for p in &PLATFORMS {
            if let Some(f) = &p.feed {
                assert!(f.page_budget >= 1 && f.lag_ms >= 0);
                let consistent = match f.auth {
                    FeedAuth::Basic => p.auth == Auth::Secret,
                    FeedAuth::Lwa => p.auth == Auth::Lwa,
                    FeedAuth::Ebay => p.auth == Auth::Ebay,
                };
                assert!(consistent, "{}: the feed authenticates like the pushes", p.name);
            }
            match p.order_fetch {
                Some(OrderFetch::AmazonItems) => assert_eq!(p.auth, Auth::Lwa),
                Some(OrderFetch::EbayOrder) => assert_eq!(p.auth, Auth::Ebay),
                None => {}
            }
            if matches!(p.push, Push::Edi) {
                assert_eq!(p.auth, Auth::OptionalSecret);
            }
        }
        let polled: Vec<_> = polled_kinds().collect();
        assert_eq!(polled, [ChannelKind::Woocommerce, ChannelKind::Amazon, ChannelKind::Ebay]);
    }
}
