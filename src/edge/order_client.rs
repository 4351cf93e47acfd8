//! Calling order desks from the Worker and from cart coordinators, allotments and SKU ledgers.

use worker::{console_warn, Env};

use crate::api::order_call::{book_name, OrderCall, OrderReply};
use crate::cart::registration::Delivery;
use crate::fault::ObjectError;

/// The Durable Object namespace binding of the order desks (wrangler.toml).
pub const BINDING: &str = "ORDER_DESK";

pub async fn call(env: &Env, call: &OrderCall) -> Result<OrderReply, ObjectError> {
    super::rpc::call(env, BINDING, &book_name(&call.order), call).await
}

/// Sends one registration a keeper owes (`cart::registration::Owed`) and answers how the desk
/// took it ([`Delivery::of`]); a refusal or an unreached desk is logged under `who`.
pub async fn register(env: &Env, who: &str, registration: &OrderCall) -> Delivery {
    let reply = call(env, registration).await;
    let delivery = Delivery::of(&reply);
    match (&delivery, &reply) {
        (Delivery::Refused(answer), _) => console_warn!("{who}: the order desk answered {answer}"),
        (Delivery::Unreached, Err(e)) => console_warn!("{who}: registration left for the alarm: {e}"),
        _ => {}
    }
    delivery
}
