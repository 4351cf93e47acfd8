//! OAuth 2.0 access tokens obtained with a refresh token (RFC 6749 §6), shared by the platforms
//! that work that way — Amazon (Login with Amazon, [`super::lwa`]) and eBay
//! ([`super::ebay_auth`]): reading the token endpoint's answer, and keeping the token until
//! shortly before it expires.
//!
//! Answers: `{"access_token", "expires_in", "token_type"?, …}`; errors are
//! `{"error", "error_description"}` (RFC 6749 §5.2).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::adapter::{by_status, snippet};
use super::http::{HttpRequest, HttpResponse};
use super::push_result::{FailureKind, PushResult};
use crate::time::Millis;

/// A token is treated as expired this long before the platform says it is, so a request built
/// just before expiry is not sent with a dead token (Amazon's last 3,600 s, eBay's 7,200 s).
pub const EXPIRY_MARGIN_SECONDS: i64 = 300;

/// A token from a token endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    #[serde(default)]
    pub token_type: String,
    pub expires_in: i64,
}

impl AccessToken {
    /// Reads a token endpoint's answer; `issuer` names the endpoint in messages ("LWA", "eBay").
    /// On failure, the outcome for the calls that needed the token: `invalid_grant` /
    /// `invalid_client` / `unauthorized_client` and other 4xx are permanent credential failures,
    /// 429 and 5xx are retried, an unreadable 2xx is retried.
    pub fn from_response(response: &HttpResponse, now: Millis, issuer: &str) -> Result<AccessToken, PushResult> {
        if response.status == 429 || response.status >= 500 {
            return Err(
                by_status(response, now).unwrap_or_else(|| PushResult::backoff(format!("HTTP {}", response.status)))
            );
        }
        if !response.is_success() {
            let message = response
                .json()
                .map(|v| {
                    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    format!("{}: {}", field("error"), field("error_description"))
                })
                .unwrap_or_else(|| snippet(&response.body));
            return Err(PushResult::permanent(
                FailureKind::Credentials,
                format!("{issuer} token refused (HTTP {}): {message}", response.status),
            ));
        }
        match serde_json::from_str::<AccessToken>(&response.body) {
            Ok(t) if !t.access_token.is_empty() && t.expires_in > 0 => Ok(t),
            _ => Err(PushResult::backoff(format!("unreadable {issuer} token response"))),
        }
    }
}

/// An access token and the end of its usable life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedToken {
    pub access_token: String,
    /// `now + expires_in − margin` at the time it was stored.
    pub valid_until: Millis,
}

/// The current access token, if any. The shell keeps it (in isolate memory, per credentials) and
/// asks [`TokenCache::get`] before every call; `None` means: request a token and
/// [`TokenCache::store`] the answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCache {
    pub token: Option<CachedToken>,
}

impl TokenCache {
    /// The token, if still valid at `now`.
    pub fn get(&self, now: Millis) -> Option<&str> {
        self.token.as_ref().filter(|t| now < t.valid_until).map(|t| t.access_token.as_str())
    }

    /// Keeps `token`, valid until `expires_in` minus the margin. A token shorter-lived than twice
    /// the margin keeps half its life (so it is never stale on arrival).
    pub fn store(&mut self, token: AccessToken, now: Millis) {
        let margin = EXPIRY_MARGIN_SECONDS.min(token.expires_in / 2);
        let valid_until = now.plus_seconds(token.expires_in - margin);
        self.token = Some(CachedToken { access_token: token.access_token, valid_until });
    }

    /// Forgets the token (after the API refused it).
    pub fn invalidate(&mut self) {
        self.token = None;
    }
}

/// Where a channel's access tokens come from: the request to send to `url` (its path is
/// appended), and the cache entry the answer is kept under. The shell's token cache
/// (`edge/tokens.rs`) is keyed by it; Amazon (LWA) and eBay build one each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSource {
    /// Names the tokens these credentials mint at this endpoint ([`cache_key`]).
    pub key: String,
    /// The token endpoint's base URL (the request's path is appended).
    pub url: String,
    pub request: HttpRequest,
    /// Names the endpoint in messages ("LWA", "eBay").
    pub issuer: &'static str,
}

/// An access token to send, and whether it came from the cache: a refused cached token may have
/// expired early or been revoked, so a new one may succeed where it failed; a refused new one
/// will not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bearer {
    pub token: String,
    pub reused: bool,
}

/// A digest naming credentials (never the secret itself) under `prefix`: rotated credentials
/// name other tokens.
pub fn cache_key(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    format!("{prefix}:{}", hex::encode(&h.finalize()[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_in: i64) -> AccessToken {
        AccessToken { access_token: "Atza|abc".into(), token_type: "bearer".into(), expires_in }
    }

    #[test]
    fn valid_until_expiry_minus_margin() {
        let mut c = TokenCache::default();
        assert_eq!(c.get(Millis(0)), None);
        c.store(token(3600), Millis(1_000));
        assert_eq!(c.get(Millis(1_000)), Some("Atza|abc"));
        assert_eq!(c.get(Millis(1_000 + 3_299_999)), Some("Atza|abc"));
        assert_eq!(c.get(Millis(1_000 + 3_300_000)), None, "300 s before the platform's expiry");
        c.store(token(60), Millis(0));
        assert_eq!(c.get(Millis(29_999)), Some("Atza|abc"), "short-lived: half its life");
        assert_eq!(c.get(Millis(30_000)), None);
        c.invalidate();
        assert_eq!(c.get(Millis(0)), None);
    }

    #[test]
    fn reads_token_answers() {
        let ok = HttpResponse::new(
            200,
            r#"{"access_token":"Atza|x","refresh_token":"Atzr|y","token_type":"bearer","expires_in":3600}"#,
        );
        assert_eq!(AccessToken::from_response(&ok, Millis(0), "LWA").map(|t| t.expires_in), Ok(3600));
        let refused = HttpResponse::new(
            400,
            r#"{"error_description":"The request has an invalid grant parameter : refresh_token","error":"invalid_grant"}"#,
        );
        match AccessToken::from_response(&refused, Millis(0), "LWA") {
            Err(PushResult::Permanent(f)) => {
                assert_eq!(f.kind, FailureKind::Credentials);
                assert!(f.message.starts_with("LWA token refused (HTTP 400)"), "{}", f.message);
                assert!(f.message.contains("invalid_grant"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            AccessToken::from_response(&HttpResponse::new(503, ""), Millis(0), "LWA"),
            Err(PushResult::Backoff(_))
        ));
        assert!(matches!(
            AccessToken::from_response(&HttpResponse::new(200, "{}"), Millis(0), "LWA"),
            Err(PushResult::Backoff(_))
        ));
        assert!(matches!(
            AccessToken::from_response(&HttpResponse::new(200, "not json"), Millis(0), "eBay"),
            Err(PushResult::Backoff(_))
        ));
        let zero = HttpResponse::new(200, r#"{"access_token":"x","expires_in":0}"#);
        assert!(matches!(AccessToken::from_response(&zero, Millis(0), "eBay"), Err(PushResult::Backoff(_))));
    }
}
