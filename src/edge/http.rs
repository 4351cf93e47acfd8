//! Translating core answers to `worker` responses.

use serde::Serialize;
use worker::{Headers, Response, Result};

use crate::api::reply::{Body, HttpReply};
use crate::api::Problem;

/// The header that flags a replayed first answer to an Idempotency-Key (the body is the same
/// bytes as the first time).
pub const REPLAYED: &str = "idempotent-replayed";

fn with_type(mut r: Response, content_type: &str) -> Result<Response> {
    let h: &mut Headers = r.headers_mut();
    h.set("content-type", content_type)?;
    h.set("cache-control", "no-store")?;
    Ok(r)
}

/// A JSON body with `status`.
pub fn json(status: u16, body: &impl Serialize) -> Result<Response> {
    raw_json(status, serde_json::to_string(body)?)
}

/// An already-serialised JSON body; problem statuses get `application/problem+json`.
pub fn raw_json(status: u16, text: String) -> Result<Response> {
    let ct = if status >= 400 { "application/problem+json" } else { "application/json" };
    with_type(Response::ok(text)?.with_status(status), ct)
}

pub fn problem(p: &Problem) -> Result<Response> {
    let mut r = raw_json(p.status(), p.to_json().to_string())?;
    if let Some(allow) = p.extra.get("allow").and_then(|v| v.as_str()) {
        r.headers_mut().set("allow", allow)?;
    }
    if let Some(secs) = p.extra.get("retry_after").and_then(|v| v.as_u64()) {
        r.headers_mut().set("retry-after", &secs.to_string())?;
    }
    if p.status() == 401 {
        r.headers_mut().set("www-authenticate", "Bearer realm=\"stockedge\"")?;
    }
    Ok(r)
}

/// An answer rendered from an object's typed reply; a replay carries `Idempotent-Replayed: true`.
pub fn reply(r: &HttpReply) -> Result<Response> {
    let resp = match &r.body {
        Body::Json { status, body } => raw_json(*status, body.to_string())?,
        Body::Problem(p) => problem(p)?,
    };
    if r.replayed {
        return replayed(resp);
    }
    Ok(resp)
}

/// Flags `resp` as the replay of a recorded first answer.
pub fn replayed(mut resp: Response) -> Result<Response> {
    resp.headers_mut().set(REPLAYED, "true")?;
    Ok(resp)
}

pub fn text(status: u16, body: String, content_type: &str) -> Result<Response> {
    with_type(Response::ok(body)?.with_status(status), content_type)
}
