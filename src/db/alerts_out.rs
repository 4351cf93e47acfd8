//! D1 plans of alerts out (migrations/0011): low-stock thresholds (`sku_alerting`), problems
//! (`alert_problems`), channels' credential state (`channel_auth`), what the cron reads about
//! the channels, destinations (`alert_destinations`) and deliveries (`alert_deliveries`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{count, decode, encode, flag, in_chunks, int, opt_int, opt_text, text, Query, StoreResult};
use crate::alerts::destination::{Destination, Format};
use crate::alerts::observe::{AuthRow, Key, PollRow};
use crate::alerts::{AlertKind, ProblemState};
use crate::stock::{Sku, Token};
use crate::time::Millis;

// ---------------------------------------------------------------------------------------------
// Thresholds

/// The reads of the thresholds of `skus` ([`ThresholdRow`]s).
pub fn thresholds(skus: &[&str]) -> Vec<Query> {
    in_chunks(
        skus,
        &[],
        |list| format!("SELECT sku, low_stock_below FROM sku_alerting WHERE sku IN ({list})"),
        |s| text(s),
    )
}

#[derive(Clone, Debug, Deserialize)]
pub struct ThresholdRow {
    pub sku: String,
    pub low_stock_below: i64,
}

/// Sets (`Some`) or removes (`None`) `sku`'s threshold.
pub fn set_threshold(sku: &Sku, below: Option<i64>, now: Millis) -> Query {
    match below {
        Some(n) => Query::new(
            "INSERT INTO sku_alerting (sku, low_stock_below, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (sku) DO UPDATE SET low_stock_below = excluded.low_stock_below, updated_at = excluded.updated_at",
            vec![text(sku.as_str()), int(n), int(now.0)],
        ),
        None => Query::new("DELETE FROM sku_alerting WHERE sku = ?1", vec![text(sku.as_str())]),
    }
}

// ---------------------------------------------------------------------------------------------
// Problems

const PROBLEM_COLUMNS: &str = "kind, subject, state, revision";

/// A stored problem.
#[derive(Clone, Debug, Deserialize)]
pub struct ProblemRow {
    pub kind: String,
    pub subject: String,
    pub state: String,
    pub revision: i64,
}

/// A problem as read: its key, state and the revision to name when writing it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub key: Key,
    pub state: ProblemState,
    pub revision: i64,
}

impl ProblemRow {
    /// Decoded; `None` for a kind this code does not know (skipped, not guessed).
    pub fn decode(self) -> StoreResult<Option<Stored>> {
        let Some(kind) = AlertKind::parse(&self.kind) else { return Ok(None) };
        let state = decode("alert problem state", &self.state)?;
        Ok(Some(Stored { key: (kind, self.subject), state, revision: self.revision }))
    }
}

/// The reads of the SKU problems (`oversold`, `low_stock`) of `skus`.
pub fn sku_problems(skus: &[&str]) -> Vec<Query> {
    in_chunks(
        skus,
        &[],
        |list| {
            format!(
                "SELECT {PROBLEM_COLUMNS} FROM alert_problems WHERE kind IN ('oversold', 'low_stock') AND subject IN ({list})"
            )
        },
        |s| text(s),
    )
}

/// The read of every problem the cron looks at: the open ones, and every channel-level one
/// (bounded by the channels).
pub fn watched_problems() -> Query {
    Query::new(
        format!(
            "SELECT {PROBLEM_COLUMNS} FROM alert_problems WHERE is_open = 1 OR kind NOT IN ('oversold', 'low_stock')"
        ),
        vec![],
    )
}

/// The write of a problem's new state: an insert when it was never stored (`revision` `None`;
/// nothing when another wrote it first), else an update of the revision read (nothing when
/// another moved it meanwhile). One changed row means this evaluation owns the transition.
pub fn write_problem(key: &Key, state: &ProblemState, revision: Option<i64>, now: Millis) -> StoreResult<Query> {
    let json = encode(state)?;
    let open = flag(state.open.is_some());
    Ok(match revision {
        None => Query::new(
            "INSERT INTO alert_problems (kind, subject, state, is_open, revision, updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5) \
             ON CONFLICT (kind, subject) DO NOTHING",
            vec![text(key.0.as_str()), text(&key.1), text(&json), open, int(now.0)],
        ),
        Some(r) => Query::new(
            "UPDATE alert_problems SET state = ?3, is_open = ?4, revision = revision + 1, updated_at = ?5 \
             WHERE kind = ?1 AND subject = ?2 AND revision = ?6",
            vec![text(key.0.as_str()), text(&key.1), text(&json), open, int(now.0), int(r)],
        ),
    })
}

