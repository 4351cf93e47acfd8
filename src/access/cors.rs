//! Cross-origin requests from browsers: only the configured storefront origins
//! (`CORS_ALLOWED_ORIGINS`) are answered with CORS headers; every answer varies on `Origin`.

/// The methods a preflight may be allowed.
pub const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, DELETE";
/// The request headers a cross-origin caller may send.
pub const ALLOW_HEADERS: &str = "authorization, content-type, idempotency-key, if-none-match";
/// The response headers a cross-origin caller may read.
pub const EXPOSE_HEADERS: &str = "retry-after, idempotent-replayed, etag, www-authenticate";
/// How long (s) a browser may cache a preflight answer.
pub const MAX_AGE_S: u32 = 600;

/// The configured origins, each `scheme://host[:port]` exactly as browsers send `Origin`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Parses a comma- or whitespace-separated list. Entries that are not an `http(s)` origin
    /// (a path, a trailing `/`, `*`, `null`) are returned as rejected and never match.
    pub fn parse(list: &str) -> (AllowedOrigins, Vec<String>) {
        let mut ok = Vec::new();
        let mut rejected = Vec::new();
        for entry in list.split(|c: char| c == ',' || c.is_whitespace()).filter(|e| !e.is_empty()) {
            if is_origin(entry) {
                ok.push(entry.to_ascii_lowercase());
            } else {
                rejected.push(entry.to_owned());
            }
        }
        (AllowedOrigins(ok), rejected)
    }

    /// Whether a request's `Origin` is one of the configured origins (ASCII case-insensitive).
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

fn is_origin(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|host| {
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    })
}

/// Headers to add to an answer: `(name, value)`.
pub type Headers = Vec<(&'static str, String)>;

/// The answer to a preflight (`OPTIONS` with `Origin`): always `204`; CORS headers only for an
/// allowed origin, so a browser on any other origin is refused by its own CORS check.
pub fn preflight(allowed: &AllowedOrigins, origin: Option<&str>) -> Headers {
    let mut h: Headers = vec![("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers".into())];
    if let Some(o) = origin.filter(|o| allowed.allows(o)) {
        h.push(("access-control-allow-origin", o.to_owned()));
        h.push(("access-control-allow-methods", ALLOW_METHODS.into()));
        h.push(("access-control-allow-headers", ALLOW_HEADERS.into()));
        h.push(("access-control-max-age", MAX_AGE_S.to_string()));
    }
    h
}

/// Headers for any other answer: `Vary: Origin`, and for an allowed origin the origin itself
/// and the headers it may read. No credentials mode: tokens travel in `Authorization`.
pub fn actual(allowed: &AllowedOrigins, origin: Option<&str>) -> Headers {
    let mut h: Headers = vec![("vary", "Origin".into())];
    if let Some(o) = origin.filter(|o| allowed.allows(o)) {
        h.push(("access-control-allow-origin", o.to_owned()));
        h.push(("access-control-expose-headers", EXPOSE_HEADERS.into()));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(h: &'a Headers, name: &str) -> Option<&'a str> {
        h.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn parses_lists_and_rejects_non_origins() {
        let (o, bad) = AllowedOrigins::parse("https://shop.example.com, http://localhost:3000\nhttps://A.example");
        assert!(bad.is_empty());
        assert!(o.allows("https://shop.example.com"));
        assert!(o.allows("http://localhost:3000"));
        assert!(o.allows("https://a.example"));
        assert!(!o.allows("https://shop.example.com.evil.test"));
        assert!(!o.allows("http://shop.example.com"));
        assert!(!o.allows("null"));
        let (o, bad) = AllowedOrigins::parse("* null https://x.test/ https://x.test/path ftp://x.test https://");
        assert_eq!(o, AllowedOrigins::default());
        assert_eq!(bad.len(), 6);
        assert!(!o.allows("*"));
    }

    #[test]
    fn preflight_for_an_allowed_origin_and_for_another() {
        let (o, _) = AllowedOrigins::parse("https://shop.example.com");
        let yes = preflight(&o, Some("https://shop.example.com"));
        assert_eq!(value(&yes, "access-control-allow-origin"), Some("https://shop.example.com"));
        assert_eq!(value(&yes, "access-control-allow-methods"), Some(ALLOW_METHODS));
        assert!(value(&yes, "access-control-allow-headers").is_some_and(|h| h.contains("authorization")));
        assert!(value(&yes, "vary").is_some_and(|v| v.starts_with("Origin")));
        for other in [Some("https://evil.test"), None] {
            let no = preflight(&o, other);
            assert!(no.iter().all(|(n, _)| !n.starts_with("access-control-")), "{other:?}");
            assert!(value(&no, "vary").is_some());
        }
    }

    #[test]
    fn actual_answers_vary_on_origin_always() {
        let (o, _) = AllowedOrigins::parse("https://shop.example.com");
        let yes = actual(&o, Some("https://shop.example.com"));
        assert_eq!(value(&yes, "access-control-allow-origin"), Some("https://shop.example.com"));
        assert_eq!(value(&yes, "vary"), Some("Origin"));
        let no = actual(&o, Some("https://evil.test"));
        assert_eq!(no, vec![("vary", "Origin".to_owned())]);
    }
}
