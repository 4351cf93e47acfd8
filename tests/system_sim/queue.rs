//! A Cloudflare queue as the simulation delivers it: at least once, in no particular order. A
//! message is delivered when its delay has passed, in batches of any of the due messages; a
//! delivered message may be delivered again although it was acknowledged (a duplicate); a
//! message retried comes back after its delay; one that has been delivered `max_retries + 1`
//! times without an acknowledgement goes to the dead-letter list. Nothing is dropped.

use stockedge::time::Millis;

use crate::rng::Rng;

#[derive(Clone, Debug)]
pub struct Message<T> {
    pub body: T,
    pub visible_at: Millis,
    /// Deliveries so far.
    pub attempts: u32,
}

#[derive(Clone, Debug)]
pub struct Queue<T> {
    pub messages: Vec<Message<T>>,
    pub dead: Vec<T>,
    pub max_retries: u32,
    pub max_batch: usize,
}

/// What the consumer did with one delivered message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    Ack,
    /// Deliver again after this many seconds.
    Retry(u32),
}

impl<T: Clone> Queue<T> {
    pub fn new(max_retries: u32, max_batch: usize) -> Queue<T> {
        Queue { messages: Vec::new(), dead: Vec::new(), max_retries, max_batch }
    }

    pub fn send(&mut self, body: T, now: Millis) {
        self.messages.push(Message { body, visible_at: now, attempts: 0 });
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The earliest time a message becomes due.
    pub fn next_due(&self) -> Option<Millis> {
        self.messages.iter().map(|m| m.visible_at).min()
    }

    /// Takes a batch of due messages, in random order (indices into the batch are its positions).
    /// With `duplicate` per mille, a taken message also stays queued (delivered again later).
    pub fn take(&mut self, now: Millis, rng: &mut Rng, duplicate: u64) -> Vec<Message<T>> {
        let mut due: Vec<usize> = (0..self.messages.len()).filter(|i| self.messages[*i].visible_at <= now).collect();
        if due.is_empty() {
            return Vec::new();
        }
        // Shuffle, then take a prefix.
        for i in (1..due.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            due.swap(i, j);
        }
        let n = 1 + rng.below(due.len().min(self.max_batch) as u64) as usize;
        let mut chosen: Vec<usize> = due.into_iter().take(n).collect();
        let batch: Vec<Message<T>> = chosen
            .iter()
            .map(|i| {
                let m = &mut self.messages[*i];
                m.attempts += 1;
                m.clone()
            })
            .collect();
        // Messages that stay: duplicates (delivered again later, a little delayed).
        chosen.sort_unstable();
        for i in chosen.into_iter().rev() {
            if rng.chance(duplicate) {
                let m = &mut self.messages[i];
                m.visible_at = Millis(now.0 + rng.range(0, 3_000));
                m.attempts -= 1;
            } else {
                self.messages.swap_remove(i);
            }
        }
        batch
    }

    /// Settles a delivered message: acknowledged, retried (back after the delay), or dead.
    pub fn settle(&mut self, mut m: Message<T>, ack: Ack, now: Millis) {
        match ack {
            Ack::Ack => {}
            Ack::Retry(_) if m.attempts > self.max_retries => self.dead.push(m.body),
            Ack::Retry(seconds) => {
                m.visible_at = Millis(now.0 + i64::from(seconds) * 1_000);
                self.messages.push(m);
            }
        }
    }
}
