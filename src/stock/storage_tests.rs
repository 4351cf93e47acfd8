use std::collections::BTreeMap;

use super::*;
use crate::stock::{Cause, Command};
use crate::time::Millis;

fn loc(s: &str) -> Location {
    Location::parse(s).expect("location")
}
fn tok(s: &str) -> Token {
    Token::parse(s).expect("token")
}
fn text(v: &SqlValue) -> String {
    match v {
        SqlValue::Text(s) => s.clone(),
        SqlValue::Int(n) => n.to_string(),
    }
}
fn int(v: &SqlValue) -> i64 {
    match v {
        SqlValue::Int(n) => *n,
        SqlValue::Text(s) => panic!("{s} is not an integer"),
    }
}

/// The object's tables, as far as a load reads them, kept by running a plan's statements.
#[derive(Default)]
struct Tables {
    meta: Option<String>,
    levels: BTreeMap<String, (i64, i64, i64)>,
    holds: BTreeMap<String, String>,
    orders: BTreeMap<(String, String), String>,
    erp: BTreeMap<String, String>,
    journal: Vec<i64>,
    outbox: Vec<i64>,
}

impl Tables {
    fn run(&mut self, plan: &[Statement]) {
        for s in plan {
            let a = &s.args;
            match s.sql.split(" (").next().expect("sql") {
                "INSERT OR REPLACE INTO meta" => self.meta = Some(text(&a[0])),
                "INSERT OR REPLACE INTO levels" => {
                    self.levels.insert(text(&a[0]), (int(&a[1]), int(&a[2]), int(&a[3])));
                }
                "INSERT OR REPLACE INTO holds" => {
                    self.holds.insert(text(&a[0]), text(&a[3]));
                }
                "INSERT OR REPLACE INTO orders" => {
                    self.orders.insert((text(&a[0]), text(&a[1])), text(&a[2]));
                }
                "INSERT OR REPLACE INTO erp" => {
                    self.erp.insert(text(&a[0]), text(&a[1]));
                }
                "INSERT INTO journal" => self.journal.push(int(&a[0])),
                "INSERT OR REPLACE INTO outbox" => self.outbox.push(int(&a[0])),
                "DELETE FROM holds WHERE id = ?" => {
                    self.holds.remove(&text(&a[0]));
                }
                other => panic!("unexpected statement {other}"),
            }
        }
    }

    fn load(&self) -> Result<Snapshot, CorruptRow> {
        let meta = self.meta.clone().map(|body| BodyRow { body });
        let levels: Vec<LevelRow> = self
            .levels
            .iter()
            .map(|(l, &(on_hand, reserved, committed))| LevelRow { location: l.clone(), on_hand, reserved, committed })
            .collect();
        let holds: Vec<BodyRow> = self.holds.values().map(|b| BodyRow { body: b.clone() }).collect();
        let orders: Vec<OrderRow> = self
            .orders
            .iter()
            .map(|((c, o), b)| OrderRow { channel: c.clone(), order_id: o.clone(), body: b.clone() })
            .collect();
        let erp: Vec<ErpRow> = self.erp.iter().map(|(l, b)| ErpRow { location: l.clone(), body: b.clone() }).collect();
        let mut snap = snapshot(meta.as_ref(), &levels, &holds, &orders)?;
        snap.erp = erp_tracks(&erp)?;
        Ok(snap)
    }
}

fn step(l: &mut Ledger, t: &mut Tables, cmd: Command, at: i64) {
    l.apply(cmd, Millis(at)).expect("accepted");
    let changes = l.take_changes();
    t.run(&plan(l, &changes, Some(format!("event {}", l.version()))).expect("plan"));
}

#[test]
fn a_plan_run_and_loaded_back_restores_the_same_ledger() {
    let (mut l, mut t) = (Ledger::new(), Tables::default());
    let set = Command::Set { location: loc("main"), on_hand: 5, expected_version: None, cause: Cause::default() };
    step(&mut l, &mut t, set, 1);
    let reserve = |id: &str| Command::Reserve {
        hold: tok(id),
        lines: vec![(loc("main"), 2)],
        expires_at: Millis(1_000),
        channel: None,
        reference: None,
    };
    step(&mut l, &mut t, reserve("r1"), 2);
    step(&mut l, &mut t, reserve("r2"), 3);
    step(&mut l, &mut t, Command::Release { hold: tok("r1") }, 4);

    let restored = Ledger::restore(t.load().expect("loads"));
    assert_eq!(restored.snapshot(), l.snapshot());
    assert_eq!(restored.totals(), l.totals());
    assert_eq!(t.journal.len() as u64, l.last_seq(), "every journal entry is written once");
    assert_eq!(t.outbox.last().copied(), Some(l.version() as i64), "the outbox event carries the version");
}

#[test]
fn erp_tracks_are_written_and_loaded_back() {
    use crate::erp::{AsOf, Basis, Figure, Seen, SnapshotLine};
    use crate::stock::{OrderKey, SaleLine};
    let (mut l, mut t) = (Ledger::new(), Tables::default());
    let line = |seq: u64, quantity: i64| {
        Box::new(SnapshotLine {
            snapshot: tok(&format!("snap-{seq}")),
            location: loc("main"),
            figure: Figure { basis: Basis::Available, quantity },
            as_of: AsOf { at: None, sequence: Some(seq) },
            seen: Seen::default(),
        })
    };
    step(&mut l, &mut t, Command::ErpSnapshot { line: line(1, 10) }, 1);
    let order = OrderKey { channel: tok("web"), order_id: tok("1") };
    let sale = SaleLine { line_id: tok("a"), location: loc("main"), qty: 2 };
    step(&mut l, &mut t, Command::Sale { order, lines: vec![sale] }, 2);
    assert_eq!(l.erp_track(&loc("main")).map(|t| t.pending.len()), Some(1), "the sale waits for the ERP");

    let restored = Ledger::restore(t.load().expect("loads"));
    assert_eq!(restored.snapshot(), l.snapshot());
    assert!(erp_tracks(&[ErpRow { location: "main".into(), body: "{".into() }]).is_err());
}

#[test]
fn no_changes_write_nothing_and_no_event_writes_no_outbox() {
    let l = Ledger::new();
    assert_eq!(plan(&l, &Changes::default(), None), Ok(Vec::new()));
    let meta_only = Changes { meta: true, ..Changes::default() };
    let p = plan(&l, &meta_only, None).expect("plan");
    assert_eq!(p.len(), 1);
    assert!(p[0].sql.contains("INTO meta"));
}

#[test]
fn an_empty_store_is_a_new_ledger_and_a_corrupt_row_is_refused() {
    assert_eq!(snapshot(None, &[], &[], &[]), Ok(Snapshot::default()));
    let bad_level = LevelRow { location: String::new(), on_hand: 1, reserved: 0, committed: 0 };
    assert!(snapshot(None, &[bad_level], &[], &[]).is_err());
    let bad_meta = BodyRow { body: "not json".into() };
    assert!(snapshot(Some(&bad_meta), &[], &[], &[]).is_err());
    let bad_order = OrderRow { channel: "c".into(), order_id: "o".into(), body: "{}".into() };
    assert!(snapshot(None, &[], &[], &[bad_order]).is_err());
}
