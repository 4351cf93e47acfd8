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
use crate::erp::connectors::{classify, Answer};
use crate::sync::{HttpRequest, HttpResponse, TokenCache};

use super::clock::now;
use super::erp_poll::send_retrying;

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

    async fn token(&self) -> Result<Token, String> {
        let t = now();
        if let Some(value) = TOKENS.with(|c| c.borrow().get(&self.key).and_then(|tc| tc.get(t)).map(str::to_owned)) {
            return Ok(Token { value, cached: true });
        }
        let resp = send_retrying(self.base, &self.creds.token_request(self.base, t)).await?;
        let token = read_token(&resp)?;
        let value = token.access_token.clone();
        TOKENS.with(|c| c.borrow_mut().entry(self.key.clone()).or_default().store(token, t));
        Ok(Token { value, cached: false })
    }

    /// Makes the call `build` describes for an access token; a `401` to a cached token gets a new
    /// token and repeats the call once.
    pub async fn call(&self, build: impl Fn(&str) -> HttpRequest) -> Result<HttpResponse, String> {
        let token = self.token().await?;
        let resp = send_retrying(self.base, &build(&token.value)).await?;
        if classify(&resp, now()) != Answer::Reauthenticate {
            return Ok(resp);
        }
        self.forget(&token.value);
        if !token.cached {
            return Err("NetSuite refused a new access token (401)".into());
        }
        let token = self.token().await?;
        let resp = send_retrying(self.base, &build(&token.value)).await?;
        match classify(&resp, now()) {
            Answer::Reauthenticate => Err("NetSuite refused a new access token (401)".into()),
            _ => Ok(resp),
        }
    }
}
