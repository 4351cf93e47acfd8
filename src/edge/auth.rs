//! Bearer tokens and roles (docs/api.md): storefront or admin, compared in constant time.

use subtle::ConstantTimeEq;
use worker::{Env, Request};

use crate::api::routes::Role;
use crate::api::{Kind, Problem};

fn same(a: &str, b: &str) -> bool {
    // Equal lengths are required by ct_eq; length itself is not secret here.
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Checks that the request's token grants `need`.
pub fn authorize(req: &Request, env: &Env, need: Role) -> Result<(), Problem> {
    if need == Role::Public {
        return Ok(());
    }
    let header = req.headers().get("authorization").ok().flatten().unwrap_or_default();
    let Some(token) = header.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(Problem::new(Kind::Unauthorized, "send Authorization: Bearer <token>"));
    };
    let grants = |name: &str| super::secrets::read(env, Some(name)).is_ok_and(|s| same(token, &s));
    let admin = grants("ADMIN_TOKEN");
    let storefront = grants("STOREFRONT_TOKEN");
    match (need, admin, storefront) {
        (_, true, _) => Ok(()),
        (Role::Storefront, false, true) => Ok(()),
        (Role::Admin, false, true) => Err(Problem::new(Kind::Forbidden, "this needs the admin token")),
        _ => Err(Problem::new(Kind::Unauthorized, "the token is not valid")),
    }
}
