//! Orders to the ERP (migration 0017, `erp_deliveries`): what StockEdge knows of each document it
//! delivers (`erp::delivery::Known`), with its failed attempts. Where a SKU's units at a location
//! go is read with the queue consumer's other reads (`super::erp_routes`).

use serde::Deserialize;

use super::{corrupt, int, opt_int, opt_text, text, Query, StoreResult};
use crate::erp::delivery::Known;
use crate::stock::{Sku, Token};
use crate::time::Millis;

#[derive(Debug, Deserialize)]
pub struct DeliveryRow {
    state: String,
    document: Option<String>,
    attempts: i64,
    /// When the change whose sale the document belongs to was recorded (migration 0021).
    sale_change_at: Option<i64>,
}

impl DeliveryRow {
    /// When the change whose sale the document belongs to was recorded (`None`: no sale has
    /// reached it yet), for `erp::delivery::split_addition`.
    pub fn sale_change_at(&self) -> Option<Millis> {
        self.sale_change_at.map(Millis)
    }
}

/// Gives the lease on the document `reference` back, changing nothing else.
pub fn release(connection: &Token, reference: &str) -> Query {
    Query::new(
        "UPDATE erp_deliveries SET lease_until = 0 WHERE connection = ?1 AND reference = ?2",
        vec![text(connection.as_str()), text(reference)],
    )
}

/// A document of an order's additions (`erp::delivery::split_addition`): its reference.
#[derive(Debug, Deserialize)]
pub struct AdditionRow {
    pub reference: String,
}

/// The additions of the order whose document is `reference` (`<reference>+<ms>`), oldest first.
pub fn additions(connection: &Token, sku: &Sku, reference: &str) -> Query {
    let prefix = format!("{reference}+");
    Query::new(
        "SELECT reference FROM erp_deliveries WHERE connection = ?1 AND sku = ?2 \
         AND substr(reference, 1, ?3) = ?4 ORDER BY first_change_at, reference",
        vec![text(connection.as_str()), text(sku.as_str()), int(prefix.chars().count() as i64), text(&prefix)],
    )
}

use crate::erp::limits::DELIVERY_LEASE_MS;

/// Takes the lease on the document `reference` of `connection` (its row made `pending` when new)
/// unless another delivery holds it: answers what is known ([`DeliveryRow`]) when taken, no row
/// when held. [`save`] gives the lease back.
pub fn claim(connection: &Token, reference: &str, sku: &Sku, first_change_at: Millis, now: Millis) -> Query {
    Query::new(
        "INSERT INTO erp_deliveries (connection, reference, sku, state, attempts, first_change_at, lease_until, \
         updated_at) VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5, ?6) \
         ON CONFLICT (connection, reference) DO UPDATE SET lease_until = excluded.lease_until \
         WHERE erp_deliveries.lease_until < ?6 \
         RETURNING state, document, attempts, sale_change_at",
        vec![
            text(connection.as_str()),
            text(reference),
            text(sku.as_str()),
            int(first_change_at.0),
            int(now.0.saturating_add(DELIVERY_LEASE_MS)),
            int(now.0),
        ],
    )
}

/// What a row says: what is known, and the failed attempts so far.
pub fn known_of(row: Option<DeliveryRow>) -> StoreResult<(Known, u32)> {
    let Some(r) = row else { return Ok((Known::Unknown, 0)) };
    let attempts = u32::try_from(r.attempts).unwrap_or(0);
    let known = match (r.state.as_str(), r.document) {
        ("pending", _) => Known::Unknown,
        ("open", Some(document)) => Known::Open { document },
        ("cancelled", document) => Known::Cancelled { document },
        (state, _) => return Err(corrupt(format!("erp delivery state {state:?}"))),
    };
    Ok((known, attempts))
}

