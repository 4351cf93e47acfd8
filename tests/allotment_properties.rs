//! Property tests of lending in the SKU ledger (`stock::lend`, `Command::{Lend, Report,
//! CommitLent}`), mixed with the commands that compete for the same units (reserve, sale,
//! adjust) and a clock that ends leases. After every command: the full invariant sweep, lending
//! never grows the shortfall, a refused command changes nothing; at the end the journal replays
//! to the levels and version, and restoring a snapshot gives the same ledger.
//!
//! 1,000 sequences of 1..=40 steps (`PROPTEST_CASES=N` for more).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use stockedge::stock::{
    invariants, journal, Cause, Command, HoldStatus, Ledger, Location, OrderKey, Report, SaleLine, Token,
};
use stockedge::time::Millis;

const LENDS: [&str; 3] = ["lend.0.a.1", "lend.1.a.1", "lend.0.a.2"];
const HOLDS: [&str; 4] = ["hot.0.h1", "hot.0.h2", "hot.1.h3", "res_h4"];

fn tok(s: &str) -> Token {
    Token::parse(s).expect("token")
}

#[derive(Clone, Debug)]
enum Step {
    Lend { lend: usize, qty: i64, lease: i64 },
    Report { lend: usize, returned: i64, held: i64 },
    CommitLent { lend: usize, hold: usize, qty: i64, order: u8 },
    Reserve { hold: usize, qty: i64 },
    Sale { qty: i64, order: u8 },
    Adjust { delta: i64 },
    Tick { ms: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..LENDS.len(), 1..8i64, 1..30i64).prop_map(|(lend, qty, lease)| Step::Lend { lend, qty, lease }),
        (0..LENDS.len(), 0..10i64, 0..6i64).prop_map(|(lend, returned, held)| Step::Report { lend, returned, held }),
        (0..LENDS.len(), 0..HOLDS.len(), 1..4i64, 0..3u8).prop_map(|(lend, hold, qty, order)| Step::CommitLent {
            lend,
            hold,
            qty,
            order
        }),
        (0..HOLDS.len(), 1..4i64).prop_map(|(hold, qty)| Step::Reserve { hold, qty }),
        (1..5i64, 0..3u8).prop_map(|(qty, order)| Step::Sale { qty, order }),
        (-3..6i64).prop_filter("not zero", |d| *d != 0).prop_map(|delta| Step::Adjust { delta }),
        (0..20_000i64).prop_map(|ms| Step::Tick { ms }),
    ]
}

fn command(s: &Step, now: Millis) -> Option<Command> {
    let main = Location::main();
    Some(match s {
        Step::Lend { lend, qty, lease } => Command::Lend {
            lend: tok(LENDS[*lend]),
            allotment: (*lend % 2) as u32,
            location: main,
            qty: *qty,
            expires_at: now.plus_seconds(*lease),
        },
        Step::Report { lend, returned, held } => {
            Command::Report { report: Report { lend: tok(LENDS[*lend]), returned: *returned, held: *held } }
        }
        Step::CommitLent { lend, hold, qty, order } => Command::CommitLent {
            lend: tok(LENDS[*lend]),
            hold: tok(HOLDS[*hold]),
            qty: *qty,
            order: OrderKey { channel: tok("direct"), order_id: tok(&format!("o{order}")) },
            channel: None,
            reference: None,
        },
        Step::Reserve { hold, qty } => Command::Reserve {
            hold: tok(HOLDS[*hold]),
            lines: vec![(main, *qty)],
            expires_at: now.plus_seconds(10),
            channel: None,
            reference: None,
        },
        Step::Sale { qty, order } => Command::Sale {
            order: OrderKey { channel: tok("amazon"), order_id: tok(&format!("m{order}")) },
            lines: vec![SaleLine { line_id: tok("l1"), location: main, qty: *qty }],
        },
        Step::Adjust { delta } => Command::Adjust {
            location: main,
            delta: *delta,
            cause: Cause { reason: Some("received".into()), ..Cause::default() },
        },
        Step::Tick { .. } => return None,
    })
}

fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let mut l = Ledger::new();
    let mut now = Millis(1_000);
    let cause = Cause::default();
    l.apply(Command::Set { location: Location::main(), on_hand: 12, expected_version: None, cause }, now)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut entries = l.take_changes().entries;
    for s in steps {
        if let Step::Tick { ms } = s {
            now = Millis(now.0 + ms);
            l.expire_due(now);
        } else if let Some(cmd) = command(s, now) {
            let lending = matches!(cmd, Command::Lend { .. } | Command::Report { .. } | Command::CommitLent { .. });
            l.expire_due(now);
            let before = l.clone();
            let shortfall = l.totals().shortfall();
            match l.apply(cmd, now) {
                Ok(_) if lending => prop_assert!(l.totals().shortfall() <= shortfall, "lending grew the shortfall"),
                Ok(_) => {}
                Err(_) => {
                    prop_assert_eq!(l.snapshot(), before.snapshot(), "a refused command changed the ledger");
                }
            }
        }
        invariants::check(&l).map_err(TestCaseError::fail)?;
        for (h, lend) in l.live_lends() {
            prop_assert!(h.expires_at > now, "a lend outlived its lease");
            prop_assert_eq!(h.total(), lend.remaining());
        }
        for h in l.holds().filter(|h| h.status == HoldStatus::Committed && h.lend.is_none()) {
            prop_assert!(h.order.is_some());
        }
        entries.extend(l.take_changes().entries);
    }
    let replayed = journal::replay(&entries).map_err(TestCaseError::fail)?;
    prop_assert_eq!(&replayed.levels, l.levels());
    prop_assert_eq!(replayed.version, l.version());
    let again = Ledger::restore(l.snapshot());
    prop_assert_eq!(again.snapshot(), l.snapshot());
    prop_assert_eq!(again.next_deadline(), l.next_deadline());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn lending_keeps_every_invariant(steps in prop::collection::vec(step(), 1..40)) {
        run(&steps)?;
    }
}

/// A commit of lent units repeats as a no-op and then counts once.
#[test]
fn a_lent_commit_counts_once() {
    let mut l = Ledger::new();
    let now = Millis(1);
    l.apply(
        Command::Set { location: Location::main(), on_hand: 5, expected_version: None, cause: Cause::default() },
        now,
    )
    .expect("set");
    let lend = Command::Lend {
        lend: tok(LENDS[0]),
        allotment: 0,
        location: Location::main(),
        qty: 9,
        expires_at: Millis(100),
    };
    l.apply(lend, now).expect("lend");
    assert_eq!(l.level(&Location::main()).reserved, 5, "only free units are lent");
    let commit = || Command::CommitLent {
        lend: tok(LENDS[0]),
        hold: tok(HOLDS[0]),
        qty: 2,
        order: OrderKey { channel: tok("direct"), order_id: tok("o1") },
        channel: None,
        reference: None,
    };
    l.apply(commit(), now).expect("commit");
    l.apply(commit(), now).expect("repeat");
    let lv = l.level(&Location::main());
    assert_eq!((lv.reserved, lv.committed), (3, 2));
    // A report that repeats an old `returned` moves nothing; a larger one moves the difference.
    let report = |returned| Command::Report { report: Report { lend: tok(LENDS[0]), returned, held: 0 } };
    l.apply(report(2), now).expect("report");
    l.apply(report(2), now).expect("again");
    l.apply(report(1), now).expect("older");
    assert_eq!(l.level(&Location::main()).reserved, 1);
    l.expire_due(Millis(100));
    assert_eq!(l.level(&Location::main()).reserved, 0, "the lease ended");
    invariants::check(&l).expect("invariants");
}
