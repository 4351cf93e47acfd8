//! eBay OAuth: the credentials an eBay channel's secret holds, and exchanging a refresh token
//! for a user access token (which lasts about two hours).
//!
//! Contract used (developer.ebay.com/api-docs/static/oauth-refresh-token-request.html,
//! oauth-client-credentials / oauth-base64-credentials): `POST https://api.ebay.com/identity/v1/
//! oauth2/token` with `Content-Type: application/x-www-form-urlencoded`, `Authorization: Basic
//! base64(client_id:client_secret)` and the body `grant_type=refresh_token&refresh_token=
//! <url-encoded>&scope=<url-encoded, space-separated scopes>` (the scopes must be those the refresh
//! token was granted, or a subset). The answer is `{"access_token", "expires_in": 7200,
//! "token_type": "User Access Token"}`; a bad refresh token answers 400 `{"error":
//! "invalid_grant", "error_description"}`, bad client credentials 401 `invalid_client`. Reading
//! the answer and caching the token are shared with Amazon: [`super::oauth`].

use serde_json::{Map, Value};

use super::connection::base_url;
use super::http::{basic_auth, form_urlencoded, HttpRequest, Method};
use super::oauth::{cache_key, TokenSource};
use crate::catalog::model::ChannelKind;

/// The token endpoint's path on `https://api.ebay.com` (sandbox: `https://api.sandbox.ebay.com`).
pub const TOKEN_PATH: &str = "/identity/v1/oauth2/token";

/// Scopes asked for when the secret names none: what StockEdge calls — quantities (Inventory)
/// and orders (Fulfillment).
pub const DEFAULT_SCOPES: [&str; 2] =
    ["https://api.ebay.com/oauth/api_scope/sell.inventory", "https://api.ebay.com/oauth/api_scope/sell.fulfillment"];

/// The scope of application access tokens (client-credentials grant): what the Notification
/// API's `getPublicKey` asks for.
pub const APPLICATION_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";

/// What an eBay channel's credentials secret holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EbayCredentials {
    /// A user access token used as is (it stops working when it expires, about two hours after
    /// it was minted).
    Token(String),
    /// The app's client credentials and the seller's refresh token: access tokens are minted
    /// as needed.
    Refresh(EbayRefresh),
}

/// The app's OAuth client, the seller's refresh token and the scopes to ask for.
#[derive(Clone, PartialEq, Eq)]
pub struct EbayRefresh {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for EbayRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EbayRefresh")
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Why a secret is not usable eBay credentials.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EbayCredentialsError {
    #[error("the channel names no credentials secret, or it is empty")]
    NoSecret,
    #[error("the credentials secret starts with `{{` but is not a JSON object")]
    NotJson,
    #[error("the credentials JSON has no `{0}` (a non-empty string)")]
    Missing(&'static str),
    #[error("`scopes` must be a space-separated string or an array of strings")]
    BadScopes,
    #[error("the access token contains whitespace or control characters")]
    BadToken,
}

impl EbayCredentials {
    /// Reads the secret: JSON `{"client_id", "client_secret", "refresh_token", "scopes"?}`
    /// (`scopes` a space-separated string or an array; default [`DEFAULT_SCOPES`]), else a bare
    /// access token.
    pub fn parse(secret: Option<&str>) -> Result<EbayCredentials, EbayCredentialsError> {
        let s = secret.map(str::trim).filter(|s| !s.is_empty()).ok_or(EbayCredentialsError::NoSecret)?;
        if !s.starts_with('{') {
            if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(EbayCredentialsError::BadToken);
            }
            return Ok(EbayCredentials::Token(s.to_owned()));
        }
        let Ok(Value::Object(v)) = serde_json::from_str::<Value>(s) else { return Err(EbayCredentialsError::NotJson) };
        let field = |k: &'static str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .ok_or(EbayCredentialsError::Missing(k))
        };
        let scopes: Vec<String> = match v.get("scopes") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::trim)
                        .filter(|x| !x.is_empty() && !x.contains(char::is_whitespace))
                        .map(str::to_owned)
                })
                .collect::<Option<Vec<_>>>()
                .ok_or(EbayCredentialsError::BadScopes)?,
            Some(_) => return Err(EbayCredentialsError::BadScopes),
        };
        let scopes = if scopes.is_empty() { DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect() } else { scopes };
        Ok(EbayCredentials::Refresh(EbayRefresh {
            client_id: field("client_id")?,
            client_secret: field("client_secret")?,
            refresh_token: field("refresh_token")?,
            scopes,
        }))
    }
}

