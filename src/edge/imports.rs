//! `POST /v1/imports` and `GET /v1/exports`: stock files in and out. Parsing, planning and
//! writing are `crate::import`; this reads the ledgers, sends one call per SKU batch, and keeps
//! the catalogue's product list in step so that exports know every imported SKU.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use serde_json::Value;
use worker::{Env, Response};

use crate::api::idempotency::fingerprint;
use crate::api::import_views::{export_rows, import_body, quantities};
use crate::api::sku_call::{SkuAction, SkuAnswer, SkuCall, SkuReplyKeyed};
use crate::api::views::SkuView;
use crate::fault::Fault;
use crate::import::attempt::{self, BatchAnswer};
use crate::import::{
    apply, jobs, plan_rows, write_export, Basis, Delimiter, Format, Mapping, Mode, Plan, ReadOptions, RowOutcome,
    StockReader,
};
use crate::stock::{Location, Sku};

use super::clock::now;
use super::limits::FAN_OUT;
use super::store::imports::Job;
use super::{http, sku_client, store};

/// Sends `calls` with at most [`FAN_OUT`] in flight; answers in order.
async fn call_all(env: &Env, calls: &[SkuCall]) -> Result<Vec<SkuReplyKeyed>, Fault> {
    let mut out = Vec::with_capacity(calls.len());
    for chunk in calls.chunks(FAN_OUT) {
        for a in join_all(chunk.iter().map(|c| sku_client::call(env, c))).await {
            out.push(a?);
        }
    }
    Ok(out)
}

/// The state a ledger answered to `Get`, if it answered one.
fn state(reply: SkuReplyKeyed) -> Option<SkuView> {
    match reply.reply() {
        Some(Ok(SkuAnswer::State(v))) => Some(v),
        _ => None,
    }
}

/// How `POST /v1/imports` reads its file: `format=` (or recognised), the mode, and a saved
/// column mapping with its separator (`mapping=`; then `format` is not used).
pub struct Read {
    pub format: Option<Format>,
    pub mode: Mode,
    pub mapping: Option<(Mapping, Delimiter)>,
}

pub async fn import(
    env: &Env,
    bytes: &[u8],
    read: Read,
    dry_run: bool,
    idem: Option<(String, String)>,
) -> Result<Response, Fault> {
    let Read { format, mode, mapping } = read;
    let options = ReadOptions { mapping, ..ReadOptions::new(format, mode) };
    let mut reader = match StockReader::new(bytes, options) {
        Ok(r) => r,
        Err(e) => return Ok(http::problem(&e.problem())?),
    };
    let outcomes: Vec<RowOutcome> = match reader.by_ref().collect() {
        Ok(rows) => rows,
        Err(e) => return Ok(http::problem(&crate::import::ImportError::problem(&e))?),
    };
    let (format, basis) = (reader.format(), reader.basis());
    let mappings = serde_json::to_value(reader.location_mappings()).unwrap_or(Value::Null);
    let import_id = match &idem {
        Some((key, _)) => format!("imp_{}", &fingerprint("import-id", "", key.as_bytes())[..16]),
        None => format!("imp_{}", &fingerprint("import-id", &now().0.to_string(), bytes)[..16]),
    };
    if jobs::needs_job(&outcomes) {
        let fp = idem.as_ref().map_or_else(|| fingerprint("POST", "/v1/imports", bytes), |(_, fp)| fp.clone());
        let job = Job { id: import_id, format, basis, mode, dry_run, fingerprint: fp, location_mappings: mappings };
        return super::import_jobs::submit(env, job, outcomes).await;
    }
    // Re-posting the file with the same key replays each ledger's first answer.
    let ledger_key = idem.map(|(k, fp)| (format!("import:{k}"), fp));
    let plan = apply_rows(env, outcomes, basis, mode, dry_run, &import_id, ledger_key.as_ref()).await?;
    Ok(http::json(200, &import_body(&plan, &import_id, (format, basis), dry_run, mappings))?)
}

/// Plans `outcomes` against what each SKU's ledger holds now and, unless `dry_run`, applies it
/// ([`apply_plan`]).
pub async fn apply_rows(
    env: &Env,
    outcomes: Vec<RowOutcome>,
    basis: Basis,
    mode: Mode,
    dry_run: bool,
    import_id: &str,
    ledger_key: Option<&(String, String)>,
) -> Result<Plan, Fault> {
    let plan = plan_now(env, outcomes, basis, mode).await?;
    if dry_run {
        return Ok(plan);
    }
    apply_plan(env, plan, basis, mode, import_id, ledger_key).await
}