// ---------------------------------------------------------------------------------------------
// Channel facts

/// A channel whose pushes were refused for credentials: failing since `now` unless already.
pub fn auth_failing(channel: &Token, error: &str, now: Millis) -> Query {
    Query::new(
        "INSERT INTO channel_auth (channel, failing_since, last_failure, updated_at) VALUES (?1, ?2, ?3, ?2) \
         ON CONFLICT (channel) DO UPDATE SET failing_since = COALESCE(channel_auth.failing_since, excluded.failing_since), \
         last_failure = excluded.last_failure, updated_at = excluded.updated_at",
        vec![text(channel.as_str()), int(now.0), text(error)],
    )
}

/// A channel whose push was taken: no longer failing (a write only when it was).
pub fn auth_ok(channel: &Token, now: Millis) -> Query {
    Query::new(
        "UPDATE channel_auth SET failing_since = NULL, ok_at = ?2, updated_at = ?2 \
         WHERE channel = ?1 AND failing_since IS NOT NULL",
        vec![text(channel.as_str()), int(now.0)],
    )
}

/// Open sync failures (dead letters) in all ([`CountRow`]).
pub fn dead_letter_count() -> Query {
    Query::new("SELECT COUNT(*) AS n FROM sync_failures WHERE retried_at IS NULL", vec![])
}

#[derive(Clone, Debug, Deserialize)]
pub struct CountRow {
    pub n: i64,
}

/// The credential state of every channel that still exists ([`AuthDbRow`]).
pub fn auth_rows() -> Query {
    Query::new(
        "SELECT a.channel AS channel, a.failing_since AS failing_since, a.last_failure AS last_failure \
         FROM channel_auth a JOIN channels c ON c.channel = a.channel",
        vec![],
    )
}

#[derive(Clone, Debug, Deserialize)]
pub struct AuthDbRow {
    pub channel: String,
    pub failing_since: Option<i64>,
    pub last_failure: Option<String>,
}

impl From<AuthDbRow> for AuthRow {
    fn from(r: AuthDbRow) -> AuthRow {
        AuthRow { channel: r.channel, failing_since: r.failing_since.map(Millis), last_failure: r.last_failure }
    }
}

/// Per channel, its `drift_events` received since `since` ([`ChannelCountRow`]).
pub fn recent_drift(since: Millis) -> Query {
    Query::new(
        "SELECT channel, COUNT(*) AS n FROM drift_events WHERE received_at >= ?1 GROUP BY channel",
        vec![int(since.0)],
    )
}

#[derive(Clone, Debug, Deserialize)]
pub struct ChannelCountRow {
    pub channel: String,
    pub n: i64,
}

/// The stored poll state of every channel that still exists and is polled (`settings.poll` is
/// not `false`) ([`PollDbRow`]).
pub fn poll_rows() -> Query {
    Query::new(
        "SELECT p.channel AS channel, p.state AS state, p.last_error AS last_error \
         FROM inbound_polls p JOIN channels c ON c.channel = p.channel \
         WHERE json_type(c.settings, '$.poll') IS NOT 'false'",
        vec![],
    )
}

#[derive(Clone, Debug, Deserialize)]
pub struct PollDbRow {
    pub channel: String,
    pub state: String,
    pub last_error: Option<String>,
}

impl PollDbRow {
    pub fn decode(self) -> StoreResult<PollRow> {
        Ok(PollRow { channel: self.channel, state: decode("poll state", &self.state)?, last_error: self.last_error })
    }
}

// ---------------------------------------------------------------------------------------------
// Destinations

const DESTINATION_COLUMNS: &str = "id, format, url, secret, kinds, enabled, updated_at";

