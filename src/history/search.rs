//! The linearizability checker: Wing & Gong's search for a sequential order, with Lowe's
//! just-in-time linearization and the memo of configurations that Knossos and porcupine use.
//!
//! The history is a list of events (each operation's invoke and, when it returned, its return)
//! in time order, kept as a doubly linked list. The search walks the list from its head: at an
//! invoke it tries to linearize that operation now (the model must explain it from the current
//! state); if it can, the operation's invoke and return leave the list and the walk starts again
//! from the head. Reaching a return means the operation that returned there must already have
//! been linearized, so the last choice is undone (the events go back into the list) and the walk
//! goes on after it. A configuration — the set linearized and the state reached — already seen is
//! not explored twice: whatever followed it the first time failed.
//!
//! Operations that never returned (`Timed::returned == None`) have no return event: they may be
//! linearized anywhere after their invoke, or never. The history is linearizable once every
//! operation that returned is linearized.
//!
//! Events at the same instant: invokes come before returns, so two operations that touch are
//! taken as concurrent (the weaker claim: a history refused is refused with every doubt resolved
//! in its favour).

use std::collections::HashSet;

use super::bits::Bits;
use super::model::Model;

/// One operation of a history with its interval: invoked at `invoke`, returned at `returned`
/// (`None`: never, the outcome unknown). Times are any monotonic clock's, in one unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Timed<O> {
    pub op: O,
    pub invoke: f64,
    pub returned: Option<f64>,
}

/// What the search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A sequential order of the operations linearized (indices into the history; operations
    /// that never returned and are absent were taken as never applied). `explored`: model steps.
    Linearizable { order: Vec<usize>, explored: u64 },
    /// No order exists. `longest`: the longest prefix of an order the search reached; `blocked`:
    /// the operation whose return came while it could not be linearized after that prefix.
    NotLinearizable { longest: Vec<usize>, blocked: Option<usize>, explored: u64 },
    /// The search took more than its budget of model steps without an answer.
    GaveUp { explored: u64 },
}

impl Verdict {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable { .. })
    }
}

/// The end of the event list.
const NIL: usize = usize::MAX;
/// The list's head: a sentinel node before the first event.
const HEAD: usize = 0;

/// The event list: node `HEAD` is the sentinel, the others are invokes and returns.
struct Events {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Per node: its operation, and whether it is the operation's return.
    node: Vec<(usize, bool)>,
    /// Per operation: its invoke's node and its return's node, if it returned.
    call: Vec<usize>,
    ret: Vec<Option<usize>>,
}

impl Events {
    fn of<O>(ops: &[Timed<O>]) -> Events {
        let mut order: Vec<(f64, bool, usize)> = Vec::with_capacity(ops.len() * 2);
        for (i, t) in ops.iter().enumerate() {
            order.push((t.invoke, false, i));
            if let Some(r) = t.returned {
                order.push((r, true, i));
            }
        }
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let len = order.len() + 1;
        let mut e = Events {
            next: (1..=len).map(|n| if n == len { NIL } else { n }).collect(),
            prev: (0..len).map(|n| n.wrapping_sub(1)).collect(),
            node: vec![(usize::MAX, false); len],
            call: vec![NIL; ops.len()],
            ret: vec![None; ops.len()],
        };
        for (k, (_, is_return, op)) in order.into_iter().enumerate() {
            let n = k + 1;
            e.node[n] = (op, is_return);
            if is_return {
                e.ret[op] = Some(n);
            } else {
                e.call[op] = n;
            }
        }
        e
    }

    fn unlink(&mut self, n: usize) {
        let (p, x) = (self.prev[n], self.next[n]);
        self.next[p] = x;
        if x != NIL {
            self.prev[x] = p;
        }
    }

    /// Puts `n` back where it was: only in the reverse order of the unlinks (dancing links).
    fn relink(&mut self, n: usize) {
        let (p, x) = (self.prev[n], self.next[n]);
        self.next[p] = n;
        if x != NIL {
            self.prev[x] = n;
        }
    }

    /// Takes operation `op`'s events out of the list.
    fn lift(&mut self, op: usize) {
        self.unlink(self.call[op]);
        if let Some(r) = self.ret[op] {
            self.unlink(r);
        }
    }

    fn unlift(&mut self, op: usize) {
        if let Some(r) = self.ret[op] {
            self.relink(r);
        }
        self.relink(self.call[op]);
    }
}

