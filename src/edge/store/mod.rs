//! Every D1 query of the Worker lives under this module, one file per table family; the binding
//! is named once ([`CATALOG`]) and every D1 failure is classified once ([`fail`]) into a typed
//! [`StoreError`], so callers never read error text. Every round trip goes through [`all`],
//! [`run`] or [`batch`], which count it (`super::metrics`).

pub mod alerts;
pub mod catalog;
pub mod channels;
pub mod imports;
pub mod inbound;
pub mod listings;
pub mod sync_state;

pub use super::limits::IN_CHUNK;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

pub use crate::fault::StoreError;

/// The D1 database binding of the catalogue (wrangler.toml `[[d1_databases]]`).
pub const CATALOG: &str = "CATALOG";

pub type StoreResult<T> = Result<T, StoreError>;

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

/// A stored row that does not decode into what the code expects.
pub fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// The catalogue database.
pub fn db(env: &Env) -> StoreResult<D1Database> {
    env.d1(CATALOG).map_err(fail)
}

/// A statement with its parameters bound.
pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> StoreResult<D1PreparedStatement> {
    db.prepare(sql).bind(args).map_err(fail)
}

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

/// Deletes a record's `dependants`, then the record, in one batch; `false` when there was no
/// such record.
pub async fn delete_with(
    db: &D1Database,
    dependants: D1PreparedStatement,
    record: D1PreparedStatement,
) -> StoreResult<bool> {
    let res = batch(db, vec![dependants, record]).await?;
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

/// `?, ?, …` with `n` placeholders.
pub fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Parameter values.
pub fn text(v: &str) -> JsValue {
    JsValue::from_str(v)
}
pub fn int(v: i64) -> JsValue {
    JsValue::from_f64(v as f64)
}
pub fn opt_text(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, text)
}
pub fn opt_int(v: Option<i64>) -> JsValue {
    v.map_or(JsValue::NULL, int)
}
