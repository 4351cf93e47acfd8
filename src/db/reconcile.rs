//! D1 state of live reconciliation (migrations/0012): the latest read of each listing
//! (`listing_reconciliation`), the drift it found (`drift_events` with `source = 'reconcile'`),
//! and where the cron's pass over every listing stands (`reconcile_cursor`); and the reads that
//! feed a run: the enabled channels and their listings, each with its sync record.

use serde::Deserialize;

use super::channels::CHANNEL_SELECT;
use super::listings::ListingRow;
use super::{count, int, opt_int, opt_text, text, Query};
use crate::inbound::OnDrift;
use crate::reconcile::Verdict;
use crate::stock::{Sku, Token};
use crate::time::Millis;

/// The enabled channels (or only `only`), by id ([`super::channels::ChannelRow`]s).
pub fn channels(only: Option<&Token>) -> Query {
    Query::new(
        format!("{CHANNEL_SELECT} WHERE enabled = 1 AND (?1 IS NULL OR channel = ?1) ORDER BY channel"),
        vec![opt_text(only.map(Token::as_str))],
    )
}

/// A listing to reconcile: the listing, and its sync record's versions.
#[derive(Clone, Debug, Deserialize)]
pub struct ReconcileListingRow {
    #[serde(flatten)]
    pub listing: ListingRow,
    pub last_version: Option<i64>,
    pub pending_version: Option<i64>,
}

/// The read of up to `limit` listings of enabled channels (or of `only`) after `after` in
/// (channel, SKU) order, each with its sync record ([`ReconcileListingRow`]s).
pub fn listings(only: Option<&Token>, after: Option<(&Token, &Sku)>, limit: usize) -> Query {
    let (c, s) = after.map_or(("", ""), |(c, s)| (c.as_str(), s.as_str()));
    Query::new(
        "SELECT l.channel, l.sku, l.identity, l.external, l.buffer, l.percent, l.max_listed, l.zero_at_or_below, \
         l.created_at, l.updated_at, s.last_quantity, s.last_version, s.pending_version FROM listings l \
         JOIN channels c ON c.channel = l.channel \
         LEFT JOIN listing_sync s ON s.channel = l.channel AND s.sku = l.sku \
         WHERE c.enabled = 1 AND (?1 IS NULL OR l.channel = ?1) AND (l.channel > ?2 OR (l.channel = ?2 AND l.sku > ?3)) \
         ORDER BY l.channel, l.sku LIMIT ?4",
        vec![opt_text(only.map(Token::as_str)), text(c), text(s), count(limit)],
    )
}

/// One listing's read, as recorded (the latest read per listing is kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadRecord {
    pub channel: Token,
    pub sku: Sku,
    /// The listing's identity on the platform (stored JSON).
    pub external: String,
    /// What StockEdge intends the listing to show (`None` when the read failed before it was
    /// known to matter).
    pub intended: Option<i64>,
    /// What the platform showed (`None`: not read).
    pub live: Option<i64>,
    /// The verdict on the live value; `None`: the listing could not be read (`unreadable`).
    pub verdict: Option<Verdict>,
    /// Why the listing could not be read.
    pub error: Option<String>,
    pub read_at: Millis,
    /// When a repair was queued by this read.
    pub repaired_at: Option<Millis>,
}

impl ReadRecord {
    /// `live − intended`, when both are known.
    pub fn drift(&self) -> Option<i64> {
        Some(self.live? - self.intended?)
    }

    /// `in_sync`, `in_flight`, `drifted` or `unreadable`.
    pub fn status(&self) -> &'static str {
        self.verdict.map_or("unreadable", Verdict::status)
    }
}

/// The upsert of a listing's latest read (its row id is kept across reads; the last repair
/// time survives reads that repair nothing).
pub fn record(r: &ReadRecord) -> Query {
    Query::new(
        "INSERT INTO listing_reconciliation (channel, sku, external, intended, live, drift, status, action, error, \
         read_at, repaired_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
         ON CONFLICT (channel, sku) DO UPDATE SET external = excluded.external, intended = excluded.intended, \
         live = excluded.live, drift = excluded.drift, status = excluded.status, action = excluded.action, \
         error = excluded.error, read_at = excluded.read_at, \
         repaired_at = COALESCE(excluded.repaired_at, listing_reconciliation.repaired_at)",
        vec![
            text(r.channel.as_str()),
            text(r.sku.as_str()),
            text(&r.external),
            opt_int(r.intended),
            opt_int(r.live),
            opt_int(r.drift()),
            text(r.status()),
            opt_text(r.verdict.and_then(Verdict::action)),
            opt_text(r.error.as_deref()),
            int(r.read_at.0),
            opt_int(r.repaired_at.map(|t| t.0)),
        ],
    )
}

