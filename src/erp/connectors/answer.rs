//! An ERP's HTTP answer classified, the same way for every connector.

use crate::sync::{FailureKind, HttpResponse, PushResult};
use crate::time::Millis;

/// The longest wait an ERP's `Retry-After` may impose on one try: a longer one is cut to this
/// (after the last try the run stops; the next cron run tries again).
pub const MAX_RETRY_AFTER_SECONDS: u64 = 30;

/// What a connector does with an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 2xx: read the body.
    Ok,
    /// The session or token is no longer valid (401; SAP B1 also answers 301 to a timed-out
    /// session on some versions): authenticate again, then repeat the call once.
    Reauthenticate,
    /// Throttled (429, NetSuite's `CONCURRENCY_LIMIT_EXCEEDED`) or unavailable (503): wait this
    /// many seconds and repeat.
    Wait(u64),
    /// Transient (5xx): repeat after a back-off.
    Retry(String),
    /// Refused for good (4xx): the call is wrong or the record is; repeating will not help.
    Refused(String),
}

/// Why an ERP call failed once every try is spent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    /// The ERP refused the call for good (a 4xx other than 401 and throttling): repeating the
    /// same call will not help (a delivery is dead-lettered).
    #[error("{0}")]
    Refused(String),
    /// Every try failed for a reason that may pass (transport, 5xx, throttling, a session or
    /// token that could not be had): a later attempt may succeed.
    #[error("{0}")]
    Unavailable(String),
}

impl CallFailure {
    /// The failure as `sync::RetryPolicy` reads it: a refusal is final, the rest backs off. The
    /// one mapping of an ERP call's failure to a retry decision (order deliveries and adjustment
    /// requests alike).
    pub fn outcome(&self) -> PushResult {
        match self {
            CallFailure::Refused(why) => PushResult::permanent(FailureKind::Rejected, why.clone()),
            CallFailure::Unavailable(why) => PushResult::backoff(why.clone()),
        }
    }
}

impl From<CallFailure> for String {
    fn from(f: CallFailure) -> String {
        f.to_string()
    }
}

/// Classifies `resp` (`now` for an HTTP-date `Retry-After`).
pub fn classify(resp: &HttpResponse, now: Millis) -> Answer {
    let brief = || format!("{}: {}", resp.status, resp.body.chars().take(300).collect::<String>());
    let wait = || Answer::Wait(resp.retry_after(now).unwrap_or(1).min(MAX_RETRY_AFTER_SECONDS));
    match resp.status {
        200..=299 => Answer::Ok,
        401 => Answer::Reauthenticate,
        429 | 503 => wait(),
        400 if super::netsuite::concurrency_limited(resp) => wait(),
        500..=599 => Answer::Retry(brief()),
        _ => Answer::Refused(brief()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{Decision, RetryPolicy};

    #[test]
    fn a_refusal_is_final_and_an_unavailable_erp_is_retried() {
        let p = RetryPolicy::default();
        let refused = CallFailure::Refused("422 no such item".into()).outcome();
        assert!(matches!(p.decide(&refused, 1), Decision::DeadLetter { .. }));
        let busy = CallFailure::Unavailable("503".into()).outcome();
        assert!(matches!(p.decide(&busy, 1), Decision::Retry { .. }));
        assert!(matches!(p.decide(&busy, p.max_attempts), Decision::DeadLetter { .. }));
    }

    #[test]
    fn answers_are_classified_by_status_and_retry_after() {
        let now = Millis(0);
        assert_eq!(classify(&HttpResponse::new(201, "{}"), now), Answer::Ok);
        assert_eq!(classify(&HttpResponse::new(401, ""), now), Answer::Reauthenticate);
        assert_eq!(classify(&HttpResponse::new(429, "").header("Retry-After", "3"), now), Answer::Wait(3));
        assert_eq!(classify(&HttpResponse::new(429, "").header("Retry-After", "3600"), now), Answer::Wait(30));
        assert_eq!(classify(&HttpResponse::new(503, ""), now), Answer::Wait(1));
        let ns = r#"{"o:errorDetails":[{"o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}"#;
        assert_eq!(classify(&HttpResponse::new(400, ns), now), Answer::Wait(1));
        assert_eq!(classify(&HttpResponse::new(400, ns).header("Retry-After", "4"), now), Answer::Wait(4));
        assert!(matches!(classify(&HttpResponse::new(400, "CONCURRENCY_LIMIT_EXCEEDED"), now), Answer::Refused(_)));
        assert!(matches!(classify(&HttpResponse::new(500, "boom"), now), Answer::Retry(_)));
        assert!(matches!(classify(&HttpResponse::new(400, "bad"), now), Answer::Refused(_)));
    }
}
