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
use super::retry::{retry_later, Decision, RetryPolicy};
use super::revisions::{admit_revisions, DailyRevisions};
use super::update::{LastPushed, ListingId, ListingUpdate};
use crate::catalog::model::Listing;
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
    /// The pending version: the newest pushed without an accepting answer (`None` once a push
    /// of it or a newer one is accepted). Nothing older is pushed after it (`coalesce`).
    pub pending: Option<u64>,
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
    /// Why the platform refused it for good, when it did (`None`: retries ran out).
    pub kind: Option<FailureKind>,
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
        let attempted: BTreeMap<ListingId, u64> =
            loaded.synced.iter().filter_map(|(k, s)| s.pending.map(|p| (k.clone(), p))).collect();
        let updates = coalesce(&events, &listings, &last, &attempted);
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
            let updates = if crate::channels::platform(conn.kind).daily_revisions {
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
                    retry_later(&mut out.retry, &r.key.sku, decision.delay_seconds().unwrap_or(1));
                }
                Decision::DeadLetter { reason } => {
                    let newest = self.events.iter().filter(|e| e.sku == r.key.sku).max_by_key(|e| e.version);
                    if let Some(e) = newest {
                        out.failures.push(FailureRecord {
                            channel: Some(r.key.channel.clone()),
                            event: e.clone(),
                            reason,
                            kind: match &r.outcome {
                                PushResult::Permanent(f) => Some(f.kind),
                                _ => None,
                            },
                            at: self.now,
                        });
                    }
                }
            }
        }
        for (bundle, members) in &self.bundle_members {
            if let Some(delay) = out.retry.get(bundle).copied() {
                for sku in members {
                    retry_later(&mut out.retry, sku, delay);
                }
            }
        }
        out
    }

    fn write(&self, r: &ListingResult, attempts: u32, decision: &Decision) -> SyncWrite {
        let (key, version, at) = (r.key.clone(), r.version, self.now);
        if r.outcome == PushResult::Pushed {
            return SyncWrite::Pushed { key, version, quantity: r.quantity, at };
        }
        let since = self.since.get(&r.key).copied().unwrap_or(at);
        let (attempts, error) = match decision {
            Decision::DeadLetter { reason } => (0, format!("dead-lettered: {reason}")),
            _ => (attempts, r.outcome.to_string()),
        };
        SyncWrite::Failed { key, version, since, attempts, error, at }
    }
}

