//! What the shell's inputs say about each problem: stock-change events (SKU kinds, in the sync
//! consumer) and D1 state (channel kinds, in the cron).

use std::collections::BTreeMap;

use serde_json::json;

use super::evaluate::StoredStates;
use super::kind::DEAD_LETTERS_SUBJECT;
use super::limits::POLL_BEHIND_MS;
use super::problem::{Observation, Seen};
use super::AlertKind;
use crate::inbound::poll::PollState;
use crate::sync::StockChanged;
use crate::time::Millis;

/// A problem's key: kind and subject.
pub type Key = (AlertKind, String);

/// Per SKU of `events`, from its newest event: `oversold` (open while `oversold > 0`) and, for
/// SKUs with a threshold in `thresholds`, `low_stock` (open while `available` is below it). A
/// SKU without a threshold is observed clear of low stock (a removed threshold closes it).
pub fn sku_observations(events: &[StockChanged], thresholds: &BTreeMap<String, i64>) -> Vec<(Key, Observation)> {
    let mut newest: BTreeMap<&str, &StockChanged> = BTreeMap::new();
    for e in events {
        let slot = newest.entry(e.sku.as_str()).or_insert(e);
        if e.version > slot.version {
            *slot = e;
        }
    }
    let mut out = Vec::new();
    for (sku, e) in newest {
        let oversold = if e.oversold > 0 {
            Seen::Problem(json!({"oversold": e.oversold, "available": e.available, "version": e.version}))
        } else {
            Seen::Clear
        };
        out.push(((AlertKind::Oversold, sku.to_owned()), Observation::at_version(oversold, e.version)));
        let low = match thresholds.get(sku) {
            Some(t) if e.available < *t => {
                Seen::Problem(json!({"available": e.available, "threshold": t, "version": e.version}))
            }
            _ => Seen::Clear,
        };
        out.push(((AlertKind::LowStock, sku.to_owned()), Observation::at_version(low, e.version)));
    }
    out
}

/// A channel's credentials as the sync consumer last saw them (D1 `channel_auth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthRow {
    pub channel: String,
    /// Since when pushes have been refused for credentials; `None` once one succeeded.
    pub failing_since: Option<Millis>,
    pub last_failure: Option<String>,
}

/// A polled channel's stored poll state (D1 `inbound_polls`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollRow {
    pub channel: String,
    pub state: PollState,
    pub last_error: Option<String>,
}

/// What the cron reads from D1 about the channels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelFacts {
    /// Open sync failures (dead letters) in all.
    pub dead_letters: i64,
    pub auth: Vec<AuthRow>,
    /// Per channel, its `drift_events` within [`super::limits::DRIFT_WINDOW_MS`].
    pub drift: BTreeMap<String, i64>,
    pub polls: Vec<PollRow>,
}

