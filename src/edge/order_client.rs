//! Calling order desks from the Worker and from cart coordinators.

use worker::{Env, Method, Request, RequestInit, Result};

use crate::api::order_call::{book_name, OrderCall};
use crate::api::sku_call::Answer;

/// The Durable Object namespace binding of the order desks (wrangler.toml).
pub const BINDING: &str = "ORDER_DESK";

pub async fn call(env: &Env, call: &OrderCall) -> Result<Answer> {
    let stub = env.durable_object(BINDING)?.id_from_name(&book_name(&call.order))?.get_stub()?;
    let body = serde_json::to_string(call).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let mut resp = stub.fetch_with_request(Request::new_with_init("https://order-desk/call", &init)?).await?;
    Ok(Answer { status: resp.status_code(), body: resp.json().await? })
}
