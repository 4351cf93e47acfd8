//! Idempotency-Key records: a key remembers the request it was first used with and the answer.

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

/// A stored answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub fingerprint: String,
    pub status: u16,
    pub body: String,
    pub at: Millis,
}

/// What to do with a request that carries a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// First use: apply, then record.
    Fresh,
    /// Seen with the same request: answer with the recorded response.
    Replay(&'a Recorded),
    /// Seen with another request.
    Reused,
}

pub fn judge<'a>(existing: Option<&'a Recorded>, fingerprint: &str) -> Verdict<'a> {
    match existing {
        None => Verdict::Fresh,
        Some(r) if r.fingerprint == fingerprint => Verdict::Replay(r),
        Some(_) => Verdict::Reused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_request_replays_and_another_is_refused() {
        let f = fingerprint("POST", "/v1/sales", b"{}");
        let r = Recorded { fingerprint: f.clone(), status: 200, body: "{}".into(), at: Millis(0) };
        assert_eq!(judge(None, &f), Verdict::Fresh);
        assert_eq!(judge(Some(&r), &f), Verdict::Replay(&r));
        assert_eq!(judge(Some(&r), &fingerprint("POST", "/v1/sales", b"{ }")), Verdict::Reused);
        assert_ne!(f, fingerprint("PUT", "/v1/sales", b"{}"));
    }
}