/// The drift a read found, in `drift_events` beside the drift webhooks report (`source =
/// 'reconcile'`; `line_id` is the listing's identity key, `reported` the live value, `listed`
/// the intended one, `action` `push_back` or `flag` as for webhook drift).
pub fn record_drift(r: &ReadRecord, identity: &str, last_pushed: Option<i64>) -> Query {
    let action = if r.verdict == Some(Verdict::Repair) { OnDrift::PushBack } else { OnDrift::Flag };
    Query::new(
        "INSERT INTO drift_events (channel, sku, line_id, reported, last_pushed, listed, action, dedupe_key, \
         occurred_at, received_at, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?8, 'reconcile')",
        vec![
            text(r.channel.as_str()),
            text(r.sku.as_str()),
            text(identity),
            opt_int(r.live),
            opt_int(last_pushed),
            opt_int(r.intended),
            text(action.as_str()),
            int(r.read_at.0),
        ],
    )
}

/// Where the cron's pass stands: the last listing it read.
#[derive(Clone, Debug, Deserialize)]
pub struct CursorRow {
    pub channel: Option<String>,
    pub sku: Option<String>,
}

impl CursorRow {
    /// The listing to continue after; `None` to start from the first.
    pub fn after(&self) -> Option<(Token, Sku)> {
        Some((Token::parse(self.channel.as_deref()?).ok()?, Sku::parse(self.sku.as_deref()?).ok()?))
    }
}

/// The read of the cron's cursor ([`CursorRow`], none before the first run).
pub fn cursor() -> Query {
    Query::new("SELECT channel, sku FROM reconcile_cursor WHERE id = 1", vec![])
}

/// The write of the cron's cursor: the last listing read, or `None` to start over.
pub fn save_cursor(after: Option<(&Token, &Sku)>, now: Millis) -> Query {
    Query::new(
        "INSERT INTO reconcile_cursor (id, channel, sku, updated_at) VALUES (1, ?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, sku = excluded.sku, updated_at = excluded.updated_at",
        vec![opt_text(after.map(|(c, _)| c.as_str())), opt_text(after.map(|(_, s)| s.as_str())), int(now.0)],
    )
}

/// A recorded read, as listed.
#[derive(Clone, Debug, Deserialize)]
pub struct ReconcileRow {
    pub id: i64,
    pub channel: String,
    pub sku: String,
    pub external: String,
    pub intended: Option<i64>,
    pub live: Option<i64>,
    pub drift: Option<i64>,
    pub status: String,
    pub action: Option<String>,
    pub error: Option<String>,
    pub read_at: i64,
    pub repaired_at: Option<i64>,
}

/// The reads of listings that still exist (a deleted listing's last read is not shown or repaired).
const READ_SELECT: &str =
    "SELECT r.id, r.channel, r.sku, r.external, r.intended, r.live, r.drift, r.status, r.action, \
     r.error, r.read_at, r.repaired_at FROM listing_reconciliation r \
     JOIN listings l ON l.channel = r.channel AND l.sku = r.sku";

/// The read of up to `limit` recorded reads with ids above `after` (only `channel`'s, `sku`'s,
/// and only drift when `drifted`), by id ([`ReconcileRow`]s).
pub fn page(after: i64, (channel, sku): (Option<&Token>, Option<&Sku>), drifted: bool, limit: i64) -> Query {
    Query::new(
        format!(
            "{READ_SELECT} WHERE r.id > ?1 AND (?2 IS NULL OR r.channel = ?2) AND (?3 IS NULL OR r.sku = ?3) \
             AND (?4 = 0 OR r.status = 'drifted') ORDER BY r.id LIMIT ?5"
        ),
        vec![
            int(after),
            opt_text(channel.map(Token::as_str)),
            opt_text(sku.map(Sku::as_str)),
            int(i64::from(drifted)),
            int(limit),
        ],
    )
}

