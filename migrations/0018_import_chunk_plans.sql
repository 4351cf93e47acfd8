-- An import job's chunk is planned once (src/import/attempt.rs): its first attempt keeps its plan
-- (src/import/plan.rs Plan, JSON: the per-row report and the per-SKU batches) before any ledger
-- call, and every later attempt applies that plan again, so that a chunk run again after a partial
-- application reports each row as its first application answered (the ledgers replay their
-- answers) instead of re-planning against levels the first attempt already moved.
ALTER TABLE import_job_chunks ADD COLUMN plan TEXT CHECK (plan IS NULL OR json_valid(plan));
