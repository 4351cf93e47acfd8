//! The `stock-changes` consumer's decisions for one batch, pure: from the loaded rows (listings
//! with their rules, channels with their secrets, each listing's sync record) and the batch's
//! events, the eBay revision counts to keep, one [`ChannelPush`] per channel, and — once the
//! pushes are done — what to record (each listing's sync record, dead letters) and which
//! messages to deliver again, after how long. The shell (`edge/sync_consumer.rs`) loads, carries
//! out these effects and acknowledges; the time and the retry policy come in as values, so a
//! deterministic simulation can drive it.

use std::collections::BTreeMap;

use super::channel_push::{Channel, ChannelPush};
use super::coalesce::coalesce;
use super::event::StockChanged;
use super::push_result::{FailureKind, ListingResult, PushResult};
use super::retry::{Decision, RetryPolicy};
use super::revisions::{admit_revisions, DailyRevisions};
use super::update::{LastPushed, ListingId, ListingUpdate};
use crate::catalog::model::{ChannelKind, Listing};
use crate::stock::{Sku, Token};
use crate::time::Millis;

/// A listing whose stored row cannot be used (a rule out of bounds, an unreadable identity): its
/// changes are recorded as failures, never pushed with a guessed rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorruptListing {
    pub key: ListingId,
    pub reason: String,
}

/// A listing's sync record as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Synced {
    /// What the listing last took.
    pub last: Option<LastPushed>,
    /// Failed attempts at its pending version.
    pub attempts: u32,
    /// Today's revisions (eBay).
    pub revisions: DailyRevisions,
}

/// What the consumer loaded for a batch.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// The listings of the batch's SKUs on enabled channels (corrupt rows included).
    pub listings: Vec<Result<Listing, CorruptListing>>,
    pub channels: BTreeMap<Token, Channel>,
    pub synced: BTreeMap<ListingId, Synced>,
    /// Per bundle whose listings follow the batch's SKUs, the component SKUs that brought it.
    pub bundle_members: BTreeMap<Sku, Vec<Sku>>,
}

/// One write of a listing's sync record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncWrite {
    /// The platform took `quantity` at `version` (a record never moves back to an older version).
    Pushed { key: ListingId, version: u64, quantity: i64, at: Millis },
    /// `version` is still pending: `since` is when the listing fell behind, `attempts` the failed
    /// attempts so far (0 once dead-lettered), `error` what went wrong.
    Failed { key: ListingId, version: u64, since: Millis, attempts: u32, error: String, at: Millis },
}

/// A change that will not reach its listing by itself: kept for an operator to see and retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureRecord {
    /// `None` for a message whose retries ran out before any channel was known.
    pub channel: Option<Token>,
    pub event: StockChanged,
    pub reason: String,
    pub at: Millis,
}

/// A batch's plan: what to count, push, and (with the results) record.
pub struct BatchPlan {
    /// eBay revision counters to keep before pushing (the pushes they admit count).
    pub revisions: Vec<(ListingId, DailyRevisions)>,
    /// One per channel with updates.
    pub pushes: Vec<ChannelPush>,
    /// Results decided without a push (deferred to the next day, corrupt listings).
    decided: Vec<ListingResult>,
    since: BTreeMap<ListingId, Millis>,
    events: Vec<StockChanged>,
    synced: BTreeMap<ListingId, Synced>,
    bundle_members: BTreeMap<Sku, Vec<Sku>>,
    now: Millis,
    policy: RetryPolicy,
}

/// What to record after the pushes, and which messages to deliver again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settlement {
    pub writes: Vec<SyncWrite>,
    pub failures: Vec<FailureRecord>,
    /// Per SKU whose messages are retried, the delay in seconds (the longest any listing asked).
    pub retry: BTreeMap<Sku, u32>,
}

