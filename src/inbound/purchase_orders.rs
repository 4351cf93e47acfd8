//! Wholesale purchase orders in (`POST /v1/edi/850?channel=`): who the trading partner is, what
//! the order becomes, and how each line is acknowledged. Pure; the edge
//! (`edge/purchase_orders.rs`) reads the channel and the partner's secret, applies the plan of
//! `inbound::apply` (the same planner as webhooks: lines map through the channel's listings,
//! unmatched lines are recorded, the sale goes to the order desk once per (channel, PO number))
//! and answers with [`super::x12_ack`].
//!
//! Partners: `settings.partners.<id>` of the wholesale channel; `inbound_secret` names the Worker
//! secret that authenticates the partner's 850s — either `user:password` (HTTP Basic) or a token
//! (`Authorization: Bearer <token>`), compared in constant time; `receiver_id` (default the
//! partner id) is the partner's X12 id, which the 850's ISA06 must carry.
//!
//! Lines map to the listing of the partner's item code (`IN`/`BP`: `external.item_code`), else
//! to the partner's listing without an item code of the SKU it names (`VN`/`VP`/`SK`).
//!
//! Acknowledgment of a line (after the sale, from the order desk's answer per SKU: `oversold`
//! after the sale): the units of the order on a SKU not covered are `min(units of the order on
//! it, oversold)`, taken from the order's last lines of that SKU first. A line whose units are all
//! covered is `IA`; a line with uncovered units is `IB` for those (and `IA` for the rest); a
//! bundle line with any uncovered component is `IB` whole; a line no listing maps is `IR`
//! (recorded as an unmatched line); a line of an order cancelled before it arrived is `IR`.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::apply::Effect;
use super::event::{EventKind, InboundEvent, InboundLine, LineIdentity, PlatformIds};
use super::po850::PurchaseOrder;
use super::x12_ack::{Ack, AckCode};
use crate::api::order_call::SkuLine;
use crate::catalog::model::ChannelKind;
use crate::stock::{Effect as LedgerEffect, Sku};
use crate::sync::wholesale::item_key;
use crate::time::Millis;

/// The largest interchange `POST /v1/edi/850` takes.
pub const MAX_EDI_BODY_BYTES: usize = 1024 * 1024;

/// A trading partner that may send 850s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundPartner {
    pub partner_id: String,
    /// The NAME of the Worker secret.
    pub secret: String,
    /// The partner's X12 id (ISA06 of its 850s).
    pub x12_id: String,
}

/// The partners of a channel's settings that have an `inbound_secret`.
pub fn inbound_partners(settings: &Map<String, Value>) -> Vec<InboundPartner> {
    let Some(partners) = settings.get("partners").and_then(Value::as_object) else { return Vec::new() };
    partners
        .iter()
        .filter_map(|(id, p)| {
            let secret = p.get("inbound_secret").and_then(Value::as_str).filter(|s| !s.is_empty())?;
            let x12_id = p.get("receiver_id").and_then(Value::as_str).unwrap_or(id);
            Some(InboundPartner { partner_id: id.clone(), secret: secret.to_owned(), x12_id: x12_id.to_owned() })
        })
        .collect()
}

/// What the request's `Authorization` presents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presented {
    /// HTTP Basic, decoded: `user:password`.
    Basic(String),
    Bearer(String),
}

impl Presented {
    /// Reads an `Authorization` header value; `None` when it is neither scheme or malformed.
    pub fn of(header: &str) -> Option<Presented> {
        let (scheme, rest) = header.trim().split_once(' ')?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let bytes = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
            return String::from_utf8(bytes).ok().filter(|s| s.contains(':')).map(Presented::Basic);
        }
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Some(Presented::Bearer(rest.to_owned()));
        }
        None
    }

    /// Whether these credentials are the secret's (`user:password` for Basic, the token for
    /// Bearer), compared in constant time.
    pub fn matches(&self, secret: &str) -> bool {
        let given = match self {
            Presented::Basic(s) | Presented::Bearer(s) => s.as_bytes(),
        };
        let basic_secret = secret.contains(':');
        let right_scheme = matches!(self, Presented::Basic(_)) == basic_secret;
        bool::from(given.ct_eq(secret.trim().as_bytes())) && right_scheme
    }
}

