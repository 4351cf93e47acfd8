//! The journal: every change to a SKU's quantities, with its cause. Replaying it from empty
//! rebuilds the levels and the version exactly.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::ids::Location;
use super::levels::{Deltas, Levels};
use crate::time::Millis;

/// What kind of change an entry records (docs/api.md's journal `op` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Set,
    Adjust,
    Reserve,
    Extend,
    Commit,
    Release,
    Expire,
    Sale,
    Cancel,
    Fulfil,
    Import,
    Policy,
    /// A block lent to an allotment (`stock::lend`): units move into `reserved`.
    Lend,
    /// Units of a lent block given back by its allotment, or taken back when its lease ends.
    Return,
    /// On hand set from an ERP snapshot line (`erp`); the cause names the snapshot.
    ErpSnapshot,
}

/// Why a change happened. Every entry names at least one of these.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_id: Option<String>,
    /// Every order line an entry records, when it records more than one (a sale with two lines
    /// of this SKU): the platform's line ids, so each line stays traceable and cancellable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
    /// The operator's reason (`received`, `correction`, `damaged`, `shrinkage`, `restock`,
    /// `cycle_count`) or a system reason such as `ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The ERP snapshot an `erp_snapshot` entry applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// The backorder allowance set by a `policy` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backorder_limit: Option<i64>,
}

/// One journal entry: one location's deltas from one transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in this SKU's journal, from 1, without gaps.
    pub seq: u64,
    pub at: Millis,
    pub op: Op,
    pub location: Location,
    pub deltas: Deltas,
    pub cause: Cause,
    /// The SKU's version after the transition this entry belongs to.
    pub version: u64,
}

/// What replaying a journal yields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub levels: BTreeMap<Location, Levels>,
    pub version: u64,
    pub backorder_limit: i64,
    pub last_seq: u64,
}

/// Rebuilds levels, version and policy from entries in `seq` order.
/// Fails on a gap or reordering in `seq`, or on a version that goes backwards.
pub fn replay<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Result<Replayed, String> {
    let mut r = Replayed::default();
    for e in entries {
        if e.seq != r.last_seq + 1 {
            return Err(format!("seq {} follows {}", e.seq, r.last_seq));
        }
        if e.version < r.version {
            return Err(format!("version {} follows {}", e.version, r.version));
        }
        r.last_seq = e.seq;
        r.version = e.version;
        if let (Op::Policy, Some(limit)) = (e.op, e.cause.backorder_limit) {
            r.backorder_limit = limit;
        }
        e.deltas.apply_to(r.levels.entry(e.location.clone()).or_default());
    }
    Ok(r)
}