/// Plans `outcomes` against what each SKU's ledger holds now (one read per SKU).
pub async fn plan_now(env: &Env, outcomes: Vec<RowOutcome>, basis: Basis, mode: Mode) -> Result<Plan, Fault> {
    // What each SKU holds now, for the per-row diff.
    let skus: BTreeSet<Sku> = outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Stock { sku, .. } => Some(sku.clone()),
            _ => None,
        })
        .collect();
    let reads: Vec<SkuCall> =
        skus.iter().map(|s| SkuCall { sku: s.clone(), action: SkuAction::Get, idempotency: None }).collect();
    let states: BTreeMap<Sku, BTreeMap<String, (i64, i64)>> =
        skus.iter().cloned().zip(call_all(env, &reads).await?.into_iter().map(|r| quantities(state(r)))).collect();
    Ok(plan_rows(outcomes, mode, |sku: &Sku, loc: &Location| {
        let q = states.get(sku)?.get(loc.as_str())?;
        Some(if basis == Basis::Available { q.1 } else { q.0 })
    }))
}

/// Applies `plan`'s batches (each ledger's call carries `ledger_key`, so a repeat replays its
/// first answer), having first made every SKU it applies a catalogue product (so a catalogue that
/// cannot be written fails the import before any ledger changes). Answers the plan's report as
/// the ledgers answered (`import::attempt::report`): a batch a ledger refused marks its rows as
/// errors.
pub async fn apply_plan(
    env: &Env,
    plan: Plan,
    basis: Basis,
    mode: Mode,
    import_id: &str,
    ledger_key: Option<&(String, String)>,
) -> Result<Plan, Fault> {
    let products: Vec<(Sku, Option<i64>)> =
        plan.batches.iter().map(|b| (b.sku.clone(), b.backorder.map(apply::backorder_limit))).collect();
    store::catalog::ensure_products(&store::db(env)?, &products, now()).await?;
    let calls = apply_calls(&plan, basis, mode, import_id, ledger_key);
    answered(env, plan, calls).await
}

/// The report of a chunk given up with its plan kept: each batch's ledger is asked only for the
/// answer it kept to `ledger_key` (`SkuAction::Recall`: nothing is applied), so the rows of
/// batches that applied stay applied and only the others are errors (`import::attempt`).
pub async fn recall_plan(
    env: &Env,
    plan: Plan,
    basis: Basis,
    mode: Mode,
    import_id: &str,
    ledger_key: &(String, String),
) -> Result<Plan, Fault> {
    let calls = apply_calls(&plan, basis, mode, import_id, Some(ledger_key))
        .into_iter()
        .map(|c| SkuCall { action: SkuAction::Recall, ..c })
        .collect();
    answered(env, plan, calls).await
}

/// The ledger calls of `plan`'s batches that have something to apply.
fn apply_calls(
    plan: &Plan,
    basis: Basis,
    mode: Mode,
    import_id: &str,
    ledger_key: Option<&(String, String)>,
) -> Vec<SkuCall> {
    plan.batches
        .iter()
        .map(|b| SkuCall {
            sku: b.sku.clone(),
            action: SkuAction::Apply { commands: apply::commands(b, basis, mode, import_id) },
            idempotency: ledger_key.cloned(),
        })
        .filter(|c| matches!(&c.action, SkuAction::Apply { commands } if !commands.is_empty()))
        .collect()
}

/// Sends `calls` (one per SKU of `plan`) and answers the plan's report from their answers.
async fn answered(env: &Env, plan: Plan, calls: Vec<SkuCall>) -> Result<Plan, Fault> {
    let replies = call_all(env, &calls).await?;
    let answers: BTreeMap<Sku, BatchAnswer> =
        calls.into_iter().zip(replies).map(|(c, r)| (c.sku, BatchAnswer::of(r))).collect();
    Ok(attempt::report(plan, &answers))
}

pub async fn export(env: &Env, format: Format) -> Result<Response, Fault> {
    let products = store::catalog::tracked(&store::db(env)?).await?;
    let reads: Vec<SkuCall> =
        products.iter().map(|(s, _)| SkuCall { sku: s.clone(), action: SkuAction::Get, idempotency: None }).collect();
    let states = call_all(env, &reads).await?.into_iter().map(state).collect();
    let rows = export_rows(&products, states);
    let mut out = Vec::new();
    if let Err(e) = write_export(format, &mut out, rows) {
        return Ok(http::problem(&crate::api::Problem::new(crate::api::Kind::Internal, e.to_string()))?);
    }
    let mut r = http::text(200, String::from_utf8_lossy(&out).into_owned(), "text/csv; charset=utf-8")?;
    r.headers_mut().set("content-disposition", &format!("attachment; filename=\"{}\"", format.export_file_name()))?;
    Ok(r)
}
