//! Many problems at once: the stored states and the observations in, the writes and messages
//! out.

use std::collections::BTreeMap;

use super::message::{AlertMessage, Phase};
use super::observe::Key;
use super::problem::{step, Observation, ProblemState};
use super::AlertKind;
use crate::time::Millis;

/// A stored problem's state and the revision its write must name.
pub type StoredStates = BTreeMap<Key, (ProblemState, i64)>;

/// One problem that moved: its new state (written naming `revision`; `None`: never stored) and
/// the messages it makes.
#[derive(Clone, Debug, PartialEq)]
pub struct Moved {
    pub key: Key,
    pub state: ProblemState,
    pub revision: Option<i64>,
    pub messages: Vec<AlertMessage>,
}

/// Steps every observed problem; only the ones that moved are answered. Several observations
/// of one key are applied in order.
pub fn advance(stored: &StoredStates, observations: Vec<(Key, Observation)>, now: Millis) -> Vec<Moved> {
    let mut moved: BTreeMap<Key, Moved> = BTreeMap::new();
    for (key, obs) in observations {
        let (state, revision) = match moved.get(&key) {
            Some(m) => (m.state.clone(), m.revision),
            None => match stored.get(&key) {
                Some((s, r)) => (s.clone(), Some(*r)),
                None => (ProblemState::default(), None),
            },
        };
        let s = step(key.0, &key.1, &state, obs, now);
        if !s.changed {
            continue;
        }
        let entry = moved.entry(key.clone()).or_insert_with(|| Moved {
            key,
            state: ProblemState::default(),
            revision,
            messages: Vec::new(),
        });
        entry.state = s.state;
        entry.messages.extend(s.messages);
    }
    moved.into_values().collect()
}

/// The alerts to list at `GET /v1/alerts` for problems that opened: every kind but `oversold`
/// (whose alerts are the changes' own), with the episode as version.
pub fn raised(moved: &[Moved]) -> Vec<(&AlertMessage, u64)> {
    moved
        .iter()
        .flat_map(|m| m.messages.iter())
        .filter(|m| m.phase == Phase::Opened && m.kind != AlertKind::Oversold)
        .map(|m| (m, u64::from(m.episode)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::problem::Seen;
    use serde_json::json;

    fn key(kind: AlertKind, s: &str) -> Key {
        (kind, s.to_owned())
    }

    #[test]
    fn only_moved_problems_are_written_with_the_revision_read() {
        let opened = step(
            AlertKind::Drift,
            "shop",
            &ProblemState::default(),
            Observation::new(Seen::Problem(json!({}))),
            Millis(0),
        );
        let stored = StoredStates::from([(key(AlertKind::Drift, "shop"), (opened.state, 7))]);
        let obs = vec![
            (key(AlertKind::Drift, "shop"), Observation::new(Seen::Problem(json!({})))),
            (key(AlertKind::Drift, "woo"), Observation::new(Seen::Clear)),
            (key(AlertKind::LowStock, "A"), Observation::at_version(Seen::Problem(json!({"available": 1})), 3)),
            (key(AlertKind::Oversold, "B"), Observation::at_version(Seen::Problem(json!({"oversold": 1})), 3)),
        ];
        let moved = advance(&stored, obs, Millis(10));
        let keys: Vec<&Key> = moved.iter().map(|m| &m.key).collect();
        assert_eq!(keys, [&key(AlertKind::Oversold, "B"), &key(AlertKind::LowStock, "A")]);
        assert!(moved.iter().all(|m| m.revision.is_none()));
        let r = raised(&moved);
        assert_eq!(r.len(), 1, "oversold alerts are the changes' own");
        assert_eq!((r[0].0.kind, r[0].1), (AlertKind::LowStock, 1));

        let closed = advance(&stored, vec![(key(AlertKind::Drift, "shop"), Observation::new(Seen::Clear))], Millis(11));
        assert_eq!(closed[0].revision, Some(7));
        assert_eq!(closed[0].messages[0].phase, Phase::Resolved);
        assert!(raised(&closed).is_empty());
    }

    #[test]
    fn several_observations_of_one_problem_apply_in_order() {
        let k = key(AlertKind::LowStock, "A");
        let obs = vec![
            (k.clone(), Observation::at_version(Seen::Problem(json!({})), 2)),
            (k.clone(), Observation::at_version(Seen::Clear, 3)),
        ];
        let moved = advance(&StoredStates::new(), obs, Millis(0));
        assert_eq!(moved.len(), 1);
        let phases: Vec<Phase> = moved[0].messages.iter().map(|m| m.phase).collect();
        assert_eq!(phases, [Phase::Opened, Phase::Resolved]);
        assert!(moved[0].state.open.is_none());
    }
}
