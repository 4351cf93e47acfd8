//! HTTP as values: the requests an adapter wants made and the responses it reads. The shell
//! prefixes `path` with the channel's configured base URL (`https://{shop}.myshopify.com`,
//! `https://sellingpartnerapi-na.amazon.com`, `https://api.amazon.com` for LWA, …) and performs
//! the call with `fetch`.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::time::Millis;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
        }
    }
}

/// A request to perform: method, path (with query string) relative to the base URL, headers in
/// order, body (JSON, form or EDI text; empty for none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpRequest {
    pub fn new(method: Method, path: impl Into<String>) -> HttpRequest {
        HttpRequest { method, path: path.into(), headers: Vec::new(), body: String::new() }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> HttpRequest {
        self.body = body.into();
        self
    }

    /// The first header named `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

/// A response as received: status, headers, body text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn new(status: u16, body: impl Into<String>) -> HttpResponse {
        HttpResponse { status, headers: Vec::new(), body: body.into() }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> HttpResponse {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The first header named `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Retry-After` in whole seconds from `now`: delta-seconds or an HTTP-date
    /// (RFC 9110 §10.2.3). `None` when absent or unreadable; a date in the past reads as 0.
    pub fn retry_after(&self, now: Millis) -> Option<u64> {
        let v = self.header_value("retry-after")?.trim();
        if let Ok(s) = v.parse::<u64>() {
            return Some(s);
        }
        if let Ok(f) = v.parse::<f64>() {
            return (f.is_finite() && f >= 0.0).then(|| f.ceil() as u64);
        }
        let at = chrono::DateTime::parse_from_rfc2822(v).ok()?.timestamp_millis();
        Some(u64::try_from(at.saturating_sub(now.0)).map_or(0, |ms| ms.div_ceil(1000)))
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Standard base64 with padding (RFC 4648 §4), for HTTP Basic credentials.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An `Authorization` value for HTTP Basic (RFC 7617): `Basic base64(user:password)`.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Everything but `A-Z a-z 0-9 - . _ ~` (RFC 3986 unreserved) is escaped.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes `s` for one path segment or one query value.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// An `application/x-www-form-urlencoded` body from name/value pairs.
pub fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xfe]), "+//+");
        // RFC 7617 §2's example.
        assert_eq!(basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = Millis::parse_rfc3339("2015-10-21T07:28:00Z").unwrap();
        let r = |v: &str| HttpResponse::new(429, "").header("Retry-After", v).retry_after(now);
        assert_eq!(r("120"), Some(120));
        assert_eq!(r("1.5"), Some(2));
        assert_eq!(r("Wed, 21 Oct 2015 07:28:30 GMT"), Some(30));
        assert_eq!(r("Wed, 21 Oct 2015 07:27:00 GMT"), Some(0));
        assert_eq!(r("soon"), None);
        assert_eq!(HttpResponse::new(429, "").retry_after(now), None);
    }

    #[test]
    fn encodes_components_and_forms() {
        assert_eq!(encode_component("TEE/BLK M"), "TEE%2FBLK%20M");
        assert_eq!(
            form_urlencoded(&[("grant_type", "refresh_token"), ("refresh_token", "Atzr|a+b")]),
            "grant_type=refresh_token&refresh_token=Atzr%7Ca%2Bb"
        );
    }
}
