//! Login with Amazon: exchanging the seller's refresh token for an SP-API access token, and
//! keeping that token until shortly before it expires.
//!
//! Contract used (developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api,
//! "Step 1. Request a Login with Amazon access token"; developer.amazon.com/docs/login-with-amazon/
//! access-token.html): `POST https://api.amazon.com/auth/o2/token`, form-encoded
//! `grant_type=refresh_token&refresh_token=…&client_id=…&client_secret=…`; the answer is
//! `{"access_token", "token_type": "bearer", "expires_in": 3600, "refresh_token"?}`; errors are
//! OAuth 2.0 `{"error", "error_description"}` (RFC 6749 §5.2).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::adapter::{by_status, snippet};
use super::http::{form_urlencoded, HttpRequest, HttpResponse, Method};
use super::outcome::{FailureKind, Outcome};
use crate::time::Millis;

/// The token endpoint's path on `https://api.amazon.com` (EU: `api.amazon.co.uk`, FE:
/// `api.amazon.co.jp`).
pub const TOKEN_PATH: &str = "/auth/o2/token";

/// A token is treated as expired this long before Amazon says it is, so a request built just
/// before expiry is not sent with a dead token (tokens last 3,600 s).
pub const EXPIRY_MARGIN_SECONDS: i64 = 300;

/// The app's LWA client and the seller's refresh token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LwaCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

impl LwaCredentials {
    /// `POST /auth/o2/token` exchanging the refresh token for an access token.
    pub fn token_request(&self) -> HttpRequest {
        let body = form_urlencoded(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &self.refresh_token),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
        ]);
        HttpRequest::new(Method::Post, TOKEN_PATH).header("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8").body(body)
    }
}

/// A token from the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct LwaToken {
    pub access_token: String,
    #[serde(default)]
    pub token_type: String,
    pub expires_in: i64,
}

impl LwaToken {
    /// Reads the token endpoint's answer. On failure, the outcome for the pushes that needed it:
    /// `invalid_grant` / `invalid_client` / `unauthorized_client` and other 4xx are permanent
    /// credential failures, 429 and 5xx are retried.
    pub fn from_response(response: &HttpResponse, now: Millis) -> Result<LwaToken, Outcome> {
        if response.status == 429 || response.status >= 500 {
            return Err(by_status(response, now).unwrap_or_else(|| Outcome::backoff(format!("HTTP {}", response.status))));
        }
        if !response.is_success() {
            let message = response
                .json()
                .map(|v| {
                    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    format!("{}: {}", field("error"), field("error_description"))
                })
                .unwrap_or_else(|| snippet(&response.body));
            return Err(Outcome::permanent(FailureKind::Credentials, format!("LWA token refused (HTTP {}): {message}", response.status)));
        }
        match serde_json::from_str::<LwaToken>(&response.body) {
            Ok(t) if !t.access_token.is_empty() && t.expires_in > 0 => Ok(t),
            _ => Err(Outcome::backoff("unreadable LWA token response")),
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

/// The current access token, if any. The shell keeps it (e.g. in a Durable Object) and asks
/// [`TokenCache::get`] before every push; `None` means: send
/// [`LwaCredentials::token_request`] and [`TokenCache::store`] the answer.
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
    pub fn store(&mut self, token: LwaToken, now: Millis) {
        let margin = EXPIRY_MARGIN_SECONDS.min(token.expires_in / 2);
        let valid_until = now.plus_seconds(token.expires_in - margin);
        self.token = Some(CachedToken { access_token: token.access_token, valid_until });
    }

    /// Forgets the token (after the API refused it).
    pub fn invalidate(&mut self) {
        self.token = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_in: i64) -> LwaToken {
        LwaToken { access_token: "Atza|abc".into(), token_type: "bearer".into(), expires_in }
    }

    #[test]
    fn valid_until_expiry_minus_margin() {
        let mut c = TokenCache::default();
        assert_eq!(c.get(Millis(0)), None);
        c.store(token(3600), Millis(1_000));
        assert_eq!(c.get(Millis(1_000)), Some("Atza|abc"));
        assert_eq!(c.get(Millis(1_000 + 3_299_999)), Some("Atza|abc"));
        assert_eq!(c.get(Millis(1_000 + 3_300_000)), None, "300 s before Amazon's expiry");
        c.store(token(60), Millis(0));
        assert_eq!(c.get(Millis(29_999)), Some("Atza|abc"), "short-lived: half its life");
        assert_eq!(c.get(Millis(30_000)), None);
        c.invalidate();
        assert_eq!(c.get(Millis(0)), None);
    }

    #[test]
    fn reads_token_answers() {
        let ok = HttpResponse::new(200, r#"{"access_token":"Atza|x","refresh_token":"Atzr|y","token_type":"bearer","expires_in":3600}"#);
        assert_eq!(LwaToken::from_response(&ok, Millis(0)).unwrap().expires_in, 3600);
        let refused = HttpResponse::new(400, r#"{"error_description":"The request has an invalid grant parameter : refresh_token","error":"invalid_grant"}"#);
        match LwaToken::from_response(&refused, Millis(0)) {
            Err(Outcome::Permanent(f)) => {
                assert_eq!(f.kind, FailureKind::Credentials);
                assert!(f.message.contains("invalid_grant"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(LwaToken::from_response(&HttpResponse::new(503, ""), Millis(0)), Err(Outcome::Backoff(_))));
        assert!(matches!(LwaToken::from_response(&HttpResponse::new(200, "{}"), Millis(0)), Err(Outcome::Backoff(_))));
    }
}
