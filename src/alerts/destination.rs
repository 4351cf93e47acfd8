//! Alert destinations: the `PUT /v1/alert-destinations/{id}` body, the stored record and the
//! view the API answers.
//!
//! A destination's `secret` is the *name* of the Worker secret holding its signing key (never
//! the key). Its URL is answered with everything after the origin masked: a Slack incoming
//! webhook's URL is itself a credential.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::limits::MAX_URL_LEN;
use super::AlertKind;
use crate::api::fields::{parse_object, Fields};
use crate::api::problem::{FieldError, Problem};
use crate::catalog::model::is_secret_name;
use crate::stock::Token;
use crate::time::Millis;

/// How a destination wants its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Generic JSON, signed (`X-StockEdge-Signature`).
    Webhook,
    /// A Slack-compatible incoming webhook (`{"text", "blocks"}`).
    Slack,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Webhook => "webhook",
            Format::Slack => "slack",
        }
    }
    pub fn parse(s: &str) -> Option<Format> {
        [Format::Webhook, Format::Slack].into_iter().find(|f| f.as_str() == s)
    }
}

/// A destination as stored (D1 `alert_destinations`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub id: Token,
    pub format: Format,
    pub url: String,
    /// The Worker secret naming the signing key.
    pub secret: Option<String>,
    /// The kinds it receives; empty: every kind.
    pub kinds: Vec<AlertKind>,
    pub enabled: bool,
}

impl Destination {
    /// Whether it receives messages of `kind`.
    pub fn wants(&self, kind: AlertKind) -> bool {
        self.enabled && (self.kinds.is_empty() || self.kinds.contains(&kind))
    }
}

/// Reads a `PUT /v1/alert-destinations/{id}` body; every faulty field named in one `422`.
pub fn destination_body(id: Token, body: &[u8]) -> Result<Destination, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let format = match obj.get("format") {
        Some(Value::String(s)) => Format::parse(s).or_else(|| {
            f.fault("format", "must be \"webhook\" or \"slack\"");
            None
        }),
        _ => {
            f.fault("format", "is required: \"webhook\" or \"slack\"");
            None
        }
    };
    let url = match obj.get("url") {
        Some(Value::String(s)) if url_ok(s) => Some(s.clone()),
        Some(Value::String(_)) => {
            f.fault("url", format!("must be an http(s) URL with a host, at most {MAX_URL_LEN} characters"));
            None
        }
        _ => {
            f.fault("url", "is required");
            None
        }
    };
    let secret = match obj.get("secret") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_secret_name(s) => Some(s.clone()),
        Some(_) => {
            f.fault("secret", "must name a Worker secret (A-Z, 0-9, _, starting with a letter)");
            None
        }
    };
    let kinds = kinds(&mut f, &obj);
    let enabled = match obj.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            f.fault("enabled", "must be true or false");
            true
        }
    };
    match (format, url) {
        (Some(format), Some(url)) if errors.is_empty() => Ok(Destination { id, format, url, secret, kinds, enabled }),
        _ => Err(Problem::invalid(errors)),
    }
}

fn kinds(f: &mut Fields<'_>, obj: &Map<String, Value>) -> Vec<AlertKind> {
    match obj.get("kinds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                match v.as_str().and_then(AlertKind::parse) {
                    Some(k) if !out.contains(&k) => out.push(k),
                    Some(_) => {}
                    None => f.fault(&format!("kinds[{i}]"), format!("must be one of {}", kind_names())),
                }
            }
            out
        }
        Some(_) => {
            f.fault("kinds", format!("must be an array of {}", kind_names()));
            Vec::new()
        }
    }
}

fn kind_names() -> String {
    AlertKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}

/// `http://` or `https://`, a host, no whitespace or control characters, at most
/// [`MAX_URL_LEN`] characters (`sync::target_url`).
fn url_ok(s: &str) -> bool {
    crate::sync::target_url::check(s).is_ok()
}

/// The URL's origin with the rest masked: `https://hooks.slack.com/…`.
fn masked_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if rest.len() > host.len() {
        format!("{scheme}://{host}/…")
    } else {
        format!("{scheme}://{host}")
    }
}

/// A destination as the API answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DestinationView {
    pub id: String,
    pub format: Format,
    /// Origin only; the rest masked.
    pub url: String,
    pub secret: Option<String>,
    /// The kinds it receives (every kind when `[]`).
    pub kinds: Vec<AlertKind>,
    pub enabled: bool,
    pub updated_at: String,
    /// Messages delivered, and recorded failed, so far.
    pub delivered: i64,
    pub failed: i64,
}

impl DestinationView {
    pub fn new(d: &Destination, updated_at: Millis, delivered: i64, failed: i64) -> DestinationView {
        DestinationView {
            id: d.id.to_string(),
            format: d.format,
            url: masked_url(&d.url),
            secret: d.secret.clone(),
            kinds: d.kinds.clone(),
            enabled: d.enabled,
            updated_at: updated_at.to_rfc3339(),
            delivered,
            failed,
        }
    }
}

/// `422` when a new destination would exceed [`super::limits::MAX_DESTINATIONS`].
pub fn too_many() -> Problem {
    Problem::invalid(vec![FieldError::new(
        "id",
        format!("at most {} alert destinations; delete one first", super::limits::MAX_DESTINATIONS),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Kind;

    fn id() -> Token {
        Token::parse("ops").expect("id")
    }

    fn fields(p: &Problem) -> Vec<String> {
        let errors = p.extra.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
        errors.iter().filter_map(|e| e.get("field").and_then(|f| f.as_str()).map(str::to_owned)).collect()
    }

    #[test]
    fn reads_a_full_body_and_defaults() {
        let d = destination_body(
            id(),
            br#"{"format":"webhook","url":"https://example.com/hook?x=1","secret":"ALERT_KEY","kinds":["oversold","drift","drift"],"enabled":false}"#,
        )
        .expect("valid");
        assert_eq!(d.format, Format::Webhook);
        assert_eq!(d.kinds, [AlertKind::Oversold, AlertKind::Drift]);
        assert!(!d.enabled);
        assert!(!d.wants(AlertKind::Oversold), "disabled wants nothing");
        let s =
            destination_body(id(), br#"{"format":"slack","url":"http://127.0.0.1:9/services/T/B/x"}"#).expect("valid");
        assert!(s.enabled && s.kinds.is_empty() && s.secret.is_none());
        assert!(s.wants(AlertKind::PollBehind));
    }

    #[test]
    fn names_every_faulty_field() {
        let p = destination_body(
            id(),
            br#"{"format":"email","url":"ftp://x","secret":"lower","kinds":["oversold","nope"],"enabled":"yes"}"#,
        )
        .expect_err("invalid");
        assert_eq!(p.kind, Kind::ValidationFailed);
        assert_eq!(fields(&p), ["format", "url", "secret", "kinds[1]", "enabled"]);
        let missing = destination_body(id(), b"{}").expect_err("invalid");
        assert_eq!(fields(&missing), ["format", "url"]);
        assert!(destination_body(id(), br#"{"format":"slack","url":"https://"}"#).is_err());
        assert!(destination_body(id(), br#"{"format":"slack","url":"https://a b"}"#).is_err());
        assert!(destination_body(id(), b"[1]").is_err());
    }

    #[test]
    fn urls_are_answered_masked() {
        assert_eq!(masked_url("https://hooks.slack.com/services/T/B/secret"), "https://hooks.slack.com/…");
        assert_eq!(masked_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(masked_url("https://h.example?token=1"), "https://h.example/…");
    }
}
