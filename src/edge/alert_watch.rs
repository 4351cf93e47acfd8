//! The cron's look at the alert problems (after the order-feed polls, `super::inbound_poll`):
//! the channel-level kinds from D1 state — dead letters (open sync failures) growing, channels
//! whose pushes are refused for credentials (`channel_auth`), recent `drift_events`, polled
//! channels whose watermark is older than `alerts::limits::POLL_BEHIND_MS` — and the reminders
//! of every open problem. Decisions in `crate::alerts::observe`; carried out by
//! `super::alerts::carry_out`.

use worker::Env;

use crate::alerts::limits::DRIFT_WINDOW_MS;
use crate::alerts::observe::channel_observations;
use crate::fault::Fault;
use crate::time::Millis;

use super::clock::now;
use super::store::{self, alerts_out as stored};

/// One look; answers how many messages were queued.
pub async fn run(env: &Env) -> Result<usize, Fault> {
    let db = store::db(env)?;
    let t = now();
    let (facts, states) = stored::watch_state(&db, Millis(t.0 - DRIFT_WINDOW_MS)).await?;
    let observations = channel_observations(&facts, &states, t);
    super::alerts::carry_out(env, &db, &states, observations, t).await
}
