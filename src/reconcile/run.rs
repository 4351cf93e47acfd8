//! One channel's reconciliation run, as `POST /v1/reconciliation/run` answers it.

use serde::Serialize;

use super::decide::Verdict;
use super::read::ReadError;
use crate::catalog::model::ChannelKind;
use crate::stock::Token;

/// What one channel's run came to: listings read, drift found and repaired, and why the run
/// stopped early (`error`) or was not made (`skipped`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub channel: Token,
    pub kind: ChannelKind,
    /// Listings whose live quantity was read.
    pub read: usize,
    /// Reads that differed from the intended quantity with no push under way.
    pub drifted: usize,
    /// Drifted listings whose intended quantity was queued for a push.
    pub repaired: usize,
    /// Reads that differed while a push was under way (not drift).
    pub in_flight: usize,
    /// Listings that could not be read (gone, unreadable, unavailable); each is recorded.
    pub failed: usize,
    /// Why the run stopped before reading every listing (credentials refused, throttled, no
    /// usable credentials); nothing is recorded as drift for the listings not read.
    pub error: Option<String>,
    /// Why the channel was not read at all (its platform has no read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl RunReport {
    pub fn new(channel: Token, kind: ChannelKind) -> RunReport {
        RunReport {
            channel,
            kind,
            read: 0,
            drifted: 0,
            repaired: 0,
            in_flight: 0,
            failed: 0,
            error: None,
            skipped: None,
        }
    }

    /// Counts one read's verdict; `repaired` when its repair was queued.
    pub fn count(&mut self, verdict: Verdict, repaired: bool) {
        self.read += 1;
        if verdict.is_drift() {
            self.drifted += 1;
        }
        if verdict == Verdict::InFlight {
            self.in_flight += 1;
        }
        if repaired {
            self.repaired += 1;
        }
    }

    /// Counts a listing that could not be read; a channel-wide refusal stops the run.
    pub fn failed(&mut self, e: &ReadError) {
        if e.stops_channel() {
            self.error = Some(e.to_string());
        } else {
            self.failed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_stops() {
        let mut r = RunReport::new(Token::parse("shop").expect("token"), ChannelKind::Shopify);
        r.count(Verdict::InSync, false);
        r.count(Verdict::Repair, true);
        r.count(Verdict::Flag, false);
        r.count(Verdict::InFlight, false);
        r.failed(&ReadError::Gone("x".into()));
        assert_eq!((r.read, r.drifted, r.repaired, r.in_flight, r.failed), (4, 2, 1, 1, 1));
        assert_eq!(r.error, None);
        r.failed(&ReadError::Credentials("HTTP 401".into()));
        assert_eq!(r.failed, 1);
        assert!(r.error.as_deref().is_some_and(|e| e.contains("401")));
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(v["kind"], "shopify");
        assert!(v.get("skipped").is_none());
    }
}
