//! Every limit of the core and the HTTP contract, named in one place. The other layers keep
//! theirs in `import::limits` (files) and `inbound::limits` (platform deliveries), using these
//! where they mean the same thing (one line's quantity is [`MAX_LINE_QTY`] everywhere).
//!
//! The HTTP contract (docs/api.md) quotes these numbers; tests and the OpenAPI document refer to
//! them, and the D1 schema's `CHECK`s repeat some as a backstop (a native test,
//! `tests/limits_schema.rs`, keeps the two in agreement).

/// Largest quantity on one line of a reservation, sale or fulfilment.
pub const MAX_LINE_QTY: i64 = 1_000_000;
/// Largest absolute on-hand quantity a location may be set to.
pub const MAX_ON_HAND: i64 = 1_000_000_000;
/// Largest absolute delta of one adjustment.
pub const MAX_ADJUST_DELTA: i64 = 1_000_000_000;
/// Largest backorder allowance per SKU.
pub const MAX_BACKORDER_LIMIT: i64 = 1_000_000;
/// Lines per reservation (cart) or per sale, after merging lines of the same SKU and location.
pub const MAX_LINES: usize = 100;
/// SKUs per availability query.
pub const MAX_AVAILABILITY_SKUS: usize = 100;
/// Hold time-to-live bounds, in seconds.
pub const MIN_TTL_SECONDS: i64 = 1;
pub const MAX_TTL_SECONDS: i64 = 86_400;
pub const DEFAULT_TTL_SECONDS: i64 = 900;
/// A cart commit is refused when its holds would expire within this margin (ms), so that
/// every SKU is pinned well before any hold's own alarm can fire.
pub const COMMIT_MARGIN_MS: i64 = 500;
/// Page size bounds of every paged list: a SKU's journal, the catalogue lists and the operators'
/// lists (alerts, unmatched lines, drift).
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1_000;
/// Idempotency-Key length bounds and how long a key's answer is kept (24 h, docs/api.md).
pub const MIN_IDEMPOTENCY_KEY_LEN: usize = 1;
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
pub const IDEMPOTENCY_RETENTION_MS: i64 = 24 * 3_600 * 1_000;
/// How long a request whose answer the key registry keeps may run before a repeat under its key
/// carries it out again (the first is taken to have been interrupted).
pub const IDEMPOTENCY_LEASE_MS: i64 = 120 * 1_000;
/// Terminal holds (committed, released, expired) are kept this long for status reads and replays.
pub const HOLD_RETENTION_MS: i64 = 7 * 24 * 3_600 * 1_000;
/// SKU: 1..=64 of `A-Z a-z 0-9 . _ - /`. Location: 1..=32 of `a-z 0-9 _ -`.
pub const MAX_SKU_LEN: usize = 64;
pub const MAX_LOCATION_LEN: usize = 32;
/// Identifiers chosen by clients (reservation id, order id, line id, channel, reference).
pub const MAX_ID_LEN: usize = 128;
/// Reservation ids chosen by clients (their hold ids and order line ids derive from them).
pub const MAX_RESERVATION_ID_LEN: usize = 64;
/// Free-text reasons and references.
pub const MAX_TEXT_LEN: usize = 500;
/// Request bodies larger than this are refused before parsing (bytes).
pub const MAX_JSON_BODY_BYTES: usize = 256 * 1024;
/// A listing rule (`catalog::ListingRule`): units kept back from a channel, the share listed
/// (percent), the cap on what is listed, and the level at or below which 0 is listed.
pub const MAX_RULE_BUFFER: i64 = 1_000_000;
pub const MAX_RULE_PERCENT: u8 = 100;
pub const MAX_RULE_LISTED: i64 = 1_000_000_000;
pub const MAX_RULE_ZERO_AT_OR_BELOW: i64 = 1_000_000;
/// Open sync failures one `POST /v1/sync/failures/retry?channel=` sends again (call again for the
/// rest).
pub const MAX_RETRY_ALL: usize = 1_000;
/// Listings per page of `POST /v1/listings/preview` (each SKU is read from its ledger).
pub const MAX_PREVIEW_PAGE: usize = 100;
