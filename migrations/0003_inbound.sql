-- Inbound webhooks (issue 6): deliveries already handled, order lines that could not be applied,
-- and the drift Shopify reports. Times are milliseconds since the Unix epoch. Written by
-- src/edge/webhooks.rs; what a delivery means is decided in src/inbound/.

-- One row per delivery handled (its platform de-duplication key, src/inbound/*::dedupe_key),
-- written once the delivery's effects are in place: a later delivery with the same key answers
-- 200 and applies nothing. Kept 7 days (Shopify retries for 4 hours and ignores deliveries
-- triggered more than a day ago, so a key is never needed longer).
CREATE TABLE inbound_deliveries (
  dedupe_key TEXT PRIMARY KEY NOT NULL,
  channel TEXT NOT NULL,
  topic TEXT NOT NULL,
  -- applied | ignored | unusable
  outcome TEXT NOT NULL,
  -- what was done, or why nothing was (JSON)
  detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
  received_at INTEGER NOT NULL
) STRICT;

CREATE INDEX inbound_deliveries_by_time ON inbound_deliveries (received_at);

-- An order line (sale or restock) that maps to no listing of its channel: nothing was applied
-- for it. Listed by GET /v1/inbound/unmatched. One row per (channel, order, line, kind), however
-- often the platform sends it.
CREATE TABLE unmatched_lines (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  order_id TEXT NOT NULL,
  line_id TEXT NOT NULL,
  -- sale | restock
  kind TEXT NOT NULL CHECK (kind IN ('sale', 'restock')),
  -- the line's identity as the platform sent it (src/inbound/event.rs LineIdentity, JSON)
  identity TEXT NOT NULL CHECK (json_valid(identity)),
  qty INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  UNIQUE (channel, order_id, line_id, kind)
) STRICT;

CREATE INDEX unmatched_lines_by_channel ON unmatched_lines (channel, id);

-- A level the platform reported for a listing that is neither StockEdge's last push (an echo)
-- nor what StockEdge would list now: someone changed stock on the platform. `action` says what
-- StockEdge did: pushed its own number back (settings.on_drift = "adjust", the default) or only
-- recorded it ("flag").
CREATE TABLE drift_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  sku TEXT NOT NULL,
  -- the platform's level id (Shopify: "<inventory_item_id>@<location_id>")
  line_id TEXT NOT NULL,
  reported INTEGER NOT NULL,
  last_pushed INTEGER,
  -- what StockEdge lists for the SKU on this channel at the time
  listed INTEGER NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('push_back', 'flag')),
  dedupe_key TEXT,
  occurred_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;

CREATE INDEX drift_events_by_channel ON drift_events (channel, sku, id);
