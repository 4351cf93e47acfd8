//! D1 `edi_purchase_orders` (migrations/0015_import_mappings_edi_orders.sql): the ACKs answered
//! for each wholesale purchase order, by (channel, PO number).

use serde::Deserialize;

use super::{decode, encode, int, text, Query, StoreResult};
use crate::inbound::x12_ack::Ack;
use crate::time::Millis;

#[derive(Debug, Deserialize)]
pub struct AcksRow {
    acks: String,
}

impl AcksRow {
    /// The ACKs of each line, as first answered.
    pub fn acks(&self) -> StoreResult<Vec<Vec<Ack>>> {
        decode("purchase order ACKs", &self.acks)
    }
}

/// The ACKs answered for `po_number` of `channel`.
pub fn get(channel: &str, po_number: &str) -> Query {
    Query::new(
        "SELECT acks FROM edi_purchase_orders WHERE channel = ?1 AND po_number = ?2",
        vec![text(channel), text(po_number)],
    )
}

/// Keeps the first ACKs of a purchase order (a later write of the same order changes nothing).
pub fn put(channel: &str, po_number: &str, partner_id: &str, acks: &[Vec<Ack>], now: Millis) -> StoreResult<Query> {
    Ok(Query::new(
        "INSERT INTO edi_purchase_orders (channel, po_number, partner_id, acks, received_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (channel, po_number) DO NOTHING",
        vec![text(channel), text(po_number), text(partner_id), text(&encode(acks)?), int(now.0)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{assert_bound, rows};
    use crate::inbound::x12_ack::AckCode;

    #[test]
    fn statements_bind_and_acks_round_trip() {
        let acks = vec![vec![Ack { code: AckCode::Accepted, qty: 3 }, Ack { code: AckCode::Backordered, qty: 2 }]];
        assert_bound(&[get("acme", "PO-1"), put("acme", "PO-1", "ACME", &acks, Millis(1)).expect("encode")]);
        let stored = serde_json::to_string(&acks).unwrap();
        assert!(stored.contains("\"IB\""));
        let decoded: Vec<AcksRow> = rows(serde_json::json!([{ "acks": stored }]));
        assert_eq!(decoded[0].acks().expect("decodes"), acks);
    }
}
