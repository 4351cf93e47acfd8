//! CORS in the shell: the configured origins (`CORS_ALLOWED_ORIGINS`) and the headers
//! `access::cors` decides, put on the answer.

use std::cell::OnceCell;
use std::rc::Rc;

use worker::{Env, Response, Result};

use crate::access::cors::{self, AllowedOrigins, Headers};

thread_local! {
    /// The allowed origins, parsed once per isolate (its vars never change).
    static ORIGINS: OnceCell<Rc<AllowedOrigins>> = const { OnceCell::new() };
}

/// The origins allowed by `CORS_ALLOWED_ORIGINS` (entries that are not origins never match).
fn origins(env: &Env) -> Rc<AllowedOrigins> {
    ORIGINS.with(|o| {
        Rc::clone(o.get_or_init(|| {
            let list = env.var("CORS_ALLOWED_ORIGINS").map(|v| v.to_string()).unwrap_or_default();
            Rc::new(AllowedOrigins::parse(&list).0)
        }))
    })
}

/// The answer to a preflight: `204`, with CORS headers for an allowed origin only.
pub fn preflight(env: &Env, origin: Option<&str>) -> Result<Response> {
    let resp = Response::empty()?.with_status(204);
    Ok(with(resp, cors::preflight(&origins(env), origin)))
}

/// `resp` with `Vary: Origin` and, for an allowed origin, the CORS headers of an actual answer.
pub fn actual(env: &Env, origin: Option<&str>, resp: Response) -> Response {
    with(resp, cors::actual(&origins(env), origin))
}

fn with(mut resp: Response, headers: Headers) -> Response {
    let h = resp.headers_mut();
    for (name, value) in headers {
        // A response whose headers are immutable (passed through from a fetch) keeps its own.
        let _ = if name == "vary" { h.append(name, &value) } else { h.set(name, &value) };
    }
    resp
}
