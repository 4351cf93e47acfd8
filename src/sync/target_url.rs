//! The one check of a URL StockEdge sends to on someone's behalf (alert destinations, the webhook
//! ERP): `http://` or `https://`, at most [`MAX_URL_LEN`] characters, no whitespace or control
//! characters, a host and no user information. What a caller adds (the webhook ERP: `https://`,
//! or `http://` to a loopback host only) it decides from the [`Target`] this answers.

/// A URL StockEdge sends to, at most this long.
pub const MAX_URL_LEN: usize = 2048;

/// What [`check`] read of a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// `https://`.
    pub secure: bool,
    /// The host, without port or IPv6 brackets.
    pub host: &'a str,
}

impl Target<'_> {
    /// `127.0.0.1`, `localhost` or `::1`: a local simulator or a sidecar.
    pub fn is_loopback(&self) -> bool {
        matches!(self.host, "127.0.0.1" | "localhost" | "::1")
    }
}

/// The URL's scheme and host, or why it is not one StockEdge sends to.
pub fn check(url: &str) -> Result<Target<'_>, &'static str> {
    let (rest, secure) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(r), _) => (r, true),
        (None, Some(r)) => (r, false),
        (None, None) => return Err("must be an http:// or https:// URL"),
    };
    if url.len() > MAX_URL_LEN {
        return Err("must be at most 2048 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err("must name a host (and no user information)");
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return Err("must name a host (and no user information)");
    }
    Ok(Target { secure, host })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_needs_a_scheme_a_host_and_no_more_than_the_limit() {
        assert_eq!(check("https://erp.example.com:8443/x?y#z"), Ok(Target { secure: true, host: "erp.example.com" }));
        assert_eq!(check("http://[::1]:9/erp"), Ok(Target { secure: false, host: "::1" }));
        assert!(check("http://localhost:9").is_ok_and(|t| t.is_loopback()));
        assert!(check("http://127.0.0.1.evil.com/").is_ok_and(|t| !t.is_loopback()));
        for bad in ["ftp://x", "https://", "https://a b", "https://user@host", "https://:80/", "https://x/\u{7}"] {
            assert!(check(bad).is_err(), "{bad}");
        }
        let long = format!("https://h.example/{}", "a".repeat(MAX_URL_LEN));
        assert!(check(&long).is_err());
        assert!(check(&long[..MAX_URL_LEN]).is_ok());
    }
}
