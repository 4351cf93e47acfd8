//! Wholesale trading partners: one X12 846 Inventory Inquiry/Advice per partner per push (see
//! [`super::x12`]), posted to the partner's (or its VAN's) HTTP endpoint.
//!
//! Choices where no platform contract exists: the document is sent as `POST {path}` with
//! `Content-Type: application/edi-x12` (the media type RFC 1767 registers); any 2xx means the
//! partner's endpoint took the interchange (its 997 acknowledgment arrives later and is not read
//! here); partners without an envelope configured are refused.

use std::collections::BTreeMap;

use super::adapter::{
    by_status, client_error, for_all, result_of, snippet, wrong_kind, Built, ChannelAdapter, PushCall,
};
use super::http::{HttpRequest, HttpResponse, Method};
use super::push_result::{FailureKind, ListingResult, PushResult};
use super::update::ListingUpdate;
use super::x12::{inventory_advice, ControlNumbers, Envelope, InventoryLine, MAX_LINES_PER_SET};
use crate::catalog::model::{ChannelKind, External};
use crate::channels::identity::FieldValue;
use crate::stock::Sku;
use crate::time::Millis;

/// A wholesale listing's identity, typed: the partner's item code, or our SKU when it has none.
/// Declared in the registry's wholesale entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WholesaleIdentity {
    pub partner_id: String,
    pub item_code: Option<String>,
}

impl WholesaleIdentity {
    /// The typed view of a wholesale identity; `None` for another platform's.
    pub fn of(e: &External) -> Option<WholesaleIdentity> {
        (e.kind() == ChannelKind::Wholesale).then_some(())?;
        Some(WholesaleIdentity {
            partner_id: e.text("partner_id")?.to_owned(),
            item_code: e.text("item_code").map(str::to_owned),
        })
    }
}

impl From<WholesaleIdentity> for External {
    fn from(i: WholesaleIdentity) -> External {
        let code = i.item_code.map(|c| ("item_code", FieldValue::Text(c)));
        External::new(
            ChannelKind::Wholesale,
            std::iter::once(("partner_id", FieldValue::Text(i.partner_id))).chain(code),
        )
    }
}

/// The mapping key of a partner's item code.
pub fn item_key(partner_id: &str, item_code: &str) -> String {
    format!("wholesale:{partner_id}|item:{item_code}")
}

/// The mapping key of a partner ordering by our SKU (no item code of its own).
pub fn sku_key(partner_id: &str, sku: &Sku) -> String {
    format!("wholesale:{partner_id}|sku:{sku}")
}

/// [`item_key`] or [`sku_key`] of a stored or read identity (the registry's key function).
pub fn listing_key(e: &External, sku: &Sku) -> String {
    let partner = e.text("partner_id").unwrap_or_default();
    match e.text("item_code") {
        Some(code) => item_key(partner, code),
        None => sku_key(partner, sku),
    }
}

/// One trading partner: its envelope and the control numbers for the next interchange (the
/// shell advances them after every build, whatever the answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TradingPartner {
    pub partner_id: String,
    pub envelope: Envelope,
    pub control: ControlNumbers,
    /// Items per transaction set (at most [`MAX_LINES_PER_SET`]).
    pub max_lines_per_set: usize,
    /// Whether each item carries `DTM*007` with the time its quantity took effect.
    pub effective_dates: bool,
}

/// A wholesale channel: where documents go and the partners it serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WholesaleAdapter {
    /// Path on the configured base URL the documents are posted to.
    pub path: String,
    /// `Authorization` value for the endpoint, if it needs one.
    pub authorization: Option<String>,
    pub partners: Vec<TradingPartner>,
}

impl ChannelAdapter for WholesaleAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Wholesale
    }

    /// One document carries all of a partner's items (split into transaction sets inside).
    fn batch_limit(&self) -> usize {
        usize::MAX
    }

    fn build(&self, updates: &[ListingUpdate], now: Millis) -> Built {
        let mut built = Built::default();
        let mut by_partner: BTreeMap<String, Vec<(&ListingUpdate, Option<String>)>> = BTreeMap::new();
        for u in updates {
            match WholesaleIdentity::of(&u.external) {
                Some(WholesaleIdentity { partner_id, item_code }) => {
                    by_partner.entry(partner_id).or_default().push((u, item_code))
                }
                None => built.refused.push(wrong_kind(u, ChannelKind::Wholesale)),
            }
        }
        for (partner_id, group) in by_partner {
            let Some(partner) = self.partners.iter().find(|p| p.partner_id == partner_id) else {
                let message = format!("no EDI envelope configured for trading partner {partner_id}");
                built.refused.extend(
                    group
                        .iter()
                        .map(|(u, _)| result_of(u, PushResult::permanent(FailureKind::Validation, message.clone()))),
                );
                continue;
            };
            let mut lines = Vec::new();
            let mut carried = Vec::new();
            for (u, item_code) in group {
                let line = InventoryLine {
                    item_code,
                    sku: u.key.sku.to_string(),
                    quantity: u.quantity,
                    effective: partner.effective_dates.then_some(u.at),
                };
                match line.check() {
                    Ok(()) => {
                        lines.push(line);
                        carried.push(u.clone());
                    }
                    Err(e) => {
                        built.refused.push(result_of(u, PushResult::permanent(FailureKind::Validation, e.to_string())))
                    }
                }
            }
            if lines.is_empty() {
                continue;
            }
            let reference = format!("{:09}", partner.control.interchange);
            match inventory_advice(
                &partner.envelope,
                partner.control,
                &reference,
                &lines,
                partner.max_lines_per_set,
                now,
            ) {
                Ok(document) => {
                    let mut request =
                        HttpRequest::new(Method::Post, self.path.clone()).header("Content-Type", "application/edi-x12");
                    if let Some(auth) = &self.authorization {
                        request = request.header("Authorization", auth.clone());
                    }
                    built.calls.push(PushCall { request: request.body(document), updates: carried });
                }
                Err(e) => {
                    built.refused.extend(carried.iter().map(|u| {
                        result_of(u, PushResult::permanent(FailureKind::Validation, format!("envelope: {e}")))
                    }))
                }
            }
        }
        built
    }

    fn interpret(&self, call: &PushCall, response: &HttpResponse, now: Millis) -> Vec<ListingResult> {
        if let Some(outcome) = by_status(response, now) {
            return for_all(call, outcome);
        }
        if response.is_success() {
            return for_all(call, PushResult::Pushed);
        }
        for_all(call, client_error(response, snippet(&response.body)))
    }
}

impl TradingPartner {
    /// A partner with the default set size and no effective dates.
    pub fn new(partner_id: impl Into<String>, envelope: Envelope, control: ControlNumbers) -> TradingPartner {
        TradingPartner {
            partner_id: partner_id.into(),
            envelope,
            control,
            max_lines_per_set: MAX_LINES_PER_SET,
            effective_dates: false,
        }
    }
}
