//! Calls to the sales platforms: a core `HttpRequest` sent to `base` + its path, answered as a
//! core `HttpResponse`, or the reason there was no answer (error or timeout).

use std::time::Duration;

use futures::future::{select, Either};
use wasm_bindgen::JsValue;
use worker::{Delay, Fetch, Headers, Request, RequestInit};

use crate::sync::{HttpRequest, HttpResponse};

/// Performs one platform call, giving up after `timeout`.
pub async fn send(base: &str, req: &HttpRequest, timeout: Duration) -> Result<HttpResponse, String> {
    let headers = Headers::new();
    for (k, v) in &req.headers {
        headers.set(k, v).map_err(|e| e.to_string())?;
    }
    let mut init = RequestInit::new();
    init.with_method(worker::Method::from(req.method.as_str().to_owned())).with_headers(headers);
    if !req.body.is_empty() {
        init.with_body(Some(JsValue::from_str(&req.body)));
    }
    let request = Request::new_with_init(&format!("{base}{}", req.path), &init).map_err(|e| e.to_string())?;
    let call = Fetch::Request(request);
    let fetch = Box::pin(call.send());
    let limit = Box::pin(Delay::from(timeout));
    let mut resp = match select(fetch, limit).await {
        Either::Left((r, _)) => r.map_err(|e| e.to_string())?,
        Either::Right(_) => return Err(format!("no answer within {} s", timeout.as_secs())),
    };
    let mut out = HttpResponse::new(resp.status_code(), resp.text().await.map_err(|e| e.to_string())?);
    for (k, v) in resp.headers().entries() {
        out = out.header(&k, v);
    }
    Ok(out)
}
