-- Import jobs: files too large to apply within their request (src/import/jobs.rs decides which
-- and how they are cut), applied chunk by chunk by the `import-jobs` queue consumer
-- (src/edge/import_jobs.rs). Times are milliseconds since the Unix epoch.

-- One row per job. `id` is the import id the ledgers' journal entries carry (`cause.import_id`).
CREATE TABLE import_jobs (
  id TEXT PRIMARY KEY NOT NULL,
  -- queued | running | done
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done')),
  format TEXT NOT NULL,
  basis TEXT NOT NULL,
  mode TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  -- the request's fingerprint: the ledgers' Idempotency-Key records of the job carry it
  fingerprint TEXT NOT NULL,
  location_mappings TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(location_mappings)),
  chunks_total INTEGER NOT NULL,
  chunks_done INTEGER NOT NULL DEFAULT 0,
  rows_total INTEGER NOT NULL,
  skus_total INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
) STRICT;

-- The rows of one chunk (src/import/row.rs RowOutcome, JSON) and, once applied, its per-row
-- report and summary (src/import/plan.rs). Chunk 0 holds the rows without a SKU.
CREATE TABLE import_job_chunks (
  job_id TEXT NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
  n INTEGER NOT NULL,
  outcomes TEXT NOT NULL CHECK (json_valid(outcomes)),
  report TEXT CHECK (report IS NULL OR json_valid(report)),
  summary TEXT CHECK (summary IS NULL OR json_valid(summary)),
  -- times the consumer began this chunk
  attempts INTEGER NOT NULL DEFAULT 0,
  done_at INTEGER,
  PRIMARY KEY (job_id, n)
) STRICT;
