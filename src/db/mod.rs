//! The catalogue database (D1) as pure plans: every SQL text the Worker sends to D1, the values
//! it binds ([`Query`]), the row structs it reads back and their decoding into domain types,
//! one module per table family. Nothing here runs a statement: the shell (`edge::store`) binds
//! a [`Query`]'s [`Arg`]s, runs it, and hands the decoded rows back to these functions. A row
//! that does not decode is [`StoreError::Corrupt`], never a guess.

pub mod alerts;
pub mod alerts_out;
pub mod catalog;
pub mod channel_retry;
pub mod channels;
pub mod erp;
pub mod erp_adjustments;
pub mod erp_deliveries;
pub mod erp_routes;
pub mod groups;
pub mod import_mappings;
pub mod imports;
pub mod inbound;
pub mod limits;
pub mod listings;
pub mod metrics;
pub mod overview;
pub mod purchase_orders;
pub mod reconcile;
pub mod sku_listings;
pub mod sync_state;
pub mod unmatched_map;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use crate::fault::StoreError;
pub use limits::IN_CHUNK;

pub type StoreResult<T> = Result<T, StoreError>;

/// A value bound to a statement parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Null,
    Int(i64),
    Text(String),
}

/// Text.
pub fn text(v: &str) -> Arg {
    Arg::Text(v.to_owned())
}
/// An integer (D1 binds it as a JavaScript number: exact below 2^53).
pub fn int(v: i64) -> Arg {
    Arg::Int(v)
}
/// A count or version (they stay far below 2^53).
pub fn count(v: impl TryInto<i64>) -> Arg {
    Arg::Int(v.try_into().unwrap_or(i64::MAX))
}
/// Text or `NULL`.
pub fn opt_text(v: Option<&str>) -> Arg {
    v.map_or(Arg::Null, text)
}
/// An integer or `NULL`.
pub fn opt_int(v: Option<i64>) -> Arg {
    v.map_or(Arg::Null, int)
}
/// A truth value, bound as SQLite stores one (`1` or `0`).
pub fn flag(v: bool) -> Arg {
    Arg::Int(i64::from(v))
}

/// One statement: SQL text with its bound values, in parameter order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Query {
    pub fn new(sql: impl Into<String>, args: Vec<Arg>) -> Query {
        Query { sql: sql.into(), args }
    }
}

/// `?, ?, …` with `n` placeholders.
pub fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `sql_of(list)` with `list` the placeholders of each [`IN_CHUNK`]-sized chunk of `values`,
/// bound after `leading`: the statements that read rows whose column is one of `values`.
pub fn in_chunks<V>(
    values: &[V],
    leading: &[Arg],
    sql_of: impl Fn(&str) -> String,
    arg: impl Fn(&V) -> Arg,
) -> Vec<Query> {
    values
        .chunks(IN_CHUNK)
        .map(|chunk| {
            let mut args = leading.to_vec();
            args.extend(chunk.iter().map(&arg));
            Query::new(sql_of(&placeholders(chunk.len())), args)
        })
        .collect()
}

/// A stored row that does not decode into what the code expects.
pub fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// A value as stored JSON.
pub fn encode<T: Serialize + ?Sized>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| corrupt(format!("cannot encode for D1: {e}")))
}

/// A stored JSON value, read back; `what` names it in the error.
pub fn decode<T: DeserializeOwned>(what: &str, s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| corrupt(format!("stored {what}: {e}")))
}

/// The single row a `SELECT 1 AS n` answers when something exists.
#[derive(serde::Deserialize)]
pub struct Exists {
    #[allow(dead_code)]
    n: i64,
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
