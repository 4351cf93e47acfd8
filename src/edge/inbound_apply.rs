//! Carrying out inbound orders, whether a webhook (`webhooks.rs`) or an order-feed poll
//! (`inbound_poll.rs`) brought them. What an order does is decided by the pure planner
//! (`crate::inbound::apply`, which documents it); this module loads what the planner needs (the
//! channel's listings, bundle definitions, current stock states), fetches what a platform left
//! out (Amazon order items, eBay orders) with the channel's credentials, and performs the
//! planned effects in order through the order desks, the SKU ledgers, D1 and the sync queue.
//!
//! An effect that cannot be performed now is an [`ApplyError`]: the webhook answers 503 and
//! records nothing, the poll keeps its cursor; either way the order is applied again later, and
//! what was done is not redone.

use worker::{console_warn, D1Database, Env};

use crate::api::idempotency::Keyed;
use crate::api::order_call::{OrderAction, OrderCall};
use crate::api::order_call::{OrderRefusal, OrderReply};
use crate::api::sku_call::SkuReplyKeyed;
use crate::catalog::model::ChannelKind;
use crate::channels::{platform, OrderFetch};
use crate::fault::ObjectError;
use crate::inbound::apply::{lookups, needs, plan, Arrival, Effect, Loaded, Report};
use crate::inbound::fetch::{self, FetchError, CALL_TIMEOUT, MAX_ITEM_PAGES};
use crate::inbound::{amazon, ApplyError, FetchOrder, InboundChannel, InboundEvent, InboundOutcome};
use crate::sync::{connection, EbayCredentialsError, HttpRequest, HttpResponse, TokenSource};
use crate::time::Millis;

use super::ebay_token::{EbayAuth, EbayCallError};
use super::store::inbound as rows;
use super::{catalog_reads, order_client, repush, secrets, sku_client, tokens};

/// What applying needs of the request: the bindings and what brought the events.
pub(super) struct Cx<'a> {
    pub(super) env: &'a Env,
    pub(super) db: &'a D1Database,
    pub(super) at: Arrival<'a>,
}

/// Applies what an order came to for `conn`: its events, or (Amazon, eBay) the order fetched
/// first. `others`: further channels an eBay notification may be for (tried in turn).
pub(super) async fn apply(
    cx: &Cx<'_>,
    conn: &InboundChannel,
    others: &[InboundChannel],
    outcome: &InboundOutcome,
) -> Result<Report, ApplyError> {
    let order = match outcome {
        InboundOutcome::Events { events } => return apply_events(cx, conn, events).await,
        InboundOutcome::Fetch { order } => order,
        settled => return Ok(Report::settled(&conn.id, settled)),
    };
    match platform(cx.at.kind).order_fetch {
        Some(OrderFetch::AmazonItems) => match amazon_items(cx, conn, order).await? {
            Some(items) => match amazon::order_outcome(order, &items) {
                Ok(InboundOutcome::Events { events }) => apply_events(cx, conn, &events).await,
                Ok(settled) => Ok(Report::settled(&conn.id, &settled)),
                Err(e) => Ok(Report::unusable(&conn.id, e.to_string())),
            },
            None => Ok(Report::unusable(
                &conn.id,
                format!("Amazon has no order {} for channel {}", order.order_id, conn.id),
            )),
        },
        Some(OrderFetch::EbayOrder) => {
            for c in std::iter::once(conn).chain(others) {
                if let Some(events) = ebay_order(cx, c, order).await? {
                    return apply_events(cx, c, &events).await;
                }
            }
            Ok(Report::unusable(&conn.id, format!("no eBay channel has order {}", order.order_id)))
        }
        None => Ok(Report::new(&conn.id)),
    }
}

/// Loads what the planner needs, plans, and carries the effects out in order.
async fn apply_events(cx: &Cx<'_>, conn: &InboundChannel, events: &[InboundEvent]) -> Result<Report, ApplyError> {
    let listings = rows::listings(cx.db, &conn.id, &lookups(events)).await?;
    let needs = needs(events, &listings);
    let mut loaded = Loaded { listings, ..Loaded::default() };
    if !needs.bundles_of.is_empty() {
        loaded.bundles = catalog_reads::bundles(cx.env, &needs.bundles_of).await?;
    }
    loaded.states = repush::current_all(cx.env, &needs.states_of, cx.at.now).await?;
    let plan = plan(conn, &cx.at, events, &loaded)?;
    for note in &plan.notes {
        console_warn!("channel {}: {note}", conn.id);
    }
    for effect in &plan.effects {
        carry_out(cx, conn, effect).await?;
    }
    Ok(Report { tally: plan.tally, ..Report::new(&conn.id) })
}

async fn carry_out(cx: &Cx<'_>, conn: &InboundChannel, effect: &Effect) -> Result<(), ApplyError> {
    match effect {
        Effect::RecordUnmatched(lines) => rows::record_unmatched(cx.db, lines).await?,
        Effect::Sell { order, lines } => {
            let call = crate::inbound::apply::sell_call(order, lines);
            desk_performed(order_client::call(cx.env, &call).await)?;
        }
        Effect::Cancel { order, reason } => {
            let action = OrderAction::Cancel { reason: Some(reason.clone()) };
            let call = OrderCall { order: order.clone(), action, idempotency: None };
            desk_performed(order_client::call(cx.env, &call).await)?;
        }
        Effect::Restock(r) => {
            ledger_performed(sku_client::call(cx.env, &r.call()).await)?;
        }
        Effect::RecordDrift(d) => rows::record_drift(cx.db, d).await?,
        Effect::PushBack { state, seen } => {
            repush::to_listing(cx.env, cx.db, &conn.id, state, Some(*seen), cx.at.now).await?;
        }
    }
    Ok(())
}

