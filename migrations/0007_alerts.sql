-- Alerts (issue 6): a sale that cannot be covered raises an alert. The SKU object decides
-- (`stock::oversold_alert`) and carries the alert on the change's outbox event; the queue
-- consumer records it here, once per (kind, sku, version), so redeliveries add nothing.
-- Listed at GET /v1/alerts, acknowledged with POST /v1/alerts/{id}/acknowledge.
-- Times are milliseconds since the Unix epoch.
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('oversold')),
  sku TEXT NOT NULL,
  version INTEGER NOT NULL,        -- the SKU version of the change that raised it
  units INTEGER NOT NULL,          -- units newly oversold by that change
  oversold_total INTEGER NOT NULL, -- the SKU's oversold units right after it
  op TEXT NOT NULL,                -- the change's journal op (`sale` for a marketplace sale)
  channel TEXT,                    -- the order's channel, when an order caused it
  order_id TEXT,
  raised_at INTEGER NOT NULL,      -- when the change was committed
  acknowledged_at INTEGER,         -- set once, by the first acknowledgement
  UNIQUE (kind, sku, version)
) STRICT;

CREATE INDEX alerts_sku ON alerts (sku, id);
