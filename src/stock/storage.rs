//! How one SKU's ledger is kept in its Durable Object's SQLite storage, as a pure persistence
//! plan: the schema, the rows read back into a [`Snapshot`] ([`snapshot`]), and the statements
//! that write what a call changed ([`plan`]). The shell (`edge::sku_object`) only runs them.
//!
//! Tables: `meta` (the ledger's version, sequence and backorder allowance under `ledger`, the
//! object's SKU under `sku`), `levels` (one row per location), `holds` and `orders` (JSON
//! bodies), `journal` (append-only), `idempotency` (keyed replies) and `outbox` (events not yet
//! on the queue, written with the change they announce); for the single-SKU reservations this
//! ledger keeps (`cart::single`), `reservations` (the record, JSON, with its deadline for
//! pruning) and `registrations` (order desk registrations of committed ones not yet confirmed,
//! written with the commit, deleted once the desk answered); and the SKU's bundle definition
//! under `meta.bundle` (JSON components; absent: not a bundle); and, for the locations under an
//! ERP, `erp` (one row per location: its watermark `erp::track::Head` as JSON — the snapshot last
//! applied and the next document number) and `erp_pending` (one row per order document the ERP
//! has not been shown to have, keyed by location and number: a change writes the documents it
//! adds or marks and deletes the ones a snapshot showed seen, never the whole track — a track may
//! hold 10,000 documents, far above a Durable Object row's 2 MB).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::erp::track::Head;
use crate::erp::{Pending, Track};

use super::{Changes, Hold, Ledger, Levels, Location, Order, OrderKey, Snapshot, Token};

