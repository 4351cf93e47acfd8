//! D1 `listings` (migrations/0001): a SKU's identity on a channel and its rule. [`ListingRow`]
//! is the one row struct of a listing; its rule goes through `catalog::StoredRule::rule()` (a
//! stored value out of bounds is [`StoreError::Corrupt`](super::StoreError), never clamped).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::catalog::stamps;
use super::{corrupt, in_chunks, int, opt_int, text, Query, StoreResult};
use crate::catalog::model::{ChannelKind, External, Listing, Stamps};
use crate::catalog::{ListingRule, StoredRule};
use crate::stock::{Sku, Token};

/// The columns of [`ListingRow`], from `listings l`; a read appends its joins and `WHERE`.
pub const LISTING_SELECT: &str = "SELECT l.channel, l.sku, l.identity, l.external, l.buffer, l.percent, \
     l.max_listed, l.zero_at_or_below, l.created_at, l.updated_at FROM listings l";

/// [`LISTING_SELECT`] with `last_quantity`, what was last pushed to each listing.
const LISTING_SELECT_PUSHED: &str = "SELECT l.channel, l.sku, l.identity, l.external, l.buffer, l.percent, \
     l.max_listed, l.zero_at_or_below, l.created_at, l.updated_at, s.last_quantity FROM listings l \
     LEFT JOIN listing_sync s ON s.channel = l.channel AND s.sku = l.sku";

/// One stored listing.
#[derive(Clone, Debug, Deserialize)]
pub struct ListingRow {
    pub channel: String,
    pub sku: String,
    /// The identity's mapping key (its platform's key function in `sync::<platform>`), unique per channel.
    pub identity: String,
    /// The identity on the platform, as stored JSON (its shape depends on the channel's kind).
    pub external: String,
    pub buffer: i64,
    pub percent: i64,
    pub max_listed: Option<i64>,
    pub zero_at_or_below: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// `listing_sync.last_quantity` (the level last pushed), when the read joins it.
    #[serde(default)]
    pub last_quantity: Option<i64>,
}

impl ListingRow {
    pub fn sku(&self) -> StoreResult<Sku> {
        Sku::parse(&self.sku).map_err(|e| corrupt(format!("stored SKU {:?}: {e}", self.sku)))
    }

    /// The rule as stored (not yet checked: the inbound planner checks it where it is used).
    pub fn stored_rule(&self) -> StoredRule {
        StoredRule {
            buffer: self.buffer,
            percent: self.percent,
            max_listed: self.max_listed,
            zero_at_or_below: self.zero_at_or_below,
        }
    }

    /// The listing's rule, refused when a stored value is out of bounds.
    pub fn rule(&self) -> StoreResult<ListingRule> {
        self.stored_rule().rule().map_err(|e| corrupt(format!("listing {}/{}: {e}", self.channel, self.sku)))
    }

    /// The identity on a channel of `kind`.
    pub fn external(&self, kind: ChannelKind) -> StoreResult<External> {
        let v: Value = serde_json::from_str(&self.external).map_err(corrupt)?;
        External::from_stored(kind, &v)
            .ok_or_else(|| corrupt(format!("listing {}/{}: {} identity {v}", self.channel, self.sku, kind.as_str())))
    }

    /// The listing as a catalogue record on a channel of `kind`, with its stamps. Its stored
    /// mapping key must be the one its identity gives.
    pub fn listing(&self, kind: ChannelKind) -> StoreResult<(Listing, Stamps)> {
        let l = Listing {
            channel: Token::parse(&self.channel).map_err(corrupt)?,
            sku: self.sku()?,
            external: self.external(kind)?,
            rule: self.rule()?,
        };
        if l.identity() != self.identity {
            return Err(corrupt(format!(
                "listing {}/{}: mapping key {:?} is not its identity's",
                self.channel, self.sku, self.identity
            )));
        }
        Ok((l, stamps(self.created_at, self.updated_at)))
    }
}

/// The read of `channel`'s listing of `sku` ([`ListingRow`]).
pub fn get(channel: &Token, sku: &Sku) -> Query {
    Query::new(
        format!("{LISTING_SELECT} WHERE channel = ?1 AND sku = ?2"),
        vec![text(channel.as_str()), text(sku.as_str())],
    )
}

/// The read of up to `limit` of `channel`'s listings with SKUs after `after`, in SKU order
/// ([`ListingRow`]s).
pub fn page(channel: &Token, after: &str, limit: usize) -> Query {
    Query::new(
        format!("{LISTING_SELECT} WHERE channel = ?1 AND sku > ?2 ORDER BY sku LIMIT ?3"),
        vec![text(channel.as_str()), text(after), super::count(limit)],
    )
}

/// The statement that stores `listing` with `st`.
pub fn write(listing: &Listing, st: Stamps) -> Query {
    let r = &listing.rule;
    Query::new(
        "INSERT INTO listings (channel, sku, identity, external, buffer, percent, max_listed, zero_at_or_below, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (channel, sku) DO UPDATE SET identity = excluded.identity, external = excluded.external, \
         buffer = excluded.buffer, percent = excluded.percent, max_listed = excluded.max_listed, \
         zero_at_or_below = excluded.zero_at_or_below, updated_at = excluded.updated_at",
        vec![
            text(listing.channel.as_str()),
            text(listing.sku.as_str()),
            text(&listing.identity()),
            text(&listing.external.to_json().to_string()),
            int(r.buffer),
            int(i64::from(r.percent)),
            opt_int(r.max_listed),
            opt_int(r.zero_at_or_below),
            int(st.created_at.0),
            int(st.updated_at.0),
        ],
    )
}

/// The delete of `channel`'s listing of `sku`.
pub fn delete(channel: &Token, sku: &Sku) -> Query {
    Query::new("DELETE FROM listings WHERE channel = ?1 AND sku = ?2", vec![text(channel.as_str()), text(sku.as_str())])
}

/// The read of the listing on `channel` under the identity key `identity` ([`ListingRow`]).
pub fn by_identity(channel: &Token, identity: &str) -> Query {
    Query::new(
        format!("{LISTING_SELECT} WHERE channel = ?1 AND identity = ?2"),
        vec![text(channel.as_str()), text(identity)],
    )
}

/// Which column [`with_values`] matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Sku,
    Identity,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Sku => "sku",
            Column::Identity => "identity",
        }
    }
}

/// The reads of `channel`'s listings whose `column` is one of `values`, [`IN_CHUNK`](super::IN_CHUNK)
/// values each, with what was last pushed to each (`last_quantity`) ([`ListingRow`]s).
pub fn with_values(channel: &Token, column: Column, values: &[impl AsRef<str>]) -> Vec<Query> {
    let sql = |list: &str| format!("{LISTING_SELECT_PUSHED} WHERE l.channel = ? AND l.{} IN ({list})", column.name());
    in_chunks(values, &[text(channel.as_str())], sql, |v| text(v.as_ref()))
}

/// The rules of listing rows by SKU; a stored rule out of bounds fails (it is never clamped).
pub fn rules_of(rows: Vec<ListingRow>) -> StoreResult<BTreeMap<Sku, ListingRule>> {
    rows.iter().map(|row| Ok((row.sku()?, row.rule()?))).collect()
}
