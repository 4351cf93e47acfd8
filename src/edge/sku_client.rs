//! Calling SKU ledger objects from the Worker and from cart coordinators.

use worker::Env;

use crate::api::sku_call::{hold_reply, SkuAction, SkuCall, SkuReplyKeyed, SkuResult};
use crate::cart::{SkuPort, SkuReply};
use crate::fault::ObjectError;
use crate::stock::{Command, Sku};

/// The Durable Object namespace binding of the SKU ledgers (wrangler.toml).
pub const BINDING: &str = "SKU_LEDGER";

/// Sends `call` to the SKU's object and returns its reply.
pub async fn call(env: &Env, call: &SkuCall) -> Result<SkuReplyKeyed, ObjectError> {
    super::rpc::call(env, BINDING, call.sku.as_str(), call).await
}

/// Sends `action` without an Idempotency-Key and returns the ledger's reply.
pub async fn ask(env: &Env, sku: &Sku, action: SkuAction) -> Result<SkuResult, ObjectError> {
    let reply = call(env, &SkuCall { sku: sku.clone(), action, idempotency: None }).await?;
    reply
        .reply()
        .ok_or(ObjectError::OutOfContract { class: BINDING, detail: "a key verdict to an unkeyed call".into() })
}

/// [`SkuPort`] over Durable Object stubs.
pub struct StubPort<'a> {
    pub env: &'a Env,
}

impl SkuPort for StubPort<'_> {
    async fn send(&self, sku: &Sku, cmd: Command) -> SkuReply {
        match ask(self.env, sku, SkuAction::Apply { commands: vec![cmd] }).await {
            Ok(r) => hold_reply(r),
            Err(e) => SkuReply::Unavailable(e.to_string()),
        }
    }
}
