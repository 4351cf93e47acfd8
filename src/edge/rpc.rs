//! Typed calls between the Worker and its Durable Objects. The caller sends a request enum and
//! reads a reply enum ([`call`]); the object reads the request and answers the reply
//! ([`serve`]). Both are JSON over the stub's `fetch`, status 200 for a reply. Whatever is not a
//! reply becomes a typed [`ObjectError`]: the call failing in the runtime (the object threw,
//! was reset or overloaded) is `Unreachable`; an answer that is not the reply type (version skew,
//! a bug) is `OutOfContract`.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Env, Method, Request, RequestInit, Response};

use crate::fault::ObjectError;

/// The status an object answers a call it cannot read with.
const OUT_OF_CONTRACT: u16 = 400;

/// Sends `req` to the object named `name` in namespace `binding` and reads its reply.
pub async fn call<Req: Serialize, Reply: DeserializeOwned>(
    env: &Env,
    binding: &'static str,
    name: &str,
    req: &Req,
) -> Result<Reply, ObjectError> {
    let unreachable = |e: worker::Error| ObjectError::Unreachable { class: binding, detail: e.to_string() };
    let out_of_contract = |detail: String| ObjectError::OutOfContract { class: binding, detail };
    let text = serde_json::to_string(req).map_err(|e| out_of_contract(e.to_string()))?;
    let namespace = env.durable_object(binding).map_err(unreachable)?;
    let stub = namespace.id_from_name(name).and_then(|id| id.get_stub()).map_err(unreachable)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(text.into()));
    let request = Request::new_with_init("https://object/call", &init).map_err(unreachable)?;
    let mut resp = stub.fetch_with_request(request).await.map_err(unreachable)?;
    let status = resp.status_code();
    let body = resp.text().await.map_err(unreachable)?;
    if status != 200 {
        return Err(out_of_contract(format!("answered {status}: {body}")));
    }
    serde_json::from_str(&body).map_err(|e| out_of_contract(format!("{e}: {body}")))
}

/// Answers one incoming call of an object of `class`: reads the request, runs `answer`, and
/// sends its reply. A request that is not a `Req` is answered out of contract; an `answer` that
/// fails (its storage failed) throws, which the caller sees as `Unreachable`.
pub async fn serve<Req, Reply, F, Fut>(mut req: Request, class: &'static str, answer: F) -> worker::Result<Response>
where
    Req: DeserializeOwned,
    Reply: Serialize,
    F: FnOnce(Req) -> Fut,
    Fut: Future<Output = worker::Result<Reply>>,
{
    let call: Req = match req.json().await {
        Ok(c) => c,
        Err(e) => {
            let refusal = ObjectError::OutOfContract { class, detail: format!("unreadable call: {e}") };
            return Response::error(refusal.to_string(), OUT_OF_CONTRACT);
        }
    };
    Response::from_json(&answer(call).await?)
}

/// A row an object stored that no longer decodes: the object's storage is corrupt. The one
/// place where an object's own failure becomes a `worker` error (the Durable Object interface
/// takes no other), which its caller sees as `Unreachable`.
pub fn corrupt(e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(format!("corrupt row: {e}"))
}
