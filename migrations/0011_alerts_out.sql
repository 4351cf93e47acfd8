-- Alerts out (issue 12 point 3): more alert kinds, per-SKU low-stock thresholds, the problems
-- that de-duplicate messages, alert destinations and the record of deliveries.
-- Times are milliseconds since the Unix epoch.

-- `alerts` gains the new kinds and `subject` (a SKU, a channel id, or `stock-changes` for dead
-- letters); `sku` is NULL for channel-level kinds; `units`, `oversold_total` and `op` are the
-- oversold facts (NULL for other kinds), `detail` the kind's facts (JSON). `version` is the SKU
-- version of the change that raised a SKU alert, the problem's episode for channel kinds.
-- SQLite cannot alter a CHECK: the table is rebuilt, keeping every row and id.
CREATE TABLE alerts_v2 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('oversold', 'low_stock', 'dead_letters', 'channel_auth', 'drift', 'poll_behind')),
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

INSERT INTO alerts_v2 (id, kind, subject, sku, version, units, oversold_total, op, channel, order_id, raised_at, acknowledged_at)
  SELECT id, kind, sku, sku, version, units, oversold_total, op, channel, order_id, raised_at, acknowledged_at FROM alerts;

DROP TABLE alerts;
ALTER TABLE alerts_v2 RENAME TO alerts;
CREATE INDEX alerts_sku ON alerts (sku, id);
CREATE INDEX alerts_kind ON alerts (kind, id);

-- PUT /v1/skus/{sku}/alerting: a SKU is low on stock while its available is below this.
CREATE TABLE sku_alerting (
  sku TEXT PRIMARY KEY NOT NULL,
  low_stock_below INTEGER NOT NULL CHECK (low_stock_below >= 0),
  updated_at INTEGER NOT NULL
) STRICT;

-- One row per problem ever opened (src/alerts/problem.rs ProblemState as JSON). `revision`
-- grows by one per write: a write names the revision it read, so two evaluations racing on one
-- problem cannot both move it (the loser sends nothing).
CREATE TABLE alert_problems (
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  state TEXT NOT NULL CHECK (json_valid(state)),
  is_open INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, subject)
) STRICT;

CREATE INDEX alert_problems_open ON alert_problems (is_open, kind);

-- A channel's credentials as the sync consumer last saw them: `failing_since` is set by a push
-- refused for credentials and cleared by one the platform took (read by the cron: channel_auth).
CREATE TABLE channel_auth (
  channel TEXT PRIMARY KEY NOT NULL,
  failing_since INTEGER,
  last_failure TEXT,
  ok_at INTEGER,
  updated_at INTEGER NOT NULL
) STRICT;

-- PUT /v1/alert-destinations/{id}. `secret` names the Worker secret with the signing key;
-- `kinds` is a JSON array of alert kinds ([]: every kind).
CREATE TABLE alert_destinations (
  id TEXT PRIMARY KEY NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('webhook', 'slack')),
  url TEXT NOT NULL,
  secret TEXT,
  kinds TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(kinds)),
  enabled INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL
) STRICT;

-- One row per (destination, message): `pending` while attempts are retried (`attempts` so far),
-- then settled once: `delivered` (a 2xx) or `failed` (a 4xx, or attempts exhausted). The
-- alerts-out consumer skips a message whose row is settled, so a queue redelivery after success
-- sends nothing.
CREATE TABLE alert_deliveries (
  destination TEXT NOT NULL,
  message_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  phase TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL,
  http_status INTEGER,
  error TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (destination, message_id)
) STRICT;
