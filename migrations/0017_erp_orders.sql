-- Orders to the ERP (issue 13 point 3) and the ERP-behind alert. Times are milliseconds since the
-- Unix epoch.

-- `alerts` gains the kind `erp_behind` (a SKU's location whose ERP has not been shown to have
-- erp::limits::MAX_PENDING_DOCUMENTS of its order documents: subject the SKU, `detail`
-- {"locations": [{"location", "pending"}]}). SQLite cannot alter a CHECK: the table is rebuilt,
-- keeping every row and id (as 0011 did).
CREATE TABLE alerts_v3 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('oversold', 'low_stock', 'dead_letters', 'channel_auth', 'drift', 'poll_behind', 'erp_behind')),
  subject TEXT NOT NULL,
  sku TEXT,
  version INTEGER NOT NULL,
  units INTEGER,
  oversold_total INTEGER,
  op TEXT,
  channel TEXT,
  order_id TEXT,
  detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
  raised_at INTEGER NOT NULL,
  acknowledged_at INTEGER,
  UNIQUE (kind, subject, version)
) STRICT;

INSERT INTO alerts_v3 (id, kind, subject, sku, version, units, oversold_total, op, channel, order_id, detail, raised_at, acknowledged_at)
  SELECT id, kind, subject, sku, version, units, oversold_total, op, channel, order_id, detail, raised_at, acknowledged_at FROM alerts;

DROP TABLE alerts;
ALTER TABLE alerts_v3 RENAME TO alerts;
CREATE INDEX alerts_sku ON alerts (sku, id);
CREATE INDEX alerts_kind ON alerts (kind, id);

-- One row per ERP document StockEdge delivers (src/erp/delivery.rs): per connection and
-- reference (`<channel>/<order id>|<sku>`). `state`: `pending` (not yet confirmed by the ERP:
-- looked up before any create), `open` (created or found: `document` is the ERP's id), `cancelled`
-- (in the ERP, or before it ever reached it). `attempts` counts failed deliveries since the last
-- success or dead letter (sync::RetryPolicy); `first_change_at` / `delivered_at` time the delivery;
-- `lease_until`: a delivery in progress holds its document until then, so two consumers never
-- deliver one document at once (one finds the other's document instead of racing it).
CREATE TABLE erp_deliveries (
  connection TEXT NOT NULL,
  reference TEXT NOT NULL,
  sku TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'open', 'cancelled')),
  document TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  first_change_at INTEGER NOT NULL,
  delivered_at INTEGER,
  lease_until INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (connection, reference)
) STRICT;
