//! Runs `db::purchase_orders`: the ACKs answered for wholesale purchase orders.

use worker::D1Database;

use super::{execute, read_first, StoreResult};
use crate::db::purchase_orders::{self as sql, AcksRow};
use crate::inbound::x12_ack::Ack;
use crate::time::Millis;

/// The ACKs first answered for `po_number` of `channel`, if it was applied.
pub async fn acks(db: &D1Database, channel: &str, po_number: &str) -> StoreResult<Option<Vec<Vec<Ack>>>> {
    read_first::<AcksRow>(db, sql::get(channel, po_number)).await?.map(|r| r.acks()).transpose()
}

/// Keeps the ACKs of a purchase order (the first write wins).
pub async fn keep(
    db: &D1Database,
    channel: &str,
    po_number: &str,
    partner_id: &str,
    acks: &[Vec<Ack>],
    now: Millis,
) -> StoreResult<()> {
    execute(db, sql::put(channel, po_number, partner_id, acks, now)?).await.map(drop)
}
