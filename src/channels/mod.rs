//! The sales channels StockEdge connects to, as registrations: one entry per platform in
//! [`registry`], declaring what varies between platforms (kind name, listing identity, how
//! calls are authorised, the push adapter, the webhook reader, the order feed) and wiring it to
//! the platform's own modules (`sync::<platform>`, `inbound::<platform>`, `inbound::poll::feeds`). Pure: no
//! `worker` types; the shell looks a platform up and dispatches on what the entry says.

pub mod identity;
pub mod kind;
pub mod registry;

pub use identity::{Chars, FieldValue, Grammar, Identity, IdentityField};
pub use kind::ChannelKind;
pub use registry::{
    by_webhook_route, platform, polled_kinds, Auth, BaseUrl, Feed, FeedAuth, OrderFetch, Platform, Push, Registry,
    Webhook, WebhookAddress, WebhookVerify, PLATFORMS, REGISTRY,
};
