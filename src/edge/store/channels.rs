//! D1 `channels` (migrations/0001, 0009): channel connections. [`ChannelRow`] is the one row
//! struct of a connection — kind, account, the NAME of its credentials secret, settings — with
//! typed accessors that refuse a corrupt row ([`StoreError::Corrupt`]) instead of guessing.

use serde::Deserialize;
use serde_json::{Map, Value};
use worker::{D1Database, D1PreparedStatement, D1Result};

use super::catalog::stamps;
use super::{all, batch, corrupt, delete_with, first, int, opt_text, rows, stmt, text, StoreResult};
use crate::catalog::model::{Channel, ChannelKind, Stamps};
use crate::stock::Token;

/// The columns of [`ChannelRow`], from `channels`; a read appends its `WHERE`.
pub(super) const CHANNEL_SELECT: &str =
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

/// The connection `channel`.
pub async fn get(db: &D1Database, channel: &Token) -> StoreResult<Option<ChannelRow>> {
    first(stmt(db, &format!("{CHANNEL_SELECT} WHERE channel = ?1"), &[text(channel.as_str())])?).await
}

/// Up to `limit` connections with ids after `after`, in id order.
pub async fn page(db: &D1Database, after: &str, limit: usize) -> StoreResult<Vec<ChannelRow>> {
    all(stmt(
        db,
        &format!("{CHANNEL_SELECT} WHERE channel > ?1 ORDER BY channel LIMIT ?2"),
        &[text(after), int(limit as i64)],
    )?)
    .await
}

/// `channel`'s kind (`None`: no such channel) and the result of `then`, run in one batch after
/// the kind is read (a listing's shape depends on its channel's kind).
pub async fn with_kind(
    db: &D1Database,
    channel: &Token,
    then: D1PreparedStatement,
) -> StoreResult<(Option<ChannelKind>, D1Result)> {
    #[derive(Deserialize)]
    struct KindRow {
        kind: String,
    }
    let read = stmt(db, "SELECT kind FROM channels WHERE channel = ?1", &[text(channel.as_str())])?;
    let mut res = batch(db, vec![read, then]).await?;
    let kind = rows::<KindRow>(&res[0])?.into_iter().next().map(|k| kind(&k.kind)).transpose()?;
    let result = res.pop().ok_or_else(|| corrupt("a batch of two answered one result"))?;
    Ok((kind, result))
}

/// The connection `channel` and how many listings it has.
pub async fn with_listing_count(db: &D1Database, channel: &Token) -> StoreResult<(Option<ChannelRow>, i64)> {
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let res = batch(
        db,
        vec![
            stmt(db, &format!("{CHANNEL_SELECT} WHERE channel = ?1"), &[text(channel.as_str())])?,
            stmt(db, "SELECT COUNT(*) AS n FROM listings WHERE channel = ?1", &[text(channel.as_str())])?,
        ],
    )
    .await?;
    let row = rows::<ChannelRow>(&res[0])?.into_iter().next();
    let listings = rows::<Count>(&res[1])?.into_iter().next().map_or(0, |c| c.n);
    Ok((row, listings))
}

/// The statement that stores `channel` with `st`.
pub fn write(db: &D1Database, channel: &Channel, st: Stamps) -> StoreResult<D1PreparedStatement> {
    let settings = Value::Object(channel.settings.clone()).to_string();
    stmt(
        db,
        "INSERT INTO channels (channel, kind, account, enabled, credentials_secret, settings, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (channel) DO UPDATE SET kind = excluded.kind, account = excluded.account, enabled = excluded.enabled, \
         credentials_secret = excluded.credentials_secret, settings = excluded.settings, updated_at = excluded.updated_at",
        &[
            text(channel.channel.as_str()),
            text(channel.kind.as_str()),
            text(&channel.account),
            int(i64::from(channel.enabled)),
            opt_text(channel.credentials_secret.as_deref()),
            text(&settings),
            int(st.created_at.0),
            int(st.updated_at.0),
        ],
    )
}

/// Deletes the connection and its listings; `false` when there was no such channel.
pub async fn delete(db: &D1Database, channel: &Token) -> StoreResult<bool> {
    delete_with(
        db,
        stmt(db, "DELETE FROM listings WHERE channel = ?1", &[text(channel.as_str())])?,
        stmt(db, "DELETE FROM channels WHERE channel = ?1", &[text(channel.as_str())])?,
    )
    .await
}
