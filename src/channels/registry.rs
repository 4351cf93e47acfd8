//! The channel registry: one [`Platform`] per [`ChannelKind`], holding everything that varies
//! between platforms. The platform's code stays in its own modules; an entry only wires them.
//! The shell and the planners look a kind up ([`platform`]) instead of matching on it, so a
//! platform that authenticates, pushes, receives webhooks and is polled like an existing one
//! needs no change outside its modules, its entry and its kind (see "Adding a channel" in
//! `docs/architecture.md`).

use serde_json::{Map, Value};

use crate::catalog::model::ChannelKind;
use crate::inbound::poll::feeds::{self, FeedError, FeedOf, FeedPage};
use crate::inbound::poll::window::Window;
use crate::inbound::{amazon, shopify, woocommerce, Headers, InboundError, Received};
use crate::sync::adapter::ChannelAdapter;
use crate::sync::connection::ConnectionError;
use crate::sync::{AmazonAdapter, EbayAdapter, HttpResponse, ShopifyAdapter, WooCommerceAdapter};
use crate::time::Millis;

/// A platform StockEdge connects to.
pub struct Platform {
    pub kind: ChannelKind,
    /// The kind's name: in channel records, messages and the webhook route.
    pub name: &'static str,
    /// The members of a listing's `external` identity on this platform.
    pub identity_fields: &'static [&'static str],
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

fn required(secret: &str) -> Result<&str, ConnectionError> {
    Some(secret).filter(|s| !s.is_empty()).ok_or(ConnectionError::NoSecret)
}

fn shopify_adapter(secret: &str, settings: &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    let mut a = ShopifyAdapter::new(required(secret)?);
    if let Some(v) = settings.get("api_version").and_then(Value::as_str) {
        a.api_version = v.to_owned();
    }
    Ok(Box::new(a))
}

fn woocommerce_adapter(secret: &str, _: &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    let (key, secret) = required(secret)?.split_once(':').ok_or(ConnectionError::BadSecret("key:secret"))?;
    Ok(Box::new(WooCommerceAdapter::new(key, secret)))
}

fn amazon_adapter(token: &str, _: &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    Ok(Box::new(AmazonAdapter::new(required(token)?)))
}

fn ebay_adapter(token: &str, _: &Map<String, Value>) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    Ok(Box::new(EbayAdapter::new(required(token)?)))
}

/// Every platform, one entry per [`ChannelKind`] in [`ChannelKind::ALL`] order.
pub static PLATFORMS: [Platform; 5] = [
    Platform {
        kind: ChannelKind::Shopify,
        name: "shopify",
        identity_fields: &["inventory_item_id", "location_id"],
        base_url: BaseUrl::Account,
        auth: Auth::Secret,
        push: Push::Adapter(shopify_adapter),
        daily_revisions: false,
        webhook: Some(Webhook {
            route: "shopify",
            address: WebhookAddress::AccountHeader(shopify::SHOP_HEADER),
            verify: WebhookVerify::Hmac(shopify::receive),
            is_ping: None,
        }),
        feed: None,
        order_fetch: None,
    },
    Platform {
        kind: ChannelKind::Woocommerce,
        name: "woocommerce",
        identity_fields: &["product_id", "variation_id"],
        base_url: BaseUrl::Account,
        auth: Auth::Secret,
        push: Push::Adapter(woocommerce_adapter),
        daily_revisions: false,
        webhook: Some(Webhook {
            route: "woocommerce",
            address: WebhookAddress::SiteHeader(woocommerce::SOURCE_HEADER),
            verify: WebhookVerify::Hmac(woocommerce::receive),
            is_ping: Some(woocommerce::is_ping),
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
    },
    Platform {
        kind: ChannelKind::Amazon,
        name: "amazon",
        identity_fields: &["seller_id", "seller_sku", "marketplace_ids"],
        base_url: BaseUrl::Fixed("https://sellingpartnerapi-na.amazon.com"),
        auth: Auth::Lwa,
        push: Push::Adapter(amazon_adapter),
        daily_revisions: false,
        webhook: Some(Webhook {
            route: "amazon",
            address: WebhookAddress::Hint,
            verify: WebhookVerify::Hmac(amazon::receive),
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
    },
    Platform {
        kind: ChannelKind::Ebay,
        name: "ebay",
        identity_fields: &["sku", "offer_id"],
        base_url: BaseUrl::Fixed("https://api.ebay.com"),
        auth: Auth::Ebay,
        push: Push::Adapter(ebay_adapter),
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
    },
    Platform {
        kind: ChannelKind::Wholesale,
        name: "wholesale",
        identity_fields: &["partner_id", "item_code"],
        base_url: BaseUrl::Account,
        auth: Auth::OptionalSecret,
        push: Push::Edi,
        daily_revisions: false,
        webhook: None,
        feed: None,
        order_fetch: None,
    },
];

/// The registration of `kind` (entries are in declaration order: a test checks it).
pub fn platform(kind: ChannelKind) -> &'static Platform {
    &PLATFORMS[kind as usize]
}

/// The platform whose webhook is `POST /v1/webhooks/{route}`.
pub fn by_webhook_route(route: &str) -> Option<(&'static Platform, &'static Webhook)> {
    PLATFORMS.iter().find_map(|p| p.webhook.as_ref().filter(|w| w.route == route).map(|w| (p, w)))
}

/// The kinds whose order feeds StockEdge polls.
pub fn polled_kinds() -> impl Iterator<Item = ChannelKind> {
    PLATFORMS.iter().filter(|p| p.feed.is_some()).map(|p| p.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_entry_in_order_that_round_trips_its_name() {
        assert_eq!(PLATFORMS.len(), ChannelKind::ALL.len());
        for (p, k) in PLATFORMS.iter().zip(ChannelKind::ALL) {
            assert_eq!(p.kind, k, "entries in ChannelKind::ALL order");
            assert_eq!(platform(k).kind, k);
            assert_eq!(ChannelKind::parse(p.name), Some(k));
            assert_eq!(serde_json::to_value(k).ok(), Some(Value::from(p.name)), "serde agrees with the name");
            assert!(!p.identity_fields.is_empty());
        }
    }

    #[test]
    fn every_webhook_route_resolves_to_its_platform_and_routes_are_unique() {
        for p in &PLATFORMS {
            if let Some(w) = &p.webhook {
                let (found, _) = by_webhook_route(w.route).expect("route resolves");
                assert_eq!(found.kind, p.kind);
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
