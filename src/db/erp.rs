//! The ERP connection tables (migration 0016): `erp_connections`, the code mappings
//! `erp_items` and `erp_warehouses`, `erp_unmapped` rows, and each connection's stock poll
//! (`erp_polls`: state, lease, last run).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{corrupt, encode, flag, int, opt_text, text, Query, StoreResult};
use crate::erp::adjustment_out::connection_deleted;
use crate::erp::connection::{Connection, ErpKind, LocalAdjustments};
use crate::erp::connectors::poll::ErpPollState;
use crate::erp::mapping::{ErpRow, Mappings, Unmapped};
use crate::erp::master::{AdjustmentRequest, Requested};
use crate::stock::{Location, Sku, Token};
use crate::time::Millis;

/// How long a run holds a connection's poll (a run that dies frees it when this passes).
pub const LEASE_MS: i64 = 5 * 60 * 1000;
/// Rows one list answers (unmapped rows, adjustment requests).
pub const MAX_UNMAPPED_LISTED: usize = 500;

pub const CONNECTION_SELECT: &str =
    "SELECT id, kind, base_url, credentials_secret, settings, local_adjustments, enabled FROM erp_connections";

#[derive(Debug, Deserialize)]
pub struct ConnectionRow {
    pub(super) id: String,
    pub(super) kind: String,
    pub(super) base_url: String,
    pub(super) credentials_secret: Option<String>,
    pub(super) settings: String,
    pub(super) local_adjustments: String,
    pub(super) enabled: i64,
}

impl ConnectionRow {
    pub fn decode(self) -> StoreResult<Connection> {
        let id = Token::parse(&self.id).map_err(|e| corrupt(format!("erp connection id {:?}: {e}", self.id)))?;
        let kind = ErpKind::parse(&self.kind).ok_or_else(|| corrupt(format!("erp connection kind {:?}", self.kind)))?;
        let settings: Map<String, Value> =
            serde_json::from_str(&self.settings).map_err(|e| corrupt(format!("erp connection settings: {e}")))?;
        let local_adjustments = LocalAdjustments::parse(&self.local_adjustments)
            .ok_or_else(|| corrupt(format!("erp local_adjustments {:?}", self.local_adjustments)))?;
        Ok(Connection {
            id,
            kind,
            base_url: self.base_url,
            credentials_secret: self.credentials_secret,
            settings,
            local_adjustments,
            enabled: self.enabled != 0,
        })
    }
}

pub fn connections() -> Query {
    Query::new(format!("{CONNECTION_SELECT} ORDER BY id"), vec![])
}

pub fn connection(id: &Token) -> Query {
    Query::new(format!("{CONNECTION_SELECT} WHERE id = ?1"), vec![text(id.as_str())])
}

pub fn put_connection(c: &Connection, t: Millis) -> StoreResult<Query> {
    Ok(Query::new(
        "INSERT INTO erp_connections (id, kind, base_url, credentials_secret, settings, local_adjustments, enabled, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT (id) DO UPDATE SET \
         kind = excluded.kind, base_url = excluded.base_url, credentials_secret = excluded.credentials_secret, \
         settings = excluded.settings, local_adjustments = excluded.local_adjustments, enabled = excluded.enabled, \
         updated_at = excluded.updated_at",
        vec![
            text(c.id.as_str()),
            text(c.kind.as_str()),
            text(&c.base_url),
            opt_text(c.credentials_secret.as_deref()),
            text(&encode(&c.settings)?),
            text(c.local_adjustments.as_str()),
            flag(c.enabled),
            int(t.0),
        ],
    ))
}

