//! Calling order desks from the Worker and from cart coordinators.

use worker::Env;

use crate::api::order_call::{book_name, OrderCall, OrderReply};
use crate::fault::ObjectError;

/// The Durable Object namespace binding of the order desks (wrangler.toml).
pub const BINDING: &str = "ORDER_DESK";

pub async fn call(env: &Env, call: &OrderCall) -> Result<OrderReply, ObjectError> {
    super::rpc::call(env, BINDING, &book_name(&call.order), call).await
}