impl EbayRefresh {
    /// The refresh-token grant, to be sent to [`token_url`] (the path is empty: the URL is
    /// whole).
    pub fn token_request(&self) -> HttpRequest {
        let scope = self.scopes.join(" ");
        let body = form_urlencoded(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &self.refresh_token),
            ("scope", &scope),
        ]);
        HttpRequest::new(Method::Post, "")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", basic_auth(&self.client_id, &self.client_secret))
            .body(body)
    }

    /// The client-credentials grant: an application access token (no seller behind it), for
    /// calls such as `getPublicKey` that eBay authorises per application.
    pub fn application_token_request(&self) -> HttpRequest {
        let body = form_urlencoded(&[("grant_type", "client_credentials"), ("scope", APPLICATION_SCOPE)]);
        HttpRequest::new(Method::Post, "")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", basic_auth(&self.client_id, &self.client_secret))
            .body(body)
    }

    /// Names the tokens these credentials mint at `token_url` (a digest: the refresh token is
    /// not kept as a key). Rotated credentials name other tokens.
    pub fn cache_key(&self, token_url: &str) -> String {
        cache_key(
            "ebay",
            &[token_url, &self.client_id, &self.client_secret, &self.refresh_token, &self.scopes.join(" ")],
        )
    }

    /// Where this seller's user tokens (or, with `application`, the app's tokens: client
    /// credentials grant, cached apart) come from.
    pub fn source(&self, token_url: &str, application: bool) -> TokenSource {
        let (request, suffix) =
            if application { (self.application_token_request(), ":application") } else { (self.token_request(), "") };
        TokenSource { key: self.cache_key(token_url) + suffix, url: token_url.to_owned(), request, issuer: "eBay" }
    }
}

/// Where eBay access tokens come from: `settings.token_url` (a whole URL; a bare origin such as
/// `https://api.sandbox.ebay.com` gets [`TOKEN_PATH`]), else `{base_url}` + [`TOKEN_PATH`]
/// (`base_url` defaulting to `https://api.ebay.com`).
pub fn token_url(account: &str, settings: &Map<String, Value>) -> String {
    match settings
        .get("token_url")
        .and_then(Value::as_str)
        .map(|u| u.trim().trim_end_matches('/'))
        .filter(|u| !u.is_empty())
    {
        Some(url) if has_path(url) => url.to_owned(),
        Some(origin) => format!("{origin}{TOKEN_PATH}"),
        None => format!("{}{TOKEN_PATH}", base_url(ChannelKind::Ebay, account, settings)),
    }
}