#[derive(Clone, Debug, Deserialize)]
pub struct DestinationRow {
    pub id: String,
    pub format: String,
    pub url: String,
    pub secret: Option<String>,
    pub kinds: String,
    pub enabled: i64,
    pub updated_at: i64,
}

impl DestinationRow {
    /// Decoded; an unknown kind in `kinds` is dropped (a kind removed from the code).
    pub fn decode(self) -> StoreResult<(Destination, Millis)> {
        let id = Token::parse(&self.id).map_err(|e| super::corrupt(format!("destination id: {e}")))?;
        let format =
            Format::parse(&self.format).ok_or_else(|| super::corrupt(format!("destination format {}", self.format)))?;
        let names: Vec<String> = decode("destination kinds", &self.kinds)?;
        let kinds = names.iter().filter_map(|k| AlertKind::parse(k)).collect();
        let d = Destination { id, format, url: self.url, secret: self.secret, kinds, enabled: self.enabled != 0 };
        Ok((d, Millis(self.updated_at)))
    }
}

/// Every destination, by id.
pub fn destinations() -> Query {
    Query::new(format!("SELECT {DESTINATION_COLUMNS} FROM alert_destinations ORDER BY id"), vec![])
}

/// One destination.
pub fn destination(id: &str) -> Query {
    Query::new(format!("SELECT {DESTINATION_COLUMNS} FROM alert_destinations WHERE id = ?1"), vec![text(id)])
}

/// Creates or replaces `d`.
pub fn put_destination(d: &Destination, now: Millis) -> StoreResult<Query> {
    let kinds: Vec<&str> = d.kinds.iter().map(|k| k.as_str()).collect();
    Ok(Query::new(
        "INSERT INTO alert_destinations (id, format, url, secret, kinds, enabled, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (id) DO UPDATE SET format = excluded.format, url = excluded.url, secret = excluded.secret, \
         kinds = excluded.kinds, enabled = excluded.enabled, updated_at = excluded.updated_at",
        vec![
            text(d.id.as_str()),
            text(d.format.as_str()),
            text(&d.url),
            opt_text(d.secret.as_deref()),
            text(&encode(&kinds)?),
            flag(d.enabled),
            int(now.0),
        ],
    ))
}

/// Deletes a destination (its delivery records stay).
pub fn delete_destination(id: &str) -> Query {
    Query::new("DELETE FROM alert_destinations WHERE id = ?1", vec![text(id)])
}

/// How many destinations there are ([`CountRow`]).
pub fn destination_count() -> Query {
    Query::new("SELECT COUNT(*) AS n FROM alert_destinations", vec![])
}

/// Per destination and status, how many deliveries ([`DeliveryCountRow`]).
pub fn delivery_counts() -> Query {
    Query::new("SELECT destination, status, COUNT(*) AS n FROM alert_deliveries GROUP BY destination, status", vec![])
}

#[derive(Clone, Debug, Deserialize)]
pub struct DeliveryCountRow {
    pub destination: String,
    pub status: String,
    pub n: i64,
}

