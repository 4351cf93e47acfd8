//! D1 side of `POST /v1/inbound/unmatched/{id}/map` (migrations/0013): the line with its
//! channel and the answer kept for it, and keeping the first answer — the first mapping to be
//! recorded wins, and every repeat answers it.

use serde::Deserialize;

use super::inbound::UnmatchedRow;
use super::{int, text, Query};
use crate::inbound::InboundChannel;
use crate::stock::Sku;
use crate::time::Millis;

/// An unmatched line, its channel (absent when the channel was deleted since) and the answer
/// kept when it was mapped.
#[derive(Debug, Deserialize)]
pub struct MapLineRow {
    /// The line as listed.
    #[serde(flatten)]
    pub line: UnmatchedRow,
    pub mapped_answer: Option<String>,
    pub channel_kind: Option<String>,
    pub account: Option<String>,
    pub credentials_secret: Option<String>,
    pub settings: Option<String>,
}

impl MapLineRow {
    /// The line's channel as the inbound paths see it; `None` when it no longer exists.
    pub fn channel(&self) -> Option<InboundChannel> {
        let (account, settings) = (self.account.clone()?, self.settings.as_deref()?);
        InboundChannel::of(&self.line.channel, account, self.credentials_secret.clone(), settings)
    }
}

/// The read of line `id` ([`MapLineRow`]).
pub fn line(id: i64) -> Query {
    Query::new(
        "SELECT u.id, u.channel, u.order_id, u.line_id, u.kind, u.identity, u.qty, u.received_at, u.mapped_answer, \
         c.kind AS channel_kind, c.account, c.credentials_secret, c.settings \
         FROM unmatched_lines u LEFT JOIN channels c ON c.channel = u.channel WHERE u.id = ?1",
        vec![int(id)],
    )
}

/// The answer kept for a mapped line.
#[derive(Debug, Deserialize)]
pub struct AnswerRow {
    pub mapped_answer: Option<String>,
}

/// The statements, for one batch, that keep `answer` for line `id` mapped to `sku` at `now`
/// unless an answer is kept already, then read the one kept ([`AnswerRow`]).
pub fn keep_answer(id: i64, sku: &Sku, answer: &str, now: Millis) -> [Query; 2] {
    [
        Query::new(
            "UPDATE unmatched_lines SET mapped_sku = ?1, mapped_at = ?2, mapped_answer = ?3 \
             WHERE id = ?4 AND mapped_answer IS NULL",
            vec![text(sku.as_str()), int(now.0), text(answer), int(id)],
        ),
        Query::new("SELECT mapped_answer FROM unmatched_lines WHERE id = ?1", vec![int(id)]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{assert_bound, rows};
    use serde_json::json;

    #[test]
    fn reads_the_line_with_its_channel_and_keeps_the_first_answer() {
        let sku = Sku::parse("A").expect("sku");
        assert_bound(&[line(3)]);
        assert_bound(&keep_answer(3, &sku, "{}", Millis(1)));
        assert!(keep_answer(3, &sku, "{}", Millis(1))[0].sql.contains("mapped_answer IS NULL"), "first one wins");
        let base = json!({
            "id": 3, "channel": "woo", "order_id": "o", "line_id": "l", "kind": "sale", "identity": "{}", "qty": 1,
            "received_at": 0, "mapped_answer": null, "channel_kind": "woocommerce", "account": "shop.example",
            "credentials_secret": null, "settings": "{\"location\":\"north\"}"
        });
        let r: Vec<MapLineRow> = rows(json!([base]));
        assert_eq!(r[0].channel().map(|c| c.location().to_string()), Some("north".into()));
        assert_eq!(r[0].line.order_id, "o");
        let mut gone = base.clone();
        gone["account"] = json!(null);
        gone["settings"] = json!(null);
        let r: Vec<MapLineRow> = rows(json!([gone]));
        assert!(r[0].channel().is_none(), "the channel was deleted");
    }
}
