//! D1 `import_jobs` and `import_job_chunks` (migrations/0008, 0018): import jobs, their chunks of
//! rows, each chunk's plan once planned and, once applied, its report and summary. Values are stored as JSON and read back
//! typed; one that does not decode is [`StoreError::Corrupt`](super::StoreError).

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::{count, decode, encode, flag, int, text, Query, StoreResult};
use crate::import::{Basis, Format, Mode, Plan, RowOutcome, RowReport, Summary};
use crate::time::Millis;

/// A job's settings, as submitted.
pub struct Job {
    pub id: String,
    pub format: Format,
    pub basis: Basis,
    pub mode: Mode,
    pub dry_run: bool,
    /// The request's fingerprint: the ledgers' Idempotency-Key records of the job carry it.
    pub fingerprint: String,
    pub location_mappings: Value,
}

/// A stored job, with its progress.
#[derive(Debug, Deserialize)]
pub struct JobRow {
    pub id: String,
    /// `queued`, `running` or `done`.
    pub status: String,
    pub format: String,
    basis: String,
    mode: String,
    dry_run: i64,
    pub fingerprint: String,
    location_mappings: String,
    pub chunks_total: i64,
    pub chunks_done: i64,
    pub rows_total: i64,
    pub skus_total: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

fn json<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    decode("import JSON", s)
}

impl JobRow {
    pub fn basis(&self) -> StoreResult<Basis> {
        json(&self.basis)
    }
    pub fn mode(&self) -> StoreResult<Mode> {
        json(&self.mode)
    }
    pub fn dry_run(&self) -> bool {
        self.dry_run != 0
    }
    pub fn location_mappings(&self) -> StoreResult<Value> {
        json(&self.location_mappings)
    }
}

/// A stored chunk: its rows, its plan once planned, and whether (how often) it was begun and
/// finished.
pub struct Chunk {
    pub outcomes: Vec<RowOutcome>,
    /// The plan its first attempt kept (`import::attempt`).
    pub plan: Option<Plan>,
    pub finished: bool,
    /// Times the consumer began it.
    pub attempts: i64,
}

/// The read answering one row ([`super::Exists`]) when the job `id` exists.
pub fn exists(id: &str) -> Query {
    Query::new("SELECT 1 AS n FROM import_jobs WHERE id = ?1", vec![text(id)])
}

/// The statements that store the job (`queued`) and its chunks, for one batch; `rows` and
/// `skus` are its totals. A job that exists already is left as it is.
pub fn submit(
    job: &Job,
    chunks: &[Vec<RowOutcome>],
    (rows, skus): (usize, usize),
    now: Millis,
) -> StoreResult<Vec<Query>> {
    let mut statements = vec![Query::new(
        "INSERT OR IGNORE INTO import_jobs (id, status, format, basis, mode, dry_run, fingerprint, location_mappings, \
         chunks_total, rows_total, skus_total, created_at, updated_at) VALUES (?1, 'queued', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        vec![
            text(&job.id),
            text(job.format.as_str()),
            text(&encode(&job.basis)?),
            text(&encode(&job.mode)?),
            flag(job.dry_run),
            text(&job.fingerprint),
            text(&job.location_mappings.to_string()),
            count(chunks.len()),
            count(rows),
            count(skus),
            int(now.0),
        ],
    )];
    for (n, chunk) in chunks.iter().enumerate() {
        statements.push(Query::new(
            "INSERT OR IGNORE INTO import_job_chunks (job_id, n, outcomes) VALUES (?1, ?2, ?3)",
            vec![text(&job.id), count(n), text(&encode(chunk)?)],
        ));
    }
    Ok(statements)
}

/// The statements, for one batch, that store a chunk's report and summary (once), then the
/// job's progress (`done` once every chunk is).
pub fn finish_chunk(job: &str, n: i64, rows: &[RowReport], summary: &Summary, now: Millis) -> StoreResult<Vec<Query>> {
    let t = int(now.0);
    Ok(vec![
        Query::new(
            "UPDATE import_job_chunks SET report = ?1, summary = ?2, done_at = ?3 WHERE job_id = ?4 AND n = ?5 AND report IS NULL",
            vec![text(&encode(rows)?), text(&encode(summary)?), t.clone(), text(job), int(n)],
        ),
        Query::new(
            "UPDATE import_jobs SET chunks_done = (SELECT COUNT(*) FROM import_job_chunks WHERE job_id = ?1 AND report IS NOT NULL), \
             updated_at = ?2 WHERE id = ?1",
            vec![text(job), t.clone()],
        ),
        Query::new(
            "UPDATE import_jobs SET status = CASE WHEN chunks_done >= chunks_total THEN 'done' ELSE 'running' END, \
             finished_at = CASE WHEN chunks_done >= chunks_total THEN ?2 ELSE NULL END WHERE id = ?1 AND status != 'done'",
            vec![text(job), t],
        ),
    ])
}

