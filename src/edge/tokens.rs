//! The one cache of OAuth access tokens (Amazon LWA, eBay refresh-token credentials, NetSuite's
//! client credentials), shared by everything that calls a platform or an ERP with its
//! credentials: sync pushes, order reads, feed polls, public-key fetches, ERP polls and order
//! deliveries. Tokens are kept in this isolate's memory per key (a digest of the credentials and
//! endpoint: [`TokenSource::key`], `Credentials::cache_key` of NetSuite) until shortly before they
//! expire (`crate::sync::TokenCache`); reading the endpoint's answer is the core's
//! (`crate::sync::AccessToken::from_response`, `netsuite::auth::read_token`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use crate::sync::{AccessToken, Bearer, PushResult, TokenCache, TokenSource};
use crate::time::Millis;

thread_local! {
    static TOKENS: RefCell<BTreeMap<String, TokenCache>> = const { RefCell::new(BTreeMap::new()) };
}

/// An access token from `source`: the cached one while valid, else a new one (then cached). The
/// error is what the calls that needed it come to (a refusal is permanent, trouble is retried).
pub async fn bearer(source: &TokenSource, t: Millis, timeout: Duration) -> Result<Bearer, PushResult> {
    cached_or(&source.key, t, || async {
        let resp = super::platform_http::send(&source.url, &source.request, timeout)
            .await
            .map_err(|why| PushResult::backoff(format!("{} token endpoint: {why}", source.issuer)))?;
        AccessToken::from_response(&resp, t, source.issuer)
    })
    .await
}

/// The token cached under `key` while valid at `t`, else the one `mint` gets (then cached under
/// `key`): for token endpoints whose request is costly to build (NetSuite signs a JWT per
/// request), built only when needed.
pub async fn cached_or<E, F, Fut>(key: &str, t: Millis, mint: F) -> Result<Bearer, E>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<AccessToken, E>>,
{
    let cached = TOKENS.with(|c| c.borrow().get(key).and_then(|tc| tc.get(t)).map(str::to_owned));
    if let Some(token) = cached {
        return Ok(Bearer { token, reused: true });
    }
    let token = mint().await?;
    let access = token.access_token.clone();
    TOKENS.with(|c| c.borrow_mut().entry(key.to_owned()).or_default().store(token, t));
    Ok(Bearer { token: access, reused: false })
}

/// The platform refused `token`: forgets it, unless a newer token has replaced it already.
pub fn forget(source: &TokenSource, token: &str) {
    forget_key(&source.key, token);
}

/// [`forget`] for the token cached under `key`.
pub fn forget_key(key: &str, token: &str) {
    TOKENS.with(|c| {
        let mut c = c.borrow_mut();
        let holds = c.get(key).and_then(|tc| tc.token.as_ref()).is_some_and(|ct| ct.access_token == token);
        if holds {
            c.remove(key);
        }
    });
}
