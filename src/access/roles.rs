//! Caller roles and what a route needs of its caller.

/// The role a bearer token proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// The storefront's token: availability and reservations.
    Storefront,
    /// The operator's read-only token: every read of the admin API, no change.
    Operator,
    /// The admin token: everything.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Storefront, Role::Operator, Role::Admin];

    /// The name used in problems, docs and the OpenAPI security schemes (`<name>Token`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Storefront => "storefront",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// What a route needs of its caller: no token, or a token of one of a set of roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// No bearer token (health, problem pages, the OpenAPI document; webhooks and EDI check the
    /// platform's or partner's own credentials instead).
    Public,
    /// Reservations: storefront or admin.
    Storefront,
    /// Reads a storefront and an operator may both make (availability, a reservation).
    StorefrontOrRead,
    /// Reads of the admin API: operator or admin.
    Read,
    /// Changes of the admin API: admin only.
    Admin,
}

impl Need {
    /// The roles whose token is accepted (empty for [`Need::Public`]: no token is needed).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Need::Public => &[],
            Need::Storefront => &[Role::Storefront, Role::Admin],
            Need::StorefrontOrRead => &[Role::Storefront, Role::Operator, Role::Admin],
            Need::Read => &[Role::Operator, Role::Admin],
            Need::Admin => &[Role::Admin],
        }
    }

    /// Whether a caller of `role` may call a route that needs `self`.
    pub fn admits(self, role: Role) -> bool {
        self == Need::Public || self.roles().contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_is_admitted_everywhere_and_operator_never_to_changes() {
        for need in [Need::Public, Need::Storefront, Need::StorefrontOrRead, Need::Read, Need::Admin] {
            assert!(need.admits(Role::Admin), "{need:?}");
        }
        assert!(!Need::Admin.admits(Role::Operator));
        assert!(!Need::Storefront.admits(Role::Operator));
        assert!(Need::Read.admits(Role::Operator));
        assert!(!Need::Read.admits(Role::Storefront));
        assert!(Need::StorefrontOrRead.admits(Role::Storefront));
        assert!(Need::Public.roles().is_empty());
    }
}
