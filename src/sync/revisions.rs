//! eBay's per-listing revision ceiling: "active listings can only be revised a maximum of 250
//! times per calendar day" (developer.ebay.com/develop/guides/listing-management, "Revising
//! listings"). eBay does not say which time zone the calendar day is in; StockEdge counts UTC
//! days. Coalescing keeps a listing far below the ceiling; this counter makes sure.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::adapter::result_of;
use super::push_result::{ListingResult, PushResult};
use super::update::{ListingId, ListingUpdate};
use crate::time::Millis;

pub const EBAY_DAILY_REVISION_LIMIT: u32 = 250;
const DAY_MS: i64 = 86_400_000;

/// Revisions of one listing in one UTC day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyRevisions {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub count: u32,
}

impl DailyRevisions {
    /// Counts one revision at `now`, or refuses it with the whole seconds until the next UTC
    /// midnight when the day already had [`EBAY_DAILY_REVISION_LIMIT`].
    pub fn try_revise(&mut self, now: Millis) -> Result<(), u64> {
        let day = now.0.div_euclid(DAY_MS);
        if day != self.day {
            *self = DailyRevisions { day, count: 0 };
        }
        if self.count >= EBAY_DAILY_REVISION_LIMIT {
            let next_midnight = (day + 1) * DAY_MS;
            return Err(((next_midnight - now.0) as u64).div_ceil(1000));
        }
        self.count += 1;
        Ok(())
    }
}

/// Lets through the updates whose listing may still be revised today (counting them), and
/// answers the others `RetryAfter` the next UTC midnight.
pub fn admit_revisions(
    updates: Vec<ListingUpdate>,
    counters: &mut BTreeMap<ListingId, DailyRevisions>,
    now: Millis,
) -> (Vec<ListingUpdate>, Vec<ListingResult>) {
    let mut admitted = Vec::new();
    let mut deferred = Vec::new();
    for u in updates {
        match counters.entry(u.key.clone()).or_default().try_revise(now) {
            Ok(()) => admitted.push(u),
            Err(wait) => deferred.push(result_of(&u, PushResult::RetryAfter(wait))),
        }
    }
    (admitted, deferred)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_251st_revision_of_a_utc_day() {
        let day = Millis::parse_rfc3339("2026-11-29T00:00:00Z").unwrap();
        let mut r = DailyRevisions::default();
        for i in 0..250 {
            assert_eq!(r.try_revise(Millis(day.0 + i * 1000)), Ok(()), "revision {}", i + 1);
        }
        let late = Millis::parse_rfc3339("2026-11-29T23:59:00Z").unwrap();
        assert_eq!(r.try_revise(late), Err(60));
        assert_eq!(r.count, 250);
        let next = Millis::parse_rfc3339("2026-11-30T00:00:00Z").unwrap();
        assert_eq!(r.try_revise(next), Ok(()));
        assert_eq!(r.count, 1);
    }
}
