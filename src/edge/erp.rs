//! `POST /v1/erp/snapshots`: each validated line goes to its SKU's ledger as one
//! `Command::ErpSnapshot` (decided there by `erp::decide`), at most [`FAN_OUT`] in flight; the
//! answer lists what each line did, in the request's order. Lines are independent: one refused
//! leaves the others applied. A repeat of the same snapshot answers `stale` for every line (and,
//! under the same Idempotency-Key, the first answer byte for byte).

use futures::future::join_all;
use serde_json::Value;
use worker::{Env, Response};

use crate::api::erp_snapshots::{item, SnapshotRequest};
use crate::api::sku_call::{SkuAction, SkuCall, SkuReplyKeyed};
use crate::erp::SnapshotLine;
use crate::fault::{Fault, ObjectError};
use crate::stock::{Command, Sku};

use super::limits::FAN_OUT;
use super::{availability_cache, http, sku_client};

/// One line's call, with the availability cache told of its answer.
async fn send(env: &Env, call: &SkuCall) -> Result<SkuReplyKeyed, Fault> {
    let sent_at = super::clock::now();
    let reply = sku_client::call(env, call).await?;
    availability_cache::after_sku(env, &reply, sent_at).await; // Hook (availability cache)
    Ok(reply)
}

pub async fn apply(env: &Env, request: SnapshotRequest) -> Result<Response, Fault> {
    let items = apply_lines(env, request.lines).await?;
    Ok(http::json(200, &serde_json::json!({ "snapshot": request.snapshot, "items": items }))?)
}

/// Sends each line to its SKU's ledger (at most [`FAN_OUT`] at a time) and answers what each
/// did, in order. Also the path of the ERP connectors' polls (`erp_poll.rs`).
pub async fn apply_lines(env: &Env, lines: Vec<(Sku, SnapshotLine)>) -> Result<Vec<Value>, Fault> {
    let calls: Vec<SkuCall> = lines
        .into_iter()
        .map(|(sku, line)| SkuCall {
            sku,
            action: SkuAction::Apply { commands: vec![Command::ErpSnapshot { line: Box::new(line) }] },
            idempotency: None,
        })
        .collect();
    let mut items = Vec::with_capacity(calls.len());
    for chunk in calls.chunks(FAN_OUT) {
        for (call, reply) in chunk.iter().zip(join_all(chunk.iter().map(|c| send(env, c))).await) {
            let SkuAction::Apply { commands } = &call.action else { continue };
            let Some(Command::ErpSnapshot { line }) = commands.first() else { continue };
            let Some(result) = reply?.reply() else {
                let detail = "a key verdict to an unkeyed call".into();
                return Err(ObjectError::OutOfContract { class: sku_client::BINDING, detail }.into());
            };
            items.push(item(&call.sku, &line.location, &result));
        }
    }
    Ok(items)
}
