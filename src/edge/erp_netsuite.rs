//! NetSuite calls with an OAuth 2.0 access token (client credentials, a signed JWT assertion:
//! `crate::erp::connectors::netsuite::auth`). Tokens are kept in the isolate's one token cache
//! (`super::tokens`, shared with the channels' OAuth tokens) per account and credentials
//! (`Credentials::cache_key`) until shortly before they expire (`crate::sync::TokenCache`: 300 s
//! before NetSuite's 60 minutes); the assertion is signed only when no valid token is cached. A
//! `401` to a cached token (expired early, revoked) forgets it, gets a new one and repeats the
//! call once. Throttling — `429` or `CONCURRENCY_LIMIT_EXCEEDED`, the account's
//! concurrent-request limit — is waited out by `erp_poll::send_retrying` (`Retry-After`
//! honoured), like every ERP call.

use crate::erp::connectors::netsuite::auth::{read_token, Credentials};
use crate::erp::connectors::{classify, Answer, CallFailure};
use crate::sync::{Bearer, HttpRequest, HttpResponse};

use super::clock::now;
use super::erp_poll::{send_once, send_retrying, send_until_answered};
use super::tokens;

/// A NetSuite account's caller.
pub struct NetsuiteClient<'a> {
    base: &'a str,
    creds: Credentials,
    key: String,
}

impl<'a> NetsuiteClient<'a> {
    pub fn new(base: &'a str, creds: Credentials) -> NetsuiteClient<'a> {
        let key = creds.cache_key(base);
        NetsuiteClient { base, creds, key }
    }

    /// The cached access token, else a new one (the assertion signed now).
    async fn token(&self) -> Result<Bearer, CallFailure> {
        let t = now();
        tokens::cached_or(&self.key, t, || async {
            let resp = send_retrying(self.base, &self.creds.token_request(self.base, t)).await?;
            read_token(&resp).map_err(CallFailure::Unavailable)
        })
        .await
    }

    /// Makes the call `build` describes for an access token; a `401` to a cached token gets a new
    /// token and repeats the call once.
    pub async fn call(&self, build: impl Fn(&str) -> HttpRequest) -> Result<HttpResponse, String> {
        Ok(self.call_as(|t| Ok(build(t)), Sending::Retrying).await?)
    }

    /// [`NetsuiteClient::call`] for a request that may not be built (`Err`: refused before any
    /// call), sent as `sending` says.
    pub async fn call_as(
        &self,
        build: impl Fn(&str) -> Result<HttpRequest, String>,
        sending: Sending,
    ) -> Result<HttpResponse, CallFailure> {
        let send = |token: &str| {
            let req = build(token).map_err(CallFailure::Refused);
            async move {
                let req = req?;
                match sending {
                    Sending::Retrying => send_retrying(self.base, &req).await,
                    Sending::UntilAnswered => send_until_answered(self.base, &req).await,
                    Sending::Once => send_once(self.base, &req).await,
                }
            }
        };
        let token = self.token().await?;
        let resp = send(&token.token).await?;
        if classify(&resp, now()) != Answer::Reauthenticate {
            return Ok(resp);
        }
        tokens::forget_key(&self.key, &token.token);
        if !token.reused {
            return Err(CallFailure::Refused("NetSuite refused a new access token (401)".into()));
        }
        let token = self.token().await?;
        let resp = send(&token.token).await?;
        match classify(&resp, now()) {
            Answer::Reauthenticate => Err(CallFailure::Refused("NetSuite refused a new access token (401)".into())),
            _ => Ok(resp),
        }
    }
}

/// How a NetSuite call is sent (`erp_poll`'s senders).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sending {
    /// Tried again on transport failures, 5xx and throttling; a refusal is an error.
    Retrying,
    /// Tried again like [`Sending::Retrying`], but every 4xx is answered for the caller to read.
    UntilAnswered,
    /// Sent once (a create): the caller reads any answer.
    Once,
}
