//! NetSuite calls with an OAuth 2.0 access token (client credentials, a signed JWT assertion:
//! `crate::erp::connectors::netsuite::auth`). Tokens are kept in this isolate's memory per
//! account and credentials (`Credentials::cache_key`) until shortly before they expire
//! (`crate::sync::TokenCache`: 300 s before NetSuite's 60 minutes); a `401` to a cached token
//! (expired early, revoked) forgets it, gets a new one and repeats the call once. Throttling —
//! `429` or `CONCURRENCY_LIMIT_EXCEEDED`, the account's concurrent-request limit — is waited out
//! by `erp_poll::send_retrying` (`Retry-After` honoured), like every ERP call.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::erp::connectors::netsuite::auth::{read_token, Credentials};
use crate::erp::connectors::{classify, Answer, CallFailure};
use crate::sync::{HttpRequest, HttpResponse, TokenCache};

use super::clock::now;
use super::erp_poll::{send_once, send_retrying, send_until_answered};

thread_local! {
    /// Access tokens by `Credentials::cache_key`, kept across requests in this isolate (a token
    /// per run would ask the token endpoint every cron tick).
    static TOKENS: RefCell<BTreeMap<String, TokenCache>> = const { RefCell::new(BTreeMap::new()) };
}

/// A NetSuite account's caller.
pub struct NetsuiteClient<'a> {
    base: &'a str,
    creds: Credentials,
    key: String,
}

/// An access token and whether it came from the cache (a refused cached one may be renewed).
struct Token {
    value: String,
    cached: bool,
}

impl<'a> NetsuiteClient<'a> {
    pub fn new(base: &'a str, creds: Credentials) -> NetsuiteClient<'a> {
        let key = creds.cache_key(base);
        NetsuiteClient { base, creds, key }
    }

    fn forget(&self, token: &str) {
        TOKENS.with(|c| {
            let mut c = c.borrow_mut();
            if c.get(&self.key).and_then(|tc| tc.get(now())).is_some_and(|t| t == token) {
                c.remove(&self.key);
            }
        });
    }

    async fn token(&self) -> Result<Token, CallFailure> {
        let t = now();
        if let Some(value) = TOKENS.with(|c| c.borrow().get(&self.key).and_then(|tc| tc.get(t)).map(str::to_owned)) {
            return Ok(Token { value, cached: true });
        }
        let resp = send_retrying(self.base, &self.creds.token_request(self.base, t)).await?;
        let token = read_token(&resp).map_err(CallFailure::Unavailable)?;
        let value = token.access_token.clone();
        TOKENS.with(|c| c.borrow_mut().entry(self.key.clone()).or_default().store(token, t));
        Ok(Token { value, cached: false })
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
        let resp = send(&token.value).await?;
        if classify(&resp, now()) != Answer::Reauthenticate {
            return Ok(resp);
        }
        self.forget(&token.value);
        if !token.cached {
            return Err(CallFailure::Refused("NetSuite refused a new access token (401)".into()));
        }
        let token = self.token().await?;
        let resp = send(&token.value).await?;
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
