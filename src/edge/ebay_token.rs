//! eBay bearer tokens for a channel, shared by everything that calls eBay with the channel's
//! credentials: the sync consumer's quantity pushes, order reads for notifications
//! (`inbound_apply::ebay_order`), the order-feed poll and the notification public-key fetch.
//!
//! The channel's secret holds a bare user access token (used as is) or refresh-token JSON
//! (`crate::sync::ebay_auth`). Minted tokens are kept in this isolate's memory per credentials
//! (`crate::sync::TokenCache`, until five minutes before eBay's expiry). When eBay answers 401 to a
//! token taken from that cache (revoked, or expired early — eBay's clock is what counts), the entry
//! is dropped and the call is made once more with a new token.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::sync::ebay_auth::{self, EbayCredentials, EbayCredentialsError};
use crate::sync::{AccessToken, HttpRequest, HttpResponse, Outcome, TokenCache};
use crate::time::Millis;

thread_local! {
    /// Minted eBay access tokens by credentials (`EbayRefresh::cache_key`).
    static EBAY_TOKENS: RefCell<BTreeMap<String, TokenCache>> = const { RefCell::new(BTreeMap::new()) };
}

/// An eBay channel's way to a bearer token.
pub(super) struct EbayAuth {
    creds: EbayCredentials,
    /// Mint application tokens (client-credentials grant) rather than the seller's.
    application: bool,
    /// The token endpoint (refresh credentials only).
    url: String,
    key: String,
}

/// A token to send, and whether it came from the cache (so a refusal may be cured by a new one).
pub(super) struct Bearer {
    pub(super) token: String,
    reused: bool,
}

/// Why an eBay call got no usable answer.
pub(super) enum EbayCallError {
    /// No access token could be had: the token endpoint's refusal (permanent) or trouble.
    Token(Outcome),
    /// The call itself got no answer.
    NoAnswer(String),
}

impl fmt::Display for EbayCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EbayCallError::Token(o) => write!(f, "eBay access token: {o}"),
            EbayCallError::NoAnswer(why) => f.write_str(why),
        }
    }
}

impl EbayAuth {
    /// From the channel's secret (its value) and record.
    pub(super) fn of(
        secret: Option<&str>,
        account: &str,
        settings: &Map<String, Value>,
    ) -> Result<EbayAuth, EbayCredentialsError> {
        let creds = EbayCredentials::parse(secret)?;
        let url = ebay_auth::token_url(account, settings);
        let key = match &creds {
            EbayCredentials::Refresh(r) => r.cache_key(&url),
            EbayCredentials::Token(_) => String::new(),
        };
        Ok(EbayAuth { creds, application: false, url, key })
    }

    /// The same credentials for calls eBay authorises per application (`getPublicKey`): with
    /// refresh-token credentials, application tokens (client-credentials grant) cached apart
    /// from the seller's; a bare token is used as it is.
    pub(super) fn application(mut self) -> EbayAuth {
        if matches!(self.creds, EbayCredentials::Refresh(_)) && !self.application {
            self.application = true;
            self.key.push_str(":application");
        }
        self
    }

    /// A bearer token: the bare token, the cached one while valid, else a new one.
    pub(super) async fn bearer(&self, t: Millis, timeout: Duration) -> Result<Bearer, Outcome> {
        let refresh = match &self.creds {
            EbayCredentials::Token(token) => return Ok(Bearer { token: token.clone(), reused: false }),
            EbayCredentials::Refresh(r) => r,
        };
        let cached = EBAY_TOKENS.with(|c| c.borrow().get(&self.key).and_then(|tc| tc.get(t)).map(str::to_owned));
        if let Some(token) = cached {
            return Ok(Bearer { token, reused: true });
        }
        let request = if self.application { refresh.application_token_request() } else { refresh.token_request() };
        let resp = super::platform_http::send(&self.url, &request, timeout)
            .await
            .map_err(|why| Outcome::backoff(format!("eBay token endpoint: {why}")))?;
        let token = AccessToken::from_response(&resp, t, "eBay")?;
        let access = token.access_token.clone();
        EBAY_TOKENS.with(|c| c.borrow_mut().entry(self.key.clone()).or_default().store(token, t));
        Ok(Bearer { token: access, reused: false })
    }

    /// eBay refused `b`: forgets it (unless a newer token has replaced it already). True when a
    /// new token may succeed where it failed (it came from the cache).
    pub(super) fn refused(&self, b: &Bearer) -> bool {
        if !matches!(self.creds, EbayCredentials::Refresh(_)) {
            return false;
        }
        EBAY_TOKENS.with(|c| {
            let mut c = c.borrow_mut();
            let holds = c.get(&self.key).and_then(|tc| tc.token.as_ref()).is_some_and(|ct| ct.access_token == b.token);
            if holds {
                c.remove(&self.key);
            }
        });
        b.reused
    }

    /// Sends `req` to `base` with the bearer token; when eBay answers 401 to a cached token, once
    /// more with a new one.
    pub(super) async fn send(
        &self,
        base: &str,
        req: &HttpRequest,
        t: Millis,
        timeout: Duration,
    ) -> Result<HttpResponse, EbayCallError> {
        let mut bearer = self.bearer(t, timeout).await.map_err(EbayCallError::Token)?;
        let mut again = false;
        loop {
            let authorized = req.clone().header("Authorization", format!("Bearer {}", bearer.token));
            let resp = super::platform_http::send(base, &authorized, timeout).await.map_err(EbayCallError::NoAnswer)?;
            if resp.status != 401 || !self.refused(&bearer) || again {
                return Ok(resp);
            }
            again = true;
            bearer = self.bearer(t, timeout).await.map_err(EbayCallError::Token)?;
        }
    }
}
