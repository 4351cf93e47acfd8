-- The counters of GET /v1/metrics that are true across isolates (src/metrics/durable.rs decides
-- what they count, src/db/metrics.rs writes them). One row per counter: its name, its label set
-- as rendered (`channel="amazon",result="pushed"`), and its value. Writes add to it (a gauge is
-- set).
CREATE TABLE metric_counters (
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  value INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (name, labels)
) STRICT, WITHOUT ROWID;

-- The ledger changes already counted, so that a repeated queue delivery counts once. One row per
-- counted change (holds, commits, releases, expiries, sales, cancels, oversold).
CREATE TABLE metric_seen (
  sku TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (sku, version)
) STRICT, WITHOUT ROWID;
