//! Await points for the simulations that crash a cart coordinator mid-step
//! (`tests/cart_simulation.rs`, `tests/system_simulation.rs`): a future that yields once, and a
//! runner that drops a step after a number of polls, as an isolate dying at an await would.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::executor::block_on;

/// Returns `Pending` once (waking itself): a point where a coordinator can be dropped.
pub struct YieldOnce(pub bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Polls `fut` at most `polls` times, then gives up and drops it: a coordinator crash.
struct CrashAfter<F: Future> {
    fut: Pin<Box<F>>,
    polls: Option<u32>,
}

impl<F: Future> Future for CrashAfter<F> {
    type Output = Option<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        if let Some(n) = self.polls {
            if n == 0 {
                return Poll::Ready(None);
            }
            self.polls = Some(n - 1);
        }
        self.fut.as_mut().poll(cx).map(Some)
    }
}

/// Runs a step to completion (`Some`), or drops it after `crash_after` polls (`None`).
pub fn run<F: Future>(fut: F, crash_after: Option<u32>) -> Option<F::Output> {
    block_on(CrashAfter { fut: Box::pin(fut), polls: crash_after })
}
