//! The channel sync: D1's listings and sync records (not simulated as a database: reads and
//! writes always succeed), the `stock-changes` consumer (`sync::BatchPlan`, one
//! `sync::ChannelPush` per channel driven against the store with the real WooCommerce adapter's
//! requests, settled with the real retry policy), the dead-letter consumer, and the operators'
//! repairs once faults stop: retrying recorded failures, and reconciliation (`reconcile::decide`,
//! a drifted listing rewound and its state queued, as `edge::reconcile::repair` does).

use std::collections::BTreeMap;

use serde_json::Map;
use stockedge::catalog::model::{ChannelKind, Listing};
use stockedge::catalog::ListingRule;
use stockedge::inbound::OnDrift;
use stockedge::reconcile::{decide, intended, InFlight, Verdict};
use stockedge::stock::{Sku, Token};
use stockedge::sync::woocommerce::WoocommerceIdentity;
use stockedge::sync::{
    coalesce, dead_letters, BatchPlan, Channel, FailureRecord, LastPushed, ListingId, Loaded, RetryPolicy, Step,
    StockChanged, SyncWrite, Synced,
};

use crate::queue::Ack;
use crate::woo_store::PushFault;
use crate::world::{tok, World, PRODUCT_BASE};

pub const CHANNEL: &str = "woo";
pub const ACCOUNT: &str = "https://shop.example/";

/// One listing's `listing_sync` row.
#[derive(Clone, Copy, Debug, Default)]
pub struct Record {
    pub last: Option<LastPushed>,
    pub pending: Option<u64>,
    pub attempts: u32,
}

pub struct SyncDb {
    pub listings: Vec<Listing>,
    pub records: BTreeMap<ListingId, Record>,
    /// `sync_failures`: the record and whether an operator retried it.
    pub failures: Vec<(FailureRecord, bool)>,
    /// Per product, the listings reconciliation found drifted and repaired: a listing that
    /// converged only through these is counted against the store's silent drops.
    pub repairs: BTreeMap<i64, u64>,
}

pub fn channel() -> Channel {
    Channel {
        channel: tok(CHANNEL),
        kind: ChannelKind::Woocommerce,
        account: ACCOUNT.into(),
        settings: Map::new(),
        secret: Ok("ck_sim:cs_sim".into()),
    }
}

pub fn product_of(listings: &[Listing], sku: &Sku) -> i64 {
    listings
        .iter()
        .find(|l| &l.sku == sku)
        .and_then(|l| WoocommerceIdentity::of(&l.external))
        .map_or(0, |i| i.product_id)
}

impl SyncDb {
    pub fn new(rules: &[(Sku, ListingRule)]) -> SyncDb {
        let listings = rules
            .iter()
            .enumerate()
            .map(|(i, (sku, rule))| Listing {
                channel: tok(CHANNEL),
                sku: sku.clone(),
                external: WoocommerceIdentity { product_id: PRODUCT_BASE + i as i64, variation_id: None }.into(),
                rule: *rule,
            })
            .collect();
        SyncDb { listings, records: BTreeMap::new(), failures: Vec::new(), repairs: BTreeMap::new() }
    }

    fn synced(&self) -> BTreeMap<ListingId, Synced> {
        self.records
            .iter()
            .map(|(k, r)| {
                (k.clone(), Synced { last: r.last, attempts: r.attempts, pending: r.pending, ..Synced::default() })
            })
            .collect()
    }

    /// `sync_state::settle`'s writes, with their SQL's conditions.
    fn write(&mut self, w: &SyncWrite) {
        match w {
            SyncWrite::Pushed { key, version, quantity, .. } => {
                let r = self.records.entry(key.clone()).or_default();
                if r.last.is_none_or(|l| l.version < *version) {
                    *r = Record {
                        last: Some(LastPushed { version: *version, quantity: *quantity }),
                        pending: None,
                        attempts: 0,
                    };
                }
            }
            SyncWrite::Failed { key, version, attempts, .. } => {
                let r = self.records.entry(key.clone()).or_default();
                r.pending = Some(*version);
                r.attempts = *attempts;
            }
        }
    }
}