/// The tables, created when missing on every load (statements separated by `;`).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS levels (location TEXT PRIMARY KEY, on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, committed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS holds (id TEXT PRIMARY KEY, status TEXT NOT NULL, expires_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (channel TEXT NOT NULL, order_id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (channel, order_id));
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (version INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reservations (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS registrations (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS erp (location TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS erp_pending (location TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (location, seq));
";

/// The reads of a load, each answering the row type named.
pub const READ_META: &str = "SELECT v AS body FROM meta WHERE k = 'ledger'";
pub const READ_LEVELS: &str = "SELECT location, on_hand, reserved, committed FROM levels";
pub const READ_HOLDS: &str = "SELECT body FROM holds";
pub const READ_ORDERS: &str = "SELECT channel, order_id, body FROM orders";
/// The ERP watermarks, answering [`ErpRow`]s.
pub const READ_ERP: &str = "SELECT location, body FROM erp";
/// The ERP pending documents, answering [`ErpDocumentRow`]s.
pub const READ_ERP_PENDING: &str = "SELECT location, seq, body FROM erp_pending";
/// The bundle definition (`meta.bundle`), answering a [`BodyRow`].
pub const READ_BUNDLE: &str = "SELECT v AS body FROM meta WHERE k = 'bundle'";
/// One reservation record by id (bound: the id), answering a [`BodyRow`].
pub const READ_RESERVATION: &str = "SELECT body FROM reservations WHERE id = ?";
/// Order desk registrations still to carry out (bound: how many), answering [`KeyedRow`]s.
pub const READ_REGISTRATIONS: &str = "SELECT id, body FROM registrations ORDER BY id LIMIT ?";
/// Forgets a registration the desk confirmed (bound: its id).
pub const DELETE_REGISTRATION: &str = "DELETE FROM registrations WHERE id = ?";
/// Forgets reservation records whose deadline is older than the bound cut-off (the retention of
/// ended holds, `HOLD_RETENTION_MS`).
pub const PRUNE_RESERVATIONS: &str = "DELETE FROM reservations WHERE expires_at < ?";

/// A row of an id and a JSON `body`.
#[derive(Deserialize, Debug)]
pub struct KeyedRow {
    pub id: String,
    pub body: String,
}

/// The ledger's counters, stored as JSON under `meta.ledger`.
#[derive(Serialize, Deserialize, Default, Debug, PartialEq, Eq)]
pub struct Meta {
    pub version: u64,
    pub last_seq: u64,
    pub backorder_limit: i64,
}

/// A `levels` row.
#[derive(Deserialize, Debug)]
pub struct LevelRow {
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub committed: i64,
}

/// An `erp` row.
#[derive(Deserialize, Debug)]
pub struct ErpRow {
    pub location: String,
    pub body: String,
}

/// An `erp_pending` row.
#[derive(Deserialize, Debug)]
pub struct ErpDocumentRow {
    pub location: String,
    pub seq: i64,
    pub body: String,
}

/// A row whose one column is a JSON `body` (or a text value read `AS body`).
#[derive(Deserialize, Debug)]
pub struct BodyRow {
    pub body: String,
}

/// An `orders` row.
#[derive(Deserialize, Debug)]
pub struct OrderRow {
    pub channel: String,
    pub order_id: String,
    pub body: String,
}

/// A stored row that does not decode: the object's storage is not what this code wrote.
#[derive(Debug, PartialEq, Eq)]
pub struct CorruptRow(pub String);

impl std::fmt::Display for CorruptRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt row: {}", self.0)
    }
}

fn decode<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, CorruptRow> {
    serde_json::from_str(s).map_err(|e| CorruptRow(e.to_string()))
}

fn encode<T: Serialize>(v: &T) -> Result<String, CorruptRow> {
    serde_json::to_string(v).map_err(|e| CorruptRow(e.to_string()))
}

/// The ledger's state from its stored rows (`meta`: the `meta.ledger` row, if any).
pub fn snapshot(
    meta: Option<&BodyRow>,
    levels: &[LevelRow],
    holds: &[BodyRow],
    orders: &[OrderRow],
) -> Result<Snapshot, CorruptRow> {
    let meta: Meta = meta.map(|m| decode(&m.body)).transpose()?.unwrap_or_default();
    let mut snap = Snapshot {
        backorder_limit: meta.backorder_limit,
        version: meta.version,
        last_seq: meta.last_seq,
        ..Snapshot::default()
    };
    for r in levels {
        let loc = Location::parse(&r.location).map_err(|e| CorruptRow(e.to_string()))?;
        snap.levels.insert(loc, Levels { on_hand: r.on_hand, reserved: r.reserved, committed: r.committed });
    }
    for r in holds {
        snap.holds.push(decode::<Hold>(&r.body)?);
    }
    let token = |s: &str| Token::parse(s).map_err(|e| CorruptRow(e.to_string()));
    for r in orders {
        let key = OrderKey { channel: token(&r.channel)?, order_id: token(&r.order_id)? };
        snap.orders.push((key, decode::<Order>(&r.body)?));
    }
    Ok(snap)
}

/// The ERP tracks as loaded, and the statements that bring rows of the former layout (a
/// location's documents inside its `erp` row) to one row per document. The shell runs
/// `migrate` (empty once every row is in the current layout) before serving a call.
#[derive(Debug, Default)]
pub struct ErpLoaded {
    pub tracks: BTreeMap<Location, Track>,
    pub migrate: Vec<Statement>,
}

/// The ERP tracks from their stored watermark and document rows (for [`Snapshot::erp`]).
pub fn erp_tracks(heads: &[ErpRow], documents: &[ErpDocumentRow]) -> Result<ErpLoaded, CorruptRow> {
    let location = |s: &str| Location::parse(s).map_err(|e| CorruptRow(e.to_string()));
    let mut rows: BTreeMap<Location, Vec<(u64, Pending)>> = BTreeMap::new();
    for r in documents {
        let seq = u64::try_from(r.seq).map_err(|e| CorruptRow(e.to_string()))?;
        rows.entry(location(&r.location)?).or_default().push((seq, decode::<Pending>(&r.body)?));
    }
    let mut out = ErpLoaded::default();
    for r in heads {
        let loc = location(&r.location)?;
        let head = decode::<Head>(&r.body)?;
        let former = head.pending.len();
        let track = Track::from_rows(head, rows.remove(&loc).unwrap_or_default());
        if former > 0 {
            let first = track.next - former as u64;
            for (seq, p) in track.pending().range(first..) {
                out.migrate.push(erp_document_write(&loc, *seq, p)?);
            }
            out.migrate.push(erp_head_write(&loc, &track)?);
        }
        out.tracks.insert(loc, track);
    }
    if let Some(loc) = rows.keys().next() {
        return Err(CorruptRow(format!("ERP documents at {loc} without its watermark row")));
    }
    Ok(out)
}

fn erp_head_write(loc: &Location, t: &Track) -> Result<Statement, CorruptRow> {
    let sql = "INSERT OR REPLACE INTO erp (location, body) VALUES (?, ?)";
    Ok(write(sql, vec![loc.as_str().into(), encode(&t.head())?.into()]))
}

fn erp_document_write(loc: &Location, seq: u64, p: &Pending) -> Result<Statement, CorruptRow> {
    let sql = "INSERT OR REPLACE INTO erp_pending (location, seq, body) VALUES (?, ?, ?)";
    Ok(write(sql, vec![loc.as_str().into(), seq.into(), encode(p)?.into()]))
}

/// A bound value of a [`Statement`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqlValue {
    Int(i64),
    Text(String),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}
impl From<u64> for SqlValue {
    /// Versions and sequence numbers stay far below 2^63.
    fn from(v: u64) -> Self {
        SqlValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_owned())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

/// One write: SQL with its bound values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sql: &'static str,
    pub args: Vec<SqlValue>,
}

fn write(sql: &'static str, args: Vec<SqlValue>) -> Statement {
    Statement { sql, args }
}

/// The statements that write what `changes` says moved in `ledger`, in order: the outbox event
/// that announces the change (`outbox`, the JSON of the event, when the change has entries),
/// the counters, levels, holds (kept or removed), orders, ERP watermarks and documents (written or
/// deleted), and the new journal entries. Run with
/// no `await` after the decision, they commit atomically with it.
pub fn plan(ledger: &Ledger, changes: &Changes, outbox: Option<String>) -> Result<Vec<Statement>, CorruptRow> {
    let mut out = Vec::new();
    if let Some(event) = outbox {
        let sql = "INSERT OR REPLACE INTO outbox (version, body) VALUES (?, ?)";
        out.push(write(sql, vec![ledger.version().into(), event.into()]));
    }
    if changes.meta {
        let meta =
            Meta { version: ledger.version(), last_seq: ledger.last_seq(), backorder_limit: ledger.backorder_limit() };
        out.push(write("INSERT OR REPLACE INTO meta (k, v) VALUES ('ledger', ?)", vec![encode(&meta)?.into()]));
    }
    for loc in &changes.levels {
        let l = ledger.level(loc);
        let sql = "INSERT OR REPLACE INTO levels (location, on_hand, reserved, committed) VALUES (?, ?, ?, ?)";
        out.push(write(sql, vec![loc.as_str().into(), l.on_hand.into(), l.reserved.into(), l.committed.into()]));
    }
    for (id, h) in changes.holds.iter().filter_map(|id| Some((id, ledger.hold(id)?))) {
        let sql = "INSERT OR REPLACE INTO holds (id, status, expires_at, body) VALUES (?, ?, ?, ?)";
        out.push(write(
            sql,
            vec![id.as_str().into(), h.status.as_str().into(), h.expires_at.0.into(), encode(h)?.into()],
        ));
    }
    for id in &changes.removed_holds {
        out.push(write("DELETE FROM holds WHERE id = ?", vec![id.as_str().into()]));
    }
    for (key, o) in changes.orders.iter().filter_map(|k| Some((k, ledger.order(k)?))) {
        let sql = "INSERT OR REPLACE INTO orders (channel, order_id, body) VALUES (?, ?, ?)";
        out.push(write(sql, vec![key.channel.as_str().into(), key.order_id.as_str().into(), encode(o)?.into()]));
    }
    for (loc, t) in changes.erp.iter().filter_map(|l| Some((l, ledger.erp_track(l)?))) {
        out.push(erp_head_write(loc, t)?);
    }
    for (loc, seq) in &changes.erp_documents {
        if let Some(p) = ledger.erp_track(loc).and_then(|t| t.pending().get(seq)) {
            out.push(erp_document_write(loc, *seq, p)?);
        }
    }
    for (loc, seq) in &changes.erp_forgotten {
        let sql = "DELETE FROM erp_pending WHERE location = ? AND seq = ?";
        out.push(write(sql, vec![loc.as_str().into(), (*seq).into()]));
    }
    for e in &changes.entries {
        let sql = "INSERT INTO journal (seq, version, body) VALUES (?, ?, ?)";
        out.push(write(sql, vec![e.seq.into(), e.version.into(), encode(e)?.into()]));
    }
    Ok(out)
}

/// Writes a reservation record (`body`: its JSON) under `id`, with its deadline.
pub fn reservation_write(id: &Token, expires_at: crate::time::Millis, body: String) -> Statement {
    let sql = "INSERT OR REPLACE INTO reservations (id, expires_at, body) VALUES (?, ?, ?)";
    write(sql, vec![id.as_str().into(), expires_at.0.into(), body.into()])
}

/// Writes an order desk registration (`body`: the call's JSON) to carry out, under the
/// reservation's `id` (a repeat replaces it).
pub fn registration_write(id: &Token, body: String) -> Statement {
    write("INSERT OR REPLACE INTO registrations (id, body) VALUES (?, ?)", vec![id.as_str().into(), body.into()])
}

/// Writes the bundle definition (`components`: their JSON), or removes it (`None`: not a bundle).
pub fn bundle_write(components: Option<String>) -> Statement {
    match components {
        Some(json) => write("INSERT OR REPLACE INTO meta (k, v) VALUES ('bundle', ?)", vec![json.into()]),
        None => write("DELETE FROM meta WHERE k = 'bundle'", Vec::new()),
    }
}

#[cfg(test)]
#[path = "storage_tests.rs"]
mod tests;
