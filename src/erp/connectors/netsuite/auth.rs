//! NetSuite OAuth 2.0 client credentials (machine to machine): the integration's client id, the
//! certificate id NetSuite gave when the certificate's public part was mapped to the
//! application, and the certificate's private key (P-256) sign a short-lived JWT assertion; the
//! token endpoint answers an access token valid 60 minutes.
//!
//! - `POST /services/rest/auth/oauth2/v1/token`, `application/x-www-form-urlencoded`:
//!   `grant_type=client_credentials`, `client_assertion_type=`[`ASSERTION_TYPE`],
//!   `client_assertion=<JWT>`.
//! - The JWT: header `{"typ":"JWT","alg":"ES256","kid":<certificate id>}`, payload
//!   `{"iss":<client id>,"scope":["rest_webservices"],"aud":<the token endpoint's URL>,"iat",
//!   "exp"}` (`exp` less than 60 minutes after `iat`), signed ES256 (ECDSA P-256 with SHA-256,
//!   the signature as `r ‖ s`, RFC 7518 §3.4). NetSuite accepts ES256/384/512 and PS256/384/512;
//!   StockEdge signs ES256 only (the `p256` crate; deterministic RFC 6979 nonces, so no random
//!   source is needed in the Worker).
//! - The answer: `{"access_token","expires_in":"3600","token_type":"bearer"}` — `expires_in` is
//!   text in NetSuite's examples, a number is read as well.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::sync::http::form_urlencoded;
use crate::sync::oauth::{cache_key, AccessToken};
use crate::sync::{HttpRequest, HttpResponse, Method};
use crate::time::Millis;

/// The token endpoint, on the account's host.
pub const TOKEN_PATH: &str = "/services/rest/auth/oauth2/v1/token";
/// `client_assertion_type` of a JWT assertion (RFC 7523).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The scope asked: REST web services (SuiteQL and records).
pub const SCOPE: &str = "rest_webservices";
/// How long an assertion is valid (NetSuite refuses more than 60 minutes; it is used at once).
pub const ASSERTION_LIFETIME_SECONDS: i64 = 300;

/// The credentials secret: `{"client_id", "certificate_id", "private_key"}` — the private key as
/// PEM, PKCS #8 (`BEGIN PRIVATE KEY`, what `openssl req -newkey ec` writes) or SEC1
/// (`BEGIN EC PRIVATE KEY`), on curve P-256.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub client_id: String,
    pub certificate_id: String,
    key: SigningKey,
}

#[derive(Deserialize)]
struct Secret {
    client_id: String,
    certificate_id: String,
    private_key: String,
}

impl Credentials {
    /// Reads the secret; the reason never quotes the key.
    pub fn parse(secret: &str) -> Result<Credentials, String> {
        let s: Secret = serde_json::from_str(secret)
            .map_err(|e| format!("not {{\"client_id\",\"certificate_id\",\"private_key\"}}: {e}"))?;
        if s.client_id.is_empty() || s.certificate_id.is_empty() {
            return Err("client_id and certificate_id must not be empty".into());
        }
        let key = SigningKey::from_pkcs8_pem(&s.private_key)
            .or_else(|_| p256::SecretKey::from_sec1_pem(&s.private_key).map(SigningKey::from))
            .map_err(|_| "private_key is not a P-256 private key in PEM (PKCS #8 or SEC1)".to_owned())?;
        Ok(Credentials { client_id: s.client_id, certificate_id: s.certificate_id, key })
    }

    /// The signed JWT assertion for the token endpoint at `audience`, issued at `now`.
    pub fn assertion(&self, audience: &str, now: Millis) -> String {
        let iat = now.0.div_euclid(1000);
        let header = json!({ "typ": "JWT", "alg": "ES256", "kid": self.certificate_id });
        let claims = json!({
            "iss": self.client_id,
            "scope": [SCOPE],
            "aud": audience,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME_SECONDS,
        });
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// The token request to the account at `base_url` (the JWT's audience is its token URL).
    pub fn token_request(&self, base_url: &str, now: Millis) -> HttpRequest {
        let assertion = self.assertion(&format!("{base_url}{TOKEN_PATH}"), now);
        let body = form_urlencoded(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ]);
        HttpRequest::new(Method::Post, TOKEN_PATH)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body)
    }

    /// Names the tokens these credentials get from the account at `base_url` (a digest over the
    /// public key, never the private one): rotated credentials, a new key included, name other
    /// tokens.
    pub fn cache_key(&self, base_url: &str) -> String {
        let public = hex::encode(self.key.verifying_key().to_encoded_point(true).as_bytes());
        cache_key("netsuite", &[base_url, &self.client_id, &self.certificate_id, &public])
    }
}

