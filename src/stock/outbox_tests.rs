use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

/// Rows per batch in the model (the shell reads `QUEUE_SEND_BATCH`); small, so drains take
/// several batches.
const BATCH: usize = 3;

/// One object: its outbox table, its pump, the sends awaiting the queue's answer, and what the
/// queue delivered. Every step is one synchronous turn of the object; awaits happen between steps.
#[derive(Default)]
struct Object {
    table: BTreeSet<u64>,
    version: u64,
    pump: OutboxPump,
    now: i64,
    /// Sends awaiting the queue: the batch and the rows it carries.
    awaiting: Vec<(Batch, Vec<u64>)>,
    delivered: Vec<u64>,
}

impl Object {
    /// What the shell does after a change or an alarm: read the unsent rows, maybe start a send.
    fn try_send(&mut self) {
        let rows: Vec<u64> = self.table.iter().copied().take(BATCH).collect();
        if let Some(b) = self.pump.next(&rows, Millis(self.now)) {
            self.awaiting.push((b, rows));
        }
    }

    /// A call that commits a change (its outbox row written in the same turn), then flushes.
    fn change(&mut self) {
        self.version += 1;
        self.table.insert(self.version);
        self.try_send();
    }

    /// The queue answers the `i`-th send awaiting (modulo how many there are).
    fn answer(&mut self, i: usize, ok: bool) {
        if self.awaiting.is_empty() {
            return;
        }
        let (b, rows) = self.awaiting.remove(i % self.awaiting.len());
        if !ok {
            self.pump.failed(b);
            return;
        }
        self.delivered.extend(&rows);
        match self.pump.sent(b) {
            Settled::Delete { through } => {
                self.table.retain(|v| *v > through);
                self.try_send();
            }
            Settled::DeleteStale { through } => self.table.retain(|v| *v > through),
        }
    }

    /// Every send answered successfully and the retry alarm run until nothing is left.
    fn drain(&mut self) {
        for _ in 0..10_000 {
            if self.awaiting.is_empty() {
                self.try_send();
                if self.awaiting.is_empty() {
                    return;
                }
            }
            self.answer(0, true);
        }
        panic!("the outbox did not drain");
    }
}

#[derive(Clone, Debug)]
enum Step {
    Change,
    Answer(usize, bool),
    Alarm,
    Wait(i64),
}

fn steps(max_wait: i64) -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        4 => Just(Step::Change),
        3 => (0..8usize, prop::bool::weighted(0.8)).prop_map(|(i, ok)| Step::Answer(i, ok)),
        1 => Just(Step::Alarm),
        1 => (0..max_wait).prop_map(Step::Wait),
    ];
    prop::collection::vec(step, 0..200)
}

fn run(steps: &[Step]) -> Object {
    let mut o = Object { now: 1_000, ..Object::default() };
    for s in steps {
        match s {
            Step::Change => o.change(),
            Step::Answer(i, ok) => o.answer(*i, *ok),
            Step::Alarm => o.try_send(),
            Step::Wait(ms) => o.now += ms,
        }
        // At most one send in flight while no lease runs out.
        assert!(o.awaiting.len() <= 1, "two sends in flight");
    }
    o.drain();
    o
}

proptest! {
    /// However calls, answers, failures and alarms interleave (no send outlives its lease: at most
    /// 200 waits of less than 1/400 of it), every
    /// change is delivered exactly once and nothing is left unsent.
    #[test]
    fn every_change_is_delivered_exactly_once(steps in steps(SEND_LEASE_MS / 400)) {
        let o = run(&steps);
        let mut seen = o.delivered.clone();
        seen.sort_unstable();
        let expected: Vec<u64> = (1..=o.version).collect();
        prop_assert_eq!(seen, expected, "delivered {:?}", o.delivered);
        prop_assert!(o.table.is_empty());
    }

    /// A send that outlives its lease lets another sender take over: every change is still
    /// delivered, at least once.
    #[test]
    fn a_lost_send_delays_nothing_for_good(steps in steps(SEND_LEASE_MS * 2)) {
        let mut o = Object { now: 1_000, ..Object::default() };
        for s in &steps {
            match s {
                Step::Change => o.change(),
                Step::Answer(i, ok) => o.answer(*i, *ok),
                Step::Alarm => o.try_send(),
                Step::Wait(ms) => o.now += ms,
            }
        }
        o.drain();
        let seen: BTreeSet<u64> = o.delivered.iter().copied().collect();
        prop_assert_eq!(seen, (1..=o.version).collect::<BTreeSet<_>>());
        prop_assert!(o.table.is_empty());
    }
}

#[test]
fn a_second_caller_does_not_send_while_one_is_in_flight() {
    let mut p = OutboxPump::new();
    let t = Millis(10);
    let b = p.next(&[1, 2], t).expect("a batch");
    assert_eq!((b.through, b.rows), (2, 2));
    assert!(p.busy(t));
    assert_eq!(p.next(&[1, 2, 3], t), None, "in flight: the first sender keeps the turn");
    assert_eq!(p.sent(b), Settled::Delete { through: 2 });
    assert!(!p.busy(t));
    let b2 = p.next(&[3], t).expect("the rest");
    assert_eq!(b2.through, 3);
    assert_ne!(b2.ticket, b.ticket);
}

#[test]
fn nothing_unsent_means_no_send() {
    let mut p = OutboxPump::new();
    assert_eq!(p.next(&[], Millis(0)), None);
    assert!(!p.busy(Millis(0)));
}

#[test]
fn a_failed_send_frees_the_pump_and_deletes_nothing() {
    let mut p = OutboxPump::new();
    let b = p.next(&[7], Millis(0)).expect("a batch");
    p.failed(b);
    assert!(!p.busy(Millis(0)));
    let again = p.next(&[7], Millis(1)).expect("retried");
    assert_eq!(again.through, 7);
}

#[test]
fn a_send_past_its_lease_is_taken_over_and_its_late_report_changes_nothing() {
    let mut p = OutboxPump::new();
    let old = p.next(&[1], Millis(0)).expect("a batch");
    assert_eq!(p.next(&[1, 2], Millis(SEND_LEASE_MS - 1)), None);
    let new = p.next(&[1, 2], Millis(SEND_LEASE_MS)).expect("taken over");
    assert_eq!(p.sent(old), Settled::DeleteStale { through: 1 });
    assert!(p.busy(Millis(SEND_LEASE_MS)), "the newer send is still in flight");
    p.failed(old);
    assert!(p.busy(Millis(SEND_LEASE_MS)), "a stale failure does not free the pump either");
    assert_eq!(p.sent(new), Settled::Delete { through: 2 });
    assert!(!p.busy(Millis(SEND_LEASE_MS)));
}
