//! The wire format between the Worker and a cart coordinator object, and how the coordinator's
//! outcomes read as HTTP answers.

use serde::{Deserialize, Serialize};

use super::problem::{not_held, Kind, Problem};
use super::sku_call::Answer;
use super::views::ReservationView;
use crate::cart::{CartError, Part, Reservation};
use crate::stock::Token;
use crate::time::Millis;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CartAction {
    Create {
        parts: Vec<Part>,
        ttl_seconds: i64,
        channel: Option<Token>,
        reference: Option<String>,
        /// Fingerprint of the creating request; a different request under the same id is refused.
        fingerprint: String,
        /// Whether the id came from an Idempotency-Key (a mismatch is then `idempotency-key-reused`).
        keyed: bool,
    },
    Get,
    Commit {
        order_id: Option<Token>,
    },
    Release,
    Extend {
        ttl_seconds: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CartCall {
    pub id: Token,
    #[serde(flatten)]
    pub action: CartAction,
}

/// The answer to a finished coordinator step.
pub fn answer(r: &Reservation, result: Result<(), CartError>, ok_status: u16, now: Millis) -> Answer {
    match result {
        Ok(()) => {
            Answer { status: ok_status, body: serde_json::to_value(ReservationView::of(r, now)).unwrap_or_default() }
        }
        Err(CartError::Short(lines)) => {
            let detail = lines
                .iter()
                .map(|l| format!("{} at {}: {} requested, {} available", l.sku, l.location, l.requested, l.available))
                .collect::<Vec<_>>()
                .join("; ");
            Answer::problem(&Problem::new(Kind::InsufficientStock, detail).with("lines", lines))
        }
        Err(CartError::NotHeld(status)) => Answer::problem(&not_held_status(status)),
        Err(CartError::Unavailable(why)) => {
            let p = Problem::new(
                Kind::Unavailable,
                format!("a SKU ledger could not be reached ({why}); retry with the same request"),
            );
            Answer::problem(&p)
        }
    }
}

fn not_held_status(status: &'static str) -> Problem {
    let s = match status {
        "committed" => crate::stock::HoldStatus::Committed,
        "released" => crate::stock::HoldStatus::Released,
        _ => crate::stock::HoldStatus::Expired,
    };
    let mut p = not_held(s);
    p.extra.insert("reservation_status".into(), serde_json::Value::from(status));
    p
}
