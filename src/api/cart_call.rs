//! The typed calls between the Worker and a cart coordinator object: the request, the reply
//! (typed cart refusals), and the one rendering of a reply as HTTP.

use serde::{Deserialize, Serialize};

use super::idempotency::Keyed;
use super::problem::{from_cart, Kind, Problem};
use super::reply::HttpReply;
use super::views::ReservationView;
use crate::cart::{CartError, Part, Shown};
use crate::stock::Token;

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
    /// `Idempotency-Key` and request fingerprint of a commit, release or extend: the coordinator
    /// keeps its first answer and gives it again, applying nothing twice. (A creation is keyed by
    /// its id, which the key derives.)
    #[serde(default)]
    pub idempotency: Option<(String, String)>,
}

/// A cart as answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartAnswer {
    /// Held by a creation (`201`).
    Created(Shown),
    /// As it is after the step, or now (`200`).
    Current(Shown),
}

/// Why a coordinator did not answer with the cart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartRefusal {
    /// A step did not succeed.
    Cart(CartError),
    /// No reservation has this id.
    NotFound { id: Token },
    /// The reservation's creation was refused: there is nothing to act on.
    Rejected { id: Token },
    /// The id is taken by a reservation with other lines.
    Conflict { id: Token },
}

pub type CartResult = Result<CartAnswer, CartRefusal>;
/// A coordinator's reply to one call, with the Idempotency-Key's verdict.
pub type CartReply = Keyed<CartResult>;

/// The HTTP answer for a coordinator's reply.
pub fn render(reply: CartResult) -> HttpReply {
    match reply {
        Ok(CartAnswer::Created(r)) => HttpReply::json(201, &ReservationView::of(&r)),
        Ok(CartAnswer::Current(r)) => HttpReply::json(200, &ReservationView::of(&r)),
        Err(CartRefusal::Cart(e)) => HttpReply::problem(from_cart(&e)),
        Err(CartRefusal::NotFound { id }) => {
            HttpReply::problem(Problem::new(Kind::ReservationNotFound, format!("no reservation {id}")))
        }
        Err(CartRefusal::Rejected { id }) => {
            HttpReply::problem(Problem::new(Kind::ReservationNotFound, format!("reservation {id} was refused")))
        }
        Err(CartRefusal::Conflict { id }) => HttpReply::problem(Problem::new(
            Kind::ReservationConflict,
            format!("reservation {id} exists with other lines"),
        )),
    }
}

/// The HTTP answer for a keyed coordinator reply (a replay is flagged).
pub fn render_keyed(reply: CartReply) -> HttpReply {
    HttpReply::keyed(reply, render)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{ShortLine, Status};
    use crate::time::Millis;

    fn shown(status: Status) -> Shown {
        Shown {
            id: Token::parse("r1").expect("id"),
            status,
            expires_at: Millis(1_000),
            parts: Vec::new(),
            channel: None,
            reference: None,
            order: None,
        }
    }

    #[test]
    fn a_creation_is_201_and_its_replay_the_same_bytes() {
        let first = render_keyed(Keyed::Answered(Ok(CartAnswer::Created(shown(Status::Held)))));
        let again = render_keyed(Keyed::Replayed(Ok(CartAnswer::Created(shown(Status::Held)))));
        assert_eq!((first.status(), first.text()), (201, again.text()));
        assert!(again.replayed);
    }

    #[test]
    fn refusals_keep_their_type_to_the_problem() {
        let short = ShortLine { sku: "A".into(), location: "main".into(), requested: 3, available: 1 };
        let wire = serde_json::to_string(&Err::<CartAnswer, _>(CartRefusal::Cart(CartError::Short(vec![short]))))
            .expect("encode");
        let back: CartResult = serde_json::from_str(&wire).expect("decode");
        let body: serde_json::Value = serde_json::from_str(&render(back).text()).expect("json");
        assert_eq!(body["type"], "/problems/insufficient-stock");
        assert_eq!(body["lines"][0]["available"], 1);
        let not_held = render(Err(CartRefusal::Cart(CartError::NotHeld(Status::Committed))));
        let body: serde_json::Value = serde_json::from_str(&not_held.text()).expect("json");
        assert_eq!((not_held.status(), body["reservation_status"].as_str()), (409, Some("committed")));
    }
}