/// The token endpoint's answer read: the access token and its lifetime, or why there is none
/// (`{"error", "error_description"}` on a refusal, RFC 6749 §5.2).
pub fn read_token(resp: &HttpResponse) -> Result<AccessToken, String> {
    let body = resp.json();
    if !resp.is_success() {
        let field = |k: &str| body.as_ref().and_then(|b| b.get(k)).and_then(Value::as_str).unwrap_or("").to_owned();
        return Err(format!(
            "NetSuite token refused ({}): {} {}",
            resp.status,
            field("error"),
            field("error_description")
        ));
    }
    let body = body.ok_or("NetSuite token answer is not JSON")?;
    let access_token = body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty());
    let expires_in = super::number(body.get("expires_in")).filter(|s| *s >= 1.0);
    match (access_token, expires_in) {
        (Some(token), Some(seconds)) => Ok(AccessToken {
            access_token: token.to_owned(),
            token_type: body.get("token_type").and_then(Value::as_str).unwrap_or("bearer").to_owned(),
            expires_in: seconds as i64,
        }),
        _ => Err("NetSuite token answer without access_token and expires_in".into()),
    }
}

/// `Authorization` for a call with `token`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;

    /// A throwaway P-256 key (PKCS #8), made for these tests only.
    const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgLziiaC/DADfqsff1\nFyXmwCOdWcmo6NmIiBhFqMtHurahRANCAAQWOhwV/RZhQWfKd7cp+XyJZrMMMtF2\nNZ5dUL4XhhzlozdVXj5z+BW9q95xubtcZDbV1iJ/N6iAG2S+mieFXi08\n-----END PRIVATE KEY-----\n";

    fn credentials() -> Credentials {
        let secret = json!({ "client_id": "c1ient", "certificate_id": "cert-1", "private_key": TEST_KEY });
        Credentials::parse(&secret.to_string()).expect("credentials")
    }

    fn part(jwt: &str, i: usize) -> Value {
        let bytes = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(i).expect("part")).expect("base64url");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[test]
    fn the_assertion_is_an_es256_jwt_naming_the_certificate() {
        let c = credentials();
        let jwt = c.assertion(
            "https://123.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token",
            Millis(1_796_558_400_500),
        );
        assert_eq!(part(&jwt, 0), json!({"typ":"JWT","alg":"ES256","kid":"cert-1"}));
        assert_eq!(
            part(&jwt, 1),
            json!({"iss":"c1ient","scope":["rest_webservices"],
                   "aud":"https://123.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token",
                   "iat":1_796_558_400,"exp":1_796_558_700})
        );
        let (input, sig) = jwt.rsplit_once('.').expect("signed");
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).expect("b64")).expect("r||s");
        let public = VerifyingKey::from(&c.key);
        assert!(public.verify(input.as_bytes(), &sig).is_ok());
        assert!(public.verify(b"tampered", &sig).is_err());
    }

    #[test]
    fn the_token_request_is_a_client_credentials_form() {
        let req = credentials().token_request("https://123.suitetalk.api.netsuite.com", Millis(0));
        assert_eq!(req.path, TOKEN_PATH);
        assert_eq!(req.header_value("content-type"), Some("application/x-www-form-urlencoded"));
        let pairs: Vec<(&str, &str)> = req.body.split('&').filter_map(|p| p.split_once('=')).collect();
        assert_eq!(pairs[0], ("grant_type", "client_credentials"));
        assert_eq!(
            pairs[1],
            ("client_assertion_type", "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer")
        );
        assert_eq!(pairs[2].0, "client_assertion");
        assert_eq!(pairs[2].1.split('.').count(), 3);
    }

    #[test]
    fn secrets_are_checked_without_quoting_the_key() {
        assert!(Credentials::parse("nope").is_err());
        let bad = json!({ "client_id": "c", "certificate_id": "k", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" });
        let why = Credentials::parse(&bad.to_string()).expect_err("bad key");
        assert!(!why.contains("AAAA"), "{why}");
        let empty = json!({ "client_id": "", "certificate_id": "k", "private_key": TEST_KEY });
        assert!(Credentials::parse(&empty.to_string()).is_err());
        let a = credentials().cache_key("https://a");
        assert!(a.starts_with("netsuite:") && a != credentials().cache_key("https://b"));
        assert_eq!(a, credentials().cache_key("https://a"));
        let other_key = SigningKey::from_slice(&[7u8; 32]).expect("scalar");
        let rotated = Credentials { key: other_key, ..credentials() };
        assert_ne!(a, rotated.cache_key("https://a"), "another key, other tokens");
    }

    #[test]
    fn token_answers_with_text_or_number_lifetimes() {
        let ok = HttpResponse::new(200, r#"{"access_token":"eyJ.x.y","expires_in":"3600","token_type":"bearer"}"#);
        assert_eq!(read_token(&ok).map(|t| (t.access_token, t.expires_in)), Ok(("eyJ.x.y".into(), 3600)));
        let n = HttpResponse::new(200, r#"{"access_token":"t","expires_in":60}"#);
        assert_eq!(read_token(&n).map(|t| t.expires_in), Ok(60));
        let refused = HttpResponse::new(400, r#"{"error":"invalid_grant"}"#);
        assert!(read_token(&refused).expect_err("refused").contains("invalid_grant"));
        assert!(read_token(&HttpResponse::new(200, r#"{"access_token":"t"}"#)).is_err());
        assert!(read_token(&HttpResponse::new(200, "<html>")).is_err());
        assert_eq!(bearer("t"), "Bearer t");
    }
}
