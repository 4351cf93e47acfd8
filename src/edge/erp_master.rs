//! Who may change on hand (issue 13 point 4): before `PUT /v1/skus/{sku}/stock` or
//! `POST /v1/skus/{sku}/adjustments` reaches the ledger, the connections mastering the location
//! decide (`erp::master::local_change`): refused with `409 erp-is-master`, or recorded in
//! `erp_adjustment_requests` for the ERP and answered `202`, or left to the ledger. This costs one
//! D1 read per stock write; D1 unreachable answers `503` (a refusal must not be skipped), D1
//! without its tables leaves the write to the ledger (there is no connection).
//!
//! A keyed repeat answers its first answer whatever the guard would say now: before refusing or
//! forwarding, the SKU's ledger is asked for the key's kept answer (`SkuAction::Recall`; one more
//! object call, only for keyed writes the guard stops), so a write applied before a connection
//! took the location over replays its `200`, and a reused key is still refused as such.

use serde_json::json;
use worker::{Env, Response};

use crate::api::idempotency::Keyed;
use crate::api::sku_call::{self, SkuAction, SkuAnswer, SkuCall};
use crate::api::{Kind, Problem};
use crate::erp::master::{local_change, AdjustmentRequest, LocalChange};
use crate::fault::{Fault, StoreError};

use super::clock::now;
use super::store::{self, erp as rows};
use super::{http, key_registry, sku_client};

/// `None` when the ledger may apply the change; else the answer to give instead.
pub async fn guard(
    env: &Env,
    idem: Option<&(String, String)>,
    sku: &crate::stock::Sku,
    request: impl FnOnce(crate::stock::Token) -> AdjustmentRequest,
    location: &crate::stock::Location,
) -> Result<Option<Response>, Fault> {
    let db = store::db(env)?;
    // Without the ERP tables (migrations not applied) no connection can master anything: a stock
    // write stays D1-free in effect, as it was before connections existed.
    let masters = match rows::masters(&db, location).await {
        Ok(m) => m,
        Err(StoreError::SchemaMissing { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let change = local_change(&masters);
    if change == LocalChange::Apply {
        return Ok(None);
    }
    if let Some(kept) = recall(env, idem, sku).await? {
        return Ok(Some(kept));
    }
    match change {
        LocalChange::Apply => Ok(None),
        LocalChange::Refuse { connection } => {
            let p = Problem::new(
                Kind::ErpIsMaster,
                format!("ERP connection {connection} masters location {location}: change the stock in the ERP"),
            )
            .with("connection", &connection)
            .with("location", location);
            Ok(Some(http::problem(&p)?))
        }
        LocalChange::Forward { connection } => {
            let r = request(connection);
            let answer = key_registry::keeping(env, idem, async {
                let id = rows::record_adjustment_request(&db, &r, now()).await?;
                let mut body = serde_json::to_value(&r).unwrap_or_default();
                body["id"] = json!(id);
                Ok(http::json(202, &json!({ "forwarded": body }))?)
            })
            .await?;
            Ok(Some(answer))
        }
    }
}

/// The answer the SKU's ledger kept for the request's Idempotency-Key, if it kept one (a replay,
/// flagged as such) or the key belongs to another request (`idempotency-key-reused`).
async fn recall(
    env: &Env,
    idem: Option<&(String, String)>,
    sku: &crate::stock::Sku,
) -> Result<Option<Response>, Fault> {
    let Some(idem) = idem else { return Ok(None) };
    let call = SkuCall { sku: sku.clone(), action: SkuAction::Recall, idempotency: Some(idem.clone()) };
    let reply = sku_client::call(env, &call).await?;
    if matches!(reply, Keyed::Answered(Ok(SkuAnswer::NotKept))) {
        return Ok(None);
    }
    Ok(Some(http::reply(&sku_call::render_keyed(reply))?))
}
