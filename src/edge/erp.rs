//! `POST /v1/erp/snapshots`: each validated line goes to its SKU's ledger as one
//! `Command::ErpSnapshot` (decided there by `erp::decide`), at most [`FAN_OUT`] in flight; the
//! answer lists what each line did, in the request's order. Lines are independent: one refused
//! leaves the others applied. A repeat of the same snapshot answers `stale` for every line (and,
//! under the same Idempotency-Key, the first answer byte for byte).

use futures::future::join_all;
use serde_json::Value;
use worker::{Env, Response};

use crate::api::erp_snapshots::{item, SnapshotRequest};
use crate::api::sku_call::{SkuAction, SkuCall, SkuReplyKeyed, SkuResult};
use crate::erp::SnapshotLine;
use crate::fault::{Fault, ObjectError};
use crate::stock::{Command, Location, Sku};

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
    let items: Vec<Value> =
        apply_lines(env, request.lines).await?.iter().map(|r| item(&r.sku, &r.location, &r.result)).collect();
    Ok(http::json(200, &serde_json::json!({ "snapshot": request.snapshot, "items": items }))?)
}

/// What one line's ledger answered.
pub struct LineResult {
    pub sku: Sku,
    pub location: Location,
    pub result: SkuResult,
}

/// Sends each line to its SKU's ledger (at most [`FAN_OUT`] at a time) and answers what each
/// did, in order. Also the path of the ERP connectors' polls (`erp_poll.rs`).
pub async fn apply_lines(env: &Env, lines: Vec<(Sku, SnapshotLine)>) -> Result<Vec<LineResult>, Fault> {
    let calls: Vec<(Location, SkuCall)> = lines
        .into_iter()
        .map(|(sku, line)| {
            let location = line.location.clone();
            let action = SkuAction::Apply { commands: vec![Command::ErpSnapshot { line: Box::new(line) }] };
            (location, SkuCall { sku, action, idempotency: None })
        })
        .collect();
    let mut out = Vec::with_capacity(calls.len());
    for chunk in calls.chunks(FAN_OUT) {
        let replies = join_all(chunk.iter().map(|(_, c)| send(env, c))).await;
        for ((location, call), reply) in chunk.iter().zip(replies) {
            let Some(result) = reply?.reply() else {
                let detail = "a key verdict to an unkeyed call".into();
                return Err(ObjectError::OutOfContract { class: sku_client::BINDING, detail }.into());
            };
            out.push(LineResult { sku: call.sku.clone(), location: location.clone(), result });
        }
    }
    Ok(out)
}
