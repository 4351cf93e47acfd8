//! Marketplace orders coming in: the store's webhooks (the real REST order bodies, read by
//! `inbound::woocommerce::parse`) lost, duplicated and reordered, and the order-feed poll (the
//! real `PollState` window, `page_request`, `read_page`, `triage` and seen fingerprints, as
//! `edge::inbound_poll::read_stretch` runs them) that finds what the webhooks lost. Both paths
//! plan with `inbound::apply::plan` and carry out its effects at the order desks, stopping at the
//! first that fails, as `edge::inbound_apply` does.

use std::collections::BTreeMap;

use stockedge::api::order_call::OrderAction;
use stockedge::catalog::model::ChannelKind;
use stockedge::catalog::StoredRule;
use stockedge::inbound::apply::{self, Arrival, Effect};
use stockedge::inbound::poll::{page_request, read_page, triage, FeedOf, PollState, Triage};
use stockedge::inbound::woocommerce::{self, ORDER_CREATED, ORDER_UPDATED};
use stockedge::inbound::{InboundChannel, InboundEvent, InboundOutcome};
use stockedge::stock::Sku;
use stockedge::sync::woocommerce::identity_key;
use stockedge::time::Millis;

use crate::desk::DeskAnswer;
use crate::sync::{product_of, ACCOUNT, CHANNEL};
use crate::woo_store::{Order, WooStore};
use crate::world::{sku, World, SKUS};

/// How often the simulated cron polls. The deployed cron runs every minute; the simulation polls
/// every three (each poll re-reads the 10-minute overlap, the costliest part of a seed), which
/// only delays what the poll finds.
pub const POLL_EVERY_MS: i64 = 180_000;

/// A store order as the checks read it: id, lines (line id, SKU, quantity), cancelled.
pub type MarketOrder = (u64, Vec<(u64, Sku, i64)>, bool);

/// A webhook on its way: topic, body, when it arrives.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub topic: &'static str,
    pub body: String,
    pub at: Millis,
}

pub struct Inbound {
    pub webhooks: Vec<Webhook>,
    pub poll: PollState,
    /// `poll_seen`: the fingerprint of each order as last applied.
    pub seen: BTreeMap<String, String>,
    pub next_poll: Millis,
    pub next_order: u64,
    pub next_line: u64,
}

impl Inbound {
    pub fn new(epoch: Millis) -> Inbound {
        Inbound {
            webhooks: Vec::new(),
            poll: PollState::new(epoch),
            seen: BTreeMap::new(),
            next_poll: Millis(epoch.0 + POLL_EVERY_MS),
            next_order: 7_000,
            next_line: 50_000,
        }
    }
}

fn inbound_channel() -> InboundChannel {
    InboundChannel::of(CHANNEL, ACCOUNT.into(), Some("WOO_SECRET".into()), "{}").expect("channel")
}

impl World {
    fn inbound_listings(&self) -> Vec<apply::Listing> {
        let db = self.sync.borrow();
        db.listings
            .iter()
            .map(|l| apply::Listing {
                sku: l.sku.to_string(),
                identity: identity_key(product_of(&db.listings, &l.sku), None),
                external: l.external.to_json().to_string(),
                rule: StoredRule {
                    buffer: l.rule.buffer,
                    percent: i64::from(l.rule.percent),
                    max_listed: l.rule.max_listed,
                    zero_at_or_below: l.rule.zero_at_or_below,
                },
                last_pushed: None,
            })
            .collect()
    }

    /// Plans `events` and carries out the effects in order; `false` at the first that fails.
    fn apply_events(&self, topic: &str, events: &[InboundEvent]) -> bool {
        let ch = inbound_channel();
        let loaded = apply::Loaded { listings: self.inbound_listings(), ..apply::Loaded::default() };
        let at = Arrival { kind: ChannelKind::Woocommerce, topic, dedupe_key: None, now: self.now() };
        let plan = apply::plan(&ch, &at, events, &loaded).expect("plan");
        for effect in plan.effects {
            let answer = match effect {
                Effect::Sell { order, lines } => {
                    let call = apply::sell_call(&order, &lines);
                    self.desk_call(&call.order, call.action)
                }
                Effect::Cancel { order, reason } => {
                    self.desk_call(&order, OrderAction::Cancel { reason: Some(reason) })
                }
                other => panic!("the simulation's orders planned {other:?}"),
            };
            if matches!(answer, DeskAnswer::Unavailable | DeskAnswer::Unreachable) {
                return false;
            }
        }
        true
    }

