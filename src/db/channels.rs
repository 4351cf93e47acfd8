//! D1 `channels` (migrations/0001, 0009): channel connections. [`ChannelRow`] is the one row
//! struct of a connection — kind, account, the NAME of its credentials secret, settings — with
//! typed accessors that refuse a corrupt row ([`StoreError::Corrupt`](super::StoreError)) instead
//! of guessing.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::catalog::stamps;
use super::{corrupt, flag, int, opt_text, text, Query, StoreResult};
use crate::catalog::model::{Channel, ChannelKind, Stamps};
use crate::stock::Token;

/// The columns of [`ChannelRow`], from `channels`; a read appends its `WHERE`.
pub const CHANNEL_SELECT: &str =
    "SELECT channel, kind, account, enabled, credentials_secret, settings, created_at, updated_at FROM channels";

/// One stored channel connection.
#[derive(Clone, Debug, Deserialize)]
pub struct ChannelRow {
    pub channel: String,
    pub kind: String,
    pub account: String,
    pub enabled: i64,
    /// The NAME of the Worker secret holding the credentials (never a value).
    pub credentials_secret: Option<String>,
    /// The settings object, as stored JSON.
    pub settings: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ChannelRow {
    /// The connection's id.
    pub fn id(&self) -> StoreResult<Token> {
        Token::parse(&self.channel).map_err(|e| corrupt(format!("stored channel id {:?}: {e}", self.channel)))
    }

    /// The platform; a kind this code does not know is a corrupt row.
    pub fn kind(&self) -> StoreResult<ChannelKind> {
        kind(&self.kind)
    }

    /// The settings object (`{}` when none were given); anything but an object is a corrupt row.
    pub fn settings(&self) -> StoreResult<Map<String, Value>> {
        match serde_json::from_str::<Value>(&self.settings) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(corrupt(format!("channel {} settings are not a JSON object", self.channel))),
        }
    }

    /// The connection as a catalogue record, with its stamps.
    pub fn channel(&self) -> StoreResult<(Channel, Stamps)> {
        let c = Channel {
            channel: self.id()?,
            kind: self.kind()?,
            account: self.account.clone(),
            enabled: self.enabled != 0,
            credentials_secret: self.credentials_secret.clone(),
            settings: self.settings()?,
        };
        Ok((c, stamps(self.created_at, self.updated_at)))
    }
}

/// A stored kind, parsed: the code (`ChannelKind`) is what validates kinds, not the schema.
pub fn kind(stored: &str) -> StoreResult<ChannelKind> {
    ChannelKind::parse(stored).ok_or_else(|| corrupt(format!("channel kind {stored:?} is not one this code knows")))
}

/// A channel's kind, as [`kind_read`] answers it.
#[derive(Debug, Deserialize)]
pub struct KindRow {
    kind: String,
}

/// The read of `channel`'s kind ([`KindRow`]).
pub fn kind_read(channel: &Token) -> Query {
    Query::new("SELECT kind FROM channels WHERE channel = ?1", vec![text(channel.as_str())])
}

/// The kind of [`kind_read`]'s rows: `None` when there is no such channel.
pub fn kind_of(rows: Vec<KindRow>) -> StoreResult<Option<ChannelKind>> {
    rows.into_iter().next().map(|k| kind(&k.kind)).transpose()
}

/// The read of the connection `channel` ([`ChannelRow`]).
pub fn get(channel: &Token) -> Query {
    Query::new(format!("{CHANNEL_SELECT} WHERE channel = ?1"), vec![text(channel.as_str())])
}

/// The read of up to `limit` connections with ids after `after`, in id order ([`ChannelRow`]s).
pub fn page(after: &str, limit: usize) -> Query {
    Query::new(
        format!("{CHANNEL_SELECT} WHERE channel > ?1 ORDER BY channel LIMIT ?2"),
        vec![text(after), super::count(limit)],
    )
}

/// A count, as `SELECT COUNT(*) AS n` answers it.
#[derive(Debug, Deserialize)]
pub struct CountRow {
    n: i64,
}

/// The read of how many listings `channel` has ([`CountRow`]).
pub fn listing_count(channel: &Token) -> Query {
    Query::new("SELECT COUNT(*) AS n FROM listings WHERE channel = ?1", vec![text(channel.as_str())])
}

/// The count of [`CountRow`]s (0 when none came back).
pub fn count_of(rows: Vec<CountRow>) -> i64 {
    rows.into_iter().next().map_or(0, |c| c.n)
}

/// The statement that stores `channel` with `st`.
pub fn write(channel: &Channel, st: Stamps) -> Query {
    let settings = Value::Object(channel.settings.clone()).to_string();
    Query::new(
        "INSERT INTO channels (channel, kind, account, enabled, credentials_secret, settings, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (channel) DO UPDATE SET kind = excluded.kind, account = excluded.account, enabled = excluded.enabled, \
         credentials_secret = excluded.credentials_secret, settings = excluded.settings, updated_at = excluded.updated_at",
        vec![
            text(channel.channel.as_str()),
            text(channel.kind.as_str()),
            text(&channel.account),
            flag(channel.enabled),
            opt_text(channel.credentials_secret.as_deref()),
            text(&settings),
            int(st.created_at.0),
            int(st.updated_at.0),
        ],
    )
}

/// The deletes of the connection's listings, then of the connection.
pub fn deletes(channel: &Token) -> [Query; 2] {
    [
        Query::new("DELETE FROM listings WHERE channel = ?1", vec![text(channel.as_str())]),
        Query::new("DELETE FROM channels WHERE channel = ?1", vec![text(channel.as_str())]),
    ]
}