impl World {
    /// One delivery of the `stock-changes` queue to its consumer.
    pub fn deliver_stock_changes(&self) {
        let now = self.now();
        let dup = self.f().duplicate;
        let batch = self.stock_queue.borrow_mut().take(now, &mut self.rng.borrow_mut(), dup);
        if batch.is_empty() {
            return;
        }
        self.consume(batch);
    }

    /// The consumer's run over one delivered batch.
    pub fn consume(&self, batch: Vec<crate::queue::Message<StockChanged>>) {
        let now = self.now();
        self.stats.borrow_mut().deliveries += 1;
        let events: Vec<StockChanged> = batch.iter().map(|m| m.body.clone()).collect();
        let (listings, synced) = {
            let db = self.sync.borrow();
            let skus: Vec<&Sku> = events.iter().map(|e| &e.sku).collect();
            let listings: Vec<Listing> = db.listings.iter().filter(|l| skus.contains(&&l.sku)).cloned().collect();
            (listings, db.synced())
        };
        // The version each listing's update carries (the planner's own coalescing, for the store).
        let last: BTreeMap<ListingId, LastPushed> =
            synced.iter().filter_map(|(k, s)| s.last.map(|l| (k.clone(), l))).collect();
        let attempted: BTreeMap<ListingId, u64> =
            synced.iter().filter_map(|(k, s)| s.pending.map(|p| (k.clone(), p))).collect();
        let versions: BTreeMap<i64, u64> = coalesce(&events, &listings, &last, &attempted)
            .iter()
            .map(|u| (product_of(&listings, &u.key.sku), u.version))
            .collect();
        let channels = BTreeMap::from([(tok(CHANNEL), channel())]);
        let loaded = Loaded {
            listings: listings.iter().cloned().map(Ok).collect(),
            channels,
            synced,
            bundle_members: BTreeMap::new(),
        };
        let mut plan = BatchPlan::new(events, loaded, now, RetryPolicy::default());
        let mut results = Vec::new();
        for mut push in std::mem::take(&mut plan.pushes) {
            loop {
                match push.step() {
                    Step::Done => break,
                    Step::Send { requests, .. } => {
                        let answers = requests.iter().map(|r| self.store_push(r, &versions)).collect();
                        push.answered(answers);
                    }
                    other => panic!("a WooCommerce push asked for {other:?}"),
                }
            }
            results.extend(push.results());
        }
        let settled = plan.settle(results);
        {
            let mut db = self.sync.borrow_mut();
            for w in &settled.writes {
                db.write(w);
            }
            db.failures.extend(settled.failures.iter().cloned().map(|f| (f, false)));
        }
        self.log(|| format!("consumer: {} messages, retry {:?}", batch.len(), settled.retry));
        let mut q = self.stock_queue.borrow_mut();
        for m in batch {
            let ack = match settled.retry.get(&m.body.sku) {
                Some(seconds) => Ack::Retry(*seconds),
                None => Ack::Ack,
            };
            q.settle(m, ack, now);
        }
    }

    fn store_push(&self, req: &stockedge::sync::HttpRequest, versions: &BTreeMap<i64, u64>) -> stockedge::sync::Answer {
        let f = self.f();
        self.stats.borrow_mut().pushes += 1;
        let forced = self.forced.borrow_mut().pushes.pop_front();
        let fault = if let Some(forced) = forced {
            forced
        } else if self.chance(f.throttled) {
            PushFault::Throttled
        } else if self.chance(f.unavailable) {
            PushFault::Unavailable
        } else if self.chance(f.timeout) {
            if self.chance(500) {
                PushFault::TimeoutAfter
            } else {
                PushFault::TimeoutBefore
            }
        } else if self.chance(f.silent) {
            PushFault::Silent
        } else {
            PushFault::None
        };
        let retry_after = self.range(1, 30) as u64;
        self.log(|| format!("store: push {fault:?} {versions:?}"));
        self.store.borrow_mut().push(req, versions, fault, retry_after)
    }

