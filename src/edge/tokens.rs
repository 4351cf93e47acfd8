//! The one cache of OAuth access tokens (Amazon LWA, eBay refresh-token credentials), shared by
//! everything that calls a platform with a channel's credentials: sync pushes, order reads,
//! feed polls, public-key fetches. Tokens are kept in this isolate's memory per
//! [`TokenSource::key`] (a digest of the credentials and endpoint) until shortly before they
//! expire (`crate::sync::TokenCache`); reading the endpoint's answer is the core's
//! (`crate::sync::AccessToken::from_response`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::sync::{AccessToken, Bearer, PushResult, TokenCache, TokenSource};
use crate::time::Millis;

thread_local! {
    static TOKENS: RefCell<BTreeMap<String, TokenCache>> = const { RefCell::new(BTreeMap::new()) };
}

/// An access token from `source`: the cached one while valid, else a new one (then cached). The
/// error is what the calls that needed it come to (a refusal is permanent, trouble is retried).
pub async fn bearer(source: &TokenSource, t: Millis, timeout: Duration) -> Result<Bearer, PushResult> {
    let cached = TOKENS.with(|c| c.borrow().get(&source.key).and_then(|tc| tc.get(t)).map(str::to_owned));
    if let Some(token) = cached {
        return Ok(Bearer { token, reused: true });
    }
    let resp = super::platform_http::send(&source.url, &source.request, timeout)
        .await
        .map_err(|why| PushResult::backoff(format!("{} token endpoint: {why}", source.issuer)))?;
    let token = AccessToken::from_response(&resp, t, source.issuer)?;
    let access = token.access_token.clone();
    TOKENS.with(|c| c.borrow_mut().entry(source.key.clone()).or_default().store(token, t));
    Ok(Bearer { token: access, reused: false })
}

/// The platform refused `token`: forgets it, unless a newer token has replaced it already.
pub fn forget(source: &TokenSource, token: &str) {
    TOKENS.with(|c| {
        let mut c = c.borrow_mut();
        let holds = c.get(&source.key).and_then(|tc| tc.token.as_ref()).is_some_and(|ct| ct.access_token == token);
        if holds {
            c.remove(&source.key);
        }
    });
}
