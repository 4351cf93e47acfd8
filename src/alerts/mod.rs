//! Alerts out: which problems are open, what to tell the operators about them and when, and how
//! a message is rendered and signed for a destination. Pure: the shell (`edge::alerts`,
//! `edge::alerts_out`, `edge::alert_watch`) loads the observations and the stored state, calls
//! these functions, and carries out what they return.
//!
//! - [`kind`]: the alert kinds and whether each is about a SKU or a channel.
//! - [`problem`]: one open problem (kind + subject) → one message when it opens, at most one
//!   reminder per [`limits::REMINDER_INTERVAL_MS`] while it stays open, one when it clears.
//! - [`observe`]: what the stock-change events and the D1 state say about each problem.
//! - [`evaluate`]: many problems at once — what to write and what to send.
//! - [`message`]: the message a problem's transition produces (a stable id per message).
//! - [`destination`]: the `PUT /v1/alert-destinations/{id}` body and a destination's view.
//! - [`render`]: the generic signed JSON webhook and the Slack incoming-webhook bodies.
//! - [`delivery`]: what a destination's answer means (delivered, retry later, failed).

pub mod delivery;
pub mod destination;
pub mod evaluate;
pub mod kind;
pub mod limits;
pub mod message;
pub mod observe;
pub mod problem;
pub mod render;

pub use kind::AlertKind;
pub use message::{AlertMessage, Phase};
pub use problem::{Observation, ProblemState, Seen};
