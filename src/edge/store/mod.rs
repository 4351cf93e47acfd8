//! The D1 executor: every D1 query of the Worker runs through this module. The SQL, the row
//! structs and their decoding are pure (`crate::db`, one module per table family); the files
//! here are thin typed wrappers that prepare a [`Query`] ([`prepare`]), run it ([`all`],
//! [`first`], [`run`], [`batch`] — the executor, the one place statements reach D1) and hand the
//! rows back to `db`. Each round trip through the executor is counted (`super::metrics`). The binding is named once ([`CATALOG`]) and every D1 failure is classified
//! once ([`fail`]) into a typed [`StoreError`], so callers never read error text.

pub mod alerts;
pub mod alerts_out;
pub mod catalog;
pub mod channels;
pub mod erp;
pub mod erp_routes;
pub mod import_mappings;
pub mod imports;
pub mod inbound;
pub mod listings;
pub mod overview;
pub mod purchase_orders;
pub mod reconcile;
pub mod sync_state;

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

use crate::db::groups::{Answered, Groups};
use crate::db::Arg;
pub use crate::db::{Query, StoreResult};
pub use crate::fault::StoreError;

/// The D1 database binding of the catalogue (wrangler.toml `[[d1_databases]]`).
pub const CATALOG: &str = "CATALOG";

/// Classifies a D1 (or binding) error: the one place that reads its text.
pub fn fail(e: worker::Error) -> StoreError {
    let text = match &e {
        worker::Error::D1(d) => {
            let js: &worker::js_sys::Error = d.as_ref();
            format!("{} {}", String::from(js.message()), d.cause())
        }
        other => other.to_string(),
    };
    StoreError::classify(&text)
}

/// The catalogue database.
pub fn db(env: &Env) -> StoreResult<D1Database> {
    env.d1(CATALOG).map_err(fail)
}

/// A bound value as D1 takes it.
fn js(a: &Arg) -> JsValue {
    match a {
        Arg::Null => JsValue::NULL,
        Arg::Int(n) => JsValue::from_f64(*n as f64),
        Arg::Text(t) => JsValue::from_str(t),
    }
}

/// A query with its values bound, ready to run (alone or in a [`batch`]).
pub fn prepare(db: &D1Database, q: &Query) -> StoreResult<D1PreparedStatement> {
    let args: Vec<JsValue> = q.args.iter().map(js).collect();
    db.prepare(&q.sql).bind(&args).map_err(fail)
}

/// Queries, prepared in order.
pub fn prepare_all(db: &D1Database, qs: impl IntoIterator<Item = Query>) -> StoreResult<Vec<D1PreparedStatement>> {
    qs.into_iter().map(|q| prepare(db, &q)).collect()
}

// ---------------------------------------------------------------------------------------------
// The executor

/// Runs a statement and decodes every row.
pub async fn all<T: DeserializeOwned>(s: D1PreparedStatement) -> StoreResult<Vec<T>> {
    super::metrics::d1(1);
    let r = s.all().await.map_err(fail)?;
    rows(&r)
}

/// Runs a statement and decodes its first row, if any.
pub async fn first<T: DeserializeOwned>(s: D1PreparedStatement) -> StoreResult<Option<T>> {
    Ok(all::<T>(s).await?.into_iter().next())
}

/// Runs a write; returns how many rows it changed.
pub async fn run(s: D1PreparedStatement) -> StoreResult<usize> {
    super::metrics::d1(1);
    let r = s.run().await.map_err(fail)?;
    changes(&r)
}

/// Runs statements as one D1 batch (one transaction: all or none).
pub async fn batch(db: &D1Database, stmts: Vec<D1PreparedStatement>) -> StoreResult<Vec<D1Result>> {
    if stmts.is_empty() {
        return Ok(Vec::new());
    }
    super::metrics::d1(stmts.len());
    db.batch(stmts).await.map_err(fail)
}

// ---------------------------------------------------------------------------------------------
// The executor over pure queries

/// Runs a read and decodes every row.
pub async fn read<T: DeserializeOwned>(db: &D1Database, q: Query) -> StoreResult<Vec<T>> {
    all(prepare(db, &q)?).await
}

/// Runs a read and decodes its first row, if any.
pub async fn read_first<T: DeserializeOwned>(db: &D1Database, q: Query) -> StoreResult<Option<T>> {
    first(prepare(db, &q)?).await
}

/// Runs a write; returns how many rows it changed.
pub async fn execute(db: &D1Database, q: Query) -> StoreResult<usize> {
    run(prepare(db, &q)?).await
}

/// Runs queries as one D1 batch (one transaction: all or none).
pub async fn batch_of(db: &D1Database, qs: impl IntoIterator<Item = Query>) -> StoreResult<Vec<D1Result>> {
    batch(db, prepare_all(db, qs)?).await
}

/// Runs several reads as one D1 batch (one round trip); their results split back per read.
pub async fn batch_groups(db: &D1Database, groups: Groups) -> StoreResult<Answered<D1Result>> {
    let (queries, lengths) = groups.into_parts();
    Answered::split(batch_of(db, queries).await?, &lengths)
}

/// Runs reads answering the same row type as one batch; their rows in order.
pub async fn batch_rows<T: DeserializeOwned>(db: &D1Database, qs: Vec<Query>) -> StoreResult<Vec<T>> {
    let mut out = Vec::new();
    for r in batch_of(db, qs).await? {
        out.extend(rows::<T>(&r)?);
    }
    Ok(out)
}

/// Runs a record's `dependants` delete, then the record's, in one batch; `false` when there was
/// no such record.
pub async fn delete_with(db: &D1Database, [dependants, record]: [Query; 2]) -> StoreResult<bool> {
    let res = batch_of(db, [dependants, record]).await?;
    Ok(changes(&res[1])? > 0)
}

/// The rows of a statement's result.
pub fn rows<T: DeserializeOwned>(r: &D1Result) -> StoreResult<Vec<T>> {
    r.results::<T>().map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// How many rows a write changed.
pub fn changes(r: &D1Result) -> StoreResult<usize> {
    Ok(r.meta().map_err(fail)?.and_then(|m| m.changes).unwrap_or(0))
}

/// A batch that answered fewer results than it ran statements.
pub fn corrupt_batch() -> StoreError {
    StoreError::Corrupt("a D1 batch answered fewer results than statements".into())
}
