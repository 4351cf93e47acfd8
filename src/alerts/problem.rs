//! One problem (kind + subject) and how it moves: the de-duplication of alerts.
//!
//! Chosen behaviour: a problem that opens produces one [`Phase::Opened`] message; while it stays
//! open, a [`Phase::Reminder`] at most once per [`REMINDER_INTERVAL_MS`] since the last message
//! (reminders are only sent when something looks at the problem: an event about the SKU, or the
//! cron, every 2 min); when it clears, one [`Phase::Resolved`]. A problem that opens again later
//! is a new episode, with its own messages. Every message has an id that only depends on
//! (kind, subject, episode, phase, reminder number), so two evaluations racing on the same state
//! produce the same ids and a destination receives each once (`edge::alerts_out` records
//! deliveries by id).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::limits::REMINDER_INTERVAL_MS;
use super::message::{AlertMessage, Phase};
use super::AlertKind;
use crate::time::Millis;

/// A problem's stored state (D1 `alert_problems.state`, JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemState {
    /// Episodes opened so far (the current one, when open).
    pub episode: u32,
    /// Present while the problem is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<Open>,
    /// The newest SKU version observed (SKU kinds): older events are ignored. 0 for channel kinds.
    #[serde(default)]
    pub version: u64,
    /// The last count observed (dead letters), to tell growth.
    #[serde(default)]
    pub count: i64,
}

/// An open episode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Open {
    pub since: Millis,
    /// When the last message (opened or reminder) was made.
    pub last_sent: Millis,
    /// Reminders made so far.
    pub reminders: u32,
    /// What the newest observation said (kind-specific facts).
    pub detail: Value,
}

/// What an observation says about the problem.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    /// The problem is there; the facts.
    Problem(Value),
    /// It is not.
    Clear,
    /// Nothing new: only a reminder may be due.
    Nothing,
}

/// One look at a problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub seen: Seen,
    /// The SKU version the observation describes (SKU kinds): one older than the state's is
    /// stale and read as [`Seen::Nothing`].
    pub version: Option<u64>,
    /// The count observed, stored for the next look (dead letters).
    pub count: Option<i64>,
}

impl Observation {
    pub fn new(seen: Seen) -> Observation {
        Observation { seen, version: None, count: None }
    }
    pub fn at_version(seen: Seen, version: u64) -> Observation {
        Observation { seen, version: Some(version), count: None }
    }
    pub fn nothing() -> Observation {
        Observation::new(Seen::Nothing)
    }
}

/// The outcome of a step: the new state, whether it differs from the old (to be written), and
/// the messages to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub state: ProblemState,
    pub changed: bool,
    pub messages: Vec<AlertMessage>,
}

/// Moves `(kind, subject)`'s `state` by `obs` at `now`.
pub fn step(kind: AlertKind, subject: &str, state: &ProblemState, obs: Observation, now: Millis) -> Step {
    let untracked = state.episode == 0 && state.open.is_none();
    if untracked && !matches!(obs.seen, Seen::Problem(_)) {
        // A problem that never opened is not tracked: nothing to write.
        return Step { state: state.clone(), changed: false, messages: Vec::new() };
    }
    let mut next = state.clone();
    let stale = matches!(obs.version, Some(v) if v < state.version);
    let seen = if stale { Seen::Nothing } else { obs.seen };
    if let Some(v) = obs.version {
        next.version = next.version.max(v);
    }
    if let Some(c) = obs.count {
        next.count = c;
    }
    let mut messages = Vec::new();
    let message = |phase: Phase, episode: u32, since: Millis, detail: &Value| {
        AlertMessage::new(kind, subject, episode, phase, since, now, detail.clone())
    };
    match (seen, next.open.take()) {
        (Seen::Problem(detail), None) => {
            next.episode += 1;
            messages.push(message(Phase::Opened, next.episode, now, &detail));
            next.open = Some(Open { since: now, last_sent: now, reminders: 0, detail });
        }
        (Seen::Problem(detail), Some(open)) => {
            next.open = Some(remind(Open { detail, ..open }, next.episode, now, &mut messages, &message));
        }
        (Seen::Clear, Some(open)) => {
            messages.push(message(Phase::Resolved, next.episode, open.since, &open.detail));
        }
        (Seen::Clear | Seen::Nothing, None) => {}
        (Seen::Nothing, Some(open)) => {
            next.open = Some(remind(open, next.episode, now, &mut messages, &message));
        }
    }
    let changed = next != *state;
    Step { state: next, changed, messages }
}

