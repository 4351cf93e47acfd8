//! Forwarded adjustment requests delivered to their ERP (migration 0019): the requests due, the
//! lease one delivery takes on a request, what an attempt leaves (`erp::adjustment_out`), and the
//! connection's codes the ERP is sent beside StockEdge's names.

use serde::Deserialize;

use super::erp::ConnectionRow;
use super::{int, opt_int, opt_text, text, Query, StoreResult};
use crate::erp::adjustment_out::AfterAttempt;
use crate::erp::connection::Connection;
use crate::erp::limits::DELIVERY_LEASE_MS;
use crate::stock::{Location, Sku, Token};
use crate::time::Millis;

/// A request due for delivery, with its connection's row and the connection's codes for its SKU
/// and location (`None` when unmapped): all a delivery needs, in the one read of [`due`].
#[derive(Debug, Deserialize)]
pub struct DueRow {
    pub id: i64,
    pub connection: String,
    pub sku: String,
    pub location: String,
    pub op: String,
    pub quantity: i64,
    pub reason: Option<String>,
    pub requested_at: i64,
    pub attempts: i64,
    kind: String,
    base_url: String,
    credentials_secret: Option<String>,
    settings: String,
    local_adjustments: String,
    enabled: i64,
    /// [`item_of`]'s code.
    pub item_code: Option<String>,
    /// [`warehouse_of`]'s code.
    pub warehouse_code: Option<String>,
}

impl DueRow {
    /// The request's connection, as read with it.
    pub fn connection(&self) -> StoreResult<Connection> {
        ConnectionRow {
            id: self.connection.clone(),
            kind: self.kind.clone(),
            base_url: self.base_url.clone(),
            credentials_secret: self.credentials_secret.clone(),
            settings: self.settings.clone(),
            local_adjustments: self.local_adjustments.clone(),
            enabled: self.enabled,
        }
        .decode()
    }
}

/// At most `limit` pending requests due at `now` whose connection is enabled (requests are sent
/// to every kind; a disabled connection's wait for it to be enabled again, a deleted one's were
/// marked `dead` with its delete), oldest first, each with its connection's columns and codes (one
/// statement: a delivery then costs its claim and its save).
pub fn due(now: Millis, limit: usize) -> Query {
    Query::new(
        format!(
            "SELECT r.id, r.connection, r.sku, r.location, r.op, r.quantity, r.reason, r.requested_at, r.attempts, \
             c.kind, c.base_url, c.credentials_secret, c.settings, c.local_adjustments, c.enabled, \
             ({}) AS item_code, ({}) AS warehouse_code \
             FROM erp_adjustment_requests r JOIN erp_connections c ON c.id = r.connection \
             WHERE r.status = 'pending' AND r.next_at <= ?1 AND c.enabled = 1 \
             ORDER BY r.id LIMIT {limit}",
            item_code("r.connection", "r.sku"),
            warehouse_code("r.connection", "r.location"),
        ),
        vec![int(now.0)],
    )
}

#[derive(Debug, Deserialize)]
pub struct ClaimedRow {
    pub attempts: i64,
}

/// Takes the lease on request `id` if it is still pending and due (no row: another delivery has
/// it, or it is done).
pub fn claim(id: i64, now: Millis) -> Query {
    Query::new(
        "UPDATE erp_adjustment_requests SET next_at = ?2 WHERE id = ?1 AND status = 'pending' AND next_at <= ?3 \
         RETURNING attempts",
        vec![int(id), int(now.0.saturating_add(DELIVERY_LEASE_MS)), int(now.0)],
    )
}

/// Records an attempt's outcome (and gives the lease back).
pub fn save(id: i64, a: &AfterAttempt) -> Query {
    Query::new(
        "UPDATE erp_adjustment_requests SET status = ?2, attempts = ?3, next_at = ?4, last_error = ?5, \
         sent_at = COALESCE(sent_at, ?6) WHERE id = ?1",
        vec![
            int(id),
            text(a.status.as_str()),
            int(i64::from(a.attempts)),
            int(a.next_at.0),
            opt_text(a.error.as_deref()),
            opt_int(a.sent_at.map(|t| t.0)),
        ],
    )
}

/// A code read by [`item_of`] or [`warehouse_of`].
#[derive(Debug, Deserialize)]
pub struct CodeRow {
    pub code: String,
}

/// The statement of a connection's first item code for a SKU (`connection` and `sku`: SQL
/// expressions), alone or as a subquery.
fn item_code(connection: &str, sku: &str) -> String {
    format!("SELECT code FROM erp_items WHERE connection = {connection} AND sku = {sku} ORDER BY code LIMIT 1")
}

/// The statement of a connection's first warehouse code for a location, alone or as a subquery.
fn warehouse_code(connection: &str, location: &str) -> String {
    format!(
        "SELECT code FROM erp_warehouses WHERE connection = {connection} AND location = {location} ORDER BY code \
         LIMIT 1"
    )
}

/// The item code `connection` maps to `sku` (the first, when several are).
pub fn item_of(connection: &Token, sku: &Sku) -> Query {
    Query::new(item_code("?1", "?2"), vec![text(connection.as_str()), text(sku.as_str())])
}

/// The warehouse code `connection` maps to `location` (the first, when several do).
pub fn warehouse_of(connection: &Token, location: &Location) -> Query {
    Query::new(warehouse_code("?1", "?2"), vec![text(connection.as_str()), text(location.as_str())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::assert_bound;
    use crate::erp::adjustment_out::Status;

    #[test]
    fn every_statement_binds_what_it_names() {
        let id = Token::parse("hook").expect("token");
        let a = AfterAttempt {
            status: Status::Sent,
            attempts: 0,
            next_at: Millis(1),
            error: None,
            sent_at: Some(Millis(1)),
        };
        assert_bound(&[
            due(Millis(1), 50),
            claim(1, Millis(1)),
            save(1, &a),
            item_of(&id, &Sku::parse("TEE-1").expect("sku")),
            warehouse_of(&id, &Location::main()),
        ]);
    }

    #[test]
    fn a_due_row_reads_back_its_connection_and_codes() {
        let row: DueRow = crate::db::testing::rows::<DueRow>(serde_json::json!([{
            "id": 3, "connection": "hook", "sku": "TEE-1", "location": "main", "op": "adjust", "quantity": -2,
            "reason": null, "requested_at": 1, "attempts": 0, "kind": "webhook", "base_url": "https://erp.example",
            "credentials_secret": "ERP_KEY", "settings": "{}", "local_adjustments": "forward", "enabled": 1,
            "item_code": "A100", "warehouse_code": null
        }]))
        .remove(0);
        let c = row.connection().expect("connection");
        assert_eq!((c.id.as_str(), c.base_url.as_str()), ("hook", "https://erp.example"));
        assert_eq!((row.item_code.as_deref(), row.warehouse_code.as_deref()), (Some("A100"), None));
        let mut bad = row;
        bad.kind = "oracle".into();
        assert!(bad.connection().is_err());
    }
}
