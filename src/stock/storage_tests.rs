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
    erp_pending: BTreeMap<(String, i64), String>,
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
                "INSERT OR REPLACE INTO erp_pending" => {
                    self.erp_pending.insert((text(&a[0]), int(&a[1])), text(&a[2]));
                }
                "DELETE FROM erp_pending WHERE location = ? AND seq = ?" => {
                    self.erp_pending.remove(&(text(&a[0]), int(&a[1])));
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
        let mut snap = snapshot(meta.as_ref(), &levels, &holds, &orders)?;
        snap.erp = self.erp_loaded()?.tracks;
        Ok(snap)
    }

    fn erp_loaded(&self) -> Result<ErpLoaded, CorruptRow> {
        let erp: Vec<ErpRow> = self.erp.iter().map(|(l, b)| ErpRow { location: l.clone(), body: b.clone() }).collect();
        let documents: Vec<ErpDocumentRow> = self
            .erp_pending
            .iter()
            .map(|((l, seq), b)| ErpDocumentRow { location: l.clone(), seq: *seq, body: b.clone() })
            .collect();
        erp_tracks(&erp, &documents)
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
    assert_eq!(l.erp_track(&loc("main")).map(|t| t.pending().len()), Some(1), "the sale waits for the ERP");

    assert_eq!(t.erp_pending.len(), 1, "the sale is a row of its own");
    assert!(!t.erp["main"].contains("\"pending\""), "the watermark row holds no document");

    let restored = Ledger::restore(t.load().expect("loads"));
    assert_eq!(restored.snapshot(), l.snapshot());
    assert!(erp_tracks(&[ErpRow { location: "main".into(), body: "{".into() }], &[]).is_err());
    let orphan =
        ErpDocumentRow { location: "east".into(), seq: 0, body: t.erp_pending.values().next().cloned().expect("row") };
    assert!(erp_tracks(&[], &[orphan]).is_err(), "a document without its watermark row is refused");

    // The ERP shows it has the sale: its row goes, the watermark stays.
    let mut seen = line(2, 8);
    seen.seen = Seen { through: Some(Millis(2)), orders: vec![] };
    step(&mut l, &mut t, Command::ErpSnapshot { line: seen }, 3);
    assert!(t.erp_pending.is_empty());
    assert_eq!(Ledger::restore(t.load().expect("loads")).snapshot(), l.snapshot());
}

#[test]
fn a_track_of_the_former_layout_is_migrated_to_one_row_per_document() {
    use crate::erp::{Document, Pending};
    use crate::stock::OrderKey;
    let pending = |id: &str| Pending {
        document: Document::Cancel { order: OrderKey { channel: tok("web"), order_id: tok(id) } },
        at: Millis(1),
        on_hand: 0,
        committed: -1,
        received: None,
    };
    let former = serde_json::json!({ "applied": null, "pending": [pending("1"), pending("2")] }).to_string();
    let mut t = Tables::default();
    t.erp.insert("main".into(), former);
    let loaded = t.erp_loaded().expect("loads");
    let track = loaded.tracks[&loc("main")].clone();
    assert_eq!(track.pending().len(), 2);
    t.run(&loaded.migrate);
    assert_eq!(t.erp_pending.len(), 2);
    let again = t.erp_loaded().expect("loads");
    assert!(again.migrate.is_empty(), "migrated once");
    assert_eq!(again.tracks[&loc("main")], track);
}

mod erp_rows {
    //! Property: whatever order documents and snapshots a location sees, what the storage plan
    //! writes loads back into the same ledger, and no statement grows with the documents kept.
    use super::*;
    use crate::erp::{AsOf, Basis, Figure, Seen, SeenOrder, SnapshotLine};
    use crate::stock::{OrderKey, SaleLine};
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Act {
        Sale(u8, u8, i64),
        Cancel(u8),
        Received(u8),
        Snapshot(u8, Vec<u8>, bool),
    }

    fn act() -> impl Strategy<Value = Act> {
        prop_oneof![
            4 => (0..20u8, 0..2u8, 1..5i64).prop_map(|(o, l, q)| Act::Sale(o, l, q)),
            1 => (0..20u8).prop_map(Act::Cancel),
            1 => (0..20u8).prop_map(Act::Received),
            2 => (0..2u8, proptest::collection::vec(0..20u8, 0..5), any::<bool>())
                .prop_map(|(l, s, t)| Act::Snapshot(l, s, t)),
        ]
    }

    fn key(o: u8) -> OrderKey {
        OrderKey { channel: tok("web"), order_id: tok(&format!("o{o}")) }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn what_is_written_loads_back(acts in proptest::collection::vec(act(), 1..60)) {
            let locs = [loc("main"), loc("east")];
            let (mut l, mut t) = (Ledger::new(), Tables::default());
            let mut seq = 0u64;
            for (i, a) in acts.iter().enumerate() {
                let now = Millis(10 + i as i64);
                let cmd = match a {
                    Act::Sale(o, at, q) => Command::Sale {
                        order: key(*o),
                        lines: vec![SaleLine { line_id: tok(&format!("l{i}")), location: locs[*at as usize].clone(), qty: *q }],
                    },
                    Act::Cancel(o) => Command::Cancel { order: key(*o), reason: None },
                    Act::Received(o) => Command::ErpReceived { order: key(*o), through: now, at: now, locations: vec![] },
                    Act::Snapshot(at, seen, by_time) => {
                        seq += 1;
                        let orders = seen.iter().map(|o| SeenOrder {
                            channel: tok("web"), order_id: tok(&format!("o{o}")), lines: None, cancelled: false, shipments: vec![],
                        }).collect();
                        Command::ErpSnapshot { line: Box::new(SnapshotLine {
                            snapshot: tok(&format!("s{seq}")),
                            location: locs[*at as usize].clone(),
                            figure: Figure { basis: Basis::Available, quantity: 50 },
                            as_of: AsOf { at: by_time.then_some(now), sequence: Some(seq) },
                            seen: Seen { through: None, orders },
                        })}
                    }
                };
                if l.apply(cmd, now).is_err() {
                    continue;
                }
                let changes = l.take_changes();
                let statements = plan(&l, &changes, None).expect("plan");
                for s in &statements {
                    let size: usize = s.args.iter().map(|a| text(a).len()).sum();
                    prop_assert!(size < 2_000, "a statement of {} bytes: {}", size, s.sql);
                }
                t.run(&statements);
                let restored = Ledger::restore(t.load().expect("loads"));
                prop_assert_eq!(restored.snapshot(), l.snapshot());
            }
            let kept: usize = locs.iter().filter_map(|x| l.erp_track(x)).map(|x| x.pending().len()).sum();
            prop_assert_eq!(t.erp_pending.len(), kept, "one row per document kept, none left behind");
        }
    }
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
