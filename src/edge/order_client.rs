//! Calling order desks from the Worker and from cart coordinators.

use worker::{Env, Result};

use crate::api::order_call::{book_name, OrderCall};
use crate::api::sku_call::Answer;

/// The Durable Object namespace binding of the order desks (wrangler.toml).
pub const BINDING: &str = "ORDER_DESK";

pub async fn call(env: &Env, call: &OrderCall) -> Result<Answer> {
    super::rpc::call(env, BINDING, &book_name(&call.order), call).await
}
