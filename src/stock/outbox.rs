//! The send side of a SKU object's transactional outbox, as a pure state machine.
//!
//! Every change a SKU object commits writes its announcement (a `StockChanged` event keyed by the
//! ledger version) into the `outbox` table in the same transaction (`storage::plan`). The shell
//! then has to put those rows on the queue and forget them — *once*: several calls to the same
//! object overlap whenever one of them waits for the queue, and if each of them sent whatever was
//! unsent, one change would be delivered once per overlapping call.
//!
//! [`OutboxPump`] decides who sends what:
//! - at most one send is in flight per object: [`OutboxPump::next`] hands out a batch only when
//!   none is in flight, and marks it in flight before the shell awaits the queue;
//! - the sender keeps the turn: after [`OutboxPump::sent`] it asks [`OutboxPump::next`] again with
//!   the rows now unsent, so what other calls wrote meanwhile goes out with the next batch, sent by
//!   the same sender, never by a second one;
//! - a failed send ([`OutboxPump::failed`]) deletes nothing: its rows stay for the retry;
//! - a send that never reports back (its task lost with the isolate's event) stops blocking the
//!   others after [`SEND_LEASE_MS`]; its rows are sent again — the one case of a repeat, which the
//!   consumers absorb (they are idempotent on `(sku, version)`).
//!
//! The shell (`edge::sku_object`) reads the unsent versions, sends the rows of the batch, deletes
//! them through [`Batch::through`] on success, and sets the retry alarm on failure.

use crate::time::Millis;

/// How long a batch may stay in flight before another sender may take over (ms). A queue send
/// answers in milliseconds; this only matters when a sender vanished without reporting.
pub const SEND_LEASE_MS: i64 = 30_000;

/// When an object that hands out a batch at `now` must wake up to send again should the send
/// never report back (its isolate evicted while awaiting the queue: the in-memory pump is gone
/// with it, and nothing else may call the object for hours): the end of the batch's lease. The
/// shell sets its alarm no later than this before awaiting the queue; a send that reports back
/// in time leaves a harmless early alarm.
pub fn resend_at(now: Millis) -> Millis {
    Millis(now.0.saturating_add(SEND_LEASE_MS))
}

/// A batch handed to the sender: the unsent rows with versions up to and including `through`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The newest version in the batch: on success the shell deletes every row up to it.
    pub through: u64,
    /// How many rows the batch holds.
    pub rows: usize,
    /// Names this send, so that a late report of a send whose lease ran out changes nothing.
    pub ticket: u64,
}

/// The one send in flight, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InFlight {
    ticket: u64,
    since: Millis,
}

/// What the shell does after a send reported back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Delete the rows up to `through` and ask [`OutboxPump::next`] again.
    Delete { through: u64 },
    /// The report was for a send whose lease had run out and another took over: delete the rows
    /// it delivered, but leave sending to the newer sender.
    DeleteStale { through: u64 },
}

/// Single-flight state of one object's outbox (kept in the object's memory).
#[derive(Debug, Default)]
pub struct OutboxPump {
    in_flight: Option<InFlight>,
    last_ticket: u64,
}

impl OutboxPump {
    pub fn new() -> OutboxPump {
        OutboxPump::default()
    }

    /// Whether a send is in flight at `now` (a send older than [`SEND_LEASE_MS`] no longer counts).
    pub fn busy(&self, now: Millis) -> bool {
        self.in_flight.is_some_and(|f| now.0.saturating_sub(f.since.0) < SEND_LEASE_MS)
    }

    /// The next batch to send, given the unsent versions read from storage (oldest first, at
    /// most one batch's worth). `None` when nothing is unsent or another send is in flight — that
    /// sender sends what is unsent after its own batch. A returned batch is marked in flight.
    pub fn next(&mut self, unsent: &[u64], now: Millis) -> Option<Batch> {
        if self.busy(now) {
            return None;
        }
        let through = unsent.iter().copied().max()?;
        self.last_ticket += 1;
        let ticket = self.last_ticket;
        self.in_flight = Some(InFlight { ticket, since: now });
        Some(Batch { through, rows: unsent.len(), ticket })
    }

    /// The queue accepted `batch`: what to delete. The pump is free again.
    pub fn sent(&mut self, batch: Batch) -> Settled {
        if self.owns(batch) {
            self.in_flight = None;
            Settled::Delete { through: batch.through }
        } else {
            Settled::DeleteStale { through: batch.through }
        }
    }

    /// The queue refused `batch` (or the send failed): nothing is deleted, the rows wait for the
    /// retry, and the pump is free again.
    pub fn failed(&mut self, batch: Batch) {
        if self.owns(batch) {
            self.in_flight = None;
        }
    }

    fn owns(&self, batch: Batch) -> bool {
        self.in_flight.is_some_and(|f| f.ticket == batch.ticket)
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
