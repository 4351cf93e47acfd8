//! How the shell reaches a channel: its base URL and its credentials, from the catalogue's
//! channel record (kind, account, settings) and the Worker secret the record names.
//!
//! Secret formats, by kind: Shopify — the access token; eBay — a user access token, or JSON
//! `{"client_id","client_secret","refresh_token","scopes"?}` (access tokens minted as needed, see
//! [`super::ebay_auth`]); WooCommerce — `key:secret`; Amazon — JSON
//! `{"client_id","client_secret","refresh_token"}` (Login with Amazon).
//! `settings.base_url` overrides the platform's address (tests point it at loopback
//! simulators); `settings.token_url` does the same for Amazon's and eBay's token endpoints.

use serde_json::{Map, Value};

use super::adapter::ChannelAdapter;
use super::ebay_auth::{self, EbayCredentials, EbayCredentialsError};
use super::http::basic_auth;
use super::lwa::LwaCredentials;
use super::oauth::TokenSource;
use super::wholesale::{TradingPartner, WholesaleAdapter};
use super::x12::{ControlNumbers, Envelope, Usage, MAX_LINES_PER_SET};
use crate::catalog::model::ChannelKind;
use crate::catalog::secret::SecretError;
use crate::channels::{platform, Auth, BaseUrl, Push};

