//! What a destination's answer to one delivery attempt means.

use super::limits::{DELIVERY_BACKOFF_BASE_S, DELIVERY_BACKOFF_MAX_S, MAX_DELIVERY_ATTEMPTS, MAX_ERROR_CHARS};

/// One attempt's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// 2xx: delivered; recorded, never sent again.
    Delivered { status: u16 },
    /// 408, 429, 5xx or no answer: try again after `delay_s` seconds (the queue's retry).
    Retry { delay_s: u32, error: String },
    /// Any other answer, or retries exhausted: recorded `failed`, not sent again.
    Failed { status: Option<u16>, error: String },
}

/// The outcome of attempt number `attempt` (from 1): `Ok(status)` an answer, `Err` none.
/// `retry_after_s` is the destination's `Retry-After` (seconds), when it sent one.
pub fn judge(answer: Result<u16, String>, retry_after_s: Option<u32>, attempt: u32) -> Attempt {
    let retryable = match &answer {
        Ok(s) if (200..300).contains(s) => return Attempt::Delivered { status: *s },
        Ok(s) => *s == 408 || *s == 429 || *s >= 500,
        Err(_) => true,
    };
    let error = match &answer {
        Ok(s) => format!("answered {s}"),
        Err(e) => clip(e),
    };
    if !retryable {
        return Attempt::Failed { status: answer.ok(), error };
    }
    if attempt >= MAX_DELIVERY_ATTEMPTS {
        return Attempt::Failed { status: answer.ok(), error: format!("{error}; gave up after {attempt} attempts") };
    }
    let delay_s = retry_after_s.unwrap_or_else(|| backoff_s(attempt)).clamp(1, DELIVERY_BACKOFF_MAX_S);
    Attempt::Retry { delay_s, error }
}

/// Seconds before attempt `attempt + 1`: `BASE × 2^(attempt−1)`, at most the maximum.
fn backoff_s(attempt: u32) -> u32 {
    let doublings = attempt.saturating_sub(1).min(16);
    DELIVERY_BACKOFF_BASE_S.saturating_mul(1 << doublings).min(DELIVERY_BACKOFF_MAX_S)
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_hundreds_deliver_client_errors_fail_the_rest_retry() {
        assert_eq!(judge(Ok(204), None, 1), Attempt::Delivered { status: 204 });
        assert_eq!(judge(Ok(404), None, 1), Attempt::Failed { status: Some(404), error: "answered 404".into() });
        assert_eq!(judge(Ok(500), None, 1), Attempt::Retry { delay_s: 2, error: "answered 500".into() });
        assert_eq!(judge(Ok(429), Some(30), 3), Attempt::Retry { delay_s: 30, error: "answered 429".into() });
        assert!(matches!(judge(Err("timeout".into()), None, 2), Attempt::Retry { delay_s: 4, .. }));
        assert!(matches!(judge(Ok(503), None, MAX_DELIVERY_ATTEMPTS), Attempt::Failed { status: Some(503), .. }));
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        assert_eq!([1, 2, 3, 4].map(backoff_s), [2, 4, 8, 16]);
        assert_eq!(backoff_s(40), DELIVERY_BACKOFF_MAX_S);
    }
}
