//! Calling SKU ledger objects from the Worker and from cart coordinators.

use worker::{Env, Result};

use crate::api::sku_call::{reply_of, Answer, SkuAction, SkuCall};
use crate::cart::{SkuPort, SkuReply};
use crate::stock::{Command, Sku};

/// The Durable Object namespace binding of the SKU ledgers (wrangler.toml).
pub const BINDING: &str = "SKU_LEDGER";

/// Sends `call` to the SKU's object and returns its answer.
pub async fn call(env: &Env, call: &SkuCall) -> Result<Answer> {
    super::rpc::call(env, BINDING, call.sku.as_str(), call).await
}

/// [`SkuPort`] over Durable Object stubs.
pub struct StubPort<'a> {
    pub env: &'a Env,
}

impl SkuPort for StubPort<'_> {
    async fn send(&self, sku: &Sku, cmd: Command) -> SkuReply {
        let c = SkuCall { sku: sku.clone(), action: SkuAction::Apply { commands: vec![cmd] }, idempotency: None };
        match call(self.env, &c).await {
            Ok(a) => reply_of(&a),
            Err(e) => SkuReply::Unavailable(e.to_string()),
        }
    }
}
