//! Calling SKU ledger objects from the Worker and from cart coordinators.

use worker::{Env, Result};

use crate::api::sku_call::{Answer, SkuAction, SkuCall};
use crate::cart::{SkuPort, SkuReply};
use crate::stock::{Command, HoldStatus, Location, Sku};

/// The Durable Object namespace binding of the SKU ledgers (wrangler.toml).
pub const BINDING: &str = "SKU_LEDGER";

/// Sends `call` to the SKU's object and returns its answer.
pub async fn call(env: &Env, call: &SkuCall) -> Result<Answer> {
    super::rpc::call(env, BINDING, call.sku.as_str(), call).await
}

/// What a coordinator makes of a SKU's answer.
pub fn reply_of(a: &Answer) -> SkuReply {
    let kind = a.body.get("type").and_then(|t| t.as_str()).unwrap_or("");
    match (a.status, kind) {
        (200, _) => SkuReply::Done,
        (409, "/problems/insufficient-stock") => {
            let line = &a.body["lines"][0];
            SkuReply::Short {
                location: line["location"].as_str().and_then(|l| Location::parse(l).ok()).unwrap_or_default(),
                requested: line["requested"].as_i64().unwrap_or(0),
                available: line["available"].as_i64().unwrap_or(0),
            }
        }
        (409, "/problems/reservation-not-held") => SkuReply::NotHeld(match a.body["reservation_status"].as_str() {
            Some("committed") => Some(HoldStatus::Committed),
            Some("released") => Some(HoldStatus::Released),
            Some("expired") => Some(HoldStatus::Expired),
            _ => None,
        }),
        (404, "/problems/reservation-not-found") => SkuReply::NotHeld(None),
        (409, "/problems/reservation-conflict") => SkuReply::NotHeld(None),
        _ => SkuReply::Unavailable(format!("SKU answered {}: {}", a.status, a.body)),
    }
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
