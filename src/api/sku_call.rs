//! The wire format between the Worker and a SKU ledger object, and the pure handler that answers
//! a call from the in-memory ledger. The object only loads, persists and sends.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::problem::{from_ledger, Kind, Problem};
use super::views::{AvailabilityItem, SkuView};
use crate::cart::SkuReply;
use crate::stock::{Command, HoldStatus, Ledger, Location, Sku};
use crate::time::Millis;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SkuAction {
    /// The full state (`GET /v1/skus/{sku}`); 404 if the SKU was never touched.
    Get,
    /// One availability item; unknown SKUs read as 0.
    Availability,
    /// A page of the journal (answered from storage by the object).
    Journal { after: u64, limit: usize },
    /// Apply commands in order, all or none: if one is refused, none of them applies.
    Apply { commands: Vec<Command> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkuCall {
    pub sku: Sku,
    #[serde(flatten)]
    pub action: SkuAction,
    /// `Idempotency-Key` and request fingerprint, when the client sent a key.
    #[serde(default)]
    pub idempotency: Option<(String, String)>,
}

/// An HTTP answer in the public format.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(body: impl Serialize) -> Answer {
        Answer { status: 200, body: serde_json::to_value(body).unwrap_or(Value::Null) }
    }
    pub fn problem(p: &Problem) -> Answer {
        Answer { status: p.status(), body: p.to_json() }
    }
    pub fn is_problem(&self) -> bool {
        self.status >= 400
    }
}

/// Answers `Get`, `Availability` and `Apply` from the ledger at time `now`.
/// For `Apply`, a refused command rolls back the ones before it in the same call.
pub fn handle(ledger: &mut Ledger, sku: &Sku, action: SkuAction, now: Millis) -> Answer {
    match action {
        SkuAction::Get => {
            ledger.expire_due(now);
            if ledger.version() == 0 {
                return Answer::problem(&Problem::new(Kind::SkuNotFound, format!("{sku} has no stock record")));
            }
            Answer::ok(SkuView::of(sku, ledger))
        }
        SkuAction::Availability => {
            ledger.expire_due(now);
            Answer::ok(AvailabilityItem::of(sku, ledger))
        }
        SkuAction::Journal { .. } => Answer::problem(&Problem::new(Kind::Internal, "journal is read from storage")),
        SkuAction::Apply { commands } => {
            let multi = commands.len() > 1;
            let before = multi.then(|| ledger.clone());
            let mut effects = Vec::with_capacity(commands.len());
            for cmd in commands {
                match ledger.apply(cmd, now) {
                    Ok(o) => effects.push(o.effect),
                    Err(e) => {
                        if let Some(b) = before {
                            *ledger = b;
                        }
                        return Answer::problem(&from_ledger(sku.as_str(), &e));
                    }
                }
            }
            let mut body = serde_json::to_value(SkuView::of(sku, ledger)).unwrap_or(Value::Null);
            if let (Value::Object(m), Some(last)) = (&mut body, effects.last()) {
                m.insert("effect".into(), serde_json::to_value(last).unwrap_or(Value::Null));
            }
            Answer { status: 200, body }
        }
    }
}

/// What a coordinator makes of a SKU's answer.
pub fn reply_of(a: &Answer) -> SkuReply {
    let kind = a.body.get("type").and_then(|t| t.as_str()).unwrap_or("");
    match (a.status, kind) {
        (200, _) => SkuReply::Done,
        (409, "/problems/insufficient-stock") => {
            let line = &a.body["lines"][0];
            SkuReply::Short {
                location: line["location"].as_str().and_then(|l| Location::parse(l).ok()).unwrap_or_default(),
                requested: line["requested"].as_i64().unwrap_or(0),
                available: line["available"].as_i64().unwrap_or(0),
            }
        }
        (409, "/problems/reservation-not-held") => SkuReply::NotHeld(match a.body["reservation_status"].as_str() {
            Some("committed") => Some(HoldStatus::Committed),
            Some("released") => Some(HoldStatus::Released),
            Some("expired") => Some(HoldStatus::Expired),
            _ => None,
        }),
        (404, "/problems/reservation-not-found") => SkuReply::NotHeld(None),
        (409, "/problems/reservation-conflict") => SkuReply::NotHeld(None),
        _ => SkuReply::Unavailable(format!("SKU answered {}: {}", a.status, a.body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::{Cause, Location};

    #[test]
    fn a_refused_command_rolls_back_the_earlier_ones_of_the_call() {
        let sku = Sku::parse("A").expect("sku");
        let mut l = Ledger::new();
        let set = |n| Command::Set {
            location: Location::main(),
            on_hand: n,
            expected_version: None,
            cause: Cause::default(),
        };
        let bad = Command::Adjust { location: Location::main(), delta: -100, cause: Cause::default() };
        let a = handle(&mut l, &sku, SkuAction::Apply { commands: vec![set(5), bad] }, Millis(1));
        assert_eq!(a.status, 409);
        assert_eq!(l.version(), 0);
        assert!(l.take_changes().is_empty(), "nothing left to persist");
        let ok = handle(&mut l, &sku, SkuAction::Apply { commands: vec![set(5)] }, Millis(2));
        assert_eq!(ok.body["available"], 5);
        assert_eq!(ok.body["effect"], "applied");
    }

    #[test]
    fn unknown_sku_is_404_but_reads_as_zero_availability() {
        let sku = Sku::parse("NEW").expect("sku");
        let mut l = Ledger::new();
        assert_eq!(handle(&mut l, &sku, SkuAction::Get, Millis(0)).status, 404);
        assert_eq!(handle(&mut l, &sku, SkuAction::Availability, Millis(0)).body["available"], 0);
    }
}
