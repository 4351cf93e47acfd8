//! Idempotency-Key records: a key remembers the request it was first used with and the answer
//! given to it, typed; a repeat gets that answer again, flagged as a replay.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::stock::limits::IDEMPOTENCY_RETENTION_MS;
use crate::time::Millis;

/// A fingerprint of a request: method, route and body. Same key + same fingerprint → replay;
/// same key + other fingerprint → `idempotency-key-reused`.
pub fn fingerprint(method: &str, route: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(route.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

/// What a key remembers: the request's fingerprint, when it was first seen, and the typed reply
/// once one was given (`None` while the request is being carried out, or when the holder keeps
/// only the claim).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded<T> {
    pub fingerprint: String,
    pub at: Millis,
    pub reply: Option<T>,
}

/// What to do with a request that carries a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict<'a, T> {
    /// First use: apply, then record.
    Fresh,
    /// Seen with the same request but not answered yet (interrupted): carry it out again as the
    /// request first seen at `at`, so that what depends on the time (a new deadline) is the same.
    Resume { at: Millis },
    /// Seen with the same request and answered: answer with the recorded reply.
    Replay(&'a T),
    /// Seen with another request.
    Reused,
}

/// The start of the 24-hour window ([`IDEMPOTENCY_RETENTION_MS`]) at `now`: a key's record
/// stamped earlier is forgotten (the object's cleanup deletes it), so the key is free again; one
/// stamped at or after it still answers (replay, or `idempotency-key-reused`).
pub fn forget_before(now: Millis) -> Millis {
    Millis(now.0 - IDEMPOTENCY_RETENTION_MS)
}

/// When a key first seen at `at` is forgotten (its registry's alarm).
pub fn forget_at(at: Millis) -> Millis {
    Millis(at.0 + IDEMPOTENCY_RETENTION_MS)
}

/// Whether a record stamped `at` still holds its key at `now`.
pub fn remembered(at: Millis, now: Millis) -> bool {
    at.0 >= forget_before(now).0
}

pub fn judge<'a, T>(existing: Option<&'a Recorded<T>>, fingerprint: &str) -> Verdict<'a, T> {
    match existing {
        None => Verdict::Fresh,
        Some(r) if r.fingerprint != fingerprint => Verdict::Reused,
        Some(Recorded { reply: Some(reply), .. }) => Verdict::Replay(reply),
        Some(r) => Verdict::Resume { at: r.at },
    }
}

/// What to do with a request whose first answer the key's registry keeps (routes whose effects
/// no object replays by itself: imports, alert acknowledgements, sync retries, poll runs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start<'a, T> {
    /// Carry the request out (first use, or a repeat of one interrupted before it answered).
    Go,
    /// The same request is being carried out now, under a lease begun less than `lease_ms`
    /// ago: answer "retry" rather than carry it out twice at once.
    Busy,
    /// Answered before: answer with the kept answer.
    Replay(&'a T),
    /// Seen with another request.
    Reused,
}

/// Judges a request against what its key's registry holds: `existing` (the claim and the kept
/// answer, if any) and `started`, when a request under this key last began being carried out.
pub fn start<'a, T>(
    existing: Option<&'a Recorded<T>>,
    fingerprint: &str,
    started: Option<Millis>,
    now: Millis,
    lease_ms: i64,
) -> Start<'a, T> {
    match judge(existing, fingerprint) {
        Verdict::Reused => Start::Reused,
        Verdict::Replay(t) => Start::Replay(t),
        Verdict::Fresh | Verdict::Resume { .. } => match started {
            Some(s) if now.0 - s.0 < lease_ms => Start::Busy,
            _ => Start::Go,
        },
    }
}

/// Whether an answer with this status is kept for replay: every answer but one that only says
/// to retry (5xx) and an accepted job (`202`), whose repeat answers the job as it is now.
pub fn kept(status: u16) -> bool {
    status < 500 && status != 202
}

/// An object's reply to a call that may carry an Idempotency-Key: answered now, the recorded
/// first answer again, or refused because the key belongs to another request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keyed<T> {
    Answered(T),
    Replayed(T),
    KeyReused,
}

impl<T> Keyed<T> {
    /// The reply itself, answered or replayed; `None` for a reused key.
    pub fn reply(self) -> Option<T> {
        match self {
            Keyed::Answered(t) | Keyed::Replayed(t) => Some(t),
            Keyed::KeyReused => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_key_holds_for_24_hours_to_the_millisecond() {
        let first = Millis(1_765_000_000_000);
        assert_eq!(IDEMPOTENCY_RETENTION_MS, 24 * HOUR);
        assert!(remembered(first, first));
        assert!(remembered(first, Millis(first.0 + 23 * HOUR)));
        assert!(remembered(first, Millis(first.0 + 24 * HOUR)), "the last millisecond of the window");
        assert!(!remembered(first, Millis(first.0 + 24 * HOUR + 1)), "forgotten after 24 h");
        assert_eq!(forget_at(first), Millis(first.0 + 24 * HOUR));
        // The cleanup (`at < forget_before(now)`) and the alarm agree on the boundary.
        let at_alarm = forget_at(first);
        assert_eq!(forget_before(at_alarm), first);
        assert!(remembered(first, at_alarm) && !remembered(first, Millis(at_alarm.0 + 1)));
    }

    #[test]
    fn same_request_replays_and_another_is_refused() {
        let f = fingerprint("POST", "/v1/sales", b"{}");
        let r = Recorded { fingerprint: f.clone(), at: Millis(5), reply: Some(7) };
        assert_eq!(judge::<i32>(None, &f), Verdict::Fresh);
        assert_eq!(judge(Some(&r), &f), Verdict::Replay(&7));
        assert_eq!(judge(Some(&r), &fingerprint("POST", "/v1/sales", b"{ }")), Verdict::Reused);
        assert_ne!(f, fingerprint("PUT", "/v1/sales", b"{}"));
    }

    #[test]
    fn a_kept_answer_replays_and_a_running_request_is_not_started_twice() {
        let f = fingerprint("POST", "/v1/alerts/1/acknowledge", b"");
        let claimed: Recorded<i32> = Recorded { fingerprint: f.clone(), at: Millis(5), reply: None };
        let answered = Recorded { reply: Some(3), ..claimed.clone() };
        assert_eq!(start::<i32>(None, &f, None, Millis(10), 100), Start::Go);
        assert_eq!(start(Some(&claimed), &f, None, Millis(10), 100), Start::Go);
        assert_eq!(start(Some(&claimed), &f, Some(Millis(5)), Millis(104), 100), Start::Busy);
        assert_eq!(start(Some(&claimed), &f, Some(Millis(5)), Millis(105), 100), Start::Go, "the lease ran out");
        assert_eq!(start(Some(&answered), &f, Some(Millis(5)), Millis(10), 100), Start::Replay(&3));
        assert_eq!(start(Some(&answered), "other", None, Millis(10), 100), Start::Reused);
    }

    #[test]
    fn retry_answers_and_accepted_jobs_are_not_kept() {
        assert!(kept(200) && kept(404) && kept(422));
        assert!(!kept(202) && !kept(500) && !kept(503));
    }

    #[test]
    fn an_unanswered_request_resumes_at_its_first_time() {
        let f = fingerprint("POST", "/v1/reservations/r/extend", b"{}");
        let r: Recorded<i32> = Recorded { fingerprint: f.clone(), at: Millis(5), reply: None };
        assert_eq!(judge(Some(&r), &f), Verdict::Resume { at: Millis(5) });
    }
}