/// Why a channel cannot be reached.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    #[error("the channel names no credentials secret")]
    NoSecret,
    #[error("the credentials secret is not in the expected form: {0}")]
    BadSecret(&'static str),
    #[error("{0} channels are not pushed to yet")]
    Unsupported(&'static str),
    #[error("credentials: {0}")]
    Secret(#[from] SecretError),
    #[error("eBay credentials: {0}")]
    Ebay(#[from] EbayCredentialsError),
}

/// How a channel's calls are authorised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// With the channel's secret as it is (Shopify, WooCommerce, an eBay user token; for
    /// wholesale, optional Basic credentials).
    Secret(Option<String>),
    /// With an access token from this source (Amazon LWA, eBay refresh-token credentials).
    Token(TokenSource),
}

/// How calls to a channel of `kind` are authorised, given the secret its record names (as the
/// shell read it). Only wholesale channels may name no secret.
pub fn access(
    kind: ChannelKind,
    secret: Result<&str, &SecretError>,
    account: &str,
    settings: &Map<String, Value>,
) -> Result<Access, ConnectionError> {
    let secret = match (platform(kind).auth, secret) {
        (Auth::OptionalSecret, Err(SecretError::Unnamed)) => return Ok(Access::Secret(None)),
        (_, Err(e)) => return Err(ConnectionError::Secret(e.clone())),
        (_, Ok(s)) => s,
    };
    Ok(match platform(kind).auth {
        Auth::Lwa => Access::Token(lwa_source(Some(secret), settings)?),
        Auth::Ebay => match EbayCredentials::parse(Some(secret))? {
            EbayCredentials::Token(token) => Access::Secret(Some(token)),
            EbayCredentials::Refresh(r) => Access::Token(r.source(&ebay_auth::token_url(account, settings), false)),
        },
        Auth::Secret | Auth::OptionalSecret => Access::Secret(Some(secret.to_owned())),
    })
}

/// The base URL calls go to (no trailing slash).
pub fn base_url(kind: ChannelKind, account: &str, settings: &Map<String, Value>) -> String {
    if let Some(url) = settings.get("base_url").and_then(Value::as_str) {
        return url.trim_end_matches('/').to_owned();
    }
    match platform(kind).base_url {
        BaseUrl::Account => format!("https://{account}"),
        BaseUrl::Fixed(url) => url.to_owned(),
    }
}

/// Where Amazon access tokens come from.
pub fn token_url(settings: &Map<String, Value>) -> String {
    settings
        .get("token_url")
        .and_then(Value::as_str)
        .unwrap_or("https://api.amazon.com")
        .trim_end_matches('/')
        .to_owned()
}

/// Amazon's refresh-token credentials from the secret.
pub fn lwa_credentials(secret: Option<&str>) -> Result<LwaCredentials, ConnectionError> {
    let s = secret.ok_or(ConnectionError::NoSecret)?;
    let v: Value = serde_json::from_str(s)
        .map_err(|_| ConnectionError::BadSecret("JSON with client_id, client_secret, refresh_token"))?;
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    match (field("client_id"), field("client_secret"), field("refresh_token")) {
        (Some(client_id), Some(client_secret), Some(refresh_token)) => {
            Ok(LwaCredentials { client_id, client_secret, refresh_token })
        }
        _ => Err(ConnectionError::BadSecret("JSON with client_id, client_secret, refresh_token")),
    }
}

/// Where an Amazon channel's LWA access tokens come from, given its secret: what every Amazon
/// call (pushes, order reads, polls) asks the shell's one token cache for.
pub fn lwa_source(secret: Option<&str>, settings: &Map<String, Value>) -> Result<TokenSource, ConnectionError> {
    Ok(lwa_credentials(secret)?.source(&token_url(settings)))
}

/// A wholesale (EDI 846) channel's adapter for the trading partners `partner_ids`, with the
/// interchange control number of this push. Settings: `path` (default `/edi/846`), `sender_id`
/// (ISA06/GS02, default `STOCKEDGE`), `usage` (`"T"` for test interchanges), and per partner
/// `partners.<id>.receiver_id` (ISA08/GS03, default the partner id). The secret, if any, is
/// `user:password` for HTTP Basic.
pub fn wholesale(
    settings: &Map<String, Value>,
    secret: Option<&str>,
    partner_ids: &[String],
    interchange: u32,
) -> WholesaleAdapter {
    let text = |v: Option<&Value>, default: &str| v.and_then(Value::as_str).unwrap_or(default).to_owned();
    let sender = text(settings.get("sender_id"), "STOCKEDGE");
    let usage =
        if settings.get("usage").and_then(Value::as_str) == Some("T") { Usage::Test } else { Usage::Production };
    let partners = partner_ids
        .iter()
        .map(|id| {
            let receiver =
                text(settings.get("partners").and_then(|p| p.get(id)).and_then(|p| p.get("receiver_id")), id);
            TradingPartner {
                partner_id: id.clone(),
                envelope: Envelope {
                    sender_qualifier: "ZZ".into(),
                    sender_id: sender.clone(),
                    receiver_qualifier: "ZZ".into(),
                    receiver_id: receiver.clone(),
                    application_sender: sender.clone(),
                    application_receiver: receiver,
                    usage,
                },
                control: ControlNumbers { interchange, group: interchange, transaction: interchange },
                max_lines_per_set: MAX_LINES_PER_SET,
                effective_dates: false,
            }
        })
        .collect();
    WholesaleAdapter {
        path: text(settings.get("path"), "/edi/846"),
        authorization: secret.and_then(|s| s.split_once(':')).map(|(u, p)| basic_auth(u, p)),
        partners,
    }
}

/// A push adapter constructor's secret (or access token): refused when empty.
pub fn required(secret: &str) -> Result<&str, ConnectionError> {
    Some(secret).filter(|s| !s.is_empty()).ok_or(ConnectionError::NoSecret)
}

/// The adapter for a channel, given its secret (for Amazon and eBay: an access token already
/// obtained): the one its platform registers. EDI channels need their partners and a control
/// number: see [`wholesale`].
pub fn adapter(
    kind: ChannelKind,
    secret: Option<&str>,
    settings: &Map<String, Value>,
) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
    match platform(kind).push {
        Push::Adapter(build) => build(secret.ok_or(ConnectionError::NoSecret)?, settings),
        Push::Edi => Err(ConnectionError::Unsupported(platform(kind).name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_and_secrets() {
        let mut settings = Map::new();
        assert_eq!(base_url(ChannelKind::Shopify, "shop.myshopify.com", &settings), "https://shop.myshopify.com");
        settings.insert("base_url".into(), Value::from("http://127.0.0.1:9000/"));
        assert_eq!(base_url(ChannelKind::Ebay, "x", &settings), "http://127.0.0.1:9000");
        assert!(adapter(ChannelKind::Woocommerce, Some("ck_1:cs_2"), &settings).is_ok());
        assert_eq!(
            adapter(ChannelKind::Woocommerce, Some("nocolon"), &settings).err(),
            Some(ConnectionError::BadSecret("key:secret"))
        );
        assert_eq!(adapter(ChannelKind::Shopify, None, &settings).err(), Some(ConnectionError::NoSecret));
        assert!(lwa_credentials(Some(r#"{"client_id":"a","client_secret":"b","refresh_token":"c"}"#)).is_ok());
        assert!(lwa_credentials(Some("nope")).is_err());
    }

    #[test]
    fn wholesale_partners_get_an_envelope_each() {
        let mut settings = Map::new();
        settings.insert("partners".into(), serde_json::json!({"ACME": {"receiver_id": "ACMERECV"}}));
        let a = wholesale(&settings, Some("edi:pw"), &["ACME".into(), "BOLT".into()], 42);
        assert_eq!(a.path, "/edi/846");
        assert!(a.authorization.as_deref().is_some_and(|h| h.starts_with("Basic ")));
        assert_eq!(a.partners[0].envelope.receiver_id, "ACMERECV");
        assert_eq!(a.partners[1].envelope.receiver_id, "BOLT");
        assert_eq!(a.partners[1].control.interchange, 42);
    }
}