fn remind(
    mut open: Open,
    episode: u32,
    now: Millis,
    out: &mut Vec<AlertMessage>,
    message: &dyn Fn(Phase, u32, Millis, &Value) -> AlertMessage,
) -> Open {
    if now.0.saturating_sub(open.last_sent.0) >= REMINDER_INTERVAL_MS {
        open.reminders += 1;
        open.last_sent = now;
        out.push(message(Phase::Reminder(open.reminders), episode, open.since, &open.detail));
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const K: AlertKind = AlertKind::LowStock;

    fn phases(s: &Step) -> Vec<Phase> {
        s.messages.iter().map(|m| m.phase).collect()
    }

    fn problem(v: u64) -> Observation {
        Observation::at_version(Seen::Problem(json!({"available": 1})), v)
    }

    #[test]
    fn opens_once_reminds_once_per_interval_and_resolves_once() {
        let t0 = Millis(1_000_000);
        let s = ProblemState::default();
        let opened = step(K, "A", &s, problem(2), t0);
        assert_eq!(phases(&opened), [Phase::Opened]);
        assert!(opened.changed);
        assert_eq!(opened.messages[0].id, "low_stock/A/1/opened");

        // Seen again, and again: nothing new within the interval.
        let again = step(K, "A", &opened.state, problem(3), Millis(t0.0 + 10));
        assert!(again.messages.is_empty());
        let quiet = step(K, "A", &again.state, Observation::nothing(), Millis(t0.0 + REMINDER_INTERVAL_MS - 1));
        assert!(quiet.messages.is_empty());
        assert!(!quiet.changed, "nothing to write when nothing moved");

        // One reminder once the interval has passed, not two.
        let t1 = Millis(t0.0 + REMINDER_INTERVAL_MS);
        let reminded = step(K, "A", &quiet.state, Observation::nothing(), t1);
        assert_eq!(phases(&reminded), [Phase::Reminder(1)]);
        assert_eq!(reminded.messages[0].id, "low_stock/A/1/reminder-1");
        let soon = step(K, "A", &reminded.state, problem(4), Millis(t1.0 + 5));
        assert!(soon.messages.is_empty());

        // Cleared: one resolved message naming when it opened; clear again adds nothing.
        let resolved = step(K, "A", &soon.state, Observation::at_version(Seen::Clear, 5), Millis(t1.0 + 9));
        assert_eq!(phases(&resolved), [Phase::Resolved]);
        assert_eq!(resolved.messages[0].opened_at, t0);
        assert!(resolved.state.open.is_none());
        let still = step(K, "A", &resolved.state, Observation::at_version(Seen::Clear, 6), Millis(t1.0 + 10));
        assert!(still.messages.is_empty());

        // Open again: a new episode with its own ids.
        let reopened = step(K, "A", &still.state, problem(7), Millis(t1.0 + 11));
        assert_eq!(reopened.messages[0].id, "low_stock/A/2/opened");
    }

    #[test]
    fn an_older_version_is_stale() {
        let opened = step(K, "A", &ProblemState::default(), problem(5), Millis(0));
        let late_clear = step(K, "A", &opened.state, Observation::at_version(Seen::Clear, 4), Millis(1));
        assert!(late_clear.messages.is_empty());
        assert!(late_clear.state.open.is_some(), "an older event does not clear a newer problem");
        assert_eq!(late_clear.state.version, 5);
    }

    #[test]
    fn the_same_state_and_observation_give_the_same_message_ids() {
        let s = step(K, "A", &ProblemState::default(), problem(1), Millis(0)).state;
        let t = Millis(REMINDER_INTERVAL_MS * 3);
        let a = step(K, "A", &s, Observation::nothing(), t);
        let b = step(K, "A", &s, Observation::nothing(), t);
        assert_eq!(a, b);
    }

    #[test]
    fn a_clear_problem_that_was_never_open_writes_nothing() {
        let s = step(AlertKind::Drift, "shop", &ProblemState::default(), Observation::new(Seen::Clear), Millis(0));
        assert!(!s.changed);
        assert!(s.messages.is_empty());
    }
}
