//! The access decision for one request: the bearer header, the keyring and what the route needs
//! give the caller's credential or the problem to answer with (401 or 403).

use super::keyring::{Credential, Keyring};
use super::roles::Need;
use crate::api::{Kind, Problem};

/// The token of an `Authorization: Bearer <token>` header, if the header has that form.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let h = header?;
    let (scheme, rest) = h.split_once(' ')?;
    // The scheme is case-insensitive (RFC 9110 §11.1).
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim()).filter(|t| !t.is_empty())
}

/// Who the caller is, for a route that needs a token: `401` without a valid token, `403` when
/// the token's role may not call the route. Public routes answer `Ok(None)` whatever is sent.
pub fn authorize(header: Option<&str>, keys: &Keyring, need: Need) -> Result<Option<Credential>, Problem> {
    if need == Need::Public {
        return Ok(None);
    }
    let cred = authenticate(header, keys)?;
    if need.admits(cred.role) {
        return Ok(Some(cred));
    }
    let roles: Vec<&str> = need.roles().iter().map(|r| r.name()).collect();
    Err(Problem::new(
        Kind::Forbidden,
        format!("a {} token may not do this; it needs: {}", cred.role.name(), roles.join(" or ")),
    )
    .with("role", cred.role.name())
    .with("required_roles", roles))
}

/// The credential a valid token proves, whatever its role; `401` otherwise.
pub fn authenticate(header: Option<&str>, keys: &Keyring) -> Result<Credential, Problem> {
    let Some(token) = bearer(header) else {
        return Err(Problem::new(Kind::Unauthorized, "send Authorization: Bearer <token>"));
    };
    keys.identify(token).ok_or_else(|| Problem::new(Kind::Unauthorized, "the token is not valid"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::roles::Role;
    use crate::access::Slot;

    fn keys() -> Keyring {
        Keyring::load(|n| match n {
            "STOREFRONT_TOKEN" => Some("sf".into()),
            "OPERATOR_TOKEN" => Some("op".into()),
            "ADMIN_TOKEN" => Some("ad".into()),
            "ADMIN_TOKEN_NEXT" => Some("ad-next".into()),
            _ => None,
        })
    }

    fn kind(r: Result<Option<Credential>, Problem>) -> Result<Option<Role>, Kind> {
        r.map(|c| c.map(|c| c.role)).map_err(|p| p.kind)
    }

    #[test]
    fn bearer_header_forms() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        for bad in [None, Some(""), Some("Bearer"), Some("Bearer "), Some("Basic abc"), Some("Bearerabc")] {
            assert_eq!(bearer(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn roles_against_needs() {
        let k = keys();
        assert_eq!(kind(authorize(None, &k, Need::Public)), Ok(None));
        assert_eq!(kind(authorize(Some("Bearer nope"), &k, Need::Public)), Ok(None));
        assert_eq!(kind(authorize(None, &k, Need::Read)), Err(Kind::Unauthorized));
        assert_eq!(kind(authorize(Some("Bearer nope"), &k, Need::Storefront)), Err(Kind::Unauthorized));
        assert_eq!(kind(authorize(Some("Bearer sf"), &k, Need::Storefront)), Ok(Some(Role::Storefront)));
        assert_eq!(kind(authorize(Some("Bearer sf"), &k, Need::Read)), Err(Kind::Forbidden));
        assert_eq!(kind(authorize(Some("Bearer op"), &k, Need::Read)), Ok(Some(Role::Operator)));
        assert_eq!(kind(authorize(Some("Bearer op"), &k, Need::StorefrontOrRead)), Ok(Some(Role::Operator)));
        assert_eq!(kind(authorize(Some("Bearer op"), &k, Need::Admin)), Err(Kind::Forbidden));
        assert_eq!(kind(authorize(Some("Bearer op"), &k, Need::Storefront)), Err(Kind::Forbidden));
        assert_eq!(kind(authorize(Some("Bearer ad"), &k, Need::Admin)), Ok(Some(Role::Admin)));
        assert_eq!(kind(authorize(Some("Bearer ad"), &k, Need::Storefront)), Ok(Some(Role::Admin)));
    }

    #[test]
    fn the_next_token_is_accepted_alongside_the_current_one() {
        let got = authorize(Some("Bearer ad-next"), &keys(), Need::Admin).expect("accepted");
        assert_eq!(got, Some(Credential { role: Role::Admin, slot: Slot::Next }));
    }

    #[test]
    fn forbidden_names_the_roles_and_never_the_token() {
        let p = authorize(Some("Bearer op"), &keys(), Need::Admin).expect_err("forbidden");
        assert_eq!(p.extra["required_roles"], serde_json::json!(["admin"]));
        assert_eq!(p.extra["role"], serde_json::json!("operator"));
        assert!(!p.to_json().to_string().contains("\"op\""));
    }
}