/// The read of `channel`'s drifted listings (or only `sku`'s), at most `limit`, for a repair.
pub fn drifted(channel: &Token, sku: Option<&Sku>, limit: usize) -> Query {
    Query::new(
        format!(
            "{READ_SELECT} WHERE r.status = 'drifted' AND r.channel = ?1 AND (?2 IS NULL OR r.sku = ?2) \
             ORDER BY r.id LIMIT ?3"
        ),
        vec![text(channel.as_str()), opt_text(sku.map(Sku::as_str)), count(limit)],
    )
}

/// Marks a drifted listing's read repaired at `now`.
pub fn mark_repaired(channel: &Token, sku: &Sku, now: Millis) -> Query {
    Query::new(
        "UPDATE listing_reconciliation SET action = 'repaired', repaired_at = ?1 WHERE channel = ?2 AND sku = ?3",
        vec![int(now.0), text(channel.as_str()), text(sku.as_str())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{assert_bound, rows};
    use serde_json::json;

    fn token(s: &str) -> Token {
        Token::parse(s).expect("token")
    }
    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }

    fn read(live: Option<i64>, verdict: Option<Verdict>) -> ReadRecord {
        ReadRecord {
            channel: token("shop"),
            sku: sku("A/1"),
            external: "{}".into(),
            intended: Some(5),
            live,
            verdict,
            error: None,
            read_at: Millis(9),
            repaired_at: None,
        }
    }

    #[test]
    fn every_statement_binds_what_it_names() {
        let (c, s) = (token("shop"), sku("A"));
        assert_bound(&[
            channels(None),
            channels(Some(&c)),
            listings(None, None, 50),
            listings(Some(&c), Some((&c, &s)), 50),
            record(&read(Some(9), Some(Verdict::Repair))),
            record_drift(&read(Some(9), Some(Verdict::Flag)), "shopify:inventory_item:1", Some(5)),
            cursor(),
            save_cursor(Some((&c, &s)), Millis(1)),
            save_cursor(None, Millis(1)),
            page(0, (Some(&c), None), true, 10),
            drifted(&c, Some(&s), 10),
            mark_repaired(&c, &s, Millis(1)),
        ]);
    }

    #[test]
    fn drift_is_live_minus_intended_and_recorded_with_its_action() {
        assert_eq!(read(Some(9), None).drift(), Some(4));
        assert_eq!(read(Some(2), None).drift(), Some(-3));
        assert_eq!(read(None, None).drift(), None);
        assert_eq!((read(None, None).status(), read(Some(9), Some(Verdict::Flag)).status()), ("unreadable", "drifted"));
        let q = record_drift(&read(Some(9), Some(Verdict::Repair)), "k", None);
        assert_eq!(q.args[6], text("push_back"));
        assert!(q.sql.contains("'reconcile'"));
        let q = record_drift(&read(Some(9), Some(Verdict::Flag)), "k", None);
        assert_eq!(q.args[6], text("flag"));
    }

    #[test]
    fn the_listing_page_starts_after_the_cursor_and_rows_decode() {
        let q = listings(None, None, 50);
        assert_eq!((q.args[1].clone(), q.args[2].clone()), (text(""), text("")), "from the first listing");
        let r: Vec<ReconcileListingRow> = rows(json!([{
            "channel": "shop", "sku": "A", "identity": "k", "external": "{}", "buffer": 0, "percent": 100,
            "max_listed": null, "zero_at_or_below": null, "created_at": 1, "updated_at": 2,
            "last_quantity": 4, "last_version": 3, "pending_version": null
        }]));
        assert_eq!((r[0].listing.last_quantity, r[0].last_version, r[0].pending_version), (Some(4), Some(3), None));
        let c: Vec<CursorRow> = rows(json!([{"channel": "shop", "sku": "A/1"}, {"channel": null, "sku": null}]));
        assert_eq!(c[0].after(), Some((token("shop"), sku("A/1"))));
        assert_eq!(c[1].after(), None);
    }
}
