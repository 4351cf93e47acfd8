//! eBay bearer tokens for a channel, for the inbound side's eBay calls (order reads for
//! notifications, the order-feed poll, the notification public-key fetch); the sync consumer's
//! pushes get theirs through `crate::sync::ChannelPush`.
//!
//! The channel's secret holds a bare user access token (used as is) or refresh-token JSON
//! (`crate::sync::ebay_auth`). Minted tokens are kept in the one token cache (`super::tokens`,
//! until five minutes before eBay's expiry). When eBay answers 401 to a
//! token taken from that cache (revoked, or expired early — eBay's clock is what counts), the entry
//! is dropped and the call is made once more with a new token.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::sync::ebay_auth::{self, EbayCredentials, EbayCredentialsError, EbayRefresh};
use crate::sync::{Bearer, HttpRequest, HttpResponse, PushResult, TokenSource};
use crate::time::Millis;

use super::tokens;

/// An eBay channel's way to a bearer token: a bare user token, or a source of minted ones.
pub(super) enum EbayAuth {
    Token(String),
    Minted { refresh: EbayRefresh, url: String, source: TokenSource },
}

/// Why an eBay call got no usable answer.
pub(super) enum EbayCallError {
    /// No access token could be had: the token endpoint's refusal (permanent) or trouble.
    Token(PushResult),
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
        Ok(match EbayCredentials::parse(secret)? {
            EbayCredentials::Token(token) => EbayAuth::Token(token),
            EbayCredentials::Refresh(refresh) => {
                let url = ebay_auth::token_url(account, settings);
                EbayAuth::Minted { source: refresh.source(&url, false), refresh, url }
            }
        })
    }

    /// The same credentials for calls eBay authorises per application (`getPublicKey`): with
    /// refresh-token credentials, application tokens (client-credentials grant) cached apart
    /// from the seller's; a bare token is used as it is.
    pub(super) fn application(self) -> EbayAuth {
        match self {
            EbayAuth::Minted { refresh, url, .. } => {
                EbayAuth::Minted { source: refresh.source(&url, true), refresh, url }
            }
            token => token,
        }
    }

    /// A bearer token: the bare token, the cached one while valid, else a new one.
    pub(super) async fn bearer(&self, t: Millis, timeout: Duration) -> Result<Bearer, PushResult> {
        match self {
            EbayAuth::Token(token) => Ok(Bearer { token: token.clone(), reused: false }),
            EbayAuth::Minted { source, .. } => tokens::bearer(source, t, timeout).await,
        }
    }

    /// eBay refused `b`: forgets it. True when a new token may succeed where it failed (it came
    /// from the cache).
    pub(super) fn refused(&self, b: &Bearer) -> bool {
        match self {
            EbayAuth::Token(_) => false,
            EbayAuth::Minted { source, .. } => {
                tokens::forget(source, &b.token);
                b.reused
            }
        }
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