/// Whether `ops`, started from `init`, is linearizable with respect to `model`; gives up after
/// `budget` model steps.
pub fn check<M: Model>(model: &M, init: M::State, ops: &[Timed<M::Op>], budget: u64) -> Verdict {
    let mut events = Events::of(ops);
    let must = ops.iter().filter(|t| t.returned.is_some()).count();
    let mut done = 0;
    let mut linearized = Bits::new(ops.len());
    let mut seen: HashSet<(Bits, M::Key)> = HashSet::new();
    // The operations linearized, each with the state before it.
    let mut stack: Vec<(usize, M::State)> = Vec::new();
    let mut state = init;
    let mut explored = 0u64;
    let (mut longest, mut blocked) = (Vec::new(), None);
    let mut cur = events.next[HEAD];
    loop {
        if done == must {
            return Verdict::Linearizable { order: stack.iter().map(|(op, _)| *op).collect(), explored };
        }
        if cur != NIL && !events.node[cur].1 {
            let op = events.node[cur].0;
            if explored >= budget {
                return Verdict::GaveUp { explored };
            }
            explored += 1;
            if let Some(after) = model.step(&state, &ops[op].op) {
                linearized.insert(op);
                if seen.insert((linearized.clone(), model.key(&after))) {
                    stack.push((op, std::mem::replace(&mut state, after)));
                    done += usize::from(ops[op].returned.is_some());
                    events.lift(op);
                    cur = events.next[HEAD];
                    continue;
                }
                linearized.remove(op);
            }
            cur = events.next[cur];
            continue;
        }
        // A return (its operation cannot be linearized any later) or the end of the list.
        if stack.len() >= longest.len() {
            longest = stack.iter().map(|(op, _)| *op).collect();
            blocked = (cur != NIL).then(|| events.node[cur].0);
        }
        let Some((op, before)) = stack.pop() else {
            return Verdict::NotLinearizable { longest, blocked, explored };
        };
        state = before;
        linearized.remove(op);
        done -= usize::from(ops[op].returned.is_some());
        events.unlift(op);
        cur = events.next[events.call[op]];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A register: writes set it, reads see it.
    struct Register;

    #[derive(Clone, Debug, PartialEq)]
    enum RegOp {
        Write(u8),
        Read(u8),
    }

    impl Model for Register {
        type State = u8;
        type Op = RegOp;
        type Key = u8;
        fn step(&self, s: &u8, op: &RegOp) -> Option<u8> {
            match op {
                RegOp::Write(v) => Some(*v),
                RegOp::Read(v) => (v == s).then_some(*s),
            }
        }
        fn key(&self, s: &u8) -> u8 {
            *s
        }
    }

    fn op(op: RegOp, invoke: f64, returned: Option<f64>) -> Timed<RegOp> {
        Timed { op, invoke, returned }
    }

    #[test]
    fn a_read_overlapping_a_write_may_see_either_value() {
        for seen in [0, 1] {
            let h = [op(RegOp::Write(1), 0.0, Some(10.0)), op(RegOp::Read(seen), 5.0, Some(6.0))];
            assert!(check(&Register, 0, &h, 1000).is_linearizable(), "read {seen}");
        }
    }

    #[test]
    fn a_read_after_a_completed_write_must_see_it() {
        let h = [op(RegOp::Write(1), 0.0, Some(10.0)), op(RegOp::Read(0), 11.0, Some(12.0))];
        let v = check(&Register, 0, &h, 1000);
        assert!(matches!(v, Verdict::NotLinearizable { blocked: Some(1), .. }), "{v:?}");
    }

    #[test]
    fn reads_may_not_go_back_in_time() {
        // Two reads in sequence, both overlapping one write: new then old is not linearizable.
        let h = [
            op(RegOp::Write(1), 0.0, Some(100.0)),
            op(RegOp::Read(1), 10.0, Some(20.0)),
            op(RegOp::Read(0), 30.0, Some(40.0)),
        ];
        assert!(!check(&Register, 0, &h, 1000).is_linearizable());
        let ok = [
            op(RegOp::Write(1), 0.0, Some(100.0)),
            op(RegOp::Read(0), 10.0, Some(20.0)),
            op(RegOp::Read(1), 30.0, Some(40.0)),
        ];
        assert!(check(&Register, 0, &ok, 1000).is_linearizable());
    }

    #[test]
    fn a_write_that_never_returned_may_have_happened_or_not() {
        for seen in [0, 2] {
            let h = [op(RegOp::Write(2), 0.0, None), op(RegOp::Read(seen), 50.0, Some(60.0))];
            assert!(check(&Register, 0, &h, 1000).is_linearizable(), "read {seen}");
        }
        // But not before it was invoked.
        let h = [op(RegOp::Read(2), 0.0, Some(1.0)), op(RegOp::Write(2), 5.0, None)];
        assert!(!check(&Register, 0, &h, 1000).is_linearizable());
    }

    #[test]
    fn gives_up_past_its_budget() {
        let h: Vec<_> = (0..20).map(|i| op(RegOp::Write(i), 0.0, Some(100.0))).collect();
        let mut with_read = h.clone();
        with_read.push(op(RegOp::Read(99), 200.0, Some(201.0)));
        assert!(matches!(check(&Register, 0, &with_read, 50), Verdict::GaveUp { explored: 50 }));
    }
}
