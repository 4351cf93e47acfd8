//! Reconciliation's limits, named once.

/// Listings the cron reads per run, continuing from a cursor (every run: the cron fires every
/// two minutes, so 50 listings a run cover 1,500 listings an hour and keep each run's platform
/// calls — one per listing — well inside a Worker invocation's subrequest allowance).
pub const LISTINGS_PER_CRON_RUN: usize = 50;

/// Listings one `POST /v1/reconciliation/run` reads at most (across its channels); the answer
/// says `limited: true` when there were more.
pub const MAX_LISTINGS_PER_REQUEST: usize = 500;

/// Statements per D1 batch when a channel's reads are recorded (one per listing, one more per
/// drift found).
pub const WRITES_PER_BATCH: usize = 50;

/// Listings one `POST /v1/reconciliation/repair` repairs at most.
pub const MAX_REPAIRS_PER_REQUEST: usize = 500;