/// The sale event of a purchase order from `partner_id` (order id: the PO number).
pub fn sale_event(po: &PurchaseOrder, partner_id: &str, account: &str, now: Millis) -> InboundEvent {
    let lines = po
        .lines
        .iter()
        .map(|l| {
            let identity = match (&l.item_code, &l.vendor_sku) {
                (Some(code), _) => Some(item_key(partner_id, code)),
                (None, Some(sku)) => Sku::parse(sku).ok().map(|s| crate::sync::wholesale::sku_key(partner_id, &s)),
                (None, None) => None,
            };
            InboundLine {
                // By identity only: the partner's own listing (as its 846s), never another partner's.
                identity: LineIdentity { sku: None, ids: PlatformIds::Keyed { identity } },
                line_id: l.line_id.clone(),
                qty: l.qty,
                restock: None,
                order_line_id: None,
            }
        })
        .collect();
    InboundEvent {
        channel_kind: ChannelKind::Wholesale,
        account: account.to_owned(),
        order_id: Some(po.number.clone()),
        kind: EventKind::Sale,
        lines,
        occurred_at: now,
    }
}

/// The line a sold line's id belongs to: `"<line>"` or `"<line>/<component>"` (bundles).
fn po_line_of(sold_line_id: &str) -> &str {
    sold_line_id.split_once('/').map_or(sold_line_id, |(l, _)| l)
}

/// The ACKs of each line of `po`, from the planned effects and the desk's answer per SKU.
pub fn acknowledge(po: &PurchaseOrder, effects: &[Effect], desk: &BTreeMap<Sku, SkuLine>) -> Vec<Vec<Ack>> {
    // Sold lines in order: (PO line id, is a component, SKU, units).
    let sold: Vec<(&str, bool, &Sku, i64)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Sell { lines, .. } => Some(lines),
            _ => None,
        })
        .flatten()
        .map(|l| (po_line_of(l.line_id.as_str()), l.line_id.as_str().contains('/'), &l.sku, l.qty))
        .collect();
    // Uncovered units per SKU, handed out from the last sold line backwards.
    let mut uncovered: BTreeMap<&Sku, i64> = BTreeMap::new();
    for (_, _, sku, qty) in &sold {
        *uncovered.entry(sku).or_default() += qty;
    }
    for (sku, units) in uncovered.iter_mut() {
        *units = (*units).min(desk.get(*sku).map_or(0, |d| d.oversold.max(0)));
    }
    let mut short = vec![0i64; sold.len()];
    for i in (0..sold.len()).rev() {
        if let Some(left) = uncovered.get_mut(sold[i].2) {
            short[i] = (*left).min(sold[i].3);
            *left -= short[i];
        }
    }
    po.lines
        .iter()
        .map(|line| {
            let parts: Vec<usize> = (0..sold.len()).filter(|&i| sold[i].0 == line.line_id).collect();
            if parts.is_empty()
                || parts
                    .iter()
                    .any(|&i| desk.get(sold[i].2).is_some_and(|d| d.effect == LedgerEffect::OrderAlreadyCancelled))
            {
                return vec![Ack { code: AckCode::Rejected, qty: line.qty }];
            }
            let bundle = parts.iter().any(|&i| sold[i].1);
            let backordered = if bundle {
                if parts.iter().any(|&i| short[i] > 0) {
                    line.qty
                } else {
                    0
                }
            } else {
                parts.iter().map(|&i| short[i]).sum::<i64>().min(line.qty)
            };
            let mut acks = Vec::new();
            if line.qty > backordered {
                acks.push(Ack { code: AckCode::Accepted, qty: line.qty - backordered });
            }
            if backordered > 0 {
                acks.push(Ack { code: AckCode::Backordered, qty: backordered });
            }
            acks
        })
        .collect()
}
