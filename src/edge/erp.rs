//! `POST /v1/erp/snapshots`: each validated line goes to its SKU's ledger as one
//! `Command::ErpSnapshot` (decided there by `erp::decide`); the answer lists what each line did.
//! Lines are independent: one refused leaves the others applied. A repeat of the same snapshot
//! answers `stale` for every line (and, under the same Idempotency-Key, the first answer).

use worker::{Env, Response};

use crate::api::erp_snapshots::{item, SnapshotRequest};
use crate::api::sku_call::{SkuAction, SkuCall};
use crate::fault::Fault;
use crate::stock::Command;

use super::{availability_cache, http, sku_client};

pub async fn apply(env: &Env, request: SnapshotRequest) -> std::result::Result<Response, Fault> {
    let mut items = Vec::with_capacity(request.lines.len());
    for (sku, line) in request.lines {
        let location = line.location.clone();
        let commands = vec![Command::ErpSnapshot { line: Box::new(line) }];
        let sent_at = super::clock::now();
        let call = SkuCall { sku: sku.clone(), action: SkuAction::Apply { commands }, idempotency: None };
        let reply = sku_client::call(env, &call).await?;
        availability_cache::after_sku(env, &reply, sent_at).await; // Hook (availability cache)
        match reply.reply() {
            Some(result) => items.push(item(&sku, &location, &result)),
            None => {
                return Err(Fault::Object(crate::fault::ObjectError::OutOfContract {
                    class: "SkuLedger",
                    detail: "a key verdict to an unkeyed call".into(),
                }))
            }
        }
    }
    Ok(http::json(200, &serde_json::json!({ "snapshot": request.snapshot, "items": items }))?)
}