fn has_path(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_tokens_use_the_client_credentials_grant() {
        let Ok(EbayCredentials::Refresh(r)) =
            EbayCredentials::parse(Some(r#"{"client_id":"app","client_secret":"s3cret","refresh_token":"v^1.1#r"}"#))
        else {
            panic!("refresh credentials")
        };
        let req = r.application_token_request();
        assert_eq!(req.body, "grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope");
        assert_eq!(req.header_value("Authorization"), Some("Basic YXBwOnMzY3JldA=="));
        assert_eq!(req.header_value("Content-Type"), Some("application/x-www-form-urlencoded"));
    }
    use crate::sync::oauth::{AccessToken, TokenCache};
    use crate::sync::{FailureKind, HttpResponse, PushResult};
    use crate::time::Millis;

    const SECRET: &str = r#"{"client_id":"StockEdg-app-PRD-1a2b3c","client_secret":"PRD-secret","refresh_token":"v^1.1#i^1#r^1#f^0#I^3#p^3#t^Ul4xMF8=","scopes":"https://api.ebay.com/oauth/api_scope/sell.inventory"}"#;

    fn refresh(secret: &str) -> EbayRefresh {
        match EbayCredentials::parse(Some(secret)) {
            Ok(EbayCredentials::Refresh(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bare_token_is_kept_as_is() {
        assert_eq!(
            EbayCredentials::parse(Some("v^1.1#sim-user-token\n")),
            Ok(EbayCredentials::Token("v^1.1#sim-user-token".into()))
        );
        assert_eq!(EbayCredentials::parse(Some("two words")), Err(EbayCredentialsError::BadToken));
        assert_eq!(EbayCredentials::parse(Some("  ")), Err(EbayCredentialsError::NoSecret));
        assert_eq!(EbayCredentials::parse(None), Err(EbayCredentialsError::NoSecret));
    }

    #[test]
    fn refresh_credentials_from_json() {
        let r = refresh(r#"{"client_id":"a","client_secret":"b","refresh_token":"c"}"#);
        assert_eq!(r.scopes, DEFAULT_SCOPES.map(String::from).to_vec(), "default scopes");
        let r = refresh(r#"{"client_id":"a","client_secret":"b","refresh_token":"c","scopes":["x","y"]}"#);
        assert_eq!(r.scopes, ["x", "y"]);
        let r = refresh(r#"{"client_id":"a","client_secret":"b","refresh_token":"c","scopes":" x  y "}"#);
        assert_eq!(r.scopes, ["x", "y"]);
        assert!(!format!("{r:?}").contains("refresh_token"), "secrets are not printed: {r:?}");
        let bad = |s: &str| EbayCredentials::parse(Some(s)).err();
        assert_eq!(bad("{not json"), Some(EbayCredentialsError::NotJson));
        assert_eq!(
            bad(r#"{"client_secret":"b","refresh_token":"c"}"#),
            Some(EbayCredentialsError::Missing("client_id"))
        );
        assert_eq!(
            bad(r#"{"client_id":"a","client_secret":"","refresh_token":"c"}"#),
            Some(EbayCredentialsError::Missing("client_secret"))
        );
        assert_eq!(
            bad(r#"{"client_id":"a","client_secret":"b","refresh_token":7}"#),
            Some(EbayCredentialsError::Missing("refresh_token"))
        );
        assert_eq!(
            bad(r#"{"client_id":"a","client_secret":"b","refresh_token":"c","scopes":[1]}"#),
            Some(EbayCredentialsError::BadScopes)
        );
        assert_eq!(
            bad(r#"{"client_id":"a","client_secret":"b","refresh_token":"c","scopes":{}}"#),
            Some(EbayCredentialsError::BadScopes)
        );
    }

    #[test]
    fn golden_token_request() {
        let r = refresh(SECRET).token_request();
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.path, "");
        assert_eq!(
            r.headers,
            vec![
                ("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned()),
                // base64("StockEdg-app-PRD-1a2b3c:PRD-secret")
                ("Authorization".to_owned(), "Basic U3RvY2tFZGctYXBwLVBSRC0xYTJiM2M6UFJELXNlY3JldA==".to_owned()),
            ]
        );
        assert_eq!(
            r.body,
            "grant_type=refresh_token&refresh_token=v%5E1.1%23i%5E1%23r%5E1%23f%5E0%23I%5E3%23p%5E3%23t%5EUl4xMF8%3D\
             &scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory"
        );
        let two = refresh(r#"{"client_id":"a","client_secret":"b","refresh_token":"c"}"#).token_request();
        assert!(two.body.ends_with(
            "&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory%20https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.fulfillment"
        ));
    }

    #[test]
    fn golden_answers() {
        let ok = HttpResponse::new(
            200,
            r#"{"access_token":"v^1.1#i^1#f^0#p^3#I^3#r^0#t^H4sIAAAAAAAAAOVY","expires_in":7200,"token_type":"User Access Token"}"#,
        );
        let t = AccessToken::from_response(&ok, Millis(0), "eBay").expect("a token");
        assert_eq!((t.expires_in, t.token_type.as_str()), (7200, "User Access Token"));
        let mut cache = TokenCache::default();
        cache.store(t, Millis(1_000));
        assert!(cache.get(Millis(1_000 + 6_899_999)).is_some());
        assert_eq!(cache.get(Millis(1_000 + 6_900_000)), None, "5 minutes before eBay's expiry");
        let refused = HttpResponse::new(
            400,
            r#"{"error":"invalid_grant","error_description":"the provided authorization refresh token is invalid or was issued to another client"}"#,
        );
        match AccessToken::from_response(&refused, Millis(0), "eBay") {
            Err(PushResult::Permanent(f)) => {
                assert_eq!(f.kind, FailureKind::Credentials);
                assert!(f.message.starts_with("eBay token refused (HTTP 400): invalid_grant"), "{}", f.message);
            }
            other => panic!("{other:?}"),
        }
        let client =
            HttpResponse::new(401, r#"{"error":"invalid_client","error_description":"client authentication failed"}"#);
        assert!(matches!(AccessToken::from_response(&client, Millis(0), "eBay"), Err(PushResult::Permanent(_))));
        let busy = HttpResponse::new(503, "").header("Retry-After", "7");
        assert_eq!(AccessToken::from_response(&busy, Millis(0), "eBay"), Err(PushResult::Backoff("HTTP 503".into())));
    }

    #[test]
    fn token_urls() {
        let mut s = Map::new();
        assert_eq!(token_url("seller", &s), "https://api.ebay.com/identity/v1/oauth2/token");
        s.insert("base_url".into(), Value::from("http://127.0.0.1:9000/"));
        assert_eq!(token_url("seller", &s), "http://127.0.0.1:9000/identity/v1/oauth2/token");
        s.insert("token_url".into(), Value::from("https://api.sandbox.ebay.com/"));
        assert_eq!(token_url("seller", &s), "https://api.sandbox.ebay.com/identity/v1/oauth2/token");
        s.insert("token_url".into(), Value::from("https://proxy.example/ebay/token"));
        assert_eq!(token_url("seller", &s), "https://proxy.example/ebay/token");
    }

    #[test]
    fn cache_keys_follow_the_credentials() {
        let a = refresh(r#"{"client_id":"a","client_secret":"b","refresh_token":"c"}"#);
        let mut b = a.clone();
        assert_eq!(a.cache_key("u"), b.cache_key("u"));
        assert_ne!(a.cache_key("u"), a.cache_key("v"));
        b.refresh_token = "d".into();
        assert_ne!(a.cache_key("u"), b.cache_key("u"));
        assert!(a.cache_key("u").starts_with("ebay:") && a.cache_key("u").len() == 5 + 32);
    }
}
