//! Calls between the Worker and its Durable Objects: a JSON body in, an [`Answer`] (status and
//! JSON body in the public format) out.

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Env, Error, Method, Request, RequestInit, Response, Result};

use crate::api::sku_call::Answer;
use crate::api::{Kind, Problem};

use super::http;

/// Sends `body` to the object named `name` in namespace `binding` and reads its answer.
pub async fn call(env: &Env, binding: &str, name: &str, body: &impl Serialize) -> Result<Answer> {
    let stub = env.durable_object(binding)?.id_from_name(name)?.get_stub()?;
    let text = serde_json::to_string(body).map_err(|e| Error::RustError(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(text.into()));
    let mut resp = stub.fetch_with_request(Request::new_with_init("https://object/call", &init)?).await?;
    let status = resp.status_code();
    Ok(Answer { status, body: resp.json().await? })
}

/// Reads an object's incoming call; a body that is not a `T` is answered as an internal problem.
pub async fn read<T: DeserializeOwned>(req: &mut Request) -> std::result::Result<T, Result<Response>> {
    req.json::<T>().await.map_err(|e| http::problem(&Problem::new(Kind::Internal, format!("bad internal call: {e}"))))
}
