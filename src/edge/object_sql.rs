//! Runs pure storage plans in a Durable Object's SQLite storage: the statements
//! (`stock::storage::Statement`) the core's persistence modules return, and their reads.

use serde::de::DeserializeOwned;
use worker::{Result, SqlStorage, SqlStorageValue};

use crate::stock::storage::{SqlValue, Statement};

fn value(v: SqlValue) -> SqlStorageValue {
    match v {
        SqlValue::Int(n) => SqlStorageValue::from(n),
        SqlValue::Text(t) => SqlStorageValue::from(t),
    }
}

/// Runs the statements in order.
pub fn exec(sql: &SqlStorage, plan: impl IntoIterator<Item = Statement>) -> Result<()> {
    for s in plan {
        sql.exec(s.sql, s.args.into_iter().map(value).collect::<Vec<_>>())?;
    }
    Ok(())
}

/// Runs a read and decodes its rows.
pub fn rows<T: DeserializeOwned>(sql: &SqlStorage, query: &str, args: Vec<SqlValue>) -> Result<Vec<T>> {
    sql.exec(query, args.into_iter().map(value).collect::<Vec<_>>())?.to_array::<T>()
}
