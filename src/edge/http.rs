//! Translating core answers to `worker` responses.

use serde::Serialize;
use worker::{Headers, Response, Result};

use crate::api::sku_call::Answer;
use crate::api::Problem;

fn with_type(mut r: Response, content_type: &str) -> Result<Response> {
    let h: &mut Headers = r.headers_mut();
    h.set("content-type", content_type)?;
    h.set("cache-control", "no-store")?;
    Ok(r)
}

/// A JSON body with `status`.
pub fn json(status: u16, body: &impl Serialize) -> Result<Response> {
    let text = serde_json::to_string(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    raw_json(status, text)
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
    if p.status() == 401 {
        r.headers_mut().set("www-authenticate", "Bearer realm=\"stockedge\"")?;
    }
    Ok(r)
}

pub fn answer(a: &Answer) -> Result<Response> {
    raw_json(a.status, a.body.to_string())
}

pub fn text(status: u16, body: String, content_type: &str) -> Result<Response> {
    with_type(Response::ok(body)?.with_status(status), content_type)
}
