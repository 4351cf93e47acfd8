//! Rate limits through the Workers rate-limiting bindings (`[[ratelimits]]` in wrangler.toml);
//! keys and the 429 are `access::rate`'s.

use worker::Env;

use crate::access::rate::{self, Budget};
use crate::access::Credential;
use crate::api::Problem;

/// Counts one request against `binding`'s budget for `key`; `true` when the budget is used up.
/// Without the binding, or when it fails, the request is let through (fail open: a limiter
/// outage must not take the API down) and the failure is logged.
async fn spent(env: &Env, binding: &str, key: String) -> bool {
    let limiter = match env.rate_limiter(binding) {
        Ok(l) => l,
        Err(_) => return false,
    };
    match limiter.limit(key).await {
        Ok(outcome) => !outcome.success,
        Err(e) => {
            worker::console_error!("rate limiter {binding}: {e}");
            false
        }
    }
}

/// The per-IP budget (`CF-Connecting-IP`): the `429` when it is used up.
pub async fn by_ip(env: &Env, ip: Option<&str>) -> Result<(), Problem> {
    if spent(env, rate::IP_BINDING, rate::ip_key(ip)).await {
        return Err(rate::too_many(Budget::Ip));
    }
    Ok(())
}

/// The per-credential budget: the `429` when it is used up.
pub async fn by_token(env: &Env, cred: Credential) -> Result<(), Problem> {
    if spent(env, rate::TOKEN_BINDING, rate::token_key(cred)).await {
        return Err(rate::too_many(Budget::Token));
    }
    Ok(())
}
