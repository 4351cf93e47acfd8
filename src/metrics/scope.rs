//! What the Worker is doing when it records a count: serving a request, consuming a queue, or
//! reading the durable counters.
//!
//! The Worker handles many events at once in one isolate, interleaved at every `await`, so a
//! global "current task" variable set at the start of an event would be wrong by the first
//! await. [`Scoped`] wraps an event's future and sets the origin for the length of each poll,
//! restoring the previous one after: every synchronous step — and so every count recorded in
//! it — runs inside exactly one poll of exactly one event's future.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What the isolate was doing when a count was recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// An HTTP request or anything not wrapped in a [`Scoped`] (the default).
    #[default]
    Request,
    /// A queue consumer's batch.
    Queue,
    /// A read of the durable counters for `GET /v1/metrics`: kept apart, so that reading the
    /// counters does not change the request counts it reports.
    Metrics,
}

impl Origin {
    pub const COUNT: usize = 3;
    pub const ALL: [Origin; Origin::COUNT] = [Origin::Request, Origin::Queue, Origin::Metrics];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Request => "request",
            Origin::Queue => "queue",
            Origin::Metrics => "metrics",
        }
    }
}

thread_local! {
    static CURRENT: Cell<Origin> = const { Cell::new(Origin::Request) };
}

/// The origin of the poll running now.
pub fn current_origin() -> Origin {
    CURRENT.with(Cell::get)
}

/// A future run with `origin` as the current origin during each of its polls.
pub struct Scoped<F> {
    origin: Origin,
    inner: Pin<Box<F>>,
}

impl<F: Future> Scoped<F> {
    pub fn new(origin: Origin, inner: F) -> Scoped<F> {
        Scoped { origin, inner: Box::pin(inner) }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let previous = CURRENT.with(|c| c.replace(self.origin));
        let out = self.inner.as_mut().poll(cx);
        CURRENT.with(|c| c.set(previous));
        out
    }
}
