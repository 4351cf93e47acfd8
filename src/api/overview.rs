//! `GET /v1/overview`: what needs an operator's attention, counted, and each channel's sync
//! health — the console's first view. Pure: the counts come from one D1 batch
//! (`db::overview`), this turns them into the answer (docs/api.md, Operator console API).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::alerts::AlertKind;
use crate::db::overview::{GroupRow, OverviewRows};
use crate::time::Millis;

/// What needs attention.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Attention {
    pub sync_failures: i64,
    pub dead_letters: i64,
    pub alerts_open: i64,
    pub alerts_open_by_kind: BTreeMap<String, i64>,
    pub unmatched_lines: i64,
    pub drift: i64,
    pub channels_auth_failing: i64,
    pub low_stock: i64,
}

/// One channel's sync health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelHealth {
    pub id: String,
    pub kind: String,
    pub enabled: bool,
    pub listings: i64,
    pub pending: i64,
    pub failures: i64,
    pub auth_failing: bool,
    /// How long the oldest change not yet accepted by one of its listings has waited.
    pub lag_ms: Option<i64>,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overview {
    pub generated_at: i64,
    pub skus: i64,
    pub attention: Attention,
    pub channels: Vec<ChannelHealth>,
}

fn by_key(rows: &[GroupRow]) -> BTreeMap<&str, i64> {
    rows.iter().map(|r| (r.key.as_str(), r.n)).collect()
}

fn first(rows: &[crate::db::overview::CountRow]) -> i64 {
    rows.first().map_or(0, |r| r.n)
}

/// The overview of `rows` at `now`. Channels are listed in the order read (by id); counts of a
/// channel that no longer exists (failures kept after it was deleted) still count in
/// `attention`.
pub fn overview(rows: &OverviewRows, now: Millis) -> Overview {
    let listings = by_key(&rows.listings);
    let pending: BTreeMap<&str, (i64, Option<i64>)> =
        rows.pending.iter().map(|p| (p.channel.as_str(), (p.n, p.oldest))).collect();
    let failures: BTreeMap<&str, (i64, i64)> =
        rows.failures.iter().filter_map(|f| Some((f.channel.as_deref()?, (f.n, f.credentials)))).collect();
    let channels: Vec<ChannelHealth> = rows
        .channels
        .iter()
        .map(|c| {
            let id = c.channel.as_str();
            let (pending, oldest) = pending.get(id).copied().unwrap_or((0, None));
            let (failures, credentials) = failures.get(id).copied().unwrap_or((0, 0));
            ChannelHealth {
                id: c.channel.clone(),
                kind: c.kind.clone(),
                enabled: c.enabled != 0,
                listings: listings.get(id).copied().unwrap_or(0),
                pending,
                failures,
                auth_failing: credentials > 0,
                lag_ms: oldest.filter(|_| pending > 0).map(|since| (now.0 - since).max(0)),
            }
        })
        .collect();
    let alerts_open_by_kind: BTreeMap<String, i64> =
        rows.alerts.iter().filter(|a| a.n > 0).map(|a| (a.key.clone(), a.n)).collect();
    let attention = Attention {
        sync_failures: rows.failures.iter().filter(|f| f.channel.is_some()).map(|f| f.n).sum(),
        dead_letters: rows.failures.iter().filter(|f| f.channel.is_none()).map(|f| f.n).sum(),
        alerts_open: alerts_open_by_kind.values().sum(),
        low_stock: alerts_open_by_kind.get(AlertKind::LowStock.as_str()).copied().unwrap_or(0),
        alerts_open_by_kind,
        unmatched_lines: first(&rows.unmatched),
        drift: first(&rows.drift),
        channels_auth_failing: channels.iter().filter(|c| c.auth_failing).count() as i64,
    };
    Overview { generated_at: now.0, skus: first(&rows.products), attention, channels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::overview::{ChannelRow, CountRow, FailureGroupRow, PendingRow};

    fn group(key: &str, n: i64) -> GroupRow {
        GroupRow { key: key.into(), n }
    }

    fn channel(id: &str, enabled: bool) -> ChannelRow {
        ChannelRow { channel: id.into(), kind: "shopify".into(), enabled: i64::from(enabled) }
    }

    fn rows() -> OverviewRows {
        OverviewRows {
            products: vec![CountRow { n: 1000 }],
            channels: vec![channel("a", true), channel("b", false), channel("c", true)],
            listings: vec![group("a", 1000), group("b", 3)],
            pending: vec![
                PendingRow { channel: "a".into(), n: 2, oldest: Some(400) },
                PendingRow { channel: "b".into(), n: 1, oldest: Some(1_500) },
            ],
            failures: vec![
                FailureGroupRow { channel: None, n: 4, credentials: 0 },
                FailureGroupRow { channel: Some("a".into()), n: 3, credentials: 1 },
                FailureGroupRow { channel: Some("gone".into()), n: 2, credentials: 2 },
            ],
            alerts: vec![group("oversold", 2), group(AlertKind::LowStock.as_str(), 5)],
            unmatched: vec![CountRow { n: 6 }],
            drift: vec![CountRow { n: 7 }],
        }
    }

    #[test]
    fn counts_what_needs_attention() {
        let o = overview(&rows(), Millis(1_000));
        assert_eq!((o.generated_at, o.skus), (1_000, 1000));
        let a = &o.attention;
        assert_eq!((a.sync_failures, a.dead_letters), (5, 4), "dead letters have no channel");
        assert_eq!((a.alerts_open, a.low_stock), (7, 5));
        assert_eq!(a.alerts_open_by_kind.get("oversold"), Some(&2));
        assert_eq!((a.unmatched_lines, a.drift), (6, 7));
        assert_eq!(a.channels_auth_failing, 1, "only listed channels count");
    }

    #[test]
    fn each_channel_with_its_lag_and_auth_state() {
        let o = overview(&rows(), Millis(1_000));
        let [a, b, c] = &o.channels[..] else { panic!("{:?}", o.channels) };
        assert_eq!((a.listings, a.pending, a.failures, a.auth_failing, a.lag_ms), (1000, 2, 3, true, Some(600)));
        assert_eq!((b.enabled, b.lag_ms), (false, Some(0)), "a clock behind the commit is no negative lag");
        assert_eq!((c.listings, c.pending, c.failures, c.auth_failing, c.lag_ms), (0, 0, 0, false, None));
    }

    #[test]
    fn an_empty_installation_counts_zero() {
        let o = overview(&OverviewRows::default(), Millis(5));
        assert_eq!(o.attention, Attention::default());
        assert!(o.channels.is_empty());
        let v = serde_json::to_value(&o).expect("json");
        assert_eq!(v["attention"]["alerts_open_by_kind"], serde_json::json!({}));
        assert_eq!(v["skus"], 0);
    }
}
