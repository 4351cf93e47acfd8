-- ERP connections (issue 13 points 2–4): which ERP masters stock, how StockEdge maps its codes,
-- where each stock poll stands. Written by src/edge/erp_connections.rs and src/edge/erp_poll.rs;
-- decisions in src/erp/. Times are milliseconds since the Unix epoch.

-- One row per ERP connection: kind (sap_b1 | odoo | netsuite), base URL, the Worker secret with
-- its credentials, settings (JSON object, per kind: docs/erp.md), who may change on hand.
CREATE TABLE erp_connections (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('sap_b1', 'odoo', 'netsuite')),
  base_url TEXT NOT NULL,
  credentials_secret TEXT,
  settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
  local_adjustments TEXT NOT NULL DEFAULT 'refuse' CHECK (local_adjustments IN ('refuse', 'forward')),
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- The ERP's warehouse codes to StockEdge locations, per connection.
CREATE TABLE erp_warehouses (
  connection TEXT NOT NULL REFERENCES erp_connections (id) ON DELETE CASCADE,
  code TEXT NOT NULL,
  location TEXT NOT NULL,
  PRIMARY KEY (connection, code)
) STRICT;

-- The ERP's item codes to SKUs, per connection.
CREATE TABLE erp_items (
  connection TEXT NOT NULL REFERENCES erp_connections (id) ON DELETE CASCADE,
  code TEXT NOT NULL,
  sku TEXT NOT NULL,
  PRIMARY KEY (connection, code)
) STRICT;

-- Rows a poll read whose item or warehouse is not mapped (the latest figure of each), listed
-- like unmatched inbound lines; removed when the code is mapped.
CREATE TABLE erp_unmapped (
  connection TEXT NOT NULL REFERENCES erp_connections (id) ON DELETE CASCADE,
  item TEXT NOT NULL,
  warehouse TEXT NOT NULL,
  missing TEXT NOT NULL CHECK (missing IN ('item', 'warehouse')),
  quantity INTEGER NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (connection, item, warehouse)
) STRICT;

-- One row per connection's stock poll: its watermark and unfinished stretch (`state`,
-- src/erp/connectors/poll.rs ErpPollState as JSON), a lease so overlapping cron runs never poll
-- one connection twice at once, and what the last runs did.
CREATE TABLE erp_polls (
  connection TEXT PRIMARY KEY NOT NULL REFERENCES erp_connections (id) ON DELETE CASCADE,
  state TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(state)),
  lease_until INTEGER NOT NULL DEFAULT 0,
  last_run_at INTEGER,
  last_ok_at INTEGER,
  last_error TEXT,
  rows_read INTEGER NOT NULL DEFAULT 0,
  lines_applied INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Local changes of on hand at a location an ERP masters with `local_adjustments = 'forward'`:
-- recorded for the ERP instead of applied (the ERP's next figure applies them).
CREATE TABLE erp_adjustment_requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  connection TEXT NOT NULL,
  sku TEXT NOT NULL,
  location TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('set', 'adjust')),
  quantity INTEGER NOT NULL,
  reason TEXT,
  requested_at INTEGER NOT NULL
) STRICT;
