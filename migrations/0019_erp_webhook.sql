-- The webhook ERP (issue 13 points 2 and 4): ERP kinds are validated in code
-- (`erp::connection::ErpKind`, read back by `db::erp`), not by the schema, so a new kind needs no
-- migration; forwarded adjustment requests are delivered to their ERP and record how it went.
-- Times are milliseconds since the Unix epoch.
--
-- SQLite cannot drop a CHECK: `erp_connections` is rebuilt without `CHECK (kind IN (…))` (as 0009
-- rebuilt `channels`). Dropping the old table deletes its rows first, which cascades to the
-- tables referencing it (ON DELETE CASCADE): their rows are kept aside and put back once the new
-- table holds every connection. The foreign key checks are deferred to the end.
PRAGMA defer_foreign_keys = on;

CREATE TABLE erp_warehouses_kept AS SELECT * FROM erp_warehouses;
CREATE TABLE erp_items_kept AS SELECT * FROM erp_items;
CREATE TABLE erp_unmapped_kept AS SELECT * FROM erp_unmapped;
CREATE TABLE erp_polls_kept AS SELECT * FROM erp_polls;

CREATE TABLE erp_connections_new (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  base_url TEXT NOT NULL,
  credentials_secret TEXT,
  settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
  local_adjustments TEXT NOT NULL DEFAULT 'refuse' CHECK (local_adjustments IN ('refuse', 'forward')),
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

INSERT INTO erp_connections_new (id, kind, base_url, credentials_secret, settings, local_adjustments, enabled,
  created_at, updated_at)
  SELECT id, kind, base_url, credentials_secret, settings, local_adjustments, enabled, created_at, updated_at
  FROM erp_connections;

DROP TABLE erp_connections;
ALTER TABLE erp_connections_new RENAME TO erp_connections;

DELETE FROM erp_warehouses;
DELETE FROM erp_items;
DELETE FROM erp_unmapped;
DELETE FROM erp_polls;
INSERT INTO erp_warehouses SELECT * FROM erp_warehouses_kept;
INSERT INTO erp_items SELECT * FROM erp_items_kept;
INSERT INTO erp_unmapped SELECT * FROM erp_unmapped_kept;
INSERT INTO erp_polls SELECT * FROM erp_polls_kept;
DROP TABLE erp_warehouses_kept;
DROP TABLE erp_items_kept;
DROP TABLE erp_unmapped_kept;
DROP TABLE erp_polls_kept;

PRAGMA defer_foreign_keys = off;

-- A forwarded adjustment request's delivery (src/erp/adjustment_out.rs, src/edge/erp_adjustments.rs):
-- `status` `pending` (not yet received by the ERP), `sent` (received: `sent_at`), `dead` (refused, or
-- out of attempts: `last_error`). `next_at`: not tried before then (the back-off; a delivery in
-- progress holds the row by moving it ahead, a lease). `attempts` counts failed tries.
ALTER TABLE erp_adjustment_requests ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
  CHECK (status IN ('pending', 'sent', 'dead'));
ALTER TABLE erp_adjustment_requests ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE erp_adjustment_requests ADD COLUMN last_error TEXT;
ALTER TABLE erp_adjustment_requests ADD COLUMN next_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE erp_adjustment_requests ADD COLUMN sent_at INTEGER;
CREATE INDEX erp_adjustment_requests_due ON erp_adjustment_requests (status, next_at);
