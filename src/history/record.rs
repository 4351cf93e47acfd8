//! The recorded history of concurrent calls on SKUs, as `tests/e2e/lib/history.mjs` writes it:
//!
//! ```json
//! {"histories":[{"sku":"LIN-A","initial":{"on_hand":3,"backorder_limit":0,"version":1},
//!   "ops":[{"client":7,"invoke":1021.4,"return":1033.9,"call":{"op":"reserve","qty":1},
//!           "outcome":{"is":"held","hold":"rsk_…_LIN-A"}},
//!          {"client":2,"invoke":1022.0,"return":null,"call":{"op":"read"},"outcome":null}]}]}
//! ```
//!
//! Times are milliseconds of one monotonic clock (`performance.now()`). `outcome: null` means the
//! client never learnt what the call did (no answer, or one that says to retry: `5xx`): the call
//! is pending forever, whatever `return` says (the time the client gave up, when it did).

use serde::{Deserialize, Serialize};

use crate::stock::{Effect, HoldStatus};

/// One file: the histories of one run, one per SKU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryFile {
    pub histories: Vec<History>,
}

/// The calls on one SKU, from a state read before the first of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub sku: String,
    pub initial: Initial,
    pub ops: Vec<Recorded>,
}

/// The SKU before the history: at location `main`, nothing reserved or committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Initial {
    pub on_hand: i64,
    pub backorder_limit: i64,
    pub version: u64,
}

/// One call as a client saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// The client that made it (for reports; the check does not use it).
    pub client: u32,
    pub invoke: f64,
    #[serde(rename = "return")]
    pub returned: Option<f64>,
    pub call: Call,
    pub outcome: Option<Outcome>,
    /// For a call whose outcome is unknown, what it was answered if anything (status and problem
    /// type, say `503 /problems/unavailable`): for reports only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A call on one SKU, at location `main`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Call {
    /// `POST /v1/reservations` with one line of the SKU (kept by its ledger: one hop).
    Reserve { qty: i64 },
    /// `POST /v1/reservations/{hold}/commit` with `order_id` `order`.
    Commit { hold: String, order: String },
    /// `POST /v1/reservations/{hold}/release`.
    Release { hold: String },
    /// `POST /v1/reservations/{hold}/extend`, with a TTL that moves the deadline (never the one
    /// it has).
    Extend { hold: String },
    /// `POST /v1/sales`: one line of `qty` units, order `order` of `channel`.
    Sale { channel: String, order: String, qty: i64 },
    /// `POST /v1/skus/{sku}/adjustments` of `delta`.
    Adjust { delta: i64 },
    /// `GET /v1/availability?sku=…&consistency=strong` (this SKU's item).
    Read,
}

/// What a call answered, in the terms the model answers in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "snake_case")]
pub enum Outcome {
    /// `201`: held, as hold `hold`.
    Held { hold: String },
    /// `409 insufficient-stock`: the line's `available`.
    Short { available: i64 },
    /// Commit `200`.
    Committed,
    /// Release `200`: the reservation's status after it (`released`, or `expired`).
    Released { status: HoldStatus },
    /// Extend `200`.
    Extended,
    /// `409 reservation-not-held`: its `reservation_status`.
    NotHeld { status: HoldStatus },
    /// Sale `200`: this SKU's part.
    Sold { effect: Effect, available: i64, oversold: i64, version: u64 },
    /// Adjustment `200`.
    Adjusted { on_hand: i64, available: i64, version: u64 },
    /// Availability `200`: this SKU's item.
    Read { available: i64, sellable: i64, version: u64 },
    /// Any other answer (status and problem `type`): no model answers it, so a history with one
    /// is refused.
    Unexpected { status: u16, detail: String },
}

/// Why a history cannot be checked as it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error("op {index}: returned at {returned} before its invoke at {invoke}")]
    ReturnBeforeInvoke { index: usize, invoke: f64, returned: f64 },
    #[error("op {index}: a time is not a finite number")]
    NotFinite { index: usize },
    #[error("{field} is not valid: {why}")]
    Invalid { field: String, why: String },
}

impl History {
    /// Times finite and each return no earlier than its invoke.
    pub fn validate(&self) -> Result<(), RecordError> {
        for (index, op) in self.ops.iter().enumerate() {
            if !op.invoke.is_finite() || op.returned.is_some_and(|r| !r.is_finite()) {
                return Err(RecordError::NotFinite { index });
            }
            if let Some(returned) = op.returned {
                if returned < op.invoke {
                    return Err(RecordError::ReturnBeforeInvoke { index, invoke: op.invoke, returned });
                }
            }
        }
        Ok(())
    }

    /// How many calls returned with a known outcome.
    pub fn completed(&self) -> usize {
        self.ops.iter().filter(|o| o.outcome.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_shape() {
        let text = r#"{"histories":[{"sku":"LIN-A","initial":{"on_hand":3,"backorder_limit":0,"version":1},
          "ops":[{"client":7,"invoke":1021.4,"return":1033.9,"call":{"op":"reserve","qty":1},
                  "outcome":{"is":"held","hold":"rsk_1_LIN-A"}},
                 {"client":2,"invoke":1022.0,"return":null,"call":{"op":"read"},"outcome":null},
                 {"client":3,"invoke":1.0,"return":2.0,"call":{"op":"release","hold":"h"},
                  "outcome":{"is":"not_held","status":"committed"}}]}]}"#;
        let f: HistoryFile = serde_json::from_str(text).expect("parses");
        let h = &f.histories[0];
        assert_eq!(h.ops[0].outcome, Some(Outcome::Held { hold: "rsk_1_LIN-A".into() }));
        assert_eq!(h.ops[1].returned, None);
        assert_eq!(h.ops[2].outcome, Some(Outcome::NotHeld { status: HoldStatus::Committed }));
        assert_eq!(h.completed(), 2);
        assert_eq!(h.validate(), Ok(()));
    }

    #[test]
    fn a_return_before_its_invoke_is_refused() {
        let op = Recorded { client: 0, invoke: 5.0, returned: Some(4.0), call: Call::Read, outcome: None, note: None };
        let h =
            History { sku: "A".into(), initial: Initial { on_hand: 0, backorder_limit: 0, version: 0 }, ops: vec![op] };
        assert!(matches!(h.validate(), Err(RecordError::ReturnBeforeInvoke { index: 0, .. })));
    }
}