impl BatchPlan {
    /// Plans `events` (every message of the batch, bundle events included) against `loaded`.
    pub fn new(events: Vec<StockChanged>, loaded: Loaded, now: Millis, policy: RetryPolicy) -> BatchPlan {
        let mut listings = Vec::new();
        let mut decided = Vec::new();
        let last: BTreeMap<ListingId, LastPushed> =
            loaded.synced.iter().filter_map(|(k, s)| s.last.map(|l| (k.clone(), l))).collect();
        for l in loaded.listings {
            match l {
                Ok(l) => listings.push(l),
                Err(c) => decided.extend(corrupt(&c, &events, last.get(&c.key))),
            }
        }
        let updates = coalesce(&events, &listings, &last);
        let since = updates.iter().map(|u| (u.key.clone(), u.since)).collect();
        let mut by_channel: BTreeMap<Token, Vec<ListingUpdate>> = BTreeMap::new();
        for u in updates {
            by_channel.entry(u.key.channel.clone()).or_default().push(u);
        }
        let mut counters: BTreeMap<ListingId, DailyRevisions> =
            loaded.synced.iter().map(|(k, s)| (k.clone(), s.revisions)).collect();
        let mut revisions = Vec::new();
        let mut pushes = Vec::new();
        for (channel, updates) in by_channel {
            let Some(conn) = loaded.channels.get(&channel) else { continue };
            let updates = if conn.kind == ChannelKind::Ebay {
                // At most 250 revisions per listing per day: the rest wait for the next UTC day.
                let (admitted, deferred) = admit_revisions(updates, &mut counters, now);
                revisions.extend(admitted.iter().filter_map(|u| counters.get(&u.key).map(|r| (u.key.clone(), *r))));
                decided.extend(deferred);
                admitted
            } else {
                updates
            };
            pushes.push(ChannelPush::new(conn, updates, now));
        }
        BatchPlan {
            revisions,
            pushes,
            decided,
            since,
            events,
            synced: loaded.synced,
            bundle_members: loaded.bundle_members,
            now,
            policy,
        }
    }

    /// Settles the batch with the pushes' results: every listing's record, a failure for each
    /// dead letter, and per SKU the delay before its messages come again (a bundle listing's
    /// retry retries the component messages that brought it).
    pub fn settle(self, results: Vec<ListingResult>) -> Settlement {
        let mut out = Settlement::default();
        for r in self.decided.iter().chain(&results) {
            let attempts = self.synced.get(&r.key).map_or(0, |s| s.attempts).saturating_add(1);
            let decision = self.policy.decide(&r.outcome, attempts);
            out.writes.push(self.write(r, attempts, &decision));
            match decision {
                Decision::Done => {}
                Decision::Retry { .. } => {
                    let delay = decision.delay_seconds().map_or(1, |s| u32::try_from(s).unwrap_or(u32::MAX));
                    later(&mut out.retry, &r.key.sku, delay);
                }
                Decision::DeadLetter { reason } => {
                    let newest = self.events.iter().filter(|e| e.sku == r.key.sku).max_by_key(|e| e.version);
                    if let Some(e) = newest {
                        out.failures.push(FailureRecord {
                            channel: Some(r.key.channel.clone()),
                            event: e.clone(),
                            reason,
                            at: self.now,
                        });
                    }
                }
            }
        }
        for (bundle, members) in &self.bundle_members {
            if let Some(delay) = out.retry.get(bundle).copied() {
                for sku in members {
                    later(&mut out.retry, sku, delay);
                }
            }
        }
        out
    }

    fn write(&self, r: &ListingResult, attempts: u32, decision: &Decision) -> SyncWrite {
        let (key, version, at) = (r.key.clone(), r.version, self.now);
        match (&r.outcome, decision) {
            (PushResult::Pushed, _) => SyncWrite::Pushed { key, version, quantity: r.quantity, at },
            (_, Decision::DeadLetter { reason }) => {
                let since = self.since.get(&r.key).copied().unwrap_or(at);
                SyncWrite::Failed { key, version, since, attempts: 0, error: format!("dead-lettered: {reason}"), at }
            }
            (outcome, _) => {
                let since = self.since.get(&r.key).copied().unwrap_or(at);
                SyncWrite::Failed { key, version, since, attempts, error: outcome.to_string(), at }
            }
        }
    }
}

/// The messages of the dead-letter queue: each a failure whose retries ran out.
pub fn dead_letters(events: &[StockChanged], now: Millis) -> Vec<FailureRecord> {
    events
        .iter()
        .map(|e| FailureRecord { channel: None, event: e.clone(), reason: "retries exhausted".into(), at: now })
        .collect()
}

/// A corrupt listing with a change it has not received: a permanent failure at the newest version.
fn corrupt(c: &CorruptListing, events: &[StockChanged], last: Option<&LastPushed>) -> Option<ListingResult> {
    let newest = events.iter().filter(|e| e.sku == c.key.sku).map(|e| e.version).max()?;
    if last.is_some_and(|l| l.version >= newest) {
        return None;
    }
    Some(ListingResult {
        key: c.key.clone(),
        version: newest,
        quantity: 0,
        outcome: PushResult::permanent(FailureKind::Validation, format!("stored listing unusable: {}", c.reason)),
    })
}

fn later(retry: &mut BTreeMap<Sku, u32>, sku: &Sku, delay: u32) {
    let slot = retry.entry(sku.clone()).or_default();
    *slot = (*slot).max(delay);
}
