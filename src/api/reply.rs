//! HTTP answers rendered once from the objects' typed replies: a success status with its JSON
//! body, or a problem — and whether it replays a recorded first answer (the edge then adds
//! `Idempotent-Replayed: true`; the body is the same bytes as the first time).

use serde::Serialize;
use serde_json::Value;

use super::idempotency::Keyed;
use super::problem::{key_reused, Problem};

/// What an answer carries: a JSON body with a success status, or a problem.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Json { status: u16, body: Value },
    Problem(Problem),
}

/// An answer ready for the edge to send.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpReply {
    pub body: Body,
    /// The recorded first answer to this Idempotency-Key, given again.
    pub replayed: bool,
}

impl HttpReply {
    pub fn json(status: u16, body: &impl Serialize) -> HttpReply {
        HttpReply {
            body: Body::Json { status, body: serde_json::to_value(body).unwrap_or(Value::Null) },
            replayed: false,
        }
    }

    pub fn problem(p: Problem) -> HttpReply {
        HttpReply { body: Body::Problem(p), replayed: false }
    }

    /// Renders a keyed reply with `render`; a replay is flagged, a reused key is its problem.
    pub fn keyed<T>(k: Keyed<T>, render: impl FnOnce(T) -> HttpReply) -> HttpReply {
        match k {
            Keyed::Answered(t) => render(t),
            Keyed::Replayed(t) => HttpReply { replayed: true, ..render(t) },
            Keyed::KeyReused => HttpReply::problem(key_reused()),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match &self.body {
            Body::Json { status, .. } => *status,
            Body::Problem(p) => p.status(),
        }
    }

    /// The body's text, the same bytes for the same reply.
    pub fn text(&self) -> String {
        match &self.body {
            Body::Json { body, .. } => body.to_string(),
            Body::Problem(p) => p.to_json().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_is_the_first_answer_flagged() {
        let render = |n: i64| HttpReply::json(200, &serde_json::json!({ "n": n }));
        let first = HttpReply::keyed(Keyed::Answered(3), render);
        let again = HttpReply::keyed(Keyed::Replayed(3), render);
        assert_eq!(first.text(), again.text());
        assert!(!first.replayed && again.replayed);
        assert_eq!(HttpReply::keyed(Keyed::<i64>::KeyReused, render).status(), 422);
    }
}