    /// The store sells: a new order of 1–2 lines, announced by webhook.
    pub fn market_order(&self) {
        let now = self.now();
        let (id, lines) = {
            let mut ib = self.inbound.borrow_mut();
            ib.next_order += 1;
            let id = ib.next_order;
            let n = 1 + self.below(2);
            let mut lines = Vec::new();
            for _ in 0..n {
                ib.next_line += 1;
                let i = self.below(SKUS.len() as u64) as usize;
                lines.push((ib.next_line, crate::world::PRODUCT_BASE + i as i64, sku(SKUS[i]), self.range(1, 3)));
            }
            (id, lines)
        };
        let order = Order { id, lines, cancelled: false, created: now, modified: now };
        self.stats.borrow_mut().market_orders += 1;
        self.log(|| format!("store: order {id} placed {:?}", order.lines));
        self.announce(&order, ORDER_CREATED);
        self.store.borrow_mut().place(order);
    }

    /// The store cancels one of its orders.
    pub fn market_cancel(&self) {
        let now = self.now();
        let order = {
            let mut store = self.store.borrow_mut();
            let open: Vec<u64> = store.orders.values().filter(|o| !o.cancelled).map(|o| o.id).collect();
            if open.is_empty() {
                return;
            }
            let id = open[self.below(open.len() as u64) as usize];
            let Some(o) = store.orders.get_mut(&id) else { return };
            o.cancelled = true;
            // Whole seconds on the platform: a change within the same second is still newer.
            o.modified = Millis(now.0.max(o.modified.0 + 1_000));
            o.clone()
        };
        self.log(|| format!("store: order {} cancelled", order.id));
        self.announce(&order, ORDER_UPDATED);
    }

    fn announce(&self, order: &Order, topic: &'static str) {
        let f = self.f();
        let body = WooStore::order_json(order).to_string();
        let copies = if self.chance(f.webhook_lost) {
            0
        } else if self.chance(f.webhook_dup) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let at = Millis(self.now().0 + self.range(0, 5_000));
            self.inbound.borrow_mut().webhooks.push(Webhook { topic, body: body.clone(), at });
        }
    }

    /// One webhook arrives (any due one: they overtake each other).
    pub fn deliver_webhook(&self) {
        let now = self.now();
        let hook = {
            let mut ib = self.inbound.borrow_mut();
            let due: Vec<usize> = (0..ib.webhooks.len()).filter(|i| ib.webhooks[*i].at <= now).collect();
            if due.is_empty() {
                return;
            }
            let i = due[self.below(due.len() as u64) as usize];
            ib.webhooks.swap_remove(i)
        };
        self.stats.borrow_mut().webhooks += 1;
        let outcome = woocommerce::parse(hook.topic, ACCOUNT, hook.body.as_bytes(), now).expect("a store body parses");
        if let InboundOutcome::Events { events } = outcome {
            let ok = self.apply_events(hook.topic, &events);
            // WooCommerce does not retry a delivery answered 5xx: the poll finds it.
            self.log(|| format!("webhook {} applied: {ok}", hook.topic));
        }
    }

    /// The cron's poll of the store's order feed.
    pub fn poll(&self) {
        let now = self.now();
        self.inbound.borrow_mut().next_poll = Millis(now.0 + POLL_EVERY_MS);
        self.stats.borrow_mut().polls += 1;
        let mut state = self.inbound.borrow().poll.clone();
        let Some(mut window) = state.next_window(ChannelKind::Woocommerce, now) else { return };
        let feed = FeedOf { kind: ChannelKind::Woocommerce, account: ACCOUNT.into(), marketplace_ids: Vec::new() };
        let since = crate::world::EPOCH;
        for _ in 0..stockedge::inbound::poll::page_budget(ChannelKind::Woocommerce) {
            let req = page_request(&feed, &window);
            let resp = if self.chance(self.f().poll_fail) {
                stockedge::sync::HttpResponse::new(503, "busy")
            } else {
                self.store.borrow().feed(&req)
            };
            let page = match read_page(&feed, &window, &resp, now) {
                Ok(p) => p,
                Err(e) => {
                    self.log(|| format!("poll stopped: {e:?}"));
                    return;
                }
            };
            for order in &page.orders {
                let seen = self.inbound.borrow().seen.get(&order.order_id).cloned();
                if let Triage::Apply(InboundOutcome::Events { events }) = triage(order, seen.as_deref(), since) {
                    if !self.apply_events("poll", events) {
                        self.log(|| format!("poll stopped at order {}", order.order_id));
                        return;
                    }
                }
                self.inbound.borrow_mut().seen.insert(order.order_id.clone(), order.fingerprint.clone());
            }
            state.advance(&window, page.next.clone());
            self.inbound.borrow_mut().poll = state.clone();
            match page.next {
                Some(cursor) => window.cursor = Some(cursor),
                None => return,
            }
        }
    }

    /// The store's orders by id (for checks): SKU lines and whether cancelled.
    pub fn market_truth(&self) -> Vec<MarketOrder> {
        self.store
            .borrow()
            .orders
            .values()
            .map(|o| (o.id, o.lines.iter().map(|(l, _, s, q)| (*l, s.clone(), *q)).collect(), o.cancelled))
            .collect()
    }
}
