//! A SKU object's SQLite storage as the simulation keeps it: the rows `stock::storage::plan`
//! writes (`INSERT OR REPLACE` / `DELETE` by key), and the read back into a [`Ledger`] through
//! `stock::storage::snapshot` and [`Ledger::restore`], exactly as `edge::sku_object::load` does.
//! Writing the planned statements and reading them back is what a restart exercises: a change the
//! ledger did not mark in its `Changes` is lost on restart, and the simulation sees it.

use std::collections::BTreeMap;

use stockedge::stock::storage::{self, BodyRow, LevelRow, OrderRow, SqlValue, Statement};
use stockedge::stock::Ledger;

/// The tables the ledger's persistence plan writes, each a map from the row's key to its values.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    tables: BTreeMap<&'static str, BTreeMap<String, Vec<SqlValue>>>,
}

fn text(v: &SqlValue) -> String {
    match v {
        SqlValue::Int(n) => n.to_string(),
        SqlValue::Text(t) => t.clone(),
    }
}

fn int(v: Option<&SqlValue>) -> i64 {
    match v {
        Some(SqlValue::Int(n)) => *n,
        _ => 0,
    }
}

/// The table a statement writes and whether it deletes.
fn target(sql: &'static str) -> (&'static str, bool) {
    let delete = sql.starts_with("DELETE");
    let rest = sql.split_once(if delete { "FROM " } else { "INTO " }).map_or("", |(_, r)| r);
    let table = rest.split([' ', '(']).next().unwrap_or("");
    // `&'static str` of the table name: the statement's own text.
    let start = sql.len() - rest.len();
    (&sql[start..start + table.len()], delete)
}

impl Rows {
    /// Runs one planned statement.
    pub fn exec(&mut self, s: &Statement) {
        let (table, delete) = target(s.sql);
        let key = match table {
            "meta" => "ledger".to_string(),
            "orders" | "erp_pending" => format!("{}\u{0}{}", text(&s.args[0]), text(&s.args[1])),
            _ => text(&s.args[0]),
        };
        let t = self.tables.entry(table).or_default();
        if delete {
            t.remove(&key);
        } else {
            t.insert(key, s.args.clone());
        }
    }

    /// The ledger as a restarted object loads it.
    pub fn load(&self) -> Ledger {
        let empty = BTreeMap::new();
        let table = |name: &str| self.tables.get(name).unwrap_or(&empty);
        let meta = table("meta").get("ledger").map(|v| BodyRow { body: text(&v[0]) });
        let levels: Vec<LevelRow> = table("levels")
            .values()
            .map(|v| LevelRow {
                location: text(&v[0]),
                on_hand: int(v.get(1)),
                reserved: int(v.get(2)),
                committed: int(v.get(3)),
            })
            .collect();
        let holds: Vec<BodyRow> = table("holds").values().map(|v| BodyRow { body: text(&v[3]) }).collect();
        let orders: Vec<OrderRow> = table("orders")
            .values()
            .map(|v| OrderRow { channel: text(&v[0]), order_id: text(&v[1]), body: text(&v[2]) })
            .collect();
        let snap = storage::snapshot(meta.as_ref(), &levels, &holds, &orders).expect("stored rows decode");
        Ledger::restore(snap)
    }

    /// The stored levels row of each location: (location, on_hand, reserved, committed).
    pub fn levels(&self) -> Vec<(String, i64, i64, i64)> {
        self.tables
            .get("levels")
            .map(|t| t.values().map(|v| (text(&v[0]), int(v.get(1)), int(v.get(2)), int(v.get(3)))).collect())
            .unwrap_or_default()
    }
}
