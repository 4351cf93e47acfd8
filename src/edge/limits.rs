//! The shell's limits, named once: what the platform allows per call (Queues batch size), how
//! much the shell does at once, and how long it waits. The core's limits are in `stock::limits`,
//! `catalog`, `import` and `inbound`, and what D1 takes per statement in `db::limits`; these are
//! the ones only the shell needs.

use std::time::Duration;

/// Messages per Queues `sendBatch` (the platform takes at most 100).
pub const QUEUE_SEND_BATCH: usize = 100;

/// Ledger calls in flight at once (bundle listings, imports and exports).
pub const FAN_OUT: usize = 32;

/// How long one platform call may take before it counts as a timeout.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Seconds before a sync batch whose handling failed (D1 or a binding unavailable) is delivered
/// again.
pub const FAILED_BATCH_DELAY_S: u32 = 5;

/// How soon a SKU object's unsent outbox is tried again.
pub const OUTBOX_RETRY_MS: i64 = 5_000;
/// How soon a SKU object tries again to register a committed single-SKU reservation with its
/// order desk, and how many registrations it carries out per wake.
pub const REGISTRATION_RETRY_MS: i64 = 5_000;
pub const REGISTRATION_BATCH: usize = 16;
/// How often an idle SKU object wakes to forget old idempotency records and terminal holds.
pub const CLEANUP_EVERY_MS: i64 = 24 * 3_600_000;

/// Seconds before a failed import chunk is tried again (`import::limits::MAX_CHUNK_ATTEMPTS`
/// attempts span about a minute and a half).
pub const IMPORT_RETRY_DELAY_S: u32 = 15;
// A job whose failed chunk waits for its retry has not stalled (`import::limits::JOB_STALL_MS`).
const _: () = assert!(crate::import::limits::JOB_STALL_MS >= 2 * 1_000 * IMPORT_RETRY_DELAY_S as i64);

/// Forwarded adjustment requests one cron run delivers to their ERPs (the rest wait for the next
/// run, oldest first).
pub const ADJUSTMENTS_PER_RUN: usize = 50;
