//! The linearizability checker: Wing & Gong's search for a sequential order, with Lowe's
//! just-in-time linearization and the memo of configurations that Knossos and porcupine use.
//!
//! The history is a list of events (each operation's invoke and, when it returned, its return)
//! in time order, kept as a doubly linked list. The candidates to linearize next are the
//! operations invoked before the first return left in the list (an operation that returned must
//! come before every operation invoked after its return). The search tries them, earliest return
//! first: the model must explain the candidate from the current state; if it can, the operation's
//! invoke and return leave the list and the search goes on from the new configuration. When no
//! candidate can be linearized, the last choice is undone (its events go back into the list) and
//! the candidates after it are tried. A configuration — the set linearized and the state reached
//! — already seen is not explored twice: whatever followed it the first time failed.
//!
//! Operations that never returned (`Timed::returned == None`) have no return event: they may be
//! linearized anywhere after their invoke, or never. The history is linearizable once every
//! operation that returned is linearized.
//!
//! Events at the same instant: invokes come before returns, so two operations that touch are
//! taken as concurrent (the weaker claim: a history refused is refused with every doubt resolved
//! in its favour).
//!
//! A configuration also fails at once when the model says one of its candidates that returned can
//! never be explained from its state or any state after it (`Model::hopeless`: for the ledger, an
//! answer naming a version the state is past — versions only grow).
//!
//! Operations that leave the state as it was (reads, refusals, repeats) are linearized at the
//! first point they can be, and that is never a choice to revisit: if some order completes the
//! history from here, the order that puts such an operation first completes it too — it keeps its
//! answer and every later operation's state, and moving it earlier breaks no real-time constraint,
//! since every operation that returned before it was invoked is already linearized (its invoke
//! comes before the first return left in the list). Without this, `k` concurrent reads would
//! make `2^k` configurations; with it only operations that change the state are choices. Undoing
//! one (backtracking) undoes it with the choice before it; reaching an already seen
//! configuration through one fails the configuration it was taken from.

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

/// The operations that may be linearized next: those invoked before the first return left in the
/// list (Lowe's just-in-time rule), earliest return first (then earliest invoke): the operation
/// that must be linearized soonest is tried first, and one that never returned last.
fn candidates<O>(events: &Events, ops: &[Timed<O>]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut n = events.next[HEAD];
    while n != NIL && !events.node[n].1 {
        out.push(events.node[n].0);
        n = events.next[n];
    }
    let deadline = |op: usize| ops[op].returned.unwrap_or(f64::INFINITY);
    out.sort_by(|&a, &b| {
        deadline(a).total_cmp(&deadline(b)).then(ops[a].invoke.total_cmp(&ops[b].invoke)).then(a.cmp(&b))
    });
    out
}

/// The first return left in the list: the operation that must be linearized before any operation
/// invoked after it.
fn first_return(events: &Events) -> Option<usize> {
    let mut n = events.next[HEAD];
    while n != NIL {
        if events.node[n].1 {
            return Some(events.node[n].0);
        }
        n = events.next[n];
    }
    None
}

/// One linearized operation: the state (and its key) before it, whether it was a choice (`false`:
/// it left the state as it was, see the module's documentation) and its place among the
/// candidates it was taken from.
struct Frame<S, K> {
    op: usize,
    before: S,
    before_key: K,
    choice: bool,
    tried: usize,
}

/// Whether `ops`, started from `init`, is linearizable with respect to `model`; gives up after
/// `budget` model steps.
pub fn check<M: Model>(model: &M, init: M::State, ops: &[Timed<M::Op>], budget: u64) -> Verdict {
    let mut events = Events::of(ops);
    let must = ops.iter().filter(|t| t.returned.is_some()).count();
    let mut done = 0;
    let mut linearized = Bits::new(ops.len());
    let mut seen: HashSet<(Bits, M::Key)> = HashSet::new();
    let mut stack: Vec<Frame<M::State, M::Key>> = Vec::new();
    let mut key = model.key(&init);
    let mut state = init;
    let mut explored = 0u64;
    let (mut longest, mut blocked) = (Vec::new(), None);
    // Where to resume among the current configuration's candidates.
    let mut resume = 0;
    loop {
        if done == must {
            return Verdict::Linearizable { order: stack.iter().map(|f| f.op).collect(), explored };
        }
        let cands = candidates(&events, ops);
        // A candidate that returned and can never be explained from here dooms this configuration.
        let doomed = cands.iter().any(|&op| ops[op].returned.is_some() && model.hopeless(&state, &ops[op].op));
        let mut advanced = false;
        for (tried, &op) in cands.iter().enumerate().skip(if doomed { cands.len() } else { resume }) {
            if explored >= budget {
                return Verdict::GaveUp { explored };
            }
            explored += 1;
            let Some(after) = model.step(&state, &ops[op].op) else { continue };
            let after_key = model.key(&after);
            let choice = after_key != key;
            linearized.insert(op);
            if seen.insert((linearized.clone(), after_key.clone())) {
                let before = std::mem::replace(&mut state, after);
                let before_key = std::mem::replace(&mut key, after_key);
                stack.push(Frame { op, before, before_key, choice, tried });
                done += usize::from(ops[op].returned.is_some());
                events.lift(op);
                advanced = true;
                break;
            }
            linearized.remove(op);
            if !choice {
                // A state-preserving operation leads to a configuration that failed: so does
                // this one.
                break;
            }
        }
        if advanced {
            resume = 0;
            continue;
        }
        // This configuration fails: undo up to and including the last choice, and go on with
        // the candidates after it.
        if stack.len() >= longest.len() {
            longest = stack.iter().map(|f| f.op).collect();
            blocked = first_return(&events);
        }
        loop {
            let Some(f) = stack.pop() else {
                return Verdict::NotLinearizable { longest, blocked, explored };
            };
            state = f.before;
            key = f.before_key;
            linearized.remove(f.op);
            done -= usize::from(ops[f.op].returned.is_some());
            events.unlift(f.op);
            if f.choice {
                resume = f.tried + 1;
                break;
            }
        }
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
    fn reads_are_not_choices() {
        // Twenty concurrent reads and a write, then a read of a value never written: refusing it
        // means trying every order, 2^20 subsets of reads if each read were a choice to revisit.
        let mut h: Vec<_> = (0..20).map(|_| op(RegOp::Read(0), 0.0, Some(100.0))).collect();
        h.push(op(RegOp::Write(1), 0.0, Some(100.0)));
        h.push(op(RegOp::Read(5), 200.0, Some(201.0)));
        let v = check(&Register, 0, &h, 1000);
        assert!(matches!(v, Verdict::NotLinearizable { blocked: Some(21), .. }), "{v:?}");
    }

    #[test]
    fn gives_up_past_its_budget() {
        let h: Vec<_> = (0..20).map(|i| op(RegOp::Write(i), 0.0, Some(100.0))).collect();
        let mut with_read = h.clone();
        with_read.push(op(RegOp::Read(99), 200.0, Some(201.0)));
        assert!(matches!(check(&Register, 0, &with_read, 50), Verdict::GaveUp { explored: 50 }));
    }
}
