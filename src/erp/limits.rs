//! The limits of ERP snapshots, named once (docs/erp.md and docs/api.md quote them).

use crate::stock::limits::MAX_ON_HAND;

/// Documents a location keeps that the ERP has not been shown to have (neither seen in a snapshot
/// nor confirmed by a delivery). From it on the ERP is *behind*: order changes (sales, commits,
/// cancellations, fulfilments) are still recorded — they happened — and an `erp_behind` alert is
/// raised, while new holds at the location are refused (`erp-behind`) until a snapshot or a
/// delivery confirmation shows the ERP caught up. None is ever taken as seen without a word from
/// the ERP.
pub const MAX_PENDING_DOCUMENTS: usize = 10_000;
/// Orders one snapshot line may list as received by the ERP.
pub const MAX_SEEN_ORDERS: usize = 1_000;
/// Line ids and shipment ids one listed order may name.
pub const MAX_SEEN_IDS: usize = 1_000;
/// Lines of one `POST /v1/erp/snapshots` request.
pub const MAX_SNAPSHOT_LINES: usize = 1_000;
/// Largest absolute ERP quantity (an ERP's available figure may be negative when it committed
/// more than it has).
pub const MAX_ERP_QUANTITY: i64 = MAX_ON_HAND;

/// How long a delivery to an ERP (an order document, an adjustment request) holds its row: the
/// wall time a Workers queue consumer or cron invocation may run (15 minutes), so no delivery can
/// outlive its lease however its calls are retried (tries × `Retry-After` × nested lookups add up
/// to minutes) — two deliveries of one document never run at once. A delivery whose invocation
/// died is taken over when this passes.
pub const DELIVERY_LEASE_MS: i64 = 15 * 60_000;

/// How far a signed request from a webhook ERP (`POST /v1/erp/connections/{id}/snapshots`) may
/// be timestamped from StockEdge's clock, either way: the tolerance the receivers of StockEdge's
/// own documents apply (docs/erp.md "Webhook ERP"), so a captured request cannot be replayed later.
pub const WEBHOOK_MAX_SKEW_MS: i64 = 5 * 60_000;
