//! D1 `listings` (migrations/0001): a SKU's identity on a channel and its rule. [`ListingRow`]
//! is the one row struct of a listing; its rule goes through `catalog::StoredRule::rule()` (a
//! stored value out of bounds is [`StoreError::Corrupt`](super::StoreError::Corrupt), never
//! clamped).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use worker::{D1Database, D1PreparedStatement};

use super::catalog::stamps;
use super::channels::with_kind;
use super::{batch, changes, corrupt, first, int, opt_int, placeholders, rows, stmt, text, StoreResult, IN_CHUNK};
use crate::catalog::model::{ChannelKind, External, Listing, Stamps};
use crate::catalog::{ListingRule, StoredRule};
use crate::stock::{Sku, Token};

/// The columns of [`ListingRow`], from `listings l`; a read appends its joins and `WHERE`.
pub(super) const LISTING_SELECT: &str = "SELECT l.channel, l.sku, l.identity, l.external, l.buffer, l.percent, \
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
    /// The identity's mapping key (`catalog::model::identity`), unique per channel.
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

/// The channel's kind (`None`: no such channel) and its listing of `sku`, read in one batch.
pub async fn get(
    db: &D1Database,
    channel: &Token,
    sku: &Sku,
) -> StoreResult<(Option<ChannelKind>, Option<ListingRow>)> {
    let read = stmt(
        db,
        &format!("{LISTING_SELECT} WHERE channel = ?1 AND sku = ?2"),
        &[text(channel.as_str()), text(sku.as_str())],
    )?;
    let (kind, res) = with_kind(db, channel, read).await?;
    Ok((kind, rows::<ListingRow>(&res)?.into_iter().next()))
}

/// The channel's kind (`None`: no such channel) and up to `limit` of its listings with SKUs
/// after `after`, in SKU order.
pub async fn page(
    db: &D1Database,
    channel: &Token,
    after: &str,
    limit: usize,
) -> StoreResult<(Option<ChannelKind>, Vec<ListingRow>)> {
    let read = stmt(
        db,
        &format!("{LISTING_SELECT} WHERE channel = ?1 AND sku > ?2 ORDER BY sku LIMIT ?3"),
        &[text(channel.as_str()), text(after), int(limit as i64)],
    )?;
    let (kind, res) = with_kind(db, channel, read).await?;
    Ok((kind, rows::<ListingRow>(&res)?))
}

/// The statement that stores `listing` with `st`.
pub fn write(db: &D1Database, listing: &Listing, st: Stamps) -> StoreResult<D1PreparedStatement> {
    let r = &listing.rule;
    stmt(
        db,
        "INSERT INTO listings (channel, sku, identity, external, buffer, percent, max_listed, zero_at_or_below, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (channel, sku) DO UPDATE SET identity = excluded.identity, external = excluded.external, \
         buffer = excluded.buffer, percent = excluded.percent, max_listed = excluded.max_listed, \
         zero_at_or_below = excluded.zero_at_or_below, updated_at = excluded.updated_at",
        &[
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

/// Deletes `channel`'s listing of `sku`: `None` when there is no such channel, else whether a
/// listing was deleted.
pub async fn delete(db: &D1Database, channel: &Token, sku: &Sku) -> StoreResult<Option<bool>> {
    let delete = stmt(
        db,
        "DELETE FROM listings WHERE channel = ?1 AND sku = ?2",
        &[text(channel.as_str()), text(sku.as_str())],
    )?;
    match with_kind(db, channel, delete).await? {
        (None, _) => Ok(None),
        (Some(_), res) => Ok(Some(changes(&res)? > 0)),
    }
}

/// The SKU listed on `channel` under the identity key `identity` (see
/// `catalog::model::identity`): how an inbound order or event from a channel finds its SKU.
pub async fn sku_for_identity(db: &D1Database, channel: &Token, identity: &str) -> StoreResult<Option<Sku>> {
    let s = stmt(
        db,
        &format!("{LISTING_SELECT} WHERE channel = ?1 AND identity = ?2"),
        &[text(channel.as_str()), text(identity)],
    )?;
    first::<ListingRow>(s).await?.map(|r| r.sku()).transpose()
}

/// The statements reading `channel`'s listings whose `column` (`sku` or `identity`) is one of
/// `values`, [`IN_CHUNK`] values each, with what was last pushed to each (`last_quantity`).
pub fn with_values(
    db: &D1Database,
    channel: &Token,
    column: &str,
    values: &[impl AsRef<str>],
) -> StoreResult<Vec<D1PreparedStatement>> {
    values
        .chunks(IN_CHUNK)
        .map(|chunk| {
            let sql = format!(
                "{LISTING_SELECT_PUSHED} WHERE l.channel = ? AND l.{column} IN ({})",
                placeholders(chunk.len())
            );
            let mut args = vec![text(channel.as_str())];
            args.extend(chunk.iter().map(|v| text(v.as_ref())));
            stmt(db, &sql, &args)
        })
        .collect()
}

/// The listing rules of `channel` for those of `skus` it lists; unlisted SKUs are absent. A
/// stored rule out of bounds fails the read (it is never clamped).
pub async fn rules(db: &D1Database, channel: &Token, skus: &[Sku]) -> StoreResult<BTreeMap<Sku, ListingRule>> {
    let skus: Vec<&str> = skus.iter().map(Sku::as_str).collect();
    let mut out = BTreeMap::new();
    for r in batch(db, with_values(db, channel, "sku", &skus)?).await? {
        for row in rows::<ListingRow>(&r)? {
            out.insert(row.sku()?, row.rule()?);
        }
    }
    Ok(out)
}