/// The messages of the dead-letter queue: each a failure whose retries ran out.
pub fn dead_letters(events: &[StockChanged], now: Millis) -> Vec<FailureRecord> {
    events
        .iter()
        .map(|e| FailureRecord {
            channel: None,
            event: e.clone(),
            reason: "retries exhausted".into(),
            kind: None,
            at: now,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::ChannelKind;
    use crate::catalog::model::External;
    use crate::catalog::secret::SecretError;
    use crate::catalog::ListingRule;
    use crate::stock::Op;
    use crate::sync::ebay::EbayIdentity;
    use crate::sync::revisions::EBAY_DAILY_REVISION_LIMIT;
    use crate::sync::shopify::ShopifyIdentity;
    use serde_json::Map;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn event(s: &str, version: u64, available: i64) -> StockChanged {
        StockChanged {
            sku: sku(s),
            version,
            available,
            on_hand: available,
            cause: Op::Sale,
            at: Millis(1_000 * version as i64),
            oversold: 0,
            alert: None,
            channel: None,
            ops: Vec::new(),
            orders: Vec::new(),
            erp_behind: Vec::new(),
        }
    }

    fn key(channel: &str, s: &str) -> ListingId {
        ListingId { channel: Token::parse(channel).unwrap(), sku: sku(s) }
    }

    fn listing(channel: &str, s: &str, external: External) -> Result<Listing, CorruptListing> {
        Ok(Listing { channel: Token::parse(channel).unwrap(), sku: sku(s), external, rule: ListingRule::default() })
    }

    fn loaded(kind: ChannelKind, listings: Vec<Result<Listing, CorruptListing>>) -> Loaded {
        let ch = Token::parse("ch").unwrap();
        let channel = Channel {
            channel: ch.clone(),
            kind,
            account: "acct".into(),
            settings: Map::new(),
            secret: Err(SecretError::Missing("X".into())),
        };
        Loaded { listings, channels: BTreeMap::from([(ch, channel)]), ..Loaded::default() }
    }

    fn now() -> Millis {
        Millis(86_400_000 * 20_000 + 3_600_000)
    }

    #[test]
    fn ebay_listings_past_their_daily_revisions_wait_for_the_next_day() {
        let ebay = |s: &str| External::from(EbayIdentity { sku: s.into(), offer_id: None });
        let mut input = loaded(ChannelKind::Ebay, vec![listing("ch", "A", ebay("A")), listing("ch", "B", ebay("B"))]);
        let day = now().0.div_euclid(86_400_000);
        let full = DailyRevisions { day, count: EBAY_DAILY_REVISION_LIMIT };
        input.synced.insert(key("ch", "A"), Synced { revisions: full, ..Synced::default() });
        let plan = BatchPlan::new(vec![event("A", 2, 5), event("B", 2, 5)], input, now(), RetryPolicy::default());
        assert_eq!(
            plan.revisions,
            [(key("ch", "B"), DailyRevisions { day, count: 1 })],
            "only B is admitted, and counted"
        );
        let settled = plan.settle(Vec::new());
        let wait = ((day + 1) * 86_400 - now().0 / 1000).min(crate::sync::retry::QUEUE_MAX_DELAY_SECONDS as i64);
        assert_eq!(settled.retry.get(&sku("A")), Some(&(wait as u32)), "A waits for the next UTC day (12 h at most)");
        assert!(settled.failures.is_empty());
    }

    #[test]
    fn a_corrupt_listing_with_a_change_is_a_recorded_failure() {
        let corrupt = CorruptListing { key: key("ch", "A"), reason: "listing rule: percent".into() };
        let mut input = loaded(ChannelKind::Shopify, vec![Err(corrupt.clone())]);
        let plan = BatchPlan::new(vec![event("A", 4, 5)], input.clone(), now(), RetryPolicy::default());
        assert!(plan.pushes.is_empty(), "nothing is pushed with a guessed rule");
        let settled = plan.settle(Vec::new());
        assert_eq!(settled.failures.len(), 1);
        let f = &settled.failures[0];
        assert_eq!((f.channel.as_ref().map(Token::as_str), f.event.version), (Some("ch"), 4));
        assert!(f.reason.contains("percent"), "{}", f.reason);
        assert!(settled.retry.is_empty(), "retrying cannot help");
        // Already past that version: nothing to record.
        input
            .synced
            .insert(key("ch", "A"), Synced { last: Some(LastPushed { version: 4, quantity: 1 }), ..Synced::default() });
        assert!(BatchPlan::new(vec![event("A", 4, 5)], input, now(), RetryPolicy::default())
            .settle(Vec::new())
            .failures
            .is_empty());
    }

    fn result(k: ListingId, outcome: PushResult) -> ListingResult {
        ListingResult { key: k, version: 4, quantity: 5, outcome }
    }

    #[test]
    fn failures_are_counted_until_the_last_attempt_dead_letters() {
        let shop = External::from(ShopifyIdentity { inventory_item_id: 1, location_id: 1 });
        let mut input = loaded(ChannelKind::Shopify, vec![listing("ch", "A", shop)]);
        let policy = RetryPolicy::default();
        input.synced.insert(key("ch", "A"), Synced { attempts: 2, ..Synced::default() });
        let plan = BatchPlan::new(vec![event("A", 4, 5)], input.clone(), now(), policy);
        let settled = plan.settle(vec![result(key("ch", "A"), PushResult::backoff("HTTP 503"))]);
        assert!(
            matches!(&settled.writes[..], [SyncWrite::Failed { attempts: 3, since: Millis(4_000), .. }]),
            "{settled:?}"
        );
        assert_eq!(settled.retry.get(&sku("A")), Some(&8), "the third back-off: 8 s");

        input.synced.insert(key("ch", "A"), Synced { attempts: policy.max_attempts - 1, ..Synced::default() });
        let plan = BatchPlan::new(vec![event("A", 4, 5)], input, now(), policy);
        let settled = plan.settle(vec![result(key("ch", "A"), PushResult::backoff("HTTP 503"))]);
        match &settled.writes[..] {
            [SyncWrite::Failed { attempts: 0, error, .. }] => assert!(error.starts_with("dead-lettered"), "{error}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(settled.failures.len(), 1);
        assert_eq!(settled.failures[0].kind, None, "retries ran out: the platform did not refuse it for good");
        assert!(settled.retry.is_empty());
    }

    #[test]
    fn a_permanent_refusal_is_recorded_with_its_kind() {
        let shop = External::from(ShopifyIdentity { inventory_item_id: 1, location_id: 1 });
        let input = loaded(ChannelKind::Shopify, vec![listing("ch", "A", shop)]);
        let plan = BatchPlan::new(vec![event("A", 4, 5)], input, now(), RetryPolicy::default());
        let refused = PushResult::permanent(FailureKind::Credentials, "HTTP 401");
        let settled = plan.settle(vec![result(key("ch", "A"), refused)]);
        assert_eq!(settled.failures.len(), 1);
        assert_eq!(settled.failures[0].kind, Some(FailureKind::Credentials));
        assert_eq!(FailureKind::Credentials.as_str(), "credentials");
    }

    #[test]
    fn a_bundle_listing_to_retry_retries_its_components_messages() {
        let shop = External::from(ShopifyIdentity { inventory_item_id: 1, location_id: 1 });
        let mut input = loaded(ChannelKind::Shopify, vec![listing("ch", "KIT", shop)]);
        input.bundle_members.insert(sku("KIT"), vec![sku("LID"), sku("CUP")]);
        let plan = BatchPlan::new(vec![event("LID", 2, 1), event("KIT", 9, 1)], input, now(), RetryPolicy::default());
        let settled = plan.settle(vec![result(key("ch", "KIT"), PushResult::RetryAfter(30))]);
        assert_eq!(settled.retry, BTreeMap::from([(sku("CUP"), 30), (sku("KIT"), 30), (sku("LID"), 30)]));
        assert!(matches!(&settled.writes[..], [SyncWrite::Failed { .. }]));
    }

    #[test]
    fn a_success_is_recorded_and_dead_letters_name_no_channel() {
        let shop = External::from(ShopifyIdentity { inventory_item_id: 1, location_id: 1 });
        let plan = BatchPlan::new(
            vec![event("A", 4, 5)],
            loaded(ChannelKind::Shopify, vec![listing("ch", "A", shop)]),
            now(),
            RetryPolicy::default(),
        );
        let settled = plan.settle(vec![result(key("ch", "A"), PushResult::Pushed)]);
        assert_eq!(settled.writes, [SyncWrite::Pushed { key: key("ch", "A"), version: 4, quantity: 5, at: now() }]);
        let dead = dead_letters(&[event("A", 4, 5)], now());
        assert_eq!((dead[0].channel.clone(), dead[0].reason.as_str(), dead[0].at), (None, "retries exhausted", now()));
    }
}