/// The read of the job `id` ([`JobRow`]).
pub fn job(id: &str) -> Query {
    Query::new(
        "SELECT id, status, format, basis, mode, dry_run, fingerprint, location_mappings, chunks_total, chunks_done, \
         rows_total, skus_total, created_at, finished_at FROM import_jobs WHERE id = ?1",
        vec![text(id)],
    )
}

/// A stored chunk, as [`chunk`] reads it.
#[derive(Debug, Deserialize)]
pub struct ChunkRow {
    outcomes: String,
    report: Option<String>,
    plan: Option<String>,
    attempts: i64,
}

/// The read of chunk `n` of the job `job` ([`ChunkRow`]).
pub fn chunk(job: &str, n: i64) -> Query {
    Query::new(
        "SELECT outcomes, report, plan, attempts FROM import_job_chunks WHERE job_id = ?1 AND n = ?2",
        vec![text(job), int(n)],
    )
}

/// The chunk of a [`ChunkRow`].
pub fn chunk_of(r: ChunkRow) -> StoreResult<Chunk> {
    Ok(Chunk {
        outcomes: json(&r.outcomes)?,
        plan: r.plan.as_deref().map(json).transpose()?,
        finished: r.report.is_some(),
        attempts: r.attempts,
    })
}

/// The statement that keeps chunk `n`'s plan, once: a chunk is planned only while it has none.
pub fn keep_plan(job: &str, n: i64, plan: &Plan) -> StoreResult<Query> {
    Ok(Query::new(
        "UPDATE import_job_chunks SET plan = ?1 WHERE job_id = ?2 AND n = ?3 AND plan IS NULL",
        vec![text(&encode(plan)?), text(job), int(n)],
    ))
}

/// The statements, for one batch, that count an attempt at chunk `n` and mark the job
/// `running`, moved at `now` (so a job whose chunks are being tried is not [`stalled`]).
pub fn begin_chunk(job: &str, n: i64, now: Millis) -> Vec<Query> {
    vec![
        Query::new(
            "UPDATE import_job_chunks SET attempts = attempts + 1 WHERE job_id = ?1 AND n = ?2",
            vec![text(job), int(n)],
        ),
        Query::new(
            "UPDATE import_jobs SET status = 'running', updated_at = ?2 WHERE id = ?1 AND status != 'done'",
            vec![text(job), int(now.0)],
        ),
    ]
}

/// A job id, as [`stalled`] reads it.
#[derive(Debug, Deserialize)]
pub struct JobId {
    pub id: String,
}

/// The read of at most `limit` unfinished jobs that have not moved (a chunk begun or finished,
/// their chunks sent again) since `before`, the longest still first ([`JobId`]s).
pub fn stalled(before: Millis, limit: usize) -> Query {
    Query::new(
        "SELECT id FROM import_jobs WHERE status != 'done' AND updated_at < ?1 ORDER BY updated_at LIMIT ?2",
        vec![int(before.0), count(limit)],
    )
}

/// A chunk's number, as [`unfinished`] reads it.
#[derive(Debug, Deserialize)]
pub struct ChunkNo {
    pub n: i64,
}

/// The read of the numbers of the job's chunks that have no report yet, in order ([`ChunkNo`]s).
/// Chunk 0 (the rows without a SKU) is reported when the job is stored, so it is never among them.
pub fn unfinished(job: &str) -> Query {
    Query::new(
        "SELECT n FROM import_job_chunks WHERE job_id = ?1 AND n > 0 AND report IS NULL ORDER BY n",
        vec![text(job)],
    )
}

/// The statement that records that the job's unfinished chunks were sent again at `now`.
pub fn moved(job: &str, now: Millis) -> Query {
    Query::new("UPDATE import_jobs SET updated_at = ?2 WHERE id = ?1", vec![text(job), int(now.0)])
}

/// A JSON column of a finished chunk.
#[derive(Debug, Deserialize)]
pub struct FinishedRow {
    value: String,
}

/// Which JSON column of the finished chunks [`finished`] reads.
#[derive(Clone, Copy, Debug)]
pub enum Finished {
    Summary,
    Report,
}

/// The read of a JSON column of the job's finished chunks ([`FinishedRow`]s).
pub fn finished(job: &str, column: Finished) -> Query {
    let column = match column {
        Finished::Summary => "summary",
        Finished::Report => "report",
    };
    Query::new(
        format!("SELECT {column} AS value FROM import_job_chunks WHERE job_id = ?1 AND {column} IS NOT NULL"),
        vec![text(job)],
    )
}

/// The summaries of [`Finished::Summary`] rows.
pub fn summaries_of(rows: Vec<FinishedRow>) -> StoreResult<Vec<Summary>> {
    rows.iter().map(|r| json(&r.value)).collect()
}

/// The report rows of [`Finished::Report`] rows with line numbers above `after`, unordered.
pub fn report_rows_of(rows: Vec<FinishedRow>, after: u64) -> StoreResult<Vec<RowReport>> {
    let mut out = Vec::new();
    for r in rows {
        out.extend(json::<Vec<RowReport>>(&r.value)?.into_iter().filter(|row| row.line > after));
    }
    Ok(out)
}
