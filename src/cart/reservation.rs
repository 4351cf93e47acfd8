//! A cart reservation as its coordinator records it, and the phases it moves through.
//!
//! Each phase that touches SKU ledgers is written down before the first SKU is touched, so a
//! coordinator that restarts (after a crash) knows what to finish or undo. Every SKU step is
//! idempotent, so finishing means doing the same step again.

use serde::{Deserialize, Serialize};

use super::coordinator::CartError;
use super::plan::Part;
use crate::stock::{OrderKey, Token};
use crate::time::Millis;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Holds are being placed. Resume: place them again (idempotent) and decide.
    Creating,
    Held,
    /// Holds are being pinned for a commit. Resume: unpin (the commit was not confirmed).
    Pinning {
        order: OrderKey,
    },
    /// Every hold is pinned; commits are being applied. Resume: commit again until done.
    Committing {
        order: OrderKey,
    },
    Committed {
        order: OrderKey,
    },
    /// Holds are moving to a new deadline. Resume: extend again.
    Extending {
        expires_at: Millis,
    },
    /// Holds are being released; `outcome` is the status the cart ends in.
    Releasing {
        outcome: End,
    },
    Ended {
        outcome: End,
    },
}

/// How a cart that is no longer held ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    Released,
    Expired,
    /// Creation failed (a line was short): nothing was held. Its answer is kept for replays.
    Rejected,
}

/// A reservation's status as clients see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Held,
    /// Being created or changed.
    Pending,
    Committed,
    Released,
    Expired,
    /// Its creation was refused: nothing was held.
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Held => "held",
            Status::Pending => "pending",
            Status::Committed => "committed",
            Status::Released => "released",
            Status::Expired => "expired",
            Status::Rejected => "rejected",
        }
    }
}

/// A reservation as an answer shows it at one moment (`Reservation::shown`): what a replay
/// repeats byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    pub id: Token,
    pub status: Status,
    pub expires_at: Millis,
    pub parts: Vec<Part>,
    pub channel: Option<Token>,
    pub reference: Option<String>,
    pub order: Option<OrderKey>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    pub id: Token,
    pub parts: Vec<Part>,
    pub expires_at: Millis,
    pub phase: Phase,
    pub channel: Option<Token>,
    pub reference: Option<String>,
    pub created_at: Millis,
    /// Fingerprint of the creating request, for idempotent replays.
    pub fingerprint: String,
    /// The answer to the creating request once decided (held, or refused), replayed to repeats
    /// exactly as it was first given.
    pub answer: Option<Result<Shown, CartError>>,
    /// How many times creation started afresh after an unanswered failure. Each attempt holds
    /// under its own hold id, so a new attempt never meets the released holds of an old one.
    #[serde(default)]
    pub attempt: u32,
}

impl Reservation {
    /// A reservation asked for at `now`, recorded as being created (nothing held yet), to be
    /// driven by `coordinator::create` or `single::create`.
    pub fn creating(
        id: Token,
        parts: Vec<Part>,
        ttl_seconds: i64,
        channel: Option<Token>,
        reference: Option<String>,
        fingerprint: String,
        now: Millis,
    ) -> Reservation {
        Reservation {
            id,
            parts,
            expires_at: now.plus_seconds(ttl_seconds),
            phase: Phase::Creating,
            channel,
            reference,
            created_at: now,
            fingerprint,
            answer: None,
            attempt: 0,
        }
    }

    /// The hold id this reservation's holds carry in every SKU ledger: the reservation id, then
    /// `<id>#<attempt>` for later attempts.
    pub fn hold_id(&self) -> Token {
        if self.attempt == 0 {
            return self.id.clone();
        }
        Token::parse(&format!("{}#{}", self.id, self.attempt)).unwrap_or_else(|_| self.id.clone())
    }

    /// The status docs/api.md shows: `held`, `committed`, `released` or `expired`
    /// (`pending` while being created or changed).
    pub fn status(&self, now: Millis) -> Status {
        match &self.phase {
            Phase::Held if now >= self.expires_at => Status::Expired,
            Phase::Held => Status::Held,
            Phase::Creating | Phase::Pinning { .. } | Phase::Extending { .. } => Status::Pending,
            Phase::Committing { .. } | Phase::Committed { .. } => Status::Committed,
            Phase::Releasing { outcome } | Phase::Ended { outcome } => match outcome {
                End::Released => Status::Released,
                End::Expired => Status::Expired,
                End::Rejected => Status::Rejected,
            },
        }
    }

    /// The reservation as an answer shows it at `now`.
    pub fn shown(&self, now: Millis) -> Shown {
        Shown {
            id: self.id.clone(),
            status: self.status(now),
            expires_at: self.expires_at,
            parts: self.parts.clone(),
            channel: self.channel.clone(),
            reference: self.reference.clone(),
            order: self.order().cloned(),
        }
    }

    /// Whether a coordinator must come back to finish a step.
    pub fn in_transition(&self) -> bool {
        matches!(
            self.phase,
            Phase::Creating
                | Phase::Pinning { .. }
                | Phase::Committing { .. }
                | Phase::Extending { .. }
                | Phase::Releasing { .. }
        )
    }

    pub fn order(&self) -> Option<&OrderKey> {
        match &self.phase {
            Phase::Committing { order } | Phase::Committed { order } => Some(order),
            _ => None,
        }
    }
}
