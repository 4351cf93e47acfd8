//! D1 `import_jobs` and `import_job_chunks` (migrations/0008): import jobs, their chunks of rows
//! and, once applied, each chunk's report and summary. Values are stored as JSON and read back
//! typed; one that does not decode is [`StoreError::Corrupt`](super::StoreError::Corrupt).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::D1Database;

use super::{all, batch, corrupt, first, int, stmt, text, StoreResult};
use crate::import::{Basis, Format, Mode, RowOutcome, RowReport, Summary};
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
#[derive(Deserialize)]
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

impl JobRow {
    pub fn basis(&self) -> StoreResult<Basis> {
        decode(&self.basis)
    }
    pub fn mode(&self) -> StoreResult<Mode> {
        decode(&self.mode)
    }
    pub fn dry_run(&self) -> bool {
        self.dry_run != 0
    }
    pub fn location_mappings(&self) -> StoreResult<Value> {
        decode(&self.location_mappings)
    }
}

/// A stored chunk: its rows, and whether (how often) it was begun and finished.
pub struct Chunk {
    pub outcomes: Vec<RowOutcome>,
    pub finished: bool,
    /// Times the consumer began it.
    pub attempts: i64,
}

fn encode<T: Serialize + ?Sized>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| corrupt(format!("cannot encode for D1: {e}")))
}

fn decode<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| corrupt(format!("stored import JSON: {e}")))
}

/// Whether the job `id` exists.
pub async fn exists(db: &D1Database, id: &str) -> StoreResult<bool> {
    #[derive(Deserialize)]
    struct One {}
    Ok(first::<One>(stmt(db, "SELECT 1 AS n FROM import_jobs WHERE id = ?1", &[text(id)])?).await?.is_some())
}

/// Stores the job (`queued`) and its chunks in one batch; `rows` and `skus` are its totals. A
/// job that exists already is left as it is.
pub async fn submit(
    db: &D1Database,
    job: &Job,
    chunks: &[Vec<RowOutcome>],
    (rows, skus): (usize, usize),
    now: Millis,
) -> StoreResult<()> {
    let mut statements = vec![stmt(
        db,
        "INSERT OR IGNORE INTO import_jobs (id, status, format, basis, mode, dry_run, fingerprint, location_mappings, \
         chunks_total, rows_total, skus_total, created_at, updated_at) VALUES (?1, 'queued', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        &[
            text(&job.id),
            text(job.format.as_str()),
            text(&encode(&job.basis)?),
            text(&encode(&job.mode)?),
            int(i64::from(job.dry_run)),
            text(&job.fingerprint),
            text(&job.location_mappings.to_string()),
            int(chunks.len() as i64),
            int(rows as i64),
            int(skus as i64),
            int(now.0),
        ],
    )?];
    for (n, chunk) in chunks.iter().enumerate() {
        statements.push(stmt(
            db,
            "INSERT OR IGNORE INTO import_job_chunks (job_id, n, outcomes) VALUES (?1, ?2, ?3)",
            &[text(&job.id), int(n as i64), text(&encode(chunk)?)],
        )?);
    }
    batch(db, statements).await?;
    Ok(())
}

/// Stores a chunk's report and summary (once), then the job's progress (`done` once every chunk
/// is).
pub async fn finish_chunk(
    db: &D1Database,
    job: &str,
    n: i64,
    rows: &[RowReport],
    summary: &Summary,
    now: Millis,
) -> StoreResult<()> {
    let t = int(now.0);
    batch(
        db,
        vec![
            stmt(
                db,
                "UPDATE import_job_chunks SET report = ?1, summary = ?2, done_at = ?3 WHERE job_id = ?4 AND n = ?5 AND report IS NULL",
                &[text(&encode(rows)?), text(&encode(summary)?), t.clone(), text(job), int(n)],
            )?,
            stmt(
                db,
                "UPDATE import_jobs SET chunks_done = (SELECT COUNT(*) FROM import_job_chunks WHERE job_id = ?1 AND report IS NOT NULL), \
                 updated_at = ?2 WHERE id = ?1",
                &[text(job), t.clone()],
            )?,
            stmt(
                db,
                "UPDATE import_jobs SET status = CASE WHEN chunks_done >= chunks_total THEN 'done' ELSE 'running' END, \
                 finished_at = CASE WHEN chunks_done >= chunks_total THEN ?2 ELSE NULL END WHERE id = ?1 AND status != 'done'",
                &[text(job), t],
            )?,
        ],
    )
    .await?;
    Ok(())
}

/// The job `id`.
pub async fn job(db: &D1Database, id: &str) -> StoreResult<Option<JobRow>> {
    first(stmt(
        db,
        "SELECT id, status, format, basis, mode, dry_run, fingerprint, location_mappings, chunks_total, chunks_done, \
         rows_total, skus_total, created_at, finished_at FROM import_jobs WHERE id = ?1",
        &[text(id)],
    )?)
    .await
}

/// Chunk `n` of the job `job`.
pub async fn chunk(db: &D1Database, job: &str, n: i64) -> StoreResult<Option<Chunk>> {
    #[derive(Deserialize)]
    struct Row {
        outcomes: String,
        report: Option<String>,
        attempts: i64,
    }
    let row = first::<Row>(stmt(
        db,
        "SELECT outcomes, report, attempts FROM import_job_chunks WHERE job_id = ?1 AND n = ?2",
        &[text(job), int(n)],
    )?)
    .await?;
    row.map(|r| Ok(Chunk { outcomes: decode(&r.outcomes)?, finished: r.report.is_some(), attempts: r.attempts }))
        .transpose()
}

/// Counts an attempt at chunk `n` and marks the job `running`.
pub async fn begin_chunk(db: &D1Database, job: &str, n: i64, now: Millis) -> StoreResult<()> {
    batch(
        db,
        vec![
            stmt(
                db,
                "UPDATE import_job_chunks SET attempts = attempts + 1 WHERE job_id = ?1 AND n = ?2",
                &[text(job), int(n)],
            )?,
            stmt(
                db,
                "UPDATE import_jobs SET status = 'running', updated_at = ?2 WHERE id = ?1 AND status = 'queued'",
                &[text(job), int(now.0)],
            )?,
        ],
    )
    .await?;
    Ok(())
}

/// A JSON column (`summary` or `report`) of the job's finished chunks.
async fn finished(db: &D1Database, job: &str, column: &str) -> StoreResult<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        value: String,
    }
    let sql = format!("SELECT {column} AS value FROM import_job_chunks WHERE job_id = ?1 AND {column} IS NOT NULL");
    Ok(all::<Row>(stmt(db, &sql, &[text(job)])?).await?.into_iter().map(|r| r.value).collect())
}

/// The summaries of the job's finished chunks.
pub async fn summaries(db: &D1Database, job: &str) -> StoreResult<Vec<Summary>> {
    finished(db, job, "summary").await?.iter().map(|s| decode(s)).collect()
}

/// The report rows of the job's finished chunks with line numbers above `after`, unordered.
pub async fn report_rows(db: &D1Database, job: &str, after: u64) -> StoreResult<Vec<RowReport>> {
    let mut out = Vec::new();
    for r in finished(db, job, "report").await? {
        out.extend(decode::<Vec<RowReport>>(&r)?.into_iter().filter(|row| row.line > after));
    }
    Ok(out)
}