/// The deletes of a connection's dependants, its pending adjustment requests marked as
/// `erp::adjustment_out::connection_deleted` says (kept, for `GET /v1/erp/adjustment-requests`),
/// then the delete of the connection (its row last: the count of that one says whether it
/// existed).
pub fn delete_connection(id: &Token, now: Millis) -> Vec<Query> {
    let (status, why) = connection_deleted(id);
    ["erp_items", "erp_warehouses", "erp_unmapped", "erp_polls"]
        .iter()
        .map(|table| Query::new(format!("DELETE FROM {table} WHERE connection = ?1"), vec![text(id.as_str())]))
        .chain([
            Query::new(
                "UPDATE erp_adjustment_requests SET status = ?2, last_error = ?3, next_at = ?4 \
                 WHERE connection = ?1 AND status = 'pending'",
                vec![text(id.as_str()), text(status.as_str()), text(&why), int(now.0)],
            ),
            Query::new("DELETE FROM erp_connections WHERE id = ?1", vec![text(id.as_str())]),
        ])
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Mappings

#[derive(Debug, Deserialize)]
pub struct MappingRow {
    table: String,
    code: String,
    target: String,
}

/// Both mapping tables of a connection, as [`MappingRow`]s.
pub fn mappings(id: &Token) -> Query {
    Query::new(
        "SELECT 'items' AS \"table\", code, sku AS target FROM erp_items WHERE connection = ?1 UNION ALL \
         SELECT 'warehouses', code, location FROM erp_warehouses WHERE connection = ?1",
        vec![text(id.as_str())],
    )
}

/// A location a connection's warehouse codes map to.
#[derive(Debug, Deserialize)]
pub struct LocationRow {
    location: String,
}

/// The locations `id`'s warehouse codes map to (what it masters), as [`LocationRow`]s: the
/// warehouse table alone, never the item codes (which can be many).
pub fn mastered(id: &Token) -> Query {
    Query::new("SELECT DISTINCT location FROM erp_warehouses WHERE connection = ?1", vec![text(id.as_str())])
}

pub fn mastered_of(rows: Vec<LocationRow>) -> StoreResult<BTreeSet<Location>> {
    rows.into_iter()
        .map(|r| Location::parse(&r.location).map_err(|e| corrupt(format!("erp warehouse location: {e}"))))
        .collect()
}

pub fn mappings_of(rows: Vec<MappingRow>) -> StoreResult<Mappings> {
    let mut m = Mappings::default();
    for r in rows {
        if r.table == "items" {
            m.items.insert(r.code, Sku::parse(&r.target).map_err(|e| corrupt(format!("erp item sku: {e}")))?);
        } else {
            let l = Location::parse(&r.target).map_err(|e| corrupt(format!("erp warehouse location: {e}")))?;
            m.warehouses.insert(r.code, l);
        }
    }
    Ok(m)
}

/// The writes of a mapping change; a mapped code's unmapped rows are forgotten.
pub fn change_mappings(
    id: &Token,
    items: &[(String, Option<Sku>)],
    warehouses: &[(String, Option<Location>)],
) -> Vec<Query> {
    let c = || text(id.as_str());
    let mut out = Vec::new();
    for (code, sku) in items {
        out.push(match sku {
            Some(s) => Query::new(
                "INSERT INTO erp_items (connection, code, sku) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (connection, code) DO UPDATE SET sku = excluded.sku",
                vec![c(), text(code), text(s.as_str())],
            ),
            None => Query::new("DELETE FROM erp_items WHERE connection = ?1 AND code = ?2", vec![c(), text(code)]),
        });
        if sku.is_some() {
            out.push(Query::new(
                "DELETE FROM erp_unmapped WHERE connection = ?1 AND item = ?2 AND missing = 'item'",
                vec![c(), text(code)],
            ));
        }
    }
    for (code, location) in warehouses {
        out.push(match location {
            Some(l) => Query::new(
                "INSERT INTO erp_warehouses (connection, code, location) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (connection, code) DO UPDATE SET location = excluded.location",
                vec![c(), text(code), text(l.as_str())],
            ),
            None => Query::new("DELETE FROM erp_warehouses WHERE connection = ?1 AND code = ?2", vec![c(), text(code)]),
        });
        if location.is_some() {
            out.push(Query::new(
                "DELETE FROM erp_unmapped WHERE connection = ?1 AND warehouse = ?2 AND missing = 'warehouse'",
                vec![c(), text(code)],
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Unmapped rows

pub fn record_unmapped(id: &Token, rows: &[(ErpRow, Unmapped)], t: Millis) -> Vec<Query> {
    rows.iter()
        .map(|(row, why)| {
            let missing = match why {
                Unmapped::Item => "item",
                Unmapped::Warehouse => "warehouse",
            };
            Query::new(
                "INSERT INTO erp_unmapped (connection, item, warehouse, missing, quantity, seen_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (connection, item, warehouse) DO UPDATE SET \
                 missing = excluded.missing, quantity = excluded.quantity, seen_at = excluded.seen_at",
                vec![
                    text(id.as_str()),
                    text(&row.item),
                    text(&row.warehouse),
                    text(missing),
                    int(row.figure.quantity),
                    int(t.0),
                ],
            )
        })
        .collect()
}

#[derive(Debug, Deserialize, serde::Serialize)]
pub struct UnmappedRow {
    pub connection: String,
    pub item: String,
    pub warehouse: String,
    pub missing: String,
    pub quantity: i64,
    pub seen_at: i64,
}

pub fn unmapped(only: Option<&Token>) -> Query {
    let base = "SELECT connection, item, warehouse, missing, quantity, seen_at FROM erp_unmapped";
    match only {
        Some(id) => Query::new(
            format!("{base} WHERE connection = ?1 ORDER BY item, warehouse LIMIT {MAX_UNMAPPED_LISTED}"),
            vec![text(id.as_str())],
        ),
        None => Query::new(format!("{base} ORDER BY connection, item, warehouse LIMIT {MAX_UNMAPPED_LISTED}"), vec![]),
    }
}

// ---------------------------------------------------------------------------------------------
// Polls

/// Takes the connection's poll lease at `t`; changes no row when another run holds it.
pub fn lease(id: &Token, t: Millis) -> Query {
    Query::new(
        "INSERT INTO erp_polls (connection, lease_until) VALUES (?1, ?2) ON CONFLICT (connection) \
         DO UPDATE SET lease_until = excluded.lease_until WHERE erp_polls.lease_until < ?3",
        vec![text(id.as_str()), int(t.0 + LEASE_MS), int(t.0)],
    )
}

#[derive(Debug, Deserialize)]
pub struct StateRow {
    state: String,
}

pub fn poll_state(id: &Token) -> Query {
    Query::new("SELECT state FROM erp_polls WHERE connection = ?1", vec![text(id.as_str())])
}

/// The stored state; a fresh one when none is stored or it is unreadable.
pub fn poll_state_of(row: Option<StateRow>) -> ErpPollState {
    row.and_then(|r| serde_json::from_str(&r.state).ok()).unwrap_or_default()
}

pub fn save_state(id: &Token, state: &ErpPollState) -> StoreResult<Query> {
    Ok(Query::new(
        "UPDATE erp_polls SET state = ?2 WHERE connection = ?1",
        vec![text(id.as_str()), text(&encode(state)?)],
    ))
}

/// Releases the lease and records the run.
pub fn finish(id: &Token, error: Option<&str>, rows_read: usize, lines_applied: usize, t: Millis) -> Query {
    Query::new(
        "UPDATE erp_polls SET lease_until = 0, last_run_at = ?2, last_error = ?3, \
         last_ok_at = CASE WHEN ?3 IS NULL THEN ?2 ELSE last_ok_at END, \
         rows_read = rows_read + ?4, lines_applied = lines_applied + ?5 WHERE connection = ?1",
        vec![text(id.as_str()), int(t.0), opt_text(error), int(rows_read as i64), int(lines_applied as i64)],
    )
}

#[derive(Debug, Deserialize, serde::Serialize)]
pub struct PollRecordRow {
    pub connection: String,
    pub state: String,
    pub last_run_at: Option<i64>,
    pub last_ok_at: Option<i64>,
    pub last_error: Option<String>,
    pub rows_read: i64,
    pub lines_applied: i64,
}

pub fn poll_records() -> Query {
    Query::new(
        "SELECT connection, state, last_run_at, last_ok_at, last_error, rows_read, lines_applied FROM erp_polls \
         ORDER BY connection",
        vec![],
    )
}

// ---------------------------------------------------------------------------------------------
// Who may change on hand

#[derive(Debug, Deserialize)]
pub struct MasterRow {
    id: String,
    local_adjustments: String,
}

/// The enabled connections mapping a warehouse to `location`, as [`MasterRow`]s.
pub fn masters(location: &Location) -> Query {
    Query::new(
        "SELECT DISTINCT c.id, c.local_adjustments FROM erp_warehouses w JOIN erp_connections c ON c.id = w.connection \
         WHERE w.location = ?1 AND c.enabled = 1 ORDER BY c.id",
        vec![text(location.as_str())],
    )
}

pub fn masters_of(rows: Vec<MasterRow>) -> StoreResult<Vec<(Token, LocalAdjustments)>> {
    rows.into_iter()
        .map(|r| {
            let id = Token::parse(&r.id).map_err(|e| corrupt(format!("erp connection id: {e}")))?;
            let mode = LocalAdjustments::parse(&r.local_adjustments)
                .ok_or_else(|| corrupt(format!("erp local_adjustments {:?}", r.local_adjustments)))?;
            Ok((id, mode))
        })
        .collect()
}

/// The insert of a forwarded change; answers its id (`RETURNING id`).
pub fn record_adjustment_request(r: &AdjustmentRequest, t: Millis) -> Query {
    let (op, quantity) = match r.change {
        Requested::Set { on_hand } => ("set", on_hand),
        Requested::Adjust { delta } => ("adjust", delta),
    };
    Query::new(
        "INSERT INTO erp_adjustment_requests (connection, sku, location, op, quantity, reason, requested_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        vec![
            text(r.connection.as_str()),
            text(r.sku.as_str()),
            text(r.location.as_str()),
            text(op),
            int(quantity),
            opt_text(r.reason.as_deref()),
            int(t.0),
        ],
    )
}

#[derive(Debug, Deserialize)]
pub struct IdRow {
    pub id: i64,
}

#[derive(Debug, Deserialize, serde::Serialize)]
pub struct AdjustmentRequestRow {
    pub id: i64,
    pub connection: String,
    pub sku: String,
    pub location: String,
    pub op: String,
    pub quantity: i64,
    pub reason: Option<String>,
    pub requested_at: i64,
    /// `pending`, `sent` or `dead` (migration 0019, `erp::adjustment_out::Status`).
    pub status: String,
    /// Failed delivery attempts so far.
    pub attempts: i64,
    pub last_error: Option<String>,
    /// When the ERP received it.
    pub sent_at: Option<i64>,
}

/// The latest forwarded changes (newest first), of one connection or all.
pub fn adjustment_requests(only: Option<&Token>) -> Query {
    let base =
        "SELECT id, connection, sku, location, op, quantity, reason, requested_at, status, attempts, last_error, \
                sent_at FROM erp_adjustment_requests";
    match only {
        Some(id) => Query::new(
            format!("{base} WHERE connection = ?1 ORDER BY id DESC LIMIT {MAX_UNMAPPED_LISTED}"),
            vec![text(id.as_str())],
        ),
        None => Query::new(format!("{base} ORDER BY id DESC LIMIT {MAX_UNMAPPED_LISTED}"), vec![]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::assert_bound;
    use crate::erp::{Basis, Figure};

    #[test]
    fn every_statement_binds_what_it_names() {
        let id = Token::parse("sap").expect("token");
        let c = Connection {
            id: id.clone(),
            kind: ErpKind::SapB1,
            base_url: "https://b1".into(),
            credentials_secret: None,
            settings: Map::new(),
            local_adjustments: LocalAdjustments::Refuse,
            enabled: true,
        };
        let row = ErpRow {
            item: "A".into(),
            warehouse: "01".into(),
            figure: Figure { basis: Basis::Available, quantity: 1 },
        };
        let mut all = vec![
            connections(),
            connection(&id),
            put_connection(&c, Millis(1)).expect("q"),
            mappings(&id),
            mastered(&id),
        ];
        all.extend(delete_connection(&id, Millis(1)));
        all.extend(change_mappings(
            &id,
            &[("A".into(), Sku::parse("S").ok()), ("B".into(), None)],
            &[("01".into(), Some(Location::main()))],
        ));
        all.extend(record_unmapped(&id, &[(row, Unmapped::Item)], Millis(1)));
        all.extend([unmapped(Some(&id)), unmapped(None), lease(&id, Millis(1)), poll_state(&id)]);
        all.extend([
            save_state(&id, &ErpPollState::default()).expect("q"),
            finish(&id, None, 1, 1, Millis(1)),
            poll_records(),
        ]);
        let request = AdjustmentRequest {
            connection: id.clone(),
            sku: Sku::parse("S").expect("sku"),
            location: Location::main(),
            change: Requested::Adjust { delta: -1 },
            reason: None,
        };
        all.extend([
            masters(&Location::main()),
            record_adjustment_request(&request, Millis(1)),
            adjustment_requests(Some(&id)),
            adjustment_requests(None),
        ]);
        assert_bound(&all);
    }

    #[test]
    fn rows_decode_and_corrupt_rows_are_refused() {
        let row = |kind: &str| ConnectionRow {
            id: "sap".into(),
            kind: kind.into(),
            base_url: "https://b1".into(),
            credentials_secret: Some("S".into()),
            settings: "{\"card_code\":\"C1\"}".into(),
            local_adjustments: "forward".into(),
            enabled: 1,
        };
        let c = row("sap_b1").decode().expect("decodes");
        assert_eq!(c.setting("card_code"), Some("C1"));
        assert_eq!(c.local_adjustments, LocalAdjustments::Forward);
        assert!(row("oracle").decode().is_err());
        let m = mappings_of(vec![
            MappingRow { table: "items".into(), code: "A".into(), target: "TEE-1".into() },
            MappingRow { table: "warehouses".into(), code: "01".into(), target: "main".into() },
        ])
        .expect("mappings");
        assert_eq!(m.items["A"].as_str(), "TEE-1");
        assert_eq!(m.warehouses["01"], Location::main());
        assert!(poll_state_of(Some(StateRow { state: "nonsense".into() })).watermark.is_none());
    }
}
