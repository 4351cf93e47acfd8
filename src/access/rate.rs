//! Rate limits: one budget per client IP for every request, one per credential for
//! authenticated requests (Workers rate-limiting bindings, `[[ratelimits]]` in wrangler.toml,
//! where the limits are set). Keys name the credential, never the token's value.

use super::keyring::Credential;
use crate::api::{Kind, Problem};

/// The binding that counts requests per client IP.
pub const IP_BINDING: &str = "RATE_LIMIT_IP";
/// The binding that counts requests per credential (role and slot).
pub const TOKEN_BINDING: &str = "RATE_LIMIT_TOKEN";
/// The bindings' window (s): `simple.period` in wrangler.toml (the platform takes 10 or 60).
pub const PERIOD_S: u32 = 60;

/// The per-IP key; a request without a client address (local tools) shares one key.
pub fn ip_key(ip: Option<&str>) -> String {
    format!("ip:{}", ip.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("unknown"))
}

/// The per-credential key: the credential's label (e.g. `admin-next`), not its value.
pub fn token_key(cred: Credential) -> String {
    format!("token:{}", cred.label())
}

/// Which budget ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    Ip,
    Token,
}

/// The `429` to answer when a budget ran out: the window is at most [`PERIOD_S`] long, so
/// retrying after it always finds a fresh budget.
pub fn too_many(budget: Budget) -> Problem {
    let which = match budget {
        Budget::Ip => "this client address",
        Budget::Token => "this token",
    };
    Problem::new(Kind::TooManyRequests, format!("too many requests from {which}; retry after {PERIOD_S} s"))
        .with("retry_after", PERIOD_S)
        .with("limit", if budget == Budget::Ip { "ip" } else { "token" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::roles::Role;
    use crate::access::Slot;

    #[test]
    fn keys_name_the_client_and_the_credential() {
        assert_eq!(ip_key(Some("203.0.113.9")), "ip:203.0.113.9");
        assert_eq!(ip_key(Some(" ")), "ip:unknown");
        assert_eq!(ip_key(None), "ip:unknown");
        assert_eq!(token_key(Credential { role: Role::Admin, slot: Slot::Next }), "token:admin-next");
    }

    #[test]
    fn too_many_is_a_429_with_retry_after() {
        let p = too_many(Budget::Token);
        assert_eq!(p.status(), 429);
        assert_eq!(p.extra["retry_after"], serde_json::json!(PERIOD_S));
        assert_eq!(p.to_json()["type"], "/problems/too-many-requests");
    }

    /// The window named here is the one wrangler.toml configures for both bindings.
    #[test]
    fn the_period_matches_wrangler_toml() {
        let toml = include_str!("../../wrangler.toml");
        let mut seen = Vec::new();
        for block in toml.split("[[ratelimits]]").skip(1) {
            let block = block.split("\n[").next().unwrap_or_default();
            let name = block.lines().find_map(|l| l.trim().strip_prefix("name = ")).map(|s| s.trim_matches('"'));
            let period =
                block.lines().find_map(|l| l.split("period = ").nth(1)).map(|s| s.trim_end_matches(['}', ' ']));
            assert_eq!(period.and_then(|p| p.trim().parse::<u32>().ok()), Some(PERIOD_S), "{name:?}");
            seen.extend(name.map(str::to_owned));
        }
        seen.sort();
        assert_eq!(seen, vec![IP_BINDING.to_owned(), TOKEN_BINDING.to_owned()]);
    }
}
