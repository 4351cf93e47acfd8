//! What the linearizability search needs of a sequential specification.

use std::hash::Hash;

/// A sequential specification: a state and a step that either explains one operation (its call
/// and, when it was seen, its outcome) from a state, giving the state after it, or cannot.
///
/// Deterministic: `step` answers the same for the same state and operation. An operation whose
/// outcome was not seen is explained by applying its call, whatever it answers.
pub trait Model {
    type State: Clone;
    type Op;
    /// Identifies a state for the search's memo: two states with one key must answer every
    /// future operation alike. A key that merged two different states could only make the search
    /// miss an order (a history refused that is linearizable), never accept one that is not.
    type Key: Clone + Eq + Hash;

    /// The state after `op` taken from `state`, or `None` when `op` cannot happen there (the model
    /// would have answered otherwise).
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;

    fn key(&self, state: &Self::State) -> Self::Key;

    /// Whether `op`, which returned, can be explained neither from `state` nor from any state
    /// reachable from it (its answer names a version the state is already past, say): then no
    /// order completes a configuration that still has `op` to linearize. `false` when unknown.
    fn hopeless(&self, _state: &Self::State, _op: &Self::Op) -> bool {
        false
    }
}