/// An order desk's answer to an effect: a refusal is logged and passed (the desk applies each
/// line once, so there is nothing to retry); a desk that could not reach a ledger, or could not
/// be reached, is an [`ObjectError`] (the effect is tried again later).
fn desk_performed(reply: Result<OrderReply, ObjectError>) -> Result<(), ObjectError> {
    match reply? {
        Keyed::Answered(Err(OrderRefusal::Unavailable(why))) => {
            Err(ObjectError::Unreachable { class: "OrderDesk", detail: why })
        }
        Keyed::Answered(Ok(_)) | Keyed::Replayed(Ok(_)) => Ok(()),
        refused => {
            console_warn!("an order desk refused an inbound effect: {refused:?}");
            Ok(())
        }
    }
}

/// A SKU ledger's answer to an effect (a restock): a refusal is logged and passed.
fn ledger_performed(reply: Result<SkuReplyKeyed, ObjectError>) -> Result<(), ObjectError> {
    match reply? {
        Keyed::Answered(Ok(_)) | Keyed::Replayed(Ok(_)) => Ok(()),
        refused => {
            console_warn!("a SKU ledger refused an inbound restock: {refused:?}");
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fetching what the notification left out

/// An Amazon access token for channel `c`, from the one token cache (`edge/tokens.rs`, shared
/// with the sync consumer), with what names it there so a refused token can be forgotten.
pub(super) struct AmazonToken {
    source: TokenSource,
    pub token: String,
}

impl AmazonToken {
    /// Drops the token from the cache (SP-API refused it): the next call mints a new one.
    pub(super) fn forget(&self) {
        tokens::forget(&self.source, &self.token);
    }
}

pub(super) async fn amazon_token(env: &Env, c: &InboundChannel, t: Millis) -> Result<AmazonToken, FetchError> {
    let refused = |why: String| FetchError::Credentials { call: "LWA", why };
    let secret = secrets::read(env, c.credentials_secret.as_deref()).ok();
    let source = connection::lwa_source(secret.as_deref(), &c.settings)
        .map_err(|e| refused(format!("channel {}: {e}", c.id)))?;
    let bearer = tokens::bearer(&source, t, CALL_TIMEOUT).await.map_err(|e| refused(e.to_string()))?;
    Ok(AmazonToken { source, token: bearer.token })
}

/// The items of an Amazon order (`getOrderItems`, every page); `None` when Amazon has no such
/// order for the channel.
async fn amazon_items(
    cx: &Cx<'_>,
    c: &InboundChannel,
    order: &FetchOrder,
) -> Result<Option<Vec<amazon::OrderItem>>, FetchError> {
    let access = amazon_token(cx.env, c, cx.at.now).await?;
    let token = access.token.as_str();
    let base = connection::base_url(ChannelKind::Amazon, &c.account, &c.settings);
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_ITEM_PAGES {
        let req = fetch::order_items_request(order, next.as_deref(), token);
        let resp = send(&base, &req).await.map_err(fetch::order_items_failed)?;
        let page = match fetch::order_items_page(&resp) {
            Ok(Some(page)) => page,
            Ok(None) => return Ok(None),
            Err(e) => {
                if matches!(e, FetchError::TokenRefused { .. }) {
                    access.forget();
                }
                return Err(e);
            }
        };
        items.extend(page.items);
        next = page.next_token;
        if next.is_none() {
            return Ok(Some(items));
        }
    }
    Err(FetchError::TooManyPages { order_id: order.order_id.clone() })
}

/// The eBay order as events, read with channel `c`'s credentials; `None` when that channel does
/// not have it (or has no usable credentials).
async fn ebay_order(
    cx: &Cx<'_>,
    c: &InboundChannel,
    order: &FetchOrder,
) -> Result<Option<Vec<InboundEvent>>, FetchError> {
    let secret = secrets::read(cx.env, c.credentials_secret.as_deref()).ok();
    let auth = match EbayAuth::of(secret.as_deref(), &c.account, &c.settings) {
        Ok(a) => a,
        Err(e) => {
            if e != EbayCredentialsError::NoSecret {
                console_warn!("eBay channel {}: {e}", c.id);
            }
            return Ok(None);
        }
    };
    let base = connection::base_url(ChannelKind::Ebay, &c.account, &c.settings);
    let resp = match auth.send(&base, &fetch::ebay_order_request(order), cx.at.now, CALL_TIMEOUT).await {
        Ok(r) => r,
        // Refresh credentials eBay refuses: like a refused token, this channel cannot have it.
        Err(EbayCallError::Token(why @ crate::sync::PushResult::Permanent(_))) => {
            console_warn!("eBay channel {}: {why}", c.id);
            return Ok(None);
        }
        Err(why) => return Err(fetch::ebay_order_failed(why.to_string())),
    };
    fetch::ebay_order(&resp, &c.account, order)
}

/// Performs one platform call, with the inbound timeout.
pub(super) async fn send(base: &str, req: &HttpRequest) -> Result<HttpResponse, String> {
    super::platform_http::send(base, req, CALL_TIMEOUT).await
}
