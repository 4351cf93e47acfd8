-- The operator API (issue 12): what the console reads at a glance and the lines it maps.

-- Why a push failed for good, when the platform said (`sync::FailureKind`: credentials,
-- unknown_listing, validation, rejected); NULL when retries ran out. `credentials` makes a
-- channel's `auth_failing` in `GET /v1/overview`.
ALTER TABLE sync_failures ADD COLUMN kind TEXT;
CREATE INDEX sync_failures_by_channel ON sync_failures (channel, retried_at, id);

-- An unmatched line an operator mapped to a SKU (`POST /v1/inbound/unmatched/{id}/map`): the
-- SKU, when, and the answer given (replayed byte for byte on a repeat).
ALTER TABLE unmatched_lines ADD COLUMN mapped_sku TEXT;
ALTER TABLE unmatched_lines ADD COLUMN mapped_at INTEGER;
ALTER TABLE unmatched_lines ADD COLUMN mapped_answer TEXT CHECK (mapped_answer IS NULL OR json_valid(mapped_answer));

-- When a (SKU, version) was first counted, so the cron can forget old ones (rows from before
-- this column read 0 and go at the first pruning).
ALTER TABLE metric_seen ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX metric_seen_by_time ON metric_seen (seen_at);
