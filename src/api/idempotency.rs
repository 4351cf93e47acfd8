//! Idempotency-Key records: a key remembers the request it was first used with and the answer
//! given to it, typed; a repeat gets that answer again, flagged as a replay.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

pub fn judge<'a, T>(existing: Option<&'a Recorded<T>>, fingerprint: &str) -> Verdict<'a, T> {
    match existing {
        None => Verdict::Fresh,
        Some(r) if r.fingerprint != fingerprint => Verdict::Reused,
        Some(Recorded { reply: Some(reply), .. }) => Verdict::Replay(reply),
        Some(r) => Verdict::Resume { at: r.at },
    }
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
    fn an_unanswered_request_resumes_at_its_first_time() {
        let f = fingerprint("POST", "/v1/reservations/r/extend", b"{}");
        let r: Recorded<i32> = Recorded { fingerprint: f.clone(), at: Millis(5), reply: None };
        assert_eq!(judge(Some(&r), &f), Verdict::Resume { at: Millis(5) });
    }
}