/// A delivery's record after an attempt.
pub struct Record<'a> {
    pub connection: &'a Token,
    pub reference: &'a str,
    pub sku: &'a Sku,
    pub known: &'a Known,
    pub attempts: u32,
    pub error: Option<&'a str>,
    /// When the first change of the document was recorded.
    pub first_change_at: Millis,
    /// When the change whose sale this delivery carried was recorded (`None`: it carried none);
    /// the first one saved keeps the document.
    pub sale_change_at: Option<Millis>,
    /// When the ERP confirmed the delivery (`None`: it did not).
    pub delivered_at: Option<Millis>,
    pub now: Millis,
}

/// Writes `r` and gives the lease back (the first change's time and the first confirmation's are
/// kept).
pub fn save(r: &Record<'_>) -> Query {
    let (state, document) = match r.known {
        Known::Unknown => ("pending", None),
        Known::Open { document } => ("open", Some(document.as_str())),
        Known::Cancelled { document } => ("cancelled", document.as_deref()),
    };
    Query::new(
        "INSERT INTO erp_deliveries (connection, reference, sku, state, document, attempts, last_error, first_change_at, \
         delivered_at, updated_at, sale_change_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
         ON CONFLICT (connection, reference) DO UPDATE SET state = excluded.state, document = excluded.document, \
         attempts = excluded.attempts, last_error = excluded.last_error, \
         first_change_at = MIN(first_change_at, excluded.first_change_at), \
         sale_change_at = COALESCE(erp_deliveries.sale_change_at, excluded.sale_change_at), \
         delivered_at = COALESCE(delivered_at, excluded.delivered_at), lease_until = 0, \
         updated_at = excluded.updated_at",
        vec![
            text(r.connection.as_str()),
            text(r.reference),
            text(r.sku.as_str()),
            text(state),
            opt_text(document),
            int(i64::from(r.attempts)),
            opt_text(r.error),
            int(r.first_change_at.0),
            opt_int(r.delivered_at.map(|t| t.0)),
            int(r.now.0),
            opt_int(r.sale_change_at.map(|t| t.0)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::assert_bound;
    use crate::db::Arg;

    #[test]
    fn every_statement_binds_what_it_names() {
        let (c, sku) = (Token::parse("sap").expect("token"), Sku::parse("TEE-1").expect("sku"));
        let known = Known::Open { document: "7".into() };
        let r = Record {
            connection: &c,
            reference: "web/1|TEE-1",
            sku: &sku,
            known: &known,
            attempts: 0,
            error: None,
            first_change_at: Millis(1),
            sale_change_at: Some(Millis(1)),
            delivered_at: Some(Millis(2)),
            now: Millis(2),
        };
        assert_bound(&[
            claim(&c, "web/1|TEE-1", &sku, Millis(1), Millis(2)),
            save(&r),
            additions(&c, &sku, "web/1|TEE-1"),
        ]);
        // The prefix is counted in characters, as SQLite's substr counts them in text.
        let q = additions(&c, &sku, "web/ü|TEE-1");
        assert_eq!(q.args[2..], [Arg::Int(12), Arg::Text("web/ü|TEE-1+".into())]);
    }

    #[test]
    fn rows_read_back_what_is_known() {
        let row = |state: &str, document: Option<&str>| DeliveryRow {
            state: state.into(),
            document: document.map(str::to_owned),
            attempts: 3,
            sale_change_at: Some(5),
        };
        assert_eq!(row("open", Some("42")).sale_change_at(), Some(Millis(5)));
        assert_eq!(known_of(None).expect("none"), (Known::Unknown, 0));
        assert_eq!(known_of(Some(row("pending", None))).expect("row"), (Known::Unknown, 3));
        assert_eq!(known_of(Some(row("open", Some("42")))).expect("row").0, Known::Open { document: "42".into() });
        assert_eq!(known_of(Some(row("cancelled", None))).expect("row").0, Known::Cancelled { document: None });
        assert!(known_of(Some(row("open", None))).is_err());
        assert!(known_of(Some(row("lost", None))).is_err());
    }
}
