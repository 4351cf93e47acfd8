//! Per-listing sync record: what it last received, whether it is behind, and since when.

use serde::{Deserialize, Serialize};

use super::outcome::{ListingOutcome, Outcome};
use super::update::{LastPushed, ListingKey, ListingUpdate};
use crate::time::Millis;

/// One listing's sync state, as the shell stores it (e.g. a D1 `sync_state` row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub key: ListingKey,
    /// The last version the platform took, and the quantity and time it took it.
    pub pushed_version: Option<u64>,
    pub pushed_quantity: Option<i64>,
    pub pushed_at: Option<Millis>,
    /// The newest version seen for this listing (pushed or not), and the `since` of the update
    /// that carried it.
    pub seen_version: Option<u64>,
    pub seen_since: Option<Millis>,
    /// Commit time of the oldest change the listing has not received; `None` when up to date.
    pub behind_since: Option<Millis>,
    /// Failed attempts at the pending version (reset when a push succeeds).
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Set when the pending update was dead-lettered; cleared by a later success.
    pub dead_lettered: bool,
}

impl SyncStatus {
    pub fn new(key: ListingKey) -> SyncStatus {
        SyncStatus {
            key,
            pushed_version: None,
            pushed_quantity: None,
            pushed_at: None,
            seen_version: None,
            seen_since: None,
            behind_since: None,
            attempts: 0,
            last_error: None,
            dead_lettered: false,
        }
    }

    /// What the coalescer needs: the last version and quantity the listing received.
    pub fn last_pushed(&self) -> Option<LastPushed> {
        Some(LastPushed { version: self.pushed_version?, quantity: self.pushed_quantity? })
    }

    /// Notes an update that is about to be pushed (from the coalescer).
    pub fn observe(&mut self, update: &ListingUpdate) {
        if self.seen_version.is_none_or(|v| update.version > v) {
            self.seen_version = Some(update.version);
            self.seen_since = Some(update.since);
        }
        if self.pushed_version.is_none_or(|p| update.version > p) {
            self.behind_since = Some(self.behind_since.map_or(update.since, |b| b.min(update.since)));
        }
    }

    /// Records an attempt's outcome at `now`. A success never moves the record backwards (an
    /// older version's late success is ignored).
    pub fn record(&mut self, outcome: &ListingOutcome, now: Millis) {
        match &outcome.outcome {
            Outcome::Pushed => {
                if self.pushed_version.is_none_or(|p| outcome.version > p) {
                    self.pushed_version = Some(outcome.version);
                    self.pushed_quantity = Some(outcome.quantity);
                    self.pushed_at = Some(now);
                    self.attempts = 0;
                    self.last_error = None;
                    self.dead_lettered = false;
                }
                if self.seen_version.is_none_or(|s| outcome.version >= s) {
                    self.seen_version = Some(outcome.version);
                    self.behind_since = None;
                } else if self.pushed_version == Some(outcome.version) {
                    // A newer version is still pending: the lag now starts at its batch.
                    self.behind_since = self.seen_since;
                }
            }
            other => {
                self.attempts = self.attempts.saturating_add(1);
                self.last_error = Some(other.to_string());
            }
        }
    }

    /// Marks the pending update dead-lettered with `reason`.
    pub fn dead_letter(&mut self, reason: &str) {
        self.dead_lettered = true;
        self.last_error = Some(reason.to_owned());
    }

    /// How far behind the listing is at `now`, in milliseconds: now − the commit time of the
    /// oldest change it has not received (0 when up to date).
    pub fn lag_ms(&self, now: Millis) -> i64 {
        self.behind_since.map_or(0, |t| now.0.saturating_sub(t.0).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::External;
    use crate::stock::{Op, Sku, Token};
    use crate::sync::outcome::FailureKind;

    fn update(version: u64, since: i64) -> ListingUpdate {
        ListingUpdate {
            key: ListingKey { channel: Token::parse("shop").unwrap(), sku: Sku::parse("A").unwrap() },
            external: External::Shopify { inventory_item_id: 1, location_id: 2 },
            version,
            available: 7,
            quantity: 5,
            expected: None,
            cause: Op::Sale,
            at: Millis(since + 5),
            since: Millis(since),
        }
    }

    fn outcome(u: &ListingUpdate, outcome: Outcome) -> ListingOutcome {
        ListingOutcome { key: u.key.clone(), version: u.version, quantity: u.quantity, outcome }
    }

    #[test]
    fn tracks_lag_failures_and_success() {
        let mut s = SyncStatus::new(update(1, 0).key);
        assert_eq!(s.lag_ms(Millis(100)), 0);
        let u = update(3, 1_000);
        s.observe(&u);
        assert_eq!(s.lag_ms(Millis(4_000)), 3_000);
        s.record(&outcome(&u, Outcome::backoff("HTTP 502")), Millis(4_000));
        assert_eq!((s.attempts, s.last_error.as_deref()), (1, Some("transient failure: HTTP 502")));
        s.observe(&update(4, 2_000));
        assert_eq!(s.lag_ms(Millis(4_000)), 3_000, "still behind since the older change");
        s.record(&outcome(&u, Outcome::Pushed), Millis(5_000));
        assert_eq!(s.last_pushed(), Some(LastPushed { version: 3, quantity: 5 }));
        assert_eq!(s.lag_ms(Millis(6_000)), 4_000, "version 4 is still pending, since its batch's oldest change");
        s.record(&outcome(&update(4, 2_000), Outcome::Pushed), Millis(6_000));
        assert_eq!((s.lag_ms(Millis(9_000)), s.attempts, s.last_error.clone()), (0, 0, None));
        // A late success of an older version changes nothing.
        s.record(&outcome(&update(2, 0), Outcome::Pushed), Millis(9_000));
        assert_eq!(s.pushed_version, Some(4));
        s.record(&outcome(&u, Outcome::permanent(FailureKind::Credentials, "401")), Millis(9_000));
        s.dead_letter("Credentials: 401");
        assert!(s.dead_lettered);
    }
}
