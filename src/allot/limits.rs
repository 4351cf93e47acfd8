//! The bounds of flash-sale allotments, named once (docs/api.md quotes them).

/// Largest number of allotments (K) a hot SKU may spread its holds over.
pub const MAX_ALLOTMENTS: u32 = 64;
/// Largest block of units lent to one allotment at a time.
pub const MAX_BLOCK: i64 = 10_000;
/// Lease bounds of a lent block, in seconds.
pub const MIN_LEASE_SECONDS: i64 = 5;
pub const MAX_LEASE_SECONDS: i64 = 3_600;
/// An allotment hold ends at least this long (ms) before its block's lease, so that its commit
/// reaches the SKU while the lease still stands; a block that cannot host a hold of at least
/// `MIN_TTL_SECONDS` within this margin takes no more holds and gives its free units back.
pub const LEASE_MARGIN_MS: i64 = 2_000;
/// An allotment whose holds changed reports its blocks to the SKU at most this often (ms): the
/// staleness of the unlent part of a hot SKU's `available`.
pub const REPORT_INTERVAL_MS: i64 = 1_000;
/// How long the Worker trusts what it learned of a SKU's hot policy (ms). A stale answer is
/// still correct: an allotment of a SKU no longer hot is refused blocks and says so.
pub const HOT_CACHE_TTL_MS: i64 = 2_000;
/// After the SKU answered that it has nothing to lend, an allotment refuses holds it cannot place
/// for this long (ms) without asking again, so that a sold-out stampede stays off the SKU. Units
/// that come back meanwhile are held again after it.
pub const SHORT_RECHECK_MS: i64 = 1_000;
/// Automatic hotness (`allot::hotness`): a SKU whose object takes at least this many single-SKU
/// holds within one [`AUTO_WINDOW_MS`] window becomes hot with [`AUTO_POLICY`], unless the
/// deployment sets its own threshold (`HOT_AUTO_HOLDS_PER_SECOND`, 0 = never automatically).
/// Cloudflare's documented soft ceiling of one object is about 1,000 requests per second, fewer
/// with writes, and every hold writes: allotments take over well before that.
pub const DEFAULT_AUTO_HOLDS_PER_SECOND: u32 = 250;
/// The largest threshold a deployment may set.
pub const MAX_AUTO_HOLDS_PER_SECOND: u32 = 1_000_000;
/// The window holds are counted in (ms).
pub const AUTO_WINDOW_MS: i64 = 1_000;
/// An automatically hot SKU stays hot this long (ms) after its last demand (the window that
/// crossed the threshold, or a block borrowed since), and while any block is still lent.
pub const AUTO_COOL_DOWN_MS: i64 = 60_000;
/// The policy automatic hotness sets: K = 4 allotments, blocks of 10 units, and leases long enough
/// for a hold of the default time-to-live (`stock::limits::DEFAULT_TTL_SECONDS`, 900 s) plus
/// [`LEASE_MARGIN_MS`], so that automatic hotness never shortens a default hold.
pub const AUTO_POLICY: crate::allot::HotPolicy =
    crate::allot::HotPolicy { allotments: 4, block: 10, lease_seconds: 960 };
