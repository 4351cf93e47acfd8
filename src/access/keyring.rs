//! The bearer tokens a deployment accepts: per role a current token and, while one is being
//! rotated, the next one. Presented tokens are compared in constant time against every
//! configured token (no early exit), so timing tells nothing about which or how much matched.

use subtle::{Choice, ConstantTimeEq};

use super::roles::Role;

/// Which of a role's two tokens matched: rotation puts the new value in `Next`, moves clients
/// over, then makes it `Current` and empties `Next` (docs/security.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    Current,
    Next,
}

/// Who a valid token says the caller is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Credential {
    pub role: Role,
    pub slot: Slot,
}

impl Credential {
    /// The Worker secret (or `.dev.vars` entry) holding this credential's token.
    pub fn secret_name(self) -> &'static str {
        self.names().0
    }

    /// A name for the credential that says nothing of its value (rate-limit keys, logs).
    pub fn label(self) -> &'static str {
        self.names().1
    }

    /// The secret's name and the label, side by side so that the two never drift apart.
    fn names(self) -> (&'static str, &'static str) {
        match (self.role, self.slot) {
            (Role::Storefront, Slot::Current) => ("STOREFRONT_TOKEN", "storefront"),
            (Role::Storefront, Slot::Next) => ("STOREFRONT_TOKEN_NEXT", "storefront-next"),
            (Role::Operator, Slot::Current) => ("OPERATOR_TOKEN", "operator"),
            (Role::Operator, Slot::Next) => ("OPERATOR_TOKEN_NEXT", "operator-next"),
            (Role::Admin, Slot::Current) => ("ADMIN_TOKEN", "admin"),
            (Role::Admin, Slot::Next) => ("ADMIN_TOKEN_NEXT", "admin-next"),
        }
    }

    /// Every credential a deployment may configure, in the order they are read.
    pub const ALL: [Credential; 6] = [
        Credential { role: Role::Storefront, slot: Slot::Current },
        Credential { role: Role::Storefront, slot: Slot::Next },
        Credential { role: Role::Operator, slot: Slot::Current },
        Credential { role: Role::Operator, slot: Slot::Next },
        Credential { role: Role::Admin, slot: Slot::Current },
        Credential { role: Role::Admin, slot: Slot::Next },
    ];
}

/// The configured tokens. Unset or empty secrets configure nothing.
#[derive(Default)]
pub struct Keyring {
    tokens: Vec<(Credential, Vec<u8>)>,
}

impl std::fmt::Debug for Keyring {
    // Never print a token value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let labels: Vec<&str> = self.tokens.iter().map(|(c, _)| c.label()).collect();
        f.debug_struct("Keyring").field("configured", &labels).finish()
    }
}

impl Keyring {
    /// Reads each credential's token with `secret` (by [`Credential::secret_name`]).
    pub fn load(mut secret: impl FnMut(&str) -> Option<String>) -> Keyring {
        let tokens = Credential::ALL
            .into_iter()
            .filter_map(|c| secret(c.secret_name()).filter(|v| !v.is_empty()).map(|v| (c, v.into_bytes())))
            .collect();
        Keyring { tokens }
    }

    /// The credential `token` proves, or `None`. Every configured token is compared, in
    /// constant time for equal lengths; a value configured for two different roles proves
    /// neither (a misconfiguration must not grant the larger role by accident).
    pub fn identify(&self, token: &str) -> Option<Credential> {
        let presented = token.as_bytes();
        let mut found: Option<Credential> = None;
        let mut ambiguous = false;
        for (cred, value) in &self.tokens {
            // Lengths are compared openly: a token's length is not secret.
            let hit: Choice = if value.len() == presented.len() { value.ct_eq(presented) } else { Choice::from(0) };
            if bool::from(hit) {
                match found {
                    Some(prev) if prev.role != cred.role => ambiguous = true,
                    Some(_) => {}
                    None => found = Some(*cred),
                }
            }
        }
        if ambiguous {
            None
        } else {
            found
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(pairs: &[(&str, &str)]) -> Keyring {
        Keyring::load(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn each_role_current_and_next_token_is_identified() {
        let k = ring(&[
            ("STOREFRONT_TOKEN", "sf"),
            ("OPERATOR_TOKEN", "op"),
            ("ADMIN_TOKEN", "ad"),
            ("ADMIN_TOKEN_NEXT", "ad2"),
        ]);
        assert_eq!(k.identify("sf"), Some(Credential { role: Role::Storefront, slot: Slot::Current }));
        assert_eq!(k.identify("op"), Some(Credential { role: Role::Operator, slot: Slot::Current }));
        assert_eq!(k.identify("ad"), Some(Credential { role: Role::Admin, slot: Slot::Current }));
        assert_eq!(k.identify("ad2"), Some(Credential { role: Role::Admin, slot: Slot::Next }));
        for wrong in ["", "a", "ad ", "AD", "ad22", "sf\0"] {
            assert_eq!(k.identify(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn unset_and_empty_secrets_accept_nothing() {
        let k = ring(&[("ADMIN_TOKEN", ""), ("STOREFRONT_TOKEN_NEXT", "")]);
        assert_eq!(k.identify(""), None);
        assert_eq!(Keyring::default().identify("anything"), None);
    }

    #[test]
    fn a_value_shared_by_two_roles_proves_neither() {
        let k = ring(&[("OPERATOR_TOKEN", "same"), ("ADMIN_TOKEN", "same")]);
        assert_eq!(k.identify("same"), None);
        // The same value in both slots of one role is harmless (mid-rotation).
        let k = ring(&[("ADMIN_TOKEN", "same"), ("ADMIN_TOKEN_NEXT", "same")]);
        assert_eq!(k.identify("same").map(|c| c.role), Some(Role::Admin));
    }

    #[test]
    fn debug_output_names_credentials_not_values() {
        let k = ring(&[("ADMIN_TOKEN", "very-secret-value")]);
        let shown = format!("{k:?}");
        assert!(shown.contains("admin"));
        assert!(!shown.contains("very-secret-value"));
    }

    #[test]
    fn secret_names_and_labels_are_distinct() {
        let mut names: Vec<&str> = Credential::ALL.iter().map(|c| c.secret_name()).collect();
        let mut labels: Vec<&str> = Credential::ALL.iter().map(|c| c.label()).collect();
        names.sort_unstable();
        names.dedup();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!((names.len(), labels.len()), (6, 6));
    }
}