    /// The dead-letter queue's consumer: every message a recorded failure.
    pub fn deliver_dead_letters(&self) {
        let dead = std::mem::take(&mut self.stock_queue.borrow_mut().dead);
        if dead.is_empty() {
            return;
        }
        let failures = dead_letters(&dead, self.now());
        self.sync.borrow_mut().failures.extend(failures.into_iter().map(|f| (f, false)));
    }

    /// An operator retries every open failure (`POST /v1/sync/failures/retry`): attempts reset,
    /// the event queued again.
    pub fn retry_failures(&self) -> usize {
        let now = self.now();
        let mut db = self.sync.borrow_mut();
        let mut events = Vec::new();
        for (f, retried) in db.failures.iter_mut().filter(|(_, r)| !*r) {
            *retried = true;
            events.push(f.event.clone());
        }
        for e in &events {
            for (k, r) in db.records.iter_mut() {
                if k.sku == e.sku {
                    r.attempts = 0;
                }
            }
        }
        drop(db);
        let mut q = self.stock_queue.borrow_mut();
        for e in &events {
            q.send(e.clone(), now);
        }
        events.len()
    }

    /// The SKU's current state as a re-announcement (`repush::ledger_state`).
    pub fn current_state(&self, s: &Sku) -> Option<StockChanged> {
        let now = self.now();
        let mut skus = self.skus.borrow_mut();
        let o = skus.get_mut(s)?;
        let l = o.ledger_view();
        let t = l.totals();
        (l.version() > 0)
            .then(|| StockChanged::current(s.clone(), l.version(), t.available, t.on_hand, t.oversold, now))
    }

    /// Reconciliation of every listing (faults stopped): drifted ones are repaired. Returns how
    /// many listings were not in sync (drifted or in flight).
    pub fn reconcile(&self) -> usize {
        let listings = self.sync.borrow().listings.clone();
        let mut off = 0;
        for l in &listings {
            let state = self.current_state(&l.sku);
            let want = intended(&l.rule, state.as_ref());
            let product = product_of(&listings, &l.sku);
            let live = self.store.borrow().products.get(&product).map_or(0, |p| p.quantity);
            let key = ListingId { channel: l.channel.clone(), sku: l.sku.clone() };
            let rec = self.sync.borrow().records.get(&key).copied().unwrap_or_default();
            let flight = InFlight {
                current_version: state.as_ref().map_or(0, |s| s.version),
                last_version: rec.last.map(|p| p.version),
                pending_version: rec.pending,
            };
            match decide(want, live, flight, OnDrift::PushBack) {
                Verdict::InSync => {}
                Verdict::InFlight | Verdict::Flag => off += 1,
                Verdict::Repair => {
                    off += 1;
                    *self.sync.borrow_mut().repairs.entry(product).or_default() += 1;
                    self.stats.borrow_mut().repairs += 1;
                    let Some(state) = state else { continue };
                    self.log(|| format!("reconcile: {} shows {live}, wants {want}: repaired", l.sku));
                    // `sync_state::rewind`, then the state on the queue.
                    if let Some(r) = self.sync.borrow_mut().records.get_mut(&key) {
                        if r.last.is_some_and(|p| p.version >= state.version) {
                            r.last = Some(LastPushed { version: state.version.saturating_sub(1), quantity: live });
                        }
                    }
                    self.stock_queue.borrow_mut().send(state, self.now());
                }
            }
        }
        off
    }
}

/// The quantity each listing must converge to: its rule over the SKU's final sellable units.
pub fn final_quantity(rule: &ListingRule, state: Option<&StockChanged>) -> i64 {
    intended(rule, state)
}

pub fn channel_token() -> Token {
    tok(CHANNEL)
}
