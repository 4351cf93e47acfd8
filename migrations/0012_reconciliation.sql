-- Live reconciliation (issue 12, point 4): what each listing's channel showed when StockEdge last
-- read it back, against what StockEdge intended, and what was done about a difference. Times are
-- milliseconds since the Unix epoch. Written by src/edge/reconcile.rs; decisions are
-- src/reconcile/.

-- The latest read of each listing (one row per listing, kept across reads; `id` pages
-- GET /v1/reconciliation). `drift` = live - intended. `status`: in_sync; in_flight (a push toward
-- the SKU's current version is under way: a difference is not drift yet); drifted; unreadable
-- (the platform could not say: `error`). `action` for drift: repaired (the intended quantity was
-- queued for a push, `repaired_at`) or flagged (settings.on_drift = "flag").
CREATE TABLE listing_reconciliation (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  sku TEXT NOT NULL,
  -- the listing's identity on the platform (JSON, as in listings.external)
  external TEXT NOT NULL CHECK (json_valid(external)),
  intended INTEGER,
  live INTEGER,
  drift INTEGER,
  status TEXT NOT NULL CHECK (status IN ('in_sync', 'in_flight', 'drifted', 'unreadable')),
  action TEXT CHECK (action IN ('repaired', 'flagged')),
  error TEXT,
  read_at INTEGER NOT NULL,
  repaired_at INTEGER,
  UNIQUE (channel, sku)
) STRICT;

CREATE INDEX listing_reconciliation_by_status ON listing_reconciliation (status, channel, id);

-- Where the cron's pass over every listing stands: the last listing read (NULL: start over).
CREATE TABLE reconcile_cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  channel TEXT,
  sku TEXT,
  updated_at INTEGER NOT NULL
) STRICT;

-- Drift is recorded by webhooks (Shopify inventory_levels/update) and by reconciliation alike;
-- `source` says which found it.
ALTER TABLE drift_events ADD COLUMN source TEXT NOT NULL DEFAULT 'webhook' CHECK (source IN ('webhook', 'reconcile'));
