//! Login with Amazon: exchanging the seller's refresh token for an SP-API access token, and
//! keeping that token until shortly before it expires.
//!
//! Contract used (developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api,
//! "Step 1. Request a Login with Amazon access token"; developer.amazon.com/docs/login-with-amazon/
//! access-token.html): `POST https://api.amazon.com/auth/o2/token`, form-encoded
//! `grant_type=refresh_token&refresh_token=…&client_id=…&client_secret=…`; the answer is
//! `{"access_token", "token_type": "bearer", "expires_in": 3600, "refresh_token"?}`; errors are
//! OAuth 2.0 `{"error", "error_description"}` (RFC 6749 §5.2).

use super::http::{form_urlencoded, HttpRequest, Method};
use super::oauth::{cache_key, TokenSource};

/// LWA's answer: an OAuth access token (see [`super::oauth`]); read it with
/// `LwaToken::from_response(&response, now, "LWA")`.
pub use super::oauth::AccessToken as LwaToken;
/// Kept for the callers that know it from here: the cache is shared with eBay (`super::oauth`).
pub use super::oauth::{CachedToken, TokenCache, EXPIRY_MARGIN_SECONDS};

/// The token endpoint's path on `https://api.amazon.com` (EU: `api.amazon.co.uk`, FE:
/// `api.amazon.co.jp`).
pub const TOKEN_PATH: &str = "/auth/o2/token";

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
        HttpRequest::new(Method::Post, TOKEN_PATH)
            .header("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
            .body(body)
    }

    /// Where this seller's access tokens come from: [`LwaCredentials::token_request`] sent to
    /// `token_url` (`https://api.amazon.com`, or `settings.token_url`).
    pub fn source(&self, token_url: &str) -> TokenSource {
        TokenSource {
            key: cache_key("lwa", &[token_url, &self.client_id, &self.client_secret, &self.refresh_token]),
            url: token_url.to_owned(),
            request: self.token_request(),
            issuer: "LWA",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_request_is_a_form_post() {
        let c = LwaCredentials {
            client_id: "amzn1.app".into(),
            client_secret: "s&t".into(),
            refresh_token: "Atzr|a b".into(),
        };
        let r = c.token_request();
        assert_eq!((r.method, r.path.as_str()), (Method::Post, TOKEN_PATH));
        assert_eq!(r.header_value("content-type"), Some("application/x-www-form-urlencoded;charset=UTF-8"));
        assert!(r.body.starts_with("grant_type=refresh_token&refresh_token=Atzr%7Ca%20b&"), "{}", r.body);
        assert!(r.body.ends_with("&client_secret=s%26t"), "{}", r.body);
    }
}
