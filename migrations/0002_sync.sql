-- Channel sync (issue 5): what each listing last received, and the pushes that failed for good.
-- Times are milliseconds since the Unix epoch.

-- One row per listing that was ever pushed or tried.
CREATE TABLE listing_sync (
  channel TEXT NOT NULL,
  sku TEXT NOT NULL,
  last_version INTEGER,            -- the SKU version the platform last accepted
  last_quantity INTEGER,           -- the quantity it accepted
  pushed_at INTEGER,
  pending_version INTEGER,         -- the newest version seen and not yet accepted
  pending_since INTEGER,           -- commit time of the oldest change not yet accepted (lag)
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel, sku)
) STRICT;

-- Pushes that failed permanently (bad credentials, unknown listing, rejected) or ran out of
-- retries; each keeps the event so an operator can retry it.
CREATE TABLE sync_failures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT,
  sku TEXT NOT NULL,
  version INTEGER NOT NULL,
  reason TEXT NOT NULL,
  event TEXT NOT NULL CHECK (json_valid(event)),
  created_at INTEGER NOT NULL,
  retried_at INTEGER
) STRICT;

CREATE INDEX sync_failures_open ON sync_failures (retried_at, id);
