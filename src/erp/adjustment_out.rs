//! Forwarded adjustment requests carried to the ERP (issue 13 point 4): what a request's row
//! becomes after one delivery attempt. The same rules as the order delivery's
//! (`sync::RetryPolicy`: back-off from 2 s doubling to 15 min, 10 attempts; a refusal is final):
//! received (`2xx`, or `409`: the ERP had its Idempotency-Key) → `sent`; to be retried →
//! `pending`, not before the back-off has passed; refused or out of attempts → `dead`, with the
//! reason.
//!
//! The webhook ERP is sent its requests as `adjustment.requested` documents
//! (`connectors::webhook`); Odoo, SAP Business One and NetSuite have them applied as inventory
//! postings (`adjustment_send`: found by their tag, else computed from the ERP's figure and posted
//! once) — a posting found applied is [`Receipt::AlreadyHad`]. A request whose connection is
//! deleted is `dead` ([`connection_deleted`]); one whose connection is disabled stays `pending`
//! (the connection may be enabled again) — docs/erp.md, "Adjustment requests to the ERP".

use serde::{Deserialize, Serialize};

use super::connectors::answer::CallFailure;
use super::connectors::webhook::Receipt;
use crate::stock::Token;
use crate::sync::{Decision, RetryPolicy};
use crate::time::Millis;

/// Where a request's delivery stands (`erp_adjustment_requests.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not yet received by the ERP.
    Pending,
    /// Received.
    Sent,
    /// Refused, or out of attempts: not tried again.
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent => "sent",
            Status::Dead => "dead",
        }
    }
}

/// A request's row after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AfterAttempt {
    pub status: Status,
    /// Failed attempts so far (0 once sent).
    pub attempts: u32,
    /// Not tried again before this (pending only).
    pub next_at: Millis,
    pub error: Option<String>,
    /// When the ERP received it (sent only).
    pub sent_at: Option<Millis>,
}

/// The row after attempt number `attempts + 1` ended in `result` at `now`.
pub fn after_attempt(
    result: &Result<Receipt, CallFailure>,
    attempts: u32,
    now: Millis,
    policy: &RetryPolicy,
) -> AfterAttempt {
    let outcome = match result {
        Ok(_) => {
            return AfterAttempt { status: Status::Sent, attempts: 0, next_at: now, error: None, sent_at: Some(now) }
        }
        Err(f) => f.outcome(),
    };
    let attempt = attempts.saturating_add(1);
    match policy.decide(&outcome, attempt) {
        Decision::Retry { after_ms, .. } => AfterAttempt {
            status: Status::Pending,
            attempts: attempt,
            next_at: Millis(now.0.saturating_add(i64::try_from(after_ms).unwrap_or(i64::MAX))),
            error: Some(outcome.to_string()),
            sent_at: None,
        },
        Decision::DeadLetter { reason } => {
            AfterAttempt { status: Status::Dead, attempts: attempt, next_at: now, error: Some(reason), sent_at: None }
        }
        Decision::Done => {
            AfterAttempt { status: Status::Sent, attempts: 0, next_at: now, error: None, sent_at: Some(now) }
        }
    }
}

/// What a pending request of `connection` becomes once that connection is deleted: `dead`, with
/// this reason — nothing would ever send it (the cron sends only requests of existing, enabled
/// connections), and a connection created later under the same id may be another ERP. Requests of
/// a *disabled* connection stay `pending`: it may be enabled again.
pub fn connection_deleted(connection: &Token) -> (Status, String) {
    (
        Status::Dead,
        format!(
            "ERP connection {connection} was deleted before the request was sent: forward the change again to the \
             connection that masters the location now"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_or_already_had_is_sent() {
        let p = RetryPolicy::default();
        for r in [Ok(Receipt::Received), Ok(Receipt::AlreadyHad)] {
            let a = after_attempt(&r, 3, Millis(50), &p);
            assert_eq!((a.status, a.attempts, a.sent_at), (Status::Sent, 0, Some(Millis(50))));
        }
    }

    #[test]
    fn unavailable_backs_off_then_dies_and_a_refusal_dies_at_once() {
        let p = RetryPolicy::default();
        let busy = Err(CallFailure::Unavailable("503".into()));
        let a = after_attempt(&busy, 0, Millis(1_000), &p);
        assert_eq!((a.status, a.attempts, a.next_at), (Status::Pending, 1, Millis(3_000)));
        let a = after_attempt(&busy, 3, Millis(1_000), &p);
        assert_eq!((a.status, a.next_at), (Status::Pending, Millis(1_000 + 16_000)));
        let last = after_attempt(&busy, p.max_attempts - 1, Millis(1_000), &p);
        assert_eq!(last.status, Status::Dead);
        assert!(last.error.is_some_and(|e| e.contains("503")));
        let refused = after_attempt(&Err(CallFailure::Refused("401 bad signature".into())), 0, Millis(1), &p);
        assert_eq!((refused.status, refused.attempts), (Status::Dead, 1));
        assert!(refused.error.is_some_and(|e| e.contains("bad signature")));
    }

    #[test]
    fn a_request_of_a_deleted_connection_is_dead_saying_so() {
        let id = Token::parse("ns-main").expect("token");
        let (status, why) = connection_deleted(&id);
        assert_eq!(status, Status::Dead);
        assert!(why.contains("ERP connection ns-main was deleted"), "{why}");
    }
}