/// Per destination, (delivered, failed).
pub fn delivery_tally(rows: Vec<DeliveryCountRow>) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in rows {
        let slot = out.entry(r.destination).or_default();
        match r.status.as_str() {
            "delivered" => slot.0 += r.n,
            "failed" => slot.1 += r.n,
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Deliveries

/// The delivery record of (destination, message), if any ([`DeliveryRow`]).
pub fn delivery(destination: &str, message_id: &str) -> Query {
    Query::new(
        "SELECT status, attempts FROM alert_deliveries WHERE destination = ?1 AND message_id = ?2",
        vec![text(destination), text(message_id)],
    )
}

#[derive(Clone, Debug, Deserialize)]
pub struct DeliveryRow {
    pub status: String,
    pub attempts: i64,
}

impl DeliveryRow {
    /// Delivered or failed: never sent again.
    pub fn is_settled(&self) -> bool {
        self.status != "pending"
    }
}

/// Where one delivery stands after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// One attempt's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempted<'a> {
    pub destination: &'a str,
    pub message_id: &'a str,
    pub kind: AlertKind,
    pub subject: &'a str,
    pub phase: &'a str,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub error: Option<&'a str>,
    pub at: Millis,
}

/// Records an attempt; a settled record (delivered or failed) is never changed again.
pub fn record_attempt(s: &Attempted<'_>) -> Query {
    Query::new(
        "INSERT INTO alert_deliveries \
         (destination, message_id, kind, subject, phase, status, attempts, http_status, error, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (destination, message_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, \
         http_status = excluded.http_status, error = excluded.error, updated_at = excluded.updated_at \
         WHERE alert_deliveries.status = 'pending'",
        vec![
            text(s.destination),
            text(s.message_id),
            text(s.kind.as_str()),
            text(s.subject),
            text(s.phase),
            text(s.status.as_str()),
            count(s.attempts),
            opt_int(s.http_status.map(i64::from)),
            opt_text(s.error),
            int(s.at.0),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{assert_bound, rows};

    #[test]
    fn every_statement_binds_what_it_names() {
        let sku = Sku::parse("A").expect("sku");
        let ch = Token::parse("shop").expect("channel");
        let key: Key = (AlertKind::Drift, "shop".into());
        let d = crate::alerts::destination::destination_body(
            Token::parse("ops").expect("id"),
            br#"{"format":"webhook","url":"https://e.example/h","kinds":["drift"]}"#,
        )
        .expect("destination");
        let mut all = thresholds(&["A", "B"]);
        all.extend(sku_problems(&["A"]));
        all.extend([
            set_threshold(&sku, Some(3), Millis(1)),
            set_threshold(&sku, None, Millis(1)),
            watched_problems(),
            write_problem(&key, &ProblemState::default(), None, Millis(1)).expect("q"),
            write_problem(&key, &ProblemState::default(), Some(4), Millis(1)).expect("q"),
            auth_failing(&ch, "401", Millis(1)),
            auth_ok(&ch, Millis(1)),
            dead_letter_count(),
            auth_rows(),
            recent_drift(Millis(1)),
            poll_rows(),
            destinations(),
            destination("ops"),
            put_destination(&d, Millis(1)).expect("q"),
            delete_destination("ops"),
            destination_count(),
            delivery_counts(),
            delivery("ops", "m"),
        ]);
        let s = Attempted {
            destination: "ops",
            message_id: "m",
            kind: AlertKind::Drift,
            subject: "shop",
            phase: "opened",
            status: DeliveryStatus::Delivered,
            attempts: 1,
            http_status: Some(200),
            error: None,
            at: Millis(1),
        };
        all.push(record_attempt(&s));
        assert_bound(&all);
    }

    #[test]
    fn rows_decode_or_are_corrupt() {
        let d: Vec<DestinationRow> = rows(serde_json::json!([
            {"id": "ops", "format": "slack", "url": "https://h", "secret": null, "kinds": "[\"drift\",\"gone\"]", "enabled": 1, "updated_at": 5}
        ]));
        let (dest, at) = d.into_iter().next().expect("row").decode().expect("decodes");
        assert_eq!(
            (dest.format, dest.kinds.clone(), dest.enabled, at),
            (Format::Slack, vec![AlertKind::Drift], true, Millis(5))
        );
        let bad: Vec<DestinationRow> = rows(serde_json::json!([
            {"id": "ops", "format": "email", "url": "https://h", "secret": null, "kinds": "[]", "enabled": 1, "updated_at": 5}
        ]));
        assert!(bad.into_iter().next().expect("row").decode().is_err());
        let p: Vec<ProblemRow> = rows(serde_json::json!([
            {"kind": "drift", "subject": "shop", "state": "{\"episode\":2}", "revision": 3},
            {"kind": "retired", "subject": "x", "state": "{}", "revision": 1}
        ]));
        let mut it = p.into_iter();
        let s = it.next().expect("row").decode().expect("ok").expect("known");
        assert_eq!((s.state.episode, s.revision), (2, 3));
        assert_eq!(it.next().expect("row").decode().expect("ok"), None);
        let tally = delivery_tally(vec![
            DeliveryCountRow { destination: "a".into(), status: "delivered".into(), n: 2 },
            DeliveryCountRow { destination: "a".into(), status: "failed".into(), n: 1 },
        ]);
        assert_eq!(tally["a"], (2, 1));
    }
}