/// Every channel-level problem's observation, and `Nothing` for every other tracked problem
/// (SKU problems: their reminders fall due here). A tracked channel problem whose subject the
/// facts no longer mention is observed clear.
pub fn channel_observations(facts: &ChannelFacts, states: &StoredStates, now: Millis) -> Vec<(Key, Observation)> {
    let mut seen: BTreeMap<Key, Observation> = BTreeMap::new();
    let dl_key = (AlertKind::DeadLetters, DEAD_LETTERS_SUBJECT.to_owned());
    let dl_state = states.get(&dl_key).map(|(s, _)| s.clone()).unwrap_or_default();
    let n = facts.dead_letters;
    let dl = if n == 0 {
        Seen::Clear
    } else if n > dl_state.count || dl_state.open.is_some() {
        Seen::Problem(json!({"count": n, "previous": dl_state.count}))
    } else {
        Seen::Nothing
    };
    seen.insert(dl_key, Observation { seen: dl, version: None, count: Some(n) });
    for a in &facts.auth {
        let s = match a.failing_since {
            Some(since) => Seen::Problem(json!({
                "failing_since": since.to_rfc3339(),
                "error": a.last_failure,
            })),
            None => Seen::Clear,
        };
        seen.insert((AlertKind::ChannelAuth, a.channel.clone()), Observation::new(s));
    }
    for (channel, events) in &facts.drift {
        let s = if *events > 0 { Seen::Problem(json!({"events": events})) } else { Seen::Clear };
        seen.insert((AlertKind::Drift, channel.clone()), Observation::new(s));
    }
    for p in &facts.polls {
        let watermark = p.state.watermark.unwrap_or(p.state.since);
        let age = now.0.saturating_sub(watermark.0);
        let s = if age > POLL_BEHIND_MS {
            Seen::Problem(json!({
                "watermark": watermark.to_rfc3339(),
                "age_ms": age,
                "limit_ms": POLL_BEHIND_MS,
                "error": p.last_error,
            }))
        } else {
            Seen::Clear
        };
        seen.insert((AlertKind::PollBehind, p.channel.clone()), Observation::new(s));
    }
    for (key, (state, _)) in states {
        if seen.contains_key(key) || state.open.is_none() {
            continue;
        }
        let obs = if key.0.is_sku_level() { Observation::nothing() } else { Observation::new(Seen::Clear) };
        seen.insert(key.clone(), obs);
    }
    seen.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::problem::{step, Open, ProblemState};
    use crate::stock::{Op, Sku};

    fn event(sku: &str, version: u64, available: i64, oversold: i64) -> StockChanged {
        StockChanged {
            sku: Sku::parse(sku).expect("sku"),
            version,
            available,
            on_hand: available,
            cause: Op::Adjust,
            at: Millis(0),
            oversold,
            alert: None,
            channel: None,
            ops: Vec::new(),
            orders: Vec::new(),
            erp_behind: Vec::new(),
        }
    }

    fn find(obs: &[(Key, Observation)], kind: AlertKind, subject: &str) -> Option<Seen> {
        obs.iter().find(|((k, s), _)| *k == kind && s == subject).map(|(_, o)| o.seen.clone())
    }

    #[test]
    fn the_newest_event_per_sku_decides_oversold_and_low_stock() {
        let thresholds = BTreeMap::from([("A".to_owned(), 5)]);
        let obs = sku_observations(&[event("A", 3, 9, 0), event("A", 4, 4, 0), event("B", 2, 0, 2)], &thresholds);
        assert!(
            matches!(find(&obs, AlertKind::LowStock, "A"), Some(Seen::Problem(d)) if d["available"] == 4 && d["threshold"] == 5)
        );
        assert_eq!(find(&obs, AlertKind::Oversold, "A"), Some(Seen::Clear));
        assert!(matches!(find(&obs, AlertKind::Oversold, "B"), Some(Seen::Problem(d)) if d["oversold"] == 2));
        assert_eq!(find(&obs, AlertKind::LowStock, "B"), Some(Seen::Clear), "no threshold: never low");
        let at_threshold = sku_observations(&[event("A", 5, 5, 0)], &thresholds);
        assert_eq!(find(&at_threshold, AlertKind::LowStock, "A"), Some(Seen::Clear), "below, not at");
    }

    #[test]
    fn dead_letters_open_when_the_count_grows_and_clear_at_zero() {
        let mut states = BTreeMap::new();
        let facts = ChannelFacts { dead_letters: 2, ..ChannelFacts::default() };
        let obs = channel_observations(&facts, &states, Millis(0));
        let ((k, s), o) = obs.into_iter().find(|((k, _), _)| *k == AlertKind::DeadLetters).expect("observed");
        assert!(matches!(o.seen, Seen::Problem(_)));
        let opened = step(k, &s, &ProblemState::default(), o, Millis(0));
        assert_eq!(opened.messages.len(), 1);
        assert_eq!(opened.state.count, 2);
        // Resolved once every failure is retried.
        states.insert((k, s.clone()), (opened.state.clone(), 1));
        let none = ChannelFacts::default();
        let obs = channel_observations(&none, &states, Millis(1));
        let (_, o) = obs.into_iter().find(|((k, _), _)| *k == AlertKind::DeadLetters).expect("observed");
        assert_eq!(o.seen, Seen::Clear);
        // Not growing from a closed state: nothing.
        let closed = ProblemState { episode: 1, open: None, version: 0, count: 3 };
        states.insert((k, s), (closed, 2));
        let same = ChannelFacts { dead_letters: 3, ..ChannelFacts::default() };
        let obs = channel_observations(&same, &states, Millis(2));
        let (_, o) = obs.into_iter().find(|((k, _), _)| *k == AlertKind::DeadLetters).expect("observed");
        assert_eq!(o.seen, Seen::Nothing);
    }

    #[test]
    fn channel_kinds_from_auth_drift_and_poll_rows() {
        let now = Millis(10 * POLL_BEHIND_MS);
        let mut state = PollState::new(Millis(0));
        state.watermark = Some(Millis(now.0 - POLL_BEHIND_MS - 1));
        let mut fresh = PollState::new(Millis(0));
        fresh.watermark = Some(Millis(now.0 - 60_000));
        let facts = ChannelFacts {
            dead_letters: 0,
            auth: vec![
                AuthRow { channel: "shop".into(), failing_since: Some(Millis(5)), last_failure: Some("401".into()) },
                AuthRow { channel: "woo".into(), failing_since: None, last_failure: None },
            ],
            drift: BTreeMap::from([("shop".to_owned(), 2)]),
            polls: vec![
                PollRow { channel: "ebay".into(), state, last_error: None },
                PollRow { channel: "amz".into(), state: fresh, last_error: None },
            ],
        };
        let open = |d| ProblemState {
            episode: 1,
            open: Some(Open { since: Millis(0), last_sent: Millis(0), reminders: 0, detail: d }),
            version: 0,
            count: 0,
        };
        let states = BTreeMap::from([
            ((AlertKind::Drift, "gone".to_owned()), (open(json!({})), 1)),
            ((AlertKind::Oversold, "TEE".to_owned()), (open(json!({})), 1)),
        ]);
        let obs = channel_observations(&facts, &states, now);
        assert!(matches!(find(&obs, AlertKind::ChannelAuth, "shop"), Some(Seen::Problem(d)) if d["error"] == "401"));
        assert_eq!(find(&obs, AlertKind::ChannelAuth, "woo"), Some(Seen::Clear));
        assert!(matches!(find(&obs, AlertKind::Drift, "shop"), Some(Seen::Problem(d)) if d["events"] == 2));
        assert_eq!(find(&obs, AlertKind::Drift, "gone"), Some(Seen::Clear), "no recent drift: clear");
        assert!(matches!(find(&obs, AlertKind::PollBehind, "ebay"), Some(Seen::Problem(_))));
        assert_eq!(find(&obs, AlertKind::PollBehind, "amz"), Some(Seen::Clear));
        assert_eq!(find(&obs, AlertKind::Oversold, "TEE"), Some(Seen::Nothing), "SKU problems: reminders only");
    }
}
