//! Bearer tokens (docs/security.md): the keyring read from the Worker's secrets, and the
//! decision of `access::authorize` for one request. Token values never leave this module except
//! inside the keyring, whose `Debug` names credentials only.

use std::cell::OnceCell;
use std::rc::Rc;

use worker::{Env, Request};

use crate::access::authorize;
use crate::access::{Credential, Keyring, Need};
use crate::api::Problem;

thread_local! {
    /// The keyring, read once per isolate: an isolate's secrets never change (a new value is a
    /// new deployment, hence new isolates), so re-reading six secrets per request bought nothing.
    static KEYRING: OnceCell<Rc<Keyring>> = const { OnceCell::new() };
}

/// The configured tokens: each role's `<ROLE>_TOKEN` and, during a rotation, `<ROLE>_TOKEN_NEXT`.
fn keyring(env: &Env) -> Rc<Keyring> {
    KEYRING.with(|k| {
        Rc::clone(k.get_or_init(|| Rc::new(Keyring::load(|name| super::secrets::read(env, Some(name)).ok()))))
    })
}

fn header(req: &Request) -> Option<String> {
    req.headers().get("authorization").ok().flatten()
}

/// The caller's credential when the route needs one (`None` for public routes); `401`/`403`.
pub fn authorize(req: &Request, env: &Env, need: Need) -> Result<Option<Credential>, Problem> {
    if need == Need::Public {
        return Ok(None);
    }
    authorize::authorize(header(req).as_deref(), &keyring(env), need)
}

/// The caller's credential whatever the route, or `401`.
pub fn authenticate(req: &Request, env: &Env) -> Result<Credential, Problem> {
    authorize::authenticate(header(req).as_deref(), &keyring(env))
}
